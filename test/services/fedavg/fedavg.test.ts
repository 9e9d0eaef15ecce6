// SecureFedAvg across real servers over real HTTP (validated requests and responses, encrypted
// peer envelopes): binary upload and download, correctness against a float64 reference for 2, 3
// and 7 parties, the insecure baseline, mismatches, and a party that dies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Api, TesseraApiError } from '../../../clients/typescript/index.js';
import { TensorSet, type DType, type Tensor } from '../../../services/common/tensors.js';
import { CHUNK_ELEMENTS } from '../../../services/fedavg/protocol.js';
import { FEDAVG_SERVICE, startFedAvgCluster, type FedAvgCluster } from '../../support/cluster.js';
import { within } from '../../within.js';

interface Spec {
  name: string;
  dtype: DType;
  shape: number[];
}

/** Deterministic test data (not secret). */
function model(specs: Spec[], seed: number, scale: number): TensorSet {
  let s = seed * 2654435761 + 1;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const map = new Map<string, Tensor>();
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const data = spec.dtype === 'F32' ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const k = next();
      data[i] = k < 0.1 ? (next() - 0.5) * 1e-10 : (next() * 2 - 1) * scale;
    }
    map.set(spec.name, { dtype: spec.dtype, shape: spec.shape, data });
  }
  return new TensorSet(map);
}

function reference(models: TensorSet[], weights: number[]): Map<string, Float64Array> {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Map<string, Float64Array>();
  for (const name of models[0]!.names()) {
    const acc = new Float64Array(models[0]!.get(name)!.data.length);
    models.forEach((m, k) => m.get(name)!.data.forEach((v, i) => (acc[i] = acc[i]! + (weights[k]! * v) / total)));
    out.set(name, acc);
  }
  return out;
}

function maxError(got: TensorSet, want: Map<string, Float64Array>): number {
  let worst = 0;
  for (const [name, ref] of want) got.get(name)!.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref[i]!))));
  return worst;
}

const SPECS: Spec[] = [
  { name: 'layer1.weight', dtype: 'F32', shape: [64, 33] },
  { name: 'layer1.bias', dtype: 'F32', shape: [64] },
  { name: 'layer2.weight', dtype: 'F64', shape: [10, 64] },
  { name: 'step', dtype: 'F64', shape: [] },
];

type Options = Record<string, unknown>;

/** Every party uploads its model in binary and calls compute; returns each party's result representation. */
async function fedAvgAll(cluster: FedAvgCluster, microprotocol: string, models: TensorSet[], weights: number[], options: (i: number) => Options = () => ({})) {
  const uuid = randomUUID();
  return Promise.allSettled(
    cluster.nodes.map(async (url, myself) => {
      const api = new Api(url, { timeoutMs: 60_000 });
      const uploaded = await api.uploadTensors(models[myself]!);
      const service = await api.create(FEDAVG_SERVICE);
      const compute = await service.attribute('compute');
      const result = await api.call(compute, {
        microprotocol,
        data: { tensors: uploaded, weight: weights[myself] },
        network: { nodes: cluster.nodes, uuid, myself },
        ...options(myself),
      });
      assert.ok(result);
      return { api, result, uploaded };
    }),
  );
}

function fulfilled<T>(settled: PromiseSettledResult<T>[]): T[] {
  return settled.map((s, i) => {
    if (s.status === 'rejected') throw new Error(`party ${i}: ${(s.reason as Error).message}`);
    return s.value;
  });
}

