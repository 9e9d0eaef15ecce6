// SecureFedAvg with the SecAgg+ sparse neighbour graph (services/fedavg/graph.ts, masks.ts), in
// memory: the masks still cancel (the average is bit for bit the full mesh's), the option and the
// threshold choose the graph, and a 40-party transcript shows that each party masks with exactly
// its k neighbours of the graph every party derived from the setup coins, that what it sends is
// uniform, and that no party's model appears in what any other party receives.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { MemoryHub } from '../../../services/simulation/network.js';
import { secureFedAvg } from '../../../services/fedavg/index.js';
import { graphSeed, hararyGraph, neighbourCount, SPARSE_THRESHOLD } from '../../../services/fedavg/graph.js';
import { combinedMask, pairTerms } from '../../../services/fedavg/masks.js';
import { CHUNK_ELEMENTS } from '../../../services/fedavg/protocol.js';
import { Layout, manifestOf } from '../../../services/fedavg/layout.js';
import { SEED_BYTES } from '../../../services/common/prg.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { BadInputError } from '../../../services/errors.js';
import type { CallContext } from '../../../services/microservice.js';
import { zeroRunsBeyondChance } from '../../support/transcript.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const nodes = (n: number) => Array.from({ length: n }, (_, i) => `http://127.0.0.1:${58000 + i}`);
const ctx = (hub: MemoryHub, i: number): CallContext => ({ signal: new AbortController().signal, peers: hub.network(i), log: silent });
let counter = 0;

const ELEMENTS = 400;
/** Party i's model: small distinct values (in clear, a fixed-point encoding of them is mostly zero bytes). */
const modelOf = (i: number) => new TensorSet(new Map([['w', { dtype: 'F64' as const, shape: [ELEMENTS], data: Float64Array.from({ length: ELEMENTS }, (_, e) => (i + 1) * 0.01 + e * 1e-4) }]]));

async function run(n: number, options: Record<string, unknown>, capture = false): Promise<{ hub: MemoryHub; results: TensorSet[] }> {
  const hub = new MemoryHub(nodes(n), 60_000);
  hub.capture = capture;
  const uuid = `sparse-${++counter}`;
  const results = await Promise.all(hub.nodes.map((_, i) =>
    secureFedAvg({ data: { tensors: modelOf(i), weight: 1 }, network: { nodes: hub.nodes, uuid, myself: i }, ...options }, ctx(hub, i)))) as TensorSet[];
  return { hub, results };
}

/** Ring elements (64-bit, little-endian) of a payload as signed integers. */
function int64s(bytes: Uint8Array): bigint[] {
  const copy = Uint8Array.from(bytes);
  return Array.from(new BigInt64Array(copy.buffer));
}

describe('SecureFedAvg with the sparse graph', () => {
  test('12 parties: the masks cancel, the average equals the full mesh\'s bit for bit; the metadata says whom each masked with', async () => {
    const n = 12;
    const sparse = await run(n, { mask_graph: 'sparse' });
    const full = await run(n, { mask_graph: 'full' });
    const auto = await run(n, {});
    const k = neighbourCount(n);
    assert.ok(k < n - 1);
    for (let i = 0; i < n; i++) {
      assert.deepEqual(sparse.results[i]!.get('w')!.data, full.results[0]!.get('w')!.data);
      assert.equal(sparse.results[i]!.metadata?.['tessera.mask_neighbours'], String(k));
      assert.equal(full.results[i]!.metadata?.['tessera.mask_neighbours'], String(n - 1));
      // Below the threshold the default is the full mesh.
      assert.equal(auto.results[i]!.metadata?.['tessera.mask_neighbours'], String(n - 1));
    }
    const want = Float64Array.from({ length: ELEMENTS }, (_, e) => Array.from({ length: n }, (_, i) => (i + 1) * 0.01 + e * 1e-4).reduce((a, b) => a + b, 0) / n);
    sparse.results[0]!.get('w')!.data.forEach((v, e) => assert.ok(Math.abs(v - want[e]!) < 1e-8, `element ${e}`));
  });

  test(`from ${SPARSE_THRESHOLD} parties on, the default round masks with the sparse graph`, async () => {
    const { results } = await run(SPARSE_THRESHOLD, {});
    const k = neighbourCount(SPARSE_THRESHOLD);
    assert.ok(k < SPARSE_THRESHOLD / 2);
    for (const r of results) assert.equal(r.metadata?.['tessera.mask_neighbours'], String(k));
  });

  test('a mask_graph that is not one of the choices: 400 naming kwargs.mask_graph', async () => {
    const hub = new MemoryHub(nodes(5), 2000);
    const network = { nodes: hub.nodes, uuid: `sparse-bad-${++counter}`, myself: 0 };
    const data = { tensors: modelOf(0), weight: 1 };
    await assert.rejects(secureFedAvg({ data, network, mask_graph: 'ring' }, ctx(hub, 0)), (err: Error) => err instanceof BadInputError && err.where === 'kwargs.mask_graph' && /"auto", "full", "sparse"/.test(err.message));
  });
});

