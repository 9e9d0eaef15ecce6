// The symmetric-key set intersection (KMPRT, CCS 2017) on the in-memory network, against a plaintext
// reference: the key-value table alone, the multi-party protocol for 3 and 4 parties (random sets
// with a known intersection, empty sets, everything shared), and what each party receives.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryHub } from '../../../../services/simulation/network.js';
import { StageOrder } from '../../../../services/common/stages.js';
import { CELL_BYTES, decode, encode, okvsCells } from '../../../../services/simon/sets/okvs.js';
import { setIntersectionStages, runIntersection } from '../../../../services/simon/sets/intersection.js';
import { within } from '../../../within.js';

const STAGE_TIMEOUT_MS = 60_000;

/** Runs SetIntersection of `sets` on the in-memory network; every party's result, and what each received. */
async function runSets(sets: string[][], bound?: number) {
  const hub = new MemoryHub(sets.map((_, i) => `http://party-${i}.test`), STAGE_TIMEOUT_MS);
  const received: { to: number; stage: string; payload: Uint8Array }[] = [];
  hub.fault = (m) => {
    received.push({ to: m.to, stage: m.stage, payload: Uint8Array.from(m.payload) });
    return undefined;
  };
  const order = new StageOrder(setIntersectionStages(sets.length));
  const results = await within(
    STAGE_TIMEOUT_MS,
    'every party of the intersection',
    Promise.all(
      sets.map(async (items, me) => {
        const session = await hub.network(me).open({ uuid: 'u', myself: me, terms: { microprotocol: 'SetIntersection', nodes: hub.nodes }, stages: order.stages, order });
        return runIntersection(session, () => items, false, undefined, bound);
      }),
    ),
  );
  return { results, received };
}

function reference(sets: string[][]): string[] {
  return sets[0]!.filter((x) => sets.every((s) => s.includes(x))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

describe('the key-value table (OKVS)', () => {
  test('every key decodes to its value, for 0 to 30,000 keys', () => {
    for (const n of [0, 1, 2, 7, 100, 30_000]) {
      const keys = new Uint8Array(randomBytes(n * 16));
      const values = new Uint8Array(randomBytes(n * CELL_BYTES));
      const table = encode(keys, values);
      assert.equal(table.table.length, okvsCells(n) * CELL_BYTES);
      const decoded = decode(table, keys);
      assert.equal(decoded.length, n * CELL_BYTES);
      for (let k = 0; k < n; k++) assert.deepEqual(decoded.subarray(k * CELL_BYTES, (k + 1) * CELL_BYTES), values.subarray(k * CELL_BYTES, (k + 1) * CELL_BYTES), `key ${k} of ${n}`);
    }
  });

  test('a key the table was not built for decodes to no encoded value', () => {
    const keys = new Uint8Array(randomBytes(1000 * 16));
    const values = new Uint8Array(randomBytes(1000 * CELL_BYTES));
    const encoded = new Set(Array.from({ length: 1000 }, (_, k) => Buffer.from(values.subarray(k * CELL_BYTES, (k + 1) * CELL_BYTES)).toString('hex')));
    const decoded = decode(encode(keys, values), new Uint8Array(randomBytes(1000 * 16)));
    // A fresh key lands on the same three cells as one encoded key with probability 1/458³ per
    // pair (three thirds of 458 cells), so among these 10^6 pairs about 1% of runs see one such
    // key decode to that key's value by chance; two happen in about 5e-5 of runs. A table that
    // gave fresh keys encoded values would give many.
    const hits = Array.from({ length: 1000 }, (_, k) => Buffer.from(decoded.subarray(k * CELL_BYTES, (k + 1) * CELL_BYTES)).toString('hex')).filter((v) => encoded.has(v));
    assert.ok(hits.length <= 1, `${hits.length} fresh keys decoded to encoded values`);
  });

  test('keys and values at unaligned offsets (subarrays of larger buffers) encode and decode alike', () => {
    const backing = new Uint8Array(randomBytes(1 + 50 * 16));
    const keys = backing.subarray(1);
    const values = new Uint8Array(randomBytes(3 + 50 * CELL_BYTES)).subarray(3);
    assert.deepEqual(decode(encode(keys, values), keys), Uint8Array.from(values));
  });
});

describe('SetIntersection from programmed OPRFs (n ≥ 3)', { timeout: 300_000 }, () => {
  test('three parties, random sets of different sizes with a known intersection', async () => {
    const shared = Array.from({ length: 150 }, (_, i) => `shared ${i}`);
    const sets = [400, 250, 600].map((n, p) => [...Array.from({ length: n - 150 }, (_, i) => `p${p} ${i}`), ...shared, ...(p > 0 ? ['only in 1 and 2'] : [])]);
    const { results } = await runSets(sets);
    for (const r of results) assert.deepEqual(r.items, reference(sets));
    assert.equal(results[0]!.size, 150);
  });

  test('four parties; an item held by all but one is not in the result', async () => {
    const sets = [
      ['a', 'b', 'c', 'd', 'x'],
      ['d', 'c', 'b', 'y'],
      ['b', 'd', 'c', 'x', 'y'],
      ['c', 'd', 'x', 'y', 'z'],
    ];
    const { results } = await runSets(sets);
    for (const r of results) assert.deepEqual(r.items, ['c', 'd']);
  });

  test('an empty set, nothing shared, everything shared', async () => {
    for (const sets of [
      [['a', 'b'], [], ['a', 'b']],
      [['a'], ['b'], ['c']],
      [['x', 'y', '\u{1F600}'], ['\u{1F600}', 'y', 'x'], ['y', 'x', '\u{1F600}']],
    ]) {
      const { results } = await runSets(sets);
      for (const r of results) assert.deepEqual(r.items, reference(sets));
    }
  });

  test('with max_set_size every message has the same length whatever the set sizes, and the result is unchanged', async () => {
    const small = [['a', 'b'], ['a'], ['a', 'b', 'c']];
    const large = [['a', 'b', 'c', 'd', 'e'], ['a', 'q', 'r', 's', 't'], ['a', 'z']];
    const one = await runSets(small, 5);
    const two = await runSets(large, 5);
    for (const r of one.results) assert.deepEqual(r.items, ['a']);
    for (const r of two.results) assert.deepEqual(r.items, ['a']);
    const lengths = (run: typeof one) => run.received.map((m) => `${m.to} ${m.stage} ${m.payload.length}`).sort();
    assert.deepEqual(lengths(one), lengths(two));
  });

  test('no item and no plain hash of an item reaches another party; only the result is published', async () => {
    const secret = 'a very particular identifier 0123456789';
    const sets = [[secret, 'common'], ['common', 'other'], ['common', secret.toUpperCase()]];
    const { results, received } = await runSets(sets);
    for (const r of results) assert.deepEqual(r.items, ['common']);
    const needle = Buffer.from(secret);
    for (const m of received) {
      assert.equal(Buffer.from(m.payload).indexOf(needle), -1, `${m.stage} to party ${m.to}`);
      if (m.stage === 'result') assert.deepEqual(JSON.parse(Buffer.from(m.payload).toString()), ['common']);
    }
  });
});