for (const n of [2, 3, 7]) {
  describe(`SecureFedAvg with ${n} real servers`, { timeout: 120_000 }, () => {
    let cluster: FedAvgCluster;
    before(async () => {
      cluster = await startFedAvgCluster(n, 5000);
    });
    after(async () => {
      await cluster.close();
    });

    // [name, {microprotocol, options, tolerance}]
    const cases: [string, { microprotocol: string; options: Options; scale: number; tolerance: number }][] = [
      ['64-bit ring, |w| ≤ 1e3', { microprotocol: 'SecureFedAvg', options: {}, scale: 1e3, tolerance: 1e-6 * 1e3 }],
      ['64-bit ring, |w| ≤ 1', { microprotocol: 'SecureFedAvg', options: { ring_bits: 64 }, scale: 1, tolerance: 1e-6 }],
      ['32-bit ring, |w| ≤ 100', { microprotocol: 'SecureFedAvg', options: { ring_bits: 32 }, scale: 100, tolerance: n * 2 ** -21 + 100 * 2 ** -24 }],
      ['40-bit ring, |w| ≤ 1e4', { microprotocol: 'SecureFedAvg', options: { ring_bits: 40 }, scale: 1e4, tolerance: n * 2 ** -25 + 1e4 * 2 ** -24 }],
      ['PlainFedAvg baseline', { microprotocol: 'PlainFedAvg', options: {}, scale: 10, tolerance: 1e-5 }],
    ];
    for (const [name, { microprotocol, options, scale, tolerance }] of cases) {
      test(`${name}: binary in, binary and JSON out, within ${tolerance.toExponential(1)} of float64`, async () => {
        const models = Array.from({ length: n }, (_, k) => model(SPECS, 31 * n + k, scale));
        const weights = Array.from({ length: n }, (_, k) => (k + 1) * 10 + k * k);
        const parties = fulfilled(await within(60_000, name, fedAvgAll(cluster, microprotocol, models, weights, () => options)));
        const want = reference(models, weights);
        const downloaded = await Promise.all(parties.map((p) => p.api.downloadTensors(p.result)));
        for (const got of downloaded) {
          // The input's names, shapes and dtypes.
          assert.deepEqual(got.manifest(), models[0]!.manifest());
          assert.ok(maxError(got, want) <= tolerance, `max error ${maxError(got, want)}`);
          // Every party holds the same tensors, bit for bit.
          assert.deepEqual(got.toJson(), downloaded[0]!.toJson());
          assert.equal(got.metadata?.['tessera.parties'], String(n));
        }
        // The JSON download has the same values.
        const json = (await parties[0]!.api.download(parties[0]!.result)) as Record<string, { dtype: string; shape: number[]; data: number[] }>;
        assert.deepEqual(json['layer1.bias']!.data, Array.from(downloaded[0]!.get('layer1.bias')!.data));
        assert.equal(json['layer2.weight']!.dtype, 'F64');
        await Promise.all(parties.map(async (p) => Promise.all([p.api.release(p.result), p.api.release(p.uploaded)])));
      });
    }
  });
}

// Full chunks travel in envelopes of about 1 MiB (PlainFedAvg: CHUNK_ELEMENTS float32; the 64-bit
// ring: CHUNK_RING_BYTES / 8 elements), two per segment for PlainFedAvg and five for the secure round, so the
// per-chunk accumulators of both (reused from chunk to chunk) are each used more than once.
describe('FedAvg with chunk-sized messages across real servers', { timeout: 120_000 }, () => {
  const n = 3;
  const specs: Spec[] = [{ name: 'w', dtype: 'F32', shape: [n * 2 * CHUNK_ELEMENTS] }];
  let cluster: FedAvgCluster;
  before(async () => {
    cluster = await startFedAvgCluster(n, 30_000);
  });
  after(async () => {
    await cluster.close();
  });
  for (const [microprotocol, options, tolerance] of [['PlainFedAvg', {}, 1e-6], ['SecureFedAvg', { ring_bits: 64 }, 1e-6], ['SecureFedAvg', { ring_bits: 48 }, 1e-6]] as const) {
    test(`${microprotocol}${'ring_bits' in options ? ` (${options.ring_bits}-bit ring)` : ''}: every party gets the same average, within ${tolerance} of float64`, async () => {
      const models = Array.from({ length: n }, (_, k) => model(specs, 7 + k, 1));
      const weights = [3, 5, 11];
      const parties = fulfilled(await within(90_000, microprotocol, fedAvgAll(cluster, microprotocol, models, weights, () => options)));
      const want = reference(models, weights);
      const downloaded = await Promise.all(parties.map((p) => p.api.downloadTensors(p.result)));
      const bytes = (t: TensorSet) => {
        const data = t.get('w')!.data;
        return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      };
      for (const got of downloaded) {
        assert.ok(maxError(got, want) <= tolerance, `max error ${maxError(got, want)}`);
        assert.ok(bytes(got).equals(bytes(downloaded[0]!)), 'every party holds the same tensors, bit for bit');
      }
      await Promise.all(parties.map(async (p) => Promise.all([p.api.release(p.result), p.api.release(p.uploaded)])));
    });
  }
});

function problemOf(reason: unknown): { status: number; text: string } {
  assert.ok(reason instanceof TesseraApiError, `expected a problem, got ${String(reason)}`);
  return { status: reason.status, text: `${reason.problem.detail} ${JSON.stringify(reason.problem)}` };
}