describe('the constants as options (mask_sparse_from, mask_coalition, mask_failure_bits)', () => {
  test('mask_sparse_from moves the threshold of "auto"; mask_coalition and mask_failure_bits change k; the average stays exact', async () => {
    const n = 12;
    const moved = await run(n, { mask_sparse_from: 12 });
    const kept = await run(n, { mask_sparse_from: 13 });
    const loose = await run(n, { mask_graph: 'sparse', mask_coalition: 0.1, mask_failure_bits: 20 });
    const k = neighbourCount(n);
    const kLoose = neighbourCount(n, 0.1, 20);
    assert.ok(kLoose < k && k < n - 1, `k=${k}, with a coalition of 0.1 and 2^-20: ${kLoose}`);
    const want = Float64Array.from({ length: ELEMENTS }, (_, e) => Array.from({ length: n }, (_, i) => (i + 1) * 0.01 + e * 1e-4).reduce((a, b) => a + b, 0) / n);
    for (let i = 0; i < n; i++) {
      assert.equal(moved.results[i]!.metadata?.['tessera.mask_neighbours'], String(k));
      assert.equal(kept.results[i]!.metadata?.['tessera.mask_neighbours'], String(n - 1));
      assert.equal(loose.results[i]!.metadata?.['tessera.mask_neighbours'], String(kLoose));
      loose.results[i]!.get('w')!.data.forEach((v, e) => assert.ok(Math.abs(v - want[e]!) < 1e-8, `element ${e}`));
    }
  });

  for (const [key, bad] of [
    ['mask_sparse_from', 2], ['mask_sparse_from', 1000], ['mask_sparse_from', 7.5], ['mask_sparse_from', '64'],
    ['mask_coalition', 0], ['mask_coalition', 0.5], ['mask_coalition', -0.1], ['mask_coalition', 'third'],
    ['mask_failure_bits', 19], ['mask_failure_bits', 129], ['mask_failure_bits', 40.5], ['mask_failure_bits', null],
  ] as const) {
    test(`${key} = ${JSON.stringify(bad)}: ${bad === null ? 'the default' : 'a 400 naming the field, never the value'}`, async () => {
      const hub = new MemoryHub(nodes(3), 2000);
      const network = { nodes: hub.nodes, uuid: `sparse-option-${++counter}`, myself: 0 };
      const call = secureFedAvg({ data: { tensors: modelOf(0), weight: 1 }, network, [key]: bad }, ctx(hub, 0));
      if (bad === null) {
        // null is "not given" as for every option; the call then waits for the others: run them.
        const rest = [1, 2].map((i) => secureFedAvg({ data: { tensors: modelOf(i), weight: 1 }, network: { ...network, myself: i } }, ctx(hub, i)));
        await Promise.all([call, ...rest]);
        return;
      }
      // The message states the bounds (0 and 0.5 are bounds of mask_coalition), never a given value.
      const echoes = (message: string) => bad !== 0 && bad !== 0.5 && message.includes(String(bad));
      await assert.rejects(call, (err: Error) => err instanceof BadInputError && err.where === `kwargs.${key}` && !echoes(err.message));
    });
  }

  test('parties that pass different values fail at their first message, naming the key', async () => {
    const hub = new MemoryHub(nodes(3), 5000);
    const uuid = `sparse-mismatch-${++counter}`;
    const settled = await Promise.allSettled(hub.nodes.map((_, i) =>
      secureFedAvg({ data: { tensors: modelOf(i), weight: 1 }, network: { nodes: hub.nodes, uuid, myself: i }, mask_coalition: i === 2 ? 0.25 : 0.3 }, ctx(hub, i))));
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assert.match(String((s as PromiseRejectedResult).reason), /mask_coalition/);
    }
  });
});

