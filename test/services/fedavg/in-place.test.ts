// The default FedAvg round writes each party's average into that party's input buffers
// (services/fedavg/protocol.ts outputStorage): right element by element, the input then consumed
// (a second use is a 409 naming it), and a separate output where the input may be needed again
// (min_parties below the party count: a restart submits it again) or tensors share memory.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../services/simulation/network.js';
import { plainFedAvg, secureFedAvg } from '../../../services/fedavg/index.js';
import { CHUNK_ELEMENTS } from '../../../services/fedavg/protocol.js';
import { TensorSet, type Tensor } from '../../../services/common/tensors.js';
import { ConflictError, PeerError } from '../../../services/errors.js';
import type { CallContext } from '../../../services/microservice.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let uuidCounter = 0;

function ctxFor(hub: MemoryHub, i: number): CallContext {
  return { signal: new AbortController().signal, peers: hub.network(i), log: silent };
}

type Entry = (kwargs: Record<string, unknown>, ctx: CallContext) => Promise<unknown>;

function runAll(entry: Entry, hub: MemoryHub, kwargsFor: (i: number) => Record<string, unknown>): Promise<PromiseSettledResult<unknown>[]> {
  const uuid = `in-place-${++uuidCounter}`;
  return Promise.allSettled(hub.nodes.map((_, i) => entry({ ...kwargsFor(i), network: { nodes: hub.nodes, uuid, myself: i } }, ctxFor(hub, i))));
}

function results(settled: PromiseSettledResult<unknown>[]): TensorSet[] {
  return settled.map((s, i) => {
    if (s.status === 'rejected') throw new Error(`party ${i} failed: ${(s.reason as Error).message}`);
    assert.ok(s.value instanceof TensorSet);
    return s.value;
  });
}

/**
 * Party k's model: a float32 tensor of three chunks per segment (so contributions, averages and
 * the own segment's chunks interleave) and a small float64 one. Values are small dyadic rationals,
 * so every average below is exact in float32 and the comparison can be exact.
 */
function model(k: number, elements = 3 * 3 * CHUNK_ELEMENTS + 101): TensorSet {
  const big = Float32Array.from({ length: elements }, (_, e) => ((e * 7 + k * 13) % 64) / 16 - 2);
  const small = Float64Array.from({ length: 5 }, (_, e) => e - k);
  return TensorSet.from({ big, small });
}

/** Σ w_k·x_k / Σ w_k per tensor, in float64: computed before the run, which overwrites the inputs. */
function reference(models: TensorSet[], weights: number[]): Map<string, Float64Array> {
  const total = weights.reduce((a, b) => a + b, 0);
  return new Map(models[0]!.names().map((name) => {
    const out = new Float64Array(models[0]!.get(name)!.data.length);
    models.forEach((m, k) => m.get(name)!.data.forEach((x, e) => (out[e] = out[e]! + (weights[k]! * x) / total)));
    return [name, out];
  }));
}

function assertAverage(got: TensorSet, want: Map<string, Float64Array>): void {
  for (const [name, ref] of want) {
    const data = got.get(name)!.data;
    for (let e = 0; e < ref.length; e++) if (Math.abs(data[e]! - ref[e]!) > 1e-6) assert.fail(`${name}[${e}]: ${data[e]} vs ${ref[e]}`);
  }
}

const WEIGHTS = [1, 2, 1];
/** Stage timeout of the in-memory network: generous, for a loaded machine (a model of nine chunks per party). */
const WAIT_MS = 30_000;

