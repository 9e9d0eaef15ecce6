// The TypeScript client's SecureFedAvg helpers against three real servers: api.secureFedAvg (named
// typed arrays, Tensor objects, a TensorSet) against a float64 reference, binary both ways, every
// representation released (also when the parties disagree), and FederatedAveraging.update() with
// TensorFlow.js models, with and without rounds announced in advance.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { Api, FederatedAveraging, roundUuid, TensorSet, TesseraApiError, type Network, type Tensor } from '../../../clients/typescript/index.js';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { within } from '../../within.js';

tf.enableProdMode(); // silences the "install tfjs-node" hint (tfjs prints warnings only outside PROD)

/** Deterministic test values (not secret): mixed signs, large and tiny magnitudes. */
function values(seed: number, count: number, scale: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: count }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    return i % 7 === 3 ? (u - 0.5) * 1e-9 : (2 * u - 1) * scale;
  });
}

// A type alias, not an interface: only aliases are assignable to the client's Record of tensors.
type PartyModel = {
  'layer.kernel': Tensor;
  'layer.bias': Float32Array;
  'stats.mean': Float64Array;
};

function partyModel(k: number, scale: number): PartyModel {
  return {
    'layer.kernel': { dtype: 'F32', shape: [5, 3], data: Float32Array.from(values(100 + k, 15, scale)) },
    'layer.bias': Float32Array.from(values(200 + k, 3, scale)),
    'stats.mean': Float64Array.from(values(300 + k, 4, scale)),
  };
}

function dataOf(v: Tensor | Float32Array | Float64Array): Float32Array | Float64Array {
  return v instanceof Float32Array || v instanceof Float64Array ? v : v.data;
}

/** Σ n_k·w_k / Σ n_k in float64, element by element. */
function reference(models: Record<string, Tensor | Float32Array | Float64Array>[], weights: number[], name: string): Float64Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const first = dataOf(models[0]![name]!);
  const out = new Float64Array(first.length);
  models.forEach((m, k) => dataOf(m[name]!).forEach((v, i) => (out[i] = out[i]! + (weights[k]! * v) / total)));
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Representations held by each server: the helpers must leave the bus as they found it. */
function busSizes(cluster: Cluster): number[] {
  return cluster.servers.map((s) => s.bus.size);
}

/** A fetch that records the content type of each upload and the Accept of each download. */
function recordingFetch(log: string[]): (input: Request) => Promise<Response> {
  return (input) => {
    if (input.method === 'PUT') log.push(`upload ${input.headers.get('content-type')}`);
    if (input.method === 'GET' && /\/representation\/[^/]+$/.test(new URL(input.url).pathname)) log.push(`download ${input.headers.get('accept')}`);
    return fetch(input);
  };
}