describe('a 40-party sparse transcript', () => {
  test('each party masks with exactly its k neighbours; every masked message is uniform; no party\'s model appears anywhere', async () => {
    const n = 40;
    const k = neighbourCount(n);
    const { hub, results } = await run(n, { mask_graph: 'sparse' }, true);
    assert.equal(results[0]!.metadata?.['tessera.mask_neighbours'], String(k));
    const setup = hub.log.filter((m) => m.stage === 'setup');
    assert.equal(setup.length, n * (n - 1));
    // Setup payload: [veto flag][pair seed contribution][graph coin][manifest]. A party sends one coin to everyone.
    const contribution = (from: number, to: number) => setup.find((m) => m.from === from && m.to === to)!.payload!.subarray(1, 1 + SEED_BYTES);
    const coinOf = (p: number) => setup.find((m) => m.from === p)!.payload!.subarray(1 + SEED_BYTES, 1 + 2 * SEED_BYTES);
    for (let p = 0; p < n; p++) {
      for (const m of setup.filter((x) => x.from === p)) assert.deepEqual(m.payload!.subarray(1 + SEED_BYTES, 1 + 2 * SEED_BYTES), coinOf(p));
    }
    // The graph, as an onlooker holding every coin derives it: the one the parties used (below).
    const graph = hararyGraph(n, k, graphSeed(Array.from({ length: n }, (_, p) => coinOf(p))));
    const pairSeed = (a: number, b: number): Uint8Array => {
      const [lo, hi] = a < b ? [a, b] : [b, a];
      return Buffer.from(hkdfSync('sha256', Buffer.concat([contribution(lo, hi), contribution(hi, lo)]), Buffer.alloc(0), `tessera/SecureFedAvg/v1/pair-seed/${lo}/${hi}`, SEED_BYTES));
    };
    const layout = new Layout(manifestOf(modelOf(0)), n, CHUNK_ELEMENTS);
    const reduce = hub.log.filter((m) => m.stage === 'reduce');
    assert.equal(reduce.length, n * (n - 1));
    for (const p of [0, 7, 23, 39]) {
      const partners = graph.neighbours(p);
      assert.equal(partners.length, k);
      for (const m of reduce.filter((x) => x.from === p)) {
        const [start, end] = layout.segment(m.to);
        const masked = int64s(m.payload!);
        // Removing exactly the neighbours' pair masks leaves p's scaled model (w/n in fixed point, f = 32);
        // the pair with the segment's holder, if it is a neighbour, is left out of its segment (masks.ts segmentTerms).
        const kept = partners.filter((j) => j !== m.to);
        const mask = int64s(new Uint8Array(combinedMask(64, pairTerms(p, kept, (j) => pairSeed(p, j)), 'SecureFedAvg/v1/model', start, end).buffer));
        masked.forEach((y, e) => {
          const x = Number(BigInt.asIntN(64, y - mask[e]!)) / 2 ** 32;
          assert.ok(Math.abs(x - modelOf(p).get('w')!.data[start + e]! / n) < 1e-9, `party ${p}, element ${start + e}`);
        });
        // Leaving out one neighbour's mask (what a coalition of all the others would know) leaves it uniform.
        const partial = new Uint8Array(combinedMask(64, pairTerms(p, kept.slice(1), (j) => pairSeed(p, j)), 'SecureFedAvg/v1/model', start, end).buffer);
        const rest = new BigInt64Array(masked.map((y, e) => BigInt.asIntN(64, y - int64s(partial)[e]!)));
        assert.deepEqual(zeroRunsBeyondChance(new Uint8Array(rest.buffer)), [], `party ${p} to ${m.to}, one neighbour's mask kept`);
      }
    }
    // Every masked message any party receives is uniform, and carries no party's value in clear.
    for (const m of hub.log.filter((x) => x.stage === 'reduce' || x.stage === 'weights')) {
      assert.deepEqual(zeroRunsBeyondChance(m.payload!), [], `${m.stage} from ${m.from} to ${m.to}`);
      const value = Buffer.from(new Float64Array([modelOf(m.from).get('w')!.data[layout.segment(m.to)[0]]!]).buffer);
      assert.equal(Buffer.from(m.payload!).indexOf(value), -1);
    }
  });
});