describe('SecureFedAvg faults across real servers', { timeout: 120_000 }, () => {
  let cluster: FedAvgCluster;
  before(async () => {
    cluster = await startFedAvgCluster(3, 1500);
  });
  after(async () => {
    await cluster.close();
  });

  test('a shape mismatch: every party gets a problem naming the tensor and a party, before masked data', async () => {
    const other: Spec[] = SPECS.map((s) => (s.name === 'layer1.bias' ? { ...s, shape: [65] } : s));
    const models = [model(SPECS, 1, 1), model(other, 2, 1), model(SPECS, 3, 1)];
    const settled = await within(30_000, 'mismatch', fedAvgAll(cluster, 'SecureFedAvg', models, [1, 1, 1]));
    settled.forEach((s, i) => {
      assert.equal(s.status, 'rejected', `party ${i}`);
      const { status, text } = problemOf((s as PromiseRejectedResult).reason);
      assert.ok(status === 409 || status === 502, `status ${status}`);
      assert.match(text, /layer1\.bias/);
      assert.match(text, i === 1 ? /party [02]/ : /party 1/);
    });
  });

  test('a ring width mismatch is a 409 naming ring_bits', async () => {
    const models = [0, 1, 2].map((k) => model(SPECS, k, 1));
    const settled = await within(30_000, 'ring mismatch', fedAvgAll(cluster, 'SecureFedAvg', models, [1, 1, 1], (i) => ({ ring_bits: i === 2 ? 32 : 64 })));
    const texts = settled.map((s) => (s.status === 'rejected' ? problemOf(s.reason).text : ''));
    assert.ok(texts.every((t) => t.length > 0), 'every party fails');
    assert.ok(texts.some((t) => /ring_bits/.test(t)));
  });

  test('NaN at one party: a 400 naming tensor and element there, the others name that party', async () => {
    const models = [0, 1, 2].map((k) => model(SPECS, k, 1));
    (models[1]!.get('layer2.weight')!.data as Float64Array)[17] = NaN;
    const settled = await within(30_000, 'nan', fedAvgAll(cluster, 'SecureFedAvg', models, [1, 1, 1]));
    settled.forEach((s, i) => {
      const { status, text } = problemOf((s as PromiseRejectedResult).reason);
      if (i === 1) {
        assert.equal(status, 400);
        assert.match(text, /layer2\.weight/);
        assert.match(text, /element 17/);
      } else {
        assert.match(text, /party 1/);
      }
    });
  });

  test('a timeout passed on by the party that gave up first still names the missing party', async () => {
    const uuid = randomUUID();
    const call = async (myself: number) => {
      const api = new Api(cluster.nodes[myself]!, { timeoutMs: 60_000 });
      const service = await api.create(FEDAVG_SERVICE);
      const compute = await service.attribute('compute');
      return api
        .call(compute, { microprotocol: 'SecureFedAvg', data: { tensors: model(SPECS, myself, 1).toJson(), weight: 1 }, network: { nodes: cluster.nodes, uuid, myself } })
        .then(
          () => assert.fail('must not succeed without party 2'),
          (err: unknown) => err,
        );
    };
    const first = call(0);
    // Party 1 joins a second later, so party 0 always times out first (1.5 s stage timeout) and aborts it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const started = Date.now();
    const late = await within(15_000, 'cascaded timeout', call(1));
    const elapsed = Date.now() - started;
    const early = await within(15_000, 'first timeout', first);
    const missing = `party 2 (${cluster.nodes[2]})`;
    for (const err of [early, late]) {
      assert.ok(err instanceof TesseraApiError, String(err));
      assert.equal(err.status, 504, err.message);
      assert.equal(err.problem.where, missing);
    }
    assert.ok(late instanceof TesseraApiError);
    assert.match(late.problem.detail ?? '', new RegExp(`party 0 \\(${cluster.nodes[0]}\\) gave up waiting`));
    assert.ok(elapsed < 1500, `party 1 fails when party 0 gives up, before its own timeout could (${elapsed} ms)`);
  });

  test('a party that dies after preparing: the others fail within the timeout naming it, and the survivors still compute', async () => {
    const uuid = randomUUID();
    const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 60_000 }));
    const prepared = await within(20_000, 'prepare', Promise.all(apis.map(async (api, myself) => {
      const service = await api.create(FEDAVG_SERVICE);
      const prepare = await service.attribute('prepare');
      const p = await api.call(prepare, { microprotocol: 'SecureFedAvg', data: { manifest: SPECS }, network: { nodes: cluster.nodes, uuid, myself } });
      assert.ok(p);
      return p;
    })));
    await cluster.parties[2]!.close();
    const started = Date.now();
    const settled = await within(20_000, 'submit', Promise.allSettled([0, 1].map(async (i) => {
      const submit = await prepared[i]!.attribute('submit');
      return apis[i]!.call(submit, { data: { tensors: model(SPECS, i, 1).toJson(), weight: 1 }, timeout: 2 });
    })));
    assert.ok(Date.now() - started < 10_000, 'within the timeouts');
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      const { status, text } = problemOf((s as PromiseRejectedResult).reason);
      assert.ok([502, 504].includes(status), `status ${status}`);
      assert.match(text, /party 2/);
    }
    // Nothing left behind: the two survivors run a fresh computation between themselves.
    const nodes = cluster.nodes.slice(0, 2);
    const uuid2 = randomUUID();
    const models = [model(SPECS, 5, 1), model(SPECS, 6, 1)];
    const results = await within(30_000, 'survivors', Promise.all(apis.slice(0, 2).map(async (api, myself) => {
      const service = await api.create(FEDAVG_SERVICE);
      const compute = await service.attribute('compute');
      const r = await api.call(compute, { microprotocol: 'SecureFedAvg', data: { tensors: models[myself]!.toJson(), weight: 1 }, network: { nodes, uuid: uuid2, myself } });
      return api.downloadTensors(r);
    })));
    assert.ok(maxError(results[0]!, reference(models, [1, 1])) <= 1e-6);
  });
});