for (const [variant, entry, options] of [
  ['SecureFedAvg, 64-bit ring', secureFedAvg, {}],
  ['SecureFedAvg, 32-bit ring', secureFedAvg, { ring_bits: 32 }],
  ['PlainFedAvg', plainFedAvg, {}],
] as const) {
  describe(`${variant}: the average is written into the input`, () => {
    test('every party gets the exact average, in its own input buffers', async () => {
      const hub = new MemoryHub(['http://127.0.0.1:57001', 'http://127.0.0.1:57002', 'http://127.0.0.1:57003'], WAIT_MS);
      const models = WEIGHTS.map((_, k) => model(k));
      const want = reference(models, WEIGHTS);
      const buffers = models.map((m) => m.get('big')!.data.buffer);
      const got = results(await runAll(entry, hub, (i) => ({ data: { tensors: models[i], weight: WEIGHTS[i] }, ...options })));
      got.forEach((r, i) => {
        assertAverage(r, want);
        assert.equal(r.get('big')!.data.buffer, buffers[i], `party ${i}'s average is in its input's buffer`);
        assert.equal(r.get('small')!.data, models[i]!.get('small')!.data);
      });
    });

    test('the consumed input is refused at its next use (409 naming it); the other parties fail naming that party', async () => {
      const hub = new MemoryHub(['http://127.0.0.1:57001', 'http://127.0.0.1:57002'], WAIT_MS);
      const models = [model(0, 1000), model(1, 1000)];
      results(await runAll(entry, hub, (i) => ({ data: { tensors: models[i], weight: 1 }, ...options })));
      const again = await runAll(entry, hub, (i) => ({ data: { tensors: i === 0 ? models[0] : model(1, 1000), weight: 1 }, ...options }));
      assert.equal(again[0]!.status, 'rejected');
      const refused = (again[0] as PromiseRejectedResult).reason as ConflictError;
      assert.ok(refused instanceof ConflictError, String(refused));
      assert.equal(refused.status, 409);
      assert.equal(refused.where, 'kwargs.data.tensors');
      assert.match(refused.message, /consumed by .*FedAvg computation in-place-\d+/);
      assert.equal(again[1]!.status, 'rejected');
      const peer = (again[1] as PromiseRejectedResult).reason as PeerError;
      assert.ok(peer instanceof PeerError, String(peer));
      assert.match(peer.message, /party 0 .*aborted/);
    });
  });
}

describe('where the input is kept', () => {
  test('with min_parties below the party count (a restart would submit the input again) the output is separate and the input unchanged', async () => {
    const hub = new MemoryHub(['http://127.0.0.1:57001', 'http://127.0.0.1:57002', 'http://127.0.0.1:57003'], WAIT_MS);
    const models = WEIGHTS.map((_, k) => model(k, 5000));
    const want = reference(models, WEIGHTS);
    const copies = models.map((m) => Float32Array.from(m.get('big')!.data));
    const got = results(await runAll(plainFedAvg, hub, (i) => ({ data: { tensors: models[i], weight: WEIGHTS[i] }, min_parties: 2 })));
    got.forEach((r, i) => {
      assertAverage(r, want);
      assert.notEqual(r.get('big')!.data.buffer, models[i]!.get('big')!.data.buffer);
      assert.deepEqual(models[i]!.get('big')!.data, copies[i], `party ${i}'s input is as given`);
    });
    // Not consumed: the same input serves another round.
    results(await runAll(plainFedAvg, hub, (i) => ({ data: { tensors: models[i], weight: WEIGHTS[i] }, min_parties: 2 })));
  });

  test('tensors that share memory are averaged into separate arrays (one average would overwrite the other\'s input)', async () => {
    const hub = new MemoryHub(['http://127.0.0.1:57001', 'http://127.0.0.1:57002', 'http://127.0.0.1:57003'], WAIT_MS);
    // "a" and "b" overlap by half: b starts in the middle of a's memory.
    const shared = WEIGHTS.map((_, k) => Float32Array.from({ length: 3 * CHUNK_ELEMENTS }, (_, e) => ((e + 5 * k) % 32) / 8));
    const half = 3 * CHUNK_ELEMENTS / 2;
    const models = shared.map((s) => new TensorSet(new Map<string, Tensor>([
      ['a', { dtype: 'F32', shape: [2 * half], data: s }],
      ['b', { dtype: 'F32', shape: [half], data: s.subarray(half) }],
    ])));
    const want = reference(models, WEIGHTS);
    const got = results(await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: models[i], weight: WEIGHTS[i] } })));
    got.forEach((r, i) => {
      assertAverage(r, want);
      assert.notEqual(r.get('a')!.data.buffer, shared[i]!.buffer);
    });
  });
});