describe('api.secureFedAvg with three real servers', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 5000 });
  });
  after(async () => {
    await cluster.close();
  });

  const weights = [120, 35, 7.5];
  // [name, {options, scale, tolerance}]: tolerances from the precision in services/fedavg/index.ts,
  // plus the float32 rounding of the F32 tensors (2^-24 relative).
  const cases: [string, { options: { microprotocol?: 'SecureFedAvg' | 'PlainFedAvg'; ringBits?: 64 | 48 | 40 | 32 }; scale: number; tolerance: number }][] = [
    ['SecureFedAvg, 64-bit ring, |w| ≤ 1e3', { options: {}, scale: 1e3, tolerance: 1e-6 * 1e3 }],
    ['SecureFedAvg, 64-bit ring, |w| ≤ 1', { options: { ringBits: 64 }, scale: 1, tolerance: 1e-6 }],
    ['SecureFedAvg, 32-bit ring, |w| ≤ 100', { options: { ringBits: 32 }, scale: 100, tolerance: 3 * 2 ** -21 + 100 * 2 ** -24 }],
    ['SecureFedAvg, 48-bit ring, |w| ≤ 1000', { options: { ringBits: 48 }, scale: 1000, tolerance: 3 * 2 ** -33 + 1000 * 2 ** -24 }],
    ['PlainFedAvg (insecure baseline)', { options: { microprotocol: 'PlainFedAvg' }, scale: 10, tolerance: 10 * 2 ** -23 }],
  ];
  for (const [name, { options, scale, tolerance }] of cases) {
    test(`${name}: every party gets the weighted average in its input's form, binary both ways, nothing left behind`, async () => {
      const baseline = busSizes(cluster);
      const models = [0, 1, 2].map((k) => partyModel(k, scale));
      const uuid = randomUUID();
      const logs: string[][] = [[], [], []];
      const results = await within(60_000, name, Promise.all(cluster.nodes.map((url, myself) => {
        const api = new Api(url, { timeoutMs: 30_000, fetch: recordingFetch(logs[myself]!) });
        return api.secureFedAvg({ tensors: models[myself]!, weight: weights[myself]!, network: { nodes: cluster.nodes, uuid, myself }, ...options });
      })));
      for (const got of results) {
        // The same keys and kinds as given: a Tensor stays a Tensor, typed arrays stay typed arrays.
        assert.deepEqual(Object.keys(got).sort(), ['layer.bias', 'layer.kernel', 'stats.mean']);
        assert.ok(got['layer.bias'] instanceof Float32Array);
        assert.ok(got['stats.mean'] instanceof Float64Array);
        assert.equal(got['layer.kernel'].dtype, 'F32');
        assert.deepEqual(got['layer.kernel'].shape, [5, 3]);
        assert.ok(got['layer.kernel'].data instanceof Float32Array);
        for (const tensor of ['layer.kernel', 'layer.bias', 'stats.mean'] as const) {
          const err = maxAbsDiff(dataOf(got[tensor]), reference(models as never, weights, tensor));
          assert.ok(err <= tolerance, `${tensor}: max error ${err} > ${tolerance}`);
        }
        // Every party holds the same average, bit for bit.
        assert.deepEqual(Array.from(got['stats.mean']), Array.from(results[0]!['stats.mean']));
      }
      for (const log of logs) assert.deepEqual(log, ['upload application/octet-stream', 'download application/octet-stream']);
      assert.deepEqual(busSizes(cluster), baseline);
    });
  }

  test('a TensorSet in, a TensorSet out; the result carries the server metadata', async () => {
    const uuid = randomUUID();
    const sets = [0, 1, 2].map((k) => TensorSet.from({ w: Float64Array.from(values(k + 9, 6, 2)) }));
    const results = await within(60_000, 'TensorSet', Promise.all(cluster.apis.map((api, myself) =>
      api.secureFedAvg({ tensors: sets[myself]!, weight: 1, network: { nodes: cluster.nodes, uuid, myself } }),
    )));
    for (const got of results) {
      assert.ok(got instanceof TensorSet);
      assert.equal(got.metadata?.['tessera.parties'], '3');
      const want = reference(sets.map((s) => ({ w: s.get('w')! })), [1, 1, 1], 'w');
      assert.ok(maxAbsDiff(got.get('w')!.data, want) <= 1e-9);
    }
  });

  test('parties that disagree on a shape fail naming the tensor, and no representation is left behind', async () => {
    const baseline = busSizes(cluster);
    const uuid = randomUUID();
    const settled = await within(60_000, 'mismatch', Promise.allSettled(cluster.apis.map((api, myself) =>
      api.secureFedAvg({ tensors: { w: new Float32Array(myself === 2 ? 4 : 3) }, weight: 1, network: { nodes: cluster.nodes, uuid, myself } }),
    )));
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assert.ok(s.reason instanceof TesseraApiError, String(s.reason));
      assert.match(s.reason.message, /"w"/);
    }
    assert.deepEqual(busSizes(cluster), baseline);
  });

  test('bad arguments are refused before any request', async () => {
    const api = cluster.apis[0]!;
    const network: Network = { nodes: cluster.nodes, uuid: randomUUID(), myself: 0 };
    await assert.rejects(api.secureFedAvg({ tensors: { w: new Float32Array(2) }, weight: 0, network }), /weight must be a finite number > 0/);
    await assert.rejects(api.secureFedAvg({ tensors: {}, weight: 1, network }), /at least one tensor/);
    await assert.rejects(api.secureFedAvg({ tensors: { w: new Float32Array(2) }, weight: 1, network, microprotocol: 'PlainFedAvg', ringBits: 32 }), /SecureFedAvg only/);
  });
});

describe('roundUuid', () => {
  test('the same base and round give the same RFC 9562 version-8 uuid everywhere; rounds and bases differ', async () => {
    const a = await roundUuid('base', 3);
    assert.equal(a, await roundUuid('base', 3));
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const others = await Promise.all([roundUuid('base', 4), roundUuid('base2', 3), roundUuid('base', 0)]);
    assert.equal(new Set([a, ...others]).size, 4);
  });
});

