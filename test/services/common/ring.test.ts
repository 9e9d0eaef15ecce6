import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BadInputError } from '../../../services/errors.js';
import { Ring } from '../../../services/common/ring.js';

const widths = [1, 7, 8, 63, 64, 65, 2176];

/** An arbitrary bigint, possibly negative and far outside the ring, to exercise reduction. */
const anyBigInt = fc.bigInt({ min: -(1n << 2300n), max: 1n << 2300n });

describe('Ring Z_2^k', () => {
  for (const k of widths) {
    const ring = new Ring(k);
    const m = 1n << BigInt(k);
    const mod = (x: bigint) => ((x % m) + m) % m;

    test(`k=${k}: operations agree with the mathematical definition modulo 2^k`, () => {
      fc.assert(
        fc.property(anyBigInt, anyBigInt, fc.bigInt({ min: -1000n, max: 1000n }), (a, b, c) => {
          assert.equal(ring.reduce(a), mod(a));
          assert.equal(ring.add(a, b), mod(a + b));
          assert.equal(ring.sub(a, b), mod(a - b));
          assert.equal(ring.neg(a), mod(-a));
          assert.equal(ring.mul(a, c), mod(a * c));
          assert.equal(ring.add(ring.sub(a, b), b), ring.reduce(a));
          assert.equal(ring.sum([a, b, ring.neg(b)]), ring.reduce(a));
        }),
        { numRuns: 200 },
      );
    });

    test(`k=${k}: toSigned is the two's complement reading`, () => {
      fc.assert(
        fc.property(anyBigInt, (a) => {
          const s = ring.toSigned(a);
          assert.ok(s >= -(m / 2n) && s < m / 2n);
          assert.equal(ring.reduce(s), ring.reduce(a));
        }),
        { numRuns: 200 },
      );
      assert.equal(ring.toSigned(m - 1n), -1n);
    });

    test(`k=${k}: encodeBytes is fixed-width little-endian and decodeBytes inverts it`, () => {
      assert.equal(ring.byteLength, Math.ceil(k / 8));
      fc.assert(
        fc.property(anyBigInt, (a) => {
          const bytes = ring.encodeBytes(a);
          assert.equal(bytes.length, ring.byteLength);
          assert.equal(ring.decodeBytes(bytes, 'x'), ring.reduce(a));
        }),
        { numRuns: 200 },
      );
      assert.equal(ring.encodeBytes(1n)[0], 1);
    });

    test(`k=${k}: random() stays in the ring and reaches its top bit`, () => {
      let topBitSeen = false;
      for (let i = 0; i < 200; i++) {
        const r = ring.random();
        assert.ok(r >= 0n && r < m);
        if (r >= m / 2n) topBitSeen = true;
      }
      assert.ok(topBitSeen, 'the top bit is never set: the sampler is not uniform');
    });
  }

  test('decodeBytes refuses a wrong length and non-canonical high bits, naming the place', () => {
    const ring = new Ring(12);
    const cases: [string, Uint8Array][] = [
      ['too short', new Uint8Array(1)],
      ['too long', new Uint8Array(3)],
      ['bit 12 set', Uint8Array.from([0, 0x10])],
    ];
    for (const [name, bytes] of cases) {
      assert.throws(() => ring.decodeBytes(bytes, 'party 1 (http://a)'), (e: unknown) =>
        e instanceof BadInputError && e.where === 'party 1 (http://a)', name);
    }
    assert.equal(ring.decodeBytes(Uint8Array.from([0xff, 0x0f]), 'x'), 4095n);
  });

  test('widths outside [1, 65536] or not integers are refused', () => {
    for (const bits of [0, -1, 1.5, NaN, 70000]) assert.throws(() => new Ring(bits), BadInputError);
  });
});
