import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { countAtMost, fromOrderKey, orderKey, sortedKeys } from '../../../../services/simon/order/encoding.js';

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

describe('order-preserving encoding of doubles', () => {
  test('x < y ⇔ key(x) < key(y), for any finite doubles', () => {
    fc.assert(fc.property(finite, finite, (x, y) => {
      assert.equal(x < y, orderKey(x) < orderKey(y));
      assert.equal(x === y, orderKey(x) === orderKey(y));
    }), { numRuns: 2000 });
  });

  test('decoding gives back the very double (−0 becomes 0)', () => {
    fc.assert(fc.property(finite, (x) => {
      const back = fromOrderKey(orderKey(x));
      assert.ok(Object.is(back, x === 0 ? 0 : x));
    }), { numRuns: 2000 });
  });

  test('edge values keep their order', () => {
    const ladder = [-Number.MAX_VALUE, -1, -Number.MIN_VALUE, 0, Number.MIN_VALUE, 2.2250738585072014e-308, 1, Number.MAX_VALUE];
    const keys = ladder.map((x) => orderKey(x));
    for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1]! < keys[i]!, `${ladder[i - 1]} < ${ladder[i]}`);
    assert.equal(orderKey(-0), orderKey(0));
  });

  test('NaN and infinities are refused, naming the field', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(() => orderKey(bad, 'kwargs.data[3]'), (err: Error & { where?: string }) => err.where === 'kwargs.data[3]');
    }
  });

  test('countAtMost counts values ≤ v, duplicates included', () => {
    fc.assert(fc.property(fc.array(finite, { maxLength: 40 }), finite, (xs, v) => {
      const want = xs.filter((x) => x <= v).length;
      assert.equal(countAtMost(sortedKeys(xs), orderKey(v)), want);
    }), { numRuns: 500 });
  });
});