describe('FederatedAveraging.update with TensorFlow.js models', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 5000 });
  });
  after(async () => {
    await cluster.close();
  });

  /** A small named-layer model; `seed` makes each party's weights different. */
  function tfModel(seed: number): tf.Sequential {
    return tf.sequential({
      layers: [
        tf.layers.dense({ name: 'hidden', units: 6, inputShape: [4], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 1 }) }),
        tf.layers.dense({ name: 'out', units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
      ],
    });
  }

  function weightsOf(model: tf.LayersModel): Float32Array[] {
    return model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  }

  // [name, {prepareNext}]: the direct path, and rounds announced in advance (announce first, model later).
  for (const [name, { prepareNext }] of [
    ['compute each round', { prepareNext: false }],
    ['next round announced in advance', { prepareNext: true }],
  ] as const) {
    test(`${name}: every model holds the weighted average after each round; close() leaves nothing behind`, async () => {
      const baseline = busSizes(cluster);
      const base = randomUUID();
      const weights = [50, 30, 20];
      const models = [0, 1, 2].map((k) => tfModel(10 * k + 1));
      const averagers = cluster.apis.map(
        // Party 2 passes no `tf`: the client then loads @tensorflow/tfjs itself, on first use.
        (api, myself) => new FederatedAveraging(api, { network: { nodes: cluster.nodes, uuid: base, myself }, weight: weights[myself]!, ...(myself === 2 ? {} : { tf }), prepareNext, timeoutMs: 30_000 }),
      );
      try {
        for (let round = 0; round < 2; round++) {
          // Each party changes its model differently between rounds, as local training would.
          models.forEach((m, k) => m.setWeights(m.getWeights().map((w) => tf.tidy(() => w.add(tf.scalar(k + round))))));
          const before = models.map(weightsOf);
          const returned = await within(60_000, `round ${round}`, Promise.all(averagers.map((f, k) => f.update(models[k]!))));
          returned.forEach((m, k) => assert.equal(m, models[k]!, 'a tfjs model is updated in place'));
          const after = models.map(weightsOf);
          const total = weights.reduce((a, b) => a + b, 0);
          after[0]!.forEach((got, i) => {
            const want = got.map((_, j) => before.reduce((acc, w, k) => acc + (weights[k]! * w[i]![j]!) / total, 0));
            assert.ok(maxAbsDiff(got, want) <= 1e-6 * Math.max(1, ...want.map(Math.abs)), `weight ${i}`);
          });
          for (const w of after.slice(1)) assert.deepEqual(w, after[0]);
          for (const f of averagers) {
            assert.equal(f.lastRound?.round, round);
            assert.equal(f.lastRound?.uuid, await roundUuid(base, round));
            assert.equal(f.lastRound?.prepared, prepareNext && round > 0);
            assert.equal(f.round, round + 1);
          }
        }
        // The averaged model still computes (its variables hold live tensors).
        const y = models[0]!.predict(tf.ones([1, 4])) as tf.Tensor;
        assert.deepEqual(y.shape, [1, 3]);
        assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
        y.dispose();
      } finally {
        await within(30_000, 'close', Promise.all(averagers.map((f) => f.close())));
        models.forEach((m) => m.dispose());
      }
      assert.deepEqual(busSizes(cluster), baseline);
    });
  }

  test('named arrays: update returns new averaged arrays; weights change per round; a model whose shape changed after an announcement is refused', async () => {
    const baseline = busSizes(cluster);
    const base = randomUUID();
    const averagers = cluster.apis.map((api, myself) => new FederatedAveraging(api, { network: { nodes: cluster.nodes, uuid: base, myself }, weight: 1, prepareNext: true, timeoutMs: 30_000 }));
    try {
      const inputs = [0, 1, 2].map((k) => ({ w: Float64Array.of(k, 10 * k) }));
      const first = await within(30_000, 'round 0', Promise.all(averagers.map((f, k) => f.update(inputs[k]!))));
      for (const got of first) assert.deepEqual(Array.from(got.w), [1, 10]);
      // Round 1 with per-round weights 1, 1, 2: (0 + 1 + 2·2) / 4 and (0 + 10 + 2·20) / 4.
      const second = await within(30_000, 'round 1', Promise.all(averagers.map((f, k) => f.update(inputs[k]!, { weight: k === 2 ? 2 : 1 }))));
      for (const got of second) assert.deepEqual(Array.from(got.w), [1.25, 12.5]);
      assert.ok(second[0]!.w instanceof Float64Array && second[0]!.w !== inputs[0]!.w);
      // Round 2 was announced with w of length 2; a longer w cannot use it.
      const third = await within(30_000, 'round 2', Promise.allSettled(averagers.map((f) => f.update({ w: new Float64Array(3) }))));
      for (const s of third) {
        assert.equal(s.status, 'rejected');
        assert.match(String(s.reason), /changed since round 2 was announced/);
      }
    } finally {
      await within(30_000, 'close', Promise.all(averagers.map((f) => f.close())));
    }
    assert.deepEqual(busSizes(cluster), baseline);
  });
});
