// The one min/max block (order/extremes.ts) against plaintext, with one to five parties on the
// in-memory network: ties, empty parties, −0, extreme doubles, and the OR flags that ride along;
// and what it opens: exactly the two extremes' keys and the flags' ORs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../../services/simulation/network.js';
import { secureMinMax } from '../../../../services/simon/order/extremes.js';
import { orderKey } from '../../../../services/simon/order/encoding.js';
import { PREFIX, runParties } from './parties.js';

function plain(values: number[][]) {
  const all = values.flat();
  return { minimum: Math.min(...all), maximum: Math.max(...all) };
}

describe('secureMinMax', { timeout: 300_000 }, () => {
  const cases: { name: string; values: number[][]; flags: boolean[][] }[] = [
    { name: 'one party', values: [[3, -1, 2]], flags: [[true]] },
    { name: 'two parties, a tie', values: [[5, 1], [1, 5]], flags: [[false], [false]] },
    { name: 'three parties, one empty, all negative', values: [[-2.5, -7], [], [-4.25]], flags: [[false], [true], [false]] },
    { name: 'three parties, extremes of the doubles and −0', values: [[-Number.MAX_VALUE, -0], [Number.MIN_VALUE], [Number.MAX_VALUE, 0]], flags: [[true, false], [false, false], [true, false]] },
    { name: 'four parties', values: [[1], [2], [0.5], [9]], flags: [[false, true], [false, false], [false, false], [true, false]] },
    // Keys that agree in every byte but the lowest, or the lowest few: the byte comparisons' low leaves decide.
    { name: 'three parties, neighbouring doubles', values: [[1 + 2 ** -52], [1], [1 + 2 ** -51, 1 + 3 * 2 ** -52]], flags: [[false], [false], [false]] },
    { name: 'four parties, keys equal above one byte each', values: [[2 ** 40 + 256], [2 ** 40 + 255], [2 ** 40 + 257, 2 ** 40], [2 ** 40 + 65536]], flags: [[false], [false], [false], [false]] },
    { name: 'five parties, the same value everywhere', values: [[7], [7], [7], [7], [7]], flags: [[false], [false], [false], [false], [true]] },
  ];
  for (const c of cases) {
    test(`${c.name}: min, max and the flags' ORs at every party`, async () => {
      const n = c.values.length;
      const out = await runParties(n, (session, i) => secureMinMax(session, { minima: c.values[i]!, maxima: c.values[i]!, flags: c.flags[i]! }, PREFIX));
      const want = plain(c.values);
      const ors = c.flags[0]!.map((_, f) => c.flags.some((fl) => fl[f]!));
      for (const r of out) {
        assert.equal(r.minimum, want.minimum === 0 ? 0 : want.minimum);
        assert.ok(!Object.is(r.minimum, -0));
        assert.equal(r.maximum, want.maximum);
        assert.deepEqual(r.flags, ors);
      }
    });
  }

  test('random values (one byte of difference, or many) against plaintext, three parties', async () => {
    for (let round = 0; round < 6; round++) {
      const base = (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 12);
      const values = Array.from({ length: 3 }, () =>
        Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => (round % 2 ? base + Math.floor(Math.random() * 300) * Math.abs(base) * 2 ** -52 : (Math.random() - 0.5) * 1e6)),
      );
      const out = await runParties(3, (session, i) => secureMinMax(session, { minima: values[i]!, maxima: values[i]! }, PREFIX));
      const want = plain(values);
      for (const r of out) assert.deepEqual([r.minimum, r.maximum], [want.minimum, want.maximum], JSON.stringify(values));
    }
  });

  test('separate minima and maxima (MinimumMaximum’s records)', async () => {
    const out = await runParties(3, (session, i) =>
      secureMinMax(session, [{ minima: [4], maxima: [6] }, { minima: [-1, 3], maxima: [0, 5] }, { minima: [], maxima: [] }][i]!, PREFIX),
    );
    for (const r of out) assert.deepEqual([r.minimum, r.maximum], [-1, 6]);
  });

  test('no values anywhere: a BadInputError at every party', async () => {
    const out = await runParties(3, (session) => secureMinMax(session, { minima: [], maxima: [] }, PREFIX).then(() => 'ok', (e: Error) => e.name + ': ' + e.message));
    for (const r of out) assert.match(r, /no party gave any value/);
  });

  test('what is opened: the keys of the minimum and of the maximum (complemented) and the ORs, nothing else', async () => {
    const hub = new MemoryHub(['http://party0.test', 'http://party1.test', 'http://party2.test'], 120_000);
    hub.capture = true;
    const values = [[1.5, 8], [-3], [2]];
    const flags = [[true], [false], [false]];
    await runParties(3, (session, i) => secureMinMax(session, { minima: values[i]!, maxima: values[i]!, flags: flags[i]! }, PREFIX), hub);
    const opens = hub.log.filter((m) => m.stage === `${PREFIX}-open`);
    assert.equal(opens.length, 6, 'one opening, each party to each other');
    const width = 2 * 64 + 1;
    const bits = (p: Uint8Array) => Array.from({ length: width }, (_, i) => (p[i >>> 3]! >>> (i & 7)) & 1);
    const shares = new Map(opens.map((m) => [m.from, bits(m.payload!)]));
    const opened = Array.from({ length: width }, (_, i) => [...shares.values()].reduce((x, s) => x ^ s[i]!, 0));
    const all = (1n << 64n) - 1n;
    const keyBits = (k: bigint) => Array.from({ length: 64 }, (_, b) => Number((k >> BigInt(b)) & 1n));
    assert.deepEqual(opened, [...keyBits(orderKey(-3)), ...keyBits(all - orderKey(8)), 1]);
  });
});
