import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../services/simulation/network.js';
import { plainFedAvg, prepareFedAvg, secureFedAvg } from '../../../services/fedavg/index.js';
import { chunkElements, CHUNK_ELEMENTS, CHUNK_RING_BYTES, termsFor } from '../../../services/fedavg/protocol.js';
import { DEFAULT_FRAC_BITS, fixedPoint, type RingWidth } from '../../../services/common/vector.js';
import { TensorSet, type DType, type Tensor } from '../../../services/common/tensors.js';
import { BadInputError, ConflictError, PeerError, TesseraError, TimeoutError } from '../../../services/errors.js';
import { isServerObject, type CallContext, type ServerObject } from '../../../services/microservice.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let uuidCounter = 0;

function nodes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `http://127.0.0.1:${56000 + i}`);
}

function ctxFor(hub: MemoryHub, i: number): CallContext {
  return { signal: new AbortController().signal, peers: hub.network(i), log: silent };
}

/** Deterministic pseudo-random numbers for test data (not secret: xorshift is fine here). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

interface Spec {
  name: string;
  dtype: DType;
  shape: number[];
}

/** A model of `specs`, values in ±scale with some tiny and negative ones. */
function model(specs: Spec[], seed: number, scale: number): TensorSet {
  const r = rng(seed);
  const map = new Map<string, Tensor>();
  for (const s of specs) {
    const count = s.shape.reduce((a, b) => a * b, 1);
    const data = s.dtype === 'F32' ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const kind = r();
      data[i] = kind < 0.1 ? (r() - 0.5) * 1e-9 : kind < 0.15 ? 0 : (r() * 2 - 1) * scale;
    }
    map.set(s.name, { dtype: s.dtype, shape: s.shape, data });
  }
  return new TensorSet(map);
}

/** Σ n_k·w_k / Σ n_k in float64, per tensor: before the run, which writes the average into the inputs. */
function reference(models: TensorSet[], weights: number[]): Map<string, Float64Array> {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Map<string, Float64Array>();
  for (const name of models[0]!.names()) {
    const len = models[0]!.get(name)!.data.length;
    const acc = new Float64Array(len);
    models.forEach((m, k) => {
      const d = m.get(name)!.data;
      for (let i = 0; i < len; i++) acc[i] = acc[i]! + (weights[k]! * d[i]!) / total;
    });
    out.set(name, acc);
  }
  return out;
}

type Entry = (kwargs: Record<string, unknown>, ctx: CallContext) => Promise<unknown>;

async function runAll(entry: Entry, hub: MemoryHub, kwargsFor: (i: number) => Record<string, unknown>): Promise<PromiseSettledResult<unknown>[]> {
  const uuid = `fedavg-test-${++uuidCounter}`;
  return Promise.allSettled(
    hub.nodes.map((_, i) =>
      entry({ ...kwargsFor(i), network: { nodes: hub.nodes, uuid, myself: i } }, ctxFor(hub, i)),
    ),
  );
}

function results(settled: PromiseSettledResult<unknown>[]): TensorSet[] {
  return settled.map((s, i) => {
    if (s.status === 'rejected') throw new Error(`party ${i} failed: ${(s.reason as Error).message}`);
    assert.ok(s.value instanceof TensorSet);
    return s.value;
  });
}

function maxError(got: TensorSet, want: Map<string, Float64Array>): number {
  let worst = 0;
  for (const [name, ref] of want) {
    const d = got.get(name)!.data;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(d[i]! - ref[i]!));
  }
  return worst;
}

const MIXED: Spec[] = [
  { name: 'conv.weight', dtype: 'F32', shape: [3, 4, 5] },
  { name: 'conv.bias', dtype: 'F64', shape: [7] },
  { name: 'scalar', dtype: 'F32', shape: [] },
  { name: 'empty', dtype: 'F64', shape: [0, 3] },
  { name: 'dense', dtype: 'F32', shape: [33, 17] },
];

describe('SecureFedAvg against a float64 reference', () => {
  // [name, {parties, ring_bits, scale of |w|}]
  const cases: [string, { n: number; ringBits: RingWidth; scale: number }][] = [
    ['2 parties, 64-bit, |w| ≤ 1', { n: 2, ringBits: 64, scale: 1 }],
    ['3 parties, 48-bit, |w| ≤ 1e3', { n: 3, ringBits: 48, scale: 1e3 }],
    ['5 parties, 40-bit, |w| ≤ 1e4', { n: 5, ringBits: 40, scale: 1e4 }],
    ['3 parties, 64-bit, |w| ≤ 1e3', { n: 3, ringBits: 64, scale: 1e3 }],
    ['5 parties, 64-bit, |w| ≤ 10', { n: 5, ringBits: 64, scale: 10 }],
    ['7 parties, 64-bit, |w| ≤ 1e3', { n: 7, ringBits: 64, scale: 1e3 }],
    ['3 parties, 32-bit, |w| ≤ 1e3', { n: 3, ringBits: 32, scale: 1e3 }],
    ['7 parties, 32-bit, |w| ≤ 1', { n: 7, ringBits: 32, scale: 1 }],
  ];
  for (const [name, { n, ringBits, scale }] of cases) {
    test(name, async () => {
      const hub = new MemoryHub(nodes(n));
      const models = Array.from({ length: n }, (_, k) => model(MIXED, 100 * n + k + ringBits, scale));
      const weights = Array.from({ length: n }, (_, k) => [120, 7, 1, 3000, 0.5, 42, 9][k]!);
      const want = reference(models, weights);
      const got = results(await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: models[i], weight: weights[i] }, ring_bits: ringBits })));
      const f = DEFAULT_FRAC_BITS[ringBits];
      for (const r of got) {
        // Names, shapes and dtypes as given.
        assert.deepEqual(r.manifest(), models[0]!.manifest());
        // Error bound: n roundings of 2^-(f+1), then one rounding to the output dtype.
        for (const [tensor, ref] of want) {
          const t = r.get(tensor)!;
          const eps = t.dtype === 'F32' ? 2 ** -24 : 2 ** -52;
          for (let i = 0; i < ref.length; i++) {
            const bound = n * 2 ** -(f + 1) + Math.abs(ref[i]!) * eps * 1.01 + 1e-300;
            assert.ok(Math.abs(t.data[i]! - ref[i]!) <= bound, `${tensor}[${i}]: ${t.data[i]} vs ${ref[i]}`);
          }
        }
        if (ringBits === 64) assert.ok(maxError(r, want) <= 1e-6 * Math.max(1, scale), 'the issue\'s exactness target');
        // Every party receives bit-identical tensors.
        assert.deepEqual(r.toSafetensors().subarray(8 + Number(r.toSafetensors().readBigUInt64LE(0))), got[0]!.toSafetensors().subarray(8 + Number(got[0]!.toSafetensors().readBigUInt64LE(0))));
        assert.equal(r.metadata?.['tessera.parties'], String(n));
        assert.equal(Number(r.metadata?.['tessera.weight']), weights.reduce((a, b) => a + b, 0));
      }
    });
  }

  test('50 parties, |w| up to 1e3: within the documented bound, n·2^-33 (5.8e-9) plus one rounding to the output dtype', async () => {
    const n = 50;
    const hub = new MemoryHub(nodes(n), 20_000);
    const specs: Spec[] = [{ name: 'w', dtype: 'F64', shape: [64] }, { name: 'b', dtype: 'F32', shape: [5] }];
    const models = Array.from({ length: n }, (_, k) => model(specs, 7000 + k, 1e3));
    const weights = Array.from({ length: n }, (_, k) => 1 + k * 17);
    const want = reference(models, weights);
    const got = results(await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: models[i], weight: weights[i] } })));
    for (const r of got) {
      for (const [tensor, ref] of want) {
        const t = r.get(tensor)!;
        const eps = t.dtype === 'F32' ? 2 ** -24 : 2 ** -52;
        for (let i = 0; i < ref.length; i++) {
          // services/fedavg/index.ts: ring 64, f = 32: fixed-point error ≤ n·2^-(f+1) = 5.8e-9 for 50.
          const bound = n * 2 ** -33 + Math.abs(ref[i]!) * eps * 1.01 + 1e-300;
          assert.ok(Math.abs(t.data[i]! - ref[i]!) <= bound, `${tensor}[${i}]: ${t.data[i]} vs ${ref[i]}, bound ${bound}`);
        }
      }
    }
  });

  test('a multi-chunk model streams every segment in messages of CHUNK_RING_BYTES of ring elements (just under 1 MiB; 64-bit ring: 130,048 per chunk)', async () => {
    const n = 3;
    const hub = new MemoryHub(nodes(n));
    const specs: Spec[] = [{ name: 'big', dtype: 'F32', shape: [CHUNK_ELEMENTS * 4 + 12345] }, { name: 'small', dtype: 'F64', shape: [3] }];
    const models = Array.from({ length: n }, (_, k) => model(specs, 33 + k, 5));
    const weights = [1, 2, 3];
    const want = reference(models, weights);
    const got = results(await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: models[i], weight: weights[i] } })));
    for (const r of got) assert.ok(maxError(r, want) <= 1e-6 * 5);
    const reduce = hub.log.filter((m) => m.stage === 'reduce');
    assert.ok(Math.max(...reduce.map((m) => m.seq)) >= 1, 'more than one chunk per segment');
    // Full chunks of the 64-bit ring are CHUNK_RING_BYTES on the wire, not CHUNK_ELEMENTS × 8 bytes = 2 MiB;
    // the gather stage carries the same chunks as float32.
    assert.equal(Math.max(...reduce.map((m) => m.bytes)), CHUNK_RING_BYTES);
    assert.equal(Math.max(...hub.log.filter((m) => m.stage === 'gather').map((m) => m.bytes)), CHUNK_RING_BYTES / 2);
    // Bytes per party: (n−1)/n of the model as ring elements (8 B) plus as float32 (4 B), and a few
    // hundred bytes of setup and weights.
    const total = CHUNK_ELEMENTS * 4 + 12345 + 3;
    for (let i = 0; i < n; i++) {
      const sent = hub.log.filter((m) => m.from === i && (m.stage === 'reduce' || m.stage === 'gather')).reduce((a, m) => a + m.bytes, 0);
      const ideal = ((n - 1) / n) * total * 12;
      assert.ok(Math.abs(sent - ideal) / ideal < 0.01, `party ${i} sent ${sent}, ideal ${ideal}`);
      assert.ok(hub.bytesSent[i]! - sent < 2000, 'setup and weights are small');
    }
  });

  for (const k of [40, 48] as const) {
    test(`a ${k}-bit ring sends ${k / 8} bytes per element: multi-chunk messages of whole packed elements, the average as exact as its f allows`, async () => {
      const n = 3;
      const hub = new MemoryHub(nodes(n));
      const perChunk = Math.floor(CHUNK_RING_BYTES / (k / 8));
      // Values up to ±30000 (the default bound is 32767), negative ones among them, over three
      // chunks of some segment, plus a float64 tensor.
      const specs: Spec[] = [{ name: 'big', dtype: 'F32', shape: [perChunk * 7 + 999] }, { name: 'small', dtype: 'F64', shape: [5] }];
      const models = Array.from({ length: n }, (_, i) => model(specs, 71 + i + k, 30000));
      const weights = [3, 1, 2];
      const want = reference(models, weights);
      const got = results(await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: models[i], weight: weights[i] }, ring_bits: k })));
      const f = DEFAULT_FRAC_BITS[k];
      for (const r of got) {
        for (const [tensor, ref] of want) {
          const t = r.get(tensor)!;
          const eps = t.dtype === 'F32' ? 2 ** -24 : 2 ** -52;
          for (let i = 0; i < ref.length; i++) {
            const bound = n * 2 ** -(f + 1) + Math.abs(ref[i]!) * eps * 1.01;
            if (!(Math.abs(t.data[i]! - ref[i]!) <= bound)) assert.fail(`${tensor}[${i}]: ${t.data[i]} vs ${ref[i]}, bound ${bound}`);
          }
        }
        assert.equal(r.metadata?.['tessera.ring_bits'], String(k));
      }
      const reduce = hub.log.filter((m) => m.stage === 'reduce');
      assert.ok(Math.max(...reduce.map((m) => m.seq)) >= 2, 'three chunks or more per segment');
      // A full chunk is the whole elements that fit CHUNK_RING_BYTES, k/8 bytes each.
      assert.equal(Math.max(...reduce.map((m) => m.bytes)), perChunk * (k / 8));
      for (const m of reduce) assert.equal(m.bytes % (k / 8), 0);
      // Bytes per party: (n−1)/n of the model at k/8 bytes plus as float32.
      const total = perChunk * 7 + 999 + 5;
      for (let i = 0; i < n; i++) {
        const sent = hub.log.filter((m) => m.from === i && (m.stage === 'reduce' || m.stage === 'gather')).reduce((a, m) => a + m.bytes, 0);
        const ideal = ((n - 1) / n) * total * (k / 8 + 4);
        assert.ok(Math.abs(sent - ideal) / ideal < 0.01, `party ${i} sent ${sent}, ideal ${ideal}`);
      }
    });
  }

  test('a value beyond a 40-bit ring\'s bound is refused naming the element, never wrapped', async () => {
    const hub = new MemoryHub(nodes(3));
    const bound = fixedPoint(40).bound;
    const settled = await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: TensorSet.from({ w: Float32Array.of(1, i === 0 ? bound + 1 : -bound) }), weight: 1 }, ring_bits: 40 }));
    const own = settled[0]!;
    assert.equal(own.status, 'rejected');
    assert.ok((own as PromiseRejectedResult).reason instanceof BadInputError);
    assert.match(String((own as PromiseRejectedResult).reason.message), /element 1 of .*outside the encodable range ±32767/);
    for (const s of settled.slice(1)) assert.equal(s.status, 'rejected');
    assert.equal(hub.log.filter((m) => m.stage === 'reduce').length, 0, 'nothing masked was sent');
  });

  test('chunks: CHUNK_RING_BYTES of ring elements (SecureFedAvg) or float32 (PlainFedAvg) in the default round (chunk_bytes in the terms), CHUNK_ELEMENTS otherwise', () => {
    const chunk = (params: Parameters<typeof termsFor>[0]) => {
      const terms = termsFor(params, nodes(3));
      return [chunkElements(params), terms.chunk_bytes ?? `${terms.chunk_elements} elements`];
    };
    assert.deepEqual(chunk({ variant: 'SecureFedAvg', fixedPoint: fixedPoint(64) }), [CHUNK_RING_BYTES / 8, CHUNK_RING_BYTES]);
    assert.deepEqual(chunk({ variant: 'SecureFedAvg', fixedPoint: fixedPoint(32) }), [CHUNK_RING_BYTES / 4, CHUNK_RING_BYTES]);
    // 5 and 6 bytes do not divide the chunk: the whole elements that fit.
    assert.deepEqual(chunk({ variant: 'SecureFedAvg', fixedPoint: fixedPoint(40) }), [Math.floor(CHUNK_RING_BYTES / 5), CHUNK_RING_BYTES]);
    assert.deepEqual(chunk({ variant: 'SecureFedAvg', fixedPoint: fixedPoint(48) }), [Math.floor(CHUNK_RING_BYTES / 6), CHUNK_RING_BYTES]);
    assert.deepEqual(chunk({ variant: 'PlainFedAvg' }), [CHUNK_RING_BYTES / 4, CHUNK_RING_BYTES]);
    // A round with min_parties chunks as before (double.ts), and an explicit size is kept.
    assert.deepEqual(chunk({ variant: 'PlainFedAvg', minParties: 2 }), [CHUNK_ELEMENTS, `${CHUNK_ELEMENTS} elements`]);
    assert.deepEqual(chunk({ variant: 'SecureFedAvg', fixedPoint: fixedPoint(64), minParties: 2 }), [CHUNK_ELEMENTS, `${CHUNK_ELEMENTS} elements`]);
    assert.deepEqual(chunk({ variant: 'SecureFedAvg', fixedPoint: fixedPoint(64), chunkElements: 1000 }), [1000, '1000 elements']);
  });

  test('every chunk is masked with its own stretch of keystream: a zero model gives no two equal chunks', async () => {
    // With a zero model a reduce message is its mask alone (party 0's term with party 2 over
    // segment 1): a chunk masked from the wrong offset of the stream would repeat another chunk.
    const n = 3;
    const hub = new MemoryHub(nodes(n));
    hub.capture = true;
    const zeros = new TensorSet(new Map([['w', { dtype: 'F32' as const, shape: [3 * 3 * CHUNK_RING_BYTES / 8 + 5], data: new Float32Array(3 * 3 * CHUNK_RING_BYTES / 8 + 5) }]]));
    results(await runAll(secureFedAvg, hub, () => ({ data: { tensors: TensorSet.parseSafetensors(zeros.toSafetensors()), weight: 1 } })));
    const chunks = hub.log.filter((x) => x.stage === 'reduce' && x.from === 0 && x.to === 1).map((x) => Buffer.from(x.payload!));
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    const heads = new Set(chunks.map((c) => c.subarray(0, 16).toString('hex')));
    assert.equal(heads.size, chunks.length, 'no two chunks start with the same mask');
    assert.ok(chunks.every((c) => c.some((b) => b !== 0)), 'every chunk is masked');
  });

  test('masks are fresh per computation: identical inputs give different reduce messages', async () => {
    const n = 2;
    const hub = new MemoryHub(nodes(n));
    hub.capture = true;
    const m = model([{ name: 'w', dtype: 'F32', shape: [16] }], 5, 1);
    for (let run = 0; run < 2; run++) {
      // A copy per party and run: a computation writes its average into its input (and consumes it).
      results(await runAll(secureFedAvg, hub, () => ({ data: { tensors: TensorSet.parseSafetensors(m.toSafetensors()), weight: 1 } })));
    }
    const reduce = hub.log.filter((x) => x.stage === 'reduce' && x.from === 0);
    assert.equal(reduce.length, 2);
    assert.notDeepEqual(reduce[0]!.payload, reduce[1]!.payload);
    // And a masked contribution is not the plain encoding: no element equals round(w·½·2^32).
    const words = new Uint32Array(Uint8Array.from(reduce[0]!.payload!).buffer);
    const w = m.get('w')!.data;
    const start = Math.floor(16 / 2);
    for (let e = 0; e < 8; e++) {
      const plainHi = Math.floor(Math.round(w[start + e]! * 0.5 * 2 ** 32) / 2 ** 32) >>> 0;
      assert.ok(words[2 * e + 1] !== plainHi || words[2 * e] !== (Math.round(w[start + e]! * 0.5 * 2 ** 32) >>> 0));
    }
  });
});

describe('PlainFedAvg (insecure baseline)', () => {
  test('3 parties agree with the float64 reference to float32 precision', async () => {
    const n = 3;
    const hub = new MemoryHub(nodes(n));
    const models = Array.from({ length: n }, (_, k) => model(MIXED, 900 + k, 100));
    const weights = [3, 1, 2];
    const want = reference(models, weights);
    const got = results(await runAll(plainFedAvg, hub, (i) => ({ data: { tensors: models[i], weight: weights[i] } })));
    for (const r of got) {
      assert.ok(maxError(r, want) <= 1e-4, `max error ${maxError(r, want)}`);
      assert.equal(r.metadata?.['tessera.microprotocol'], 'PlainFedAvg');
      assert.deepEqual(r.toJson(), got[0]!.toJson());
    }
    // Bytes: the model's own dtype both ways, (n−1)/n each.
    const bytes = hub.log.filter((m) => m.from === 0 && (m.stage === 'reduce' || m.stage === 'gather')).reduce((a, m) => a + m.bytes, 0);
    assert.ok(bytes < models[0]!.byteLength * 2 * ((n - 1) / n) * 1.05);
  });
});

describe('PlainFedAvg, streamed', () => {
  test('a multi-chunk model: every chunk right, recycled chunk buffers included', async () => {
    // Segments of four chunks each: a party sends each destination several full float32 chunks,
    // written into buffers recycled from the chunks already delivered (protocol.ts plainAggregator).
    const n = 3;
    const hub = new MemoryHub(nodes(n));
    const specs: Spec[] = [{ name: 'big', dtype: 'F32', shape: [CHUNK_ELEMENTS * 12 + 777] }, { name: 'small', dtype: 'F64', shape: [3] }];
    const models = Array.from({ length: n }, (_, k) => model(specs, 61 + k, 5));
    const weights = [2, 5, 3];
    const want = reference(models, weights);
    const got = results(await runAll(plainFedAvg, hub, (i) => ({ data: { tensors: models[i], weight: weights[i] } })));
    for (const r of got) {
      assert.ok(maxError(r, want) <= 1e-5 * 5, `max error ${maxError(r, want)}`);
      assert.deepEqual(r.get('small')!.data, got[0]!.get('small')!.data);
      assert.ok(Buffer.from(r.get('big')!.data.buffer).equals(Buffer.from(got[0]!.get('big')!.data.buffer)), 'every party holds the same average');
    }
    const reduce = hub.log.filter((m) => m.stage === 'reduce' && m.from === 0 && m.to === 1);
    assert.ok(reduce.length >= 4, `${reduce.length} reduce chunks to one party`);
    // Cut as SecureFedAvg's are: CHUNK_RING_BYTES of float32 per message.
    assert.equal(Math.max(...reduce.map((m) => m.bytes)), CHUNK_RING_BYTES);
  });
});

function assertNames(err: unknown, ...needles: string[]): void {
  assert.ok(err instanceof TesseraError, `expected a TesseraError, got ${String(err)}`);
  const text = `${err.message} ${err.where ?? ''}`;
  for (const needle of needles) assert.ok(text.includes(needle), `"${text}" should name ${needle}`);
}

describe('mismatches are found before any masked data is sent', () => {
  // [name, {the spec party 1 uses instead, the tensor that must be named}]
  const cases: [string, { specs: Spec[]; tensor: string }][] = [
    ['a different shape', { specs: [{ name: 'a', dtype: 'F32', shape: [4] }, { name: 'b', dtype: 'F32', shape: [3, 2] }], tensor: 'b' }],
    ['a different dtype', { specs: [{ name: 'a', dtype: 'F64', shape: [4] }, { name: 'b', dtype: 'F32', shape: [2, 3] }], tensor: 'a' }],
    ['a missing tensor', { specs: [{ name: 'a', dtype: 'F32', shape: [4] }], tensor: 'b' }],
    ['an extra tensor', { specs: [{ name: 'a', dtype: 'F32', shape: [4] }, { name: 'b', dtype: 'F32', shape: [2, 3] }, { name: 'c', dtype: 'F32', shape: [1] }], tensor: 'c' }],
  ];
  const base: Spec[] = [{ name: 'a', dtype: 'F32', shape: [4] }, { name: 'b', dtype: 'F32', shape: [2, 3] }];
  for (const [name, { specs, tensor }] of cases) {
    test(`${name}: every party gets a problem naming tensor "${tensor}" and the other party`, async () => {
      const hub = new MemoryHub(nodes(3));
      const settled = await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: model(i === 1 ? specs : base, i, 1), weight: 1 } }));
      settled.forEach((s, i) => {
        assert.equal(s.status, 'rejected', `party ${i} must fail`);
        const err = (s as PromiseRejectedResult).reason;
        assertNames(err, `"${tensor}"`);
        // Party 1 names one of the others, the others name party 1.
        assertNames(err, i === 1 ? 'party ' : 'party 1');
      });
      assert.deepEqual(hub.log.filter((m) => m.stage !== 'setup'), [], 'nothing but manifests was sent');
      assert.equal(hub.closed.length, 3, 'every session closed');
    });
  }

  test('a different ring width is a conflict naming ring_bits, before any masked data', async () => {
    const hub = new MemoryHub(nodes(2));
    const settled = await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: model(base, 1, 1), weight: 1 }, ring_bits: i === 0 ? 64 : 32 }));
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assertNames((s as PromiseRejectedResult).reason, 'ring_bits');
    }
    assert.deepEqual(hub.log.filter((m) => m.stage !== 'setup'), []);
  });
});

describe('bad values are errors for the party that gave them', () => {
  // [name, the bad value]
  const cases: [string, number][] = [['NaN', NaN], ['+Inf', Infinity], ['beyond the 64-bit range', 3e9]];
  for (const [name, bad] of cases) {
    test(`${name}: that party gets a 400 naming tensor and element, the others a peer error naming it`, async () => {
      const hub = new MemoryHub(nodes(3));
      const specs: Spec[] = [{ name: 'layer.w', dtype: 'F64', shape: [10] }];
      const settled = await runAll(secureFedAvg, hub, (i) => {
        const m = model(specs, i, 1);
        if (i === 2) (m.get('layer.w')!.data as Float64Array)[7] = bad;
        return { data: { tensors: m, weight: 1 } };
      });
      const [a, b, c] = settled.map((s) => (s as PromiseRejectedResult).reason);
      assert.ok(c instanceof BadInputError);
      assert.equal(c.where, 'kwargs.data.tensors.layer.w');
      assert.match(c.message, /element 7/);
      for (const err of [a, b]) {
        assert.ok(err instanceof PeerError, String(err));
        assertNames(err, 'party 2', 'layer.w', 'element 7');
      }
      assert.equal(hub.log.filter((m) => m.from === 2 && m.stage === 'reduce').length, 0, 'no masked data left party 2');
    });
  }

  test('the 32-bit ring refuses |w| > 2047 rather than wrapping', async () => {
    const hub = new MemoryHub(nodes(2));
    const settled = await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: TensorSet.from({ w: Float32Array.of(1, i === 0 ? 2048 : 0) }), weight: 1 }, ring_bits: 32 }));
    assert.ok((settled[0] as PromiseRejectedResult).reason instanceof BadInputError);
  });

  // [name, kwargs, field]
  const invalid: [string, Record<string, unknown>, string][] = [
    ['weight 0', { data: { tensors: { w: [1] }, weight: 0 } }, 'kwargs.data.weight'],
    ['weight missing', { data: { tensors: { w: [1] } } }, 'kwargs.data.weight'],
    ['no tensors', { data: { weight: 1 } }, 'kwargs.data.tensors'],
    ['ring_bits 16', { data: { tensors: { w: [1] }, weight: 1 }, ring_bits: 16 }, 'kwargs.ring_bits'],
    ['frac_bits 40 in a 32-bit ring', { data: { tensors: { w: [1] }, weight: 1 }, ring_bits: 32, frac_bits: 40 }, 'kwargs.frac_bits'],
    ['data not an object', { data: 5 }, 'kwargs.data'],
  ];
  for (const [name, kwargs, field] of invalid) {
    test(`${name} is a 400 naming ${field}, before any peer is contacted`, async () => {
      const hub = new MemoryHub(nodes(2));
      await assert.rejects(
        secureFedAvg({ ...kwargs, network: { nodes: hub.nodes, uuid: 'x', myself: 0 } }, ctxFor(hub, 0)),
        (err: unknown) => err instanceof BadInputError && err.where === field,
      );
      assert.equal(hub.log.length, 0);
    });
  }
});

describe('announce first, model later', () => {
  async function prepareAll(hub: MemoryHub, specs: Spec[], extra: Record<string, unknown> = {}): Promise<ServerObject[]> {
    const settled = await runAll(prepareFedAvg, hub, () => ({ data: { manifest: specs }, ...extra }));
    return settled.map((s) => {
      assert.equal(s.status, 'fulfilled');
      const v = (s as PromiseFulfilledResult<unknown>).value;
      assert.ok(isServerObject(v));
      return v;
    });
  }
  const specs: Spec[] = [{ name: 'w', dtype: 'F32', shape: [100] }, { name: 'b', dtype: 'F64', shape: [3] }];

  test('prepare, then submit: masks exist before the model, the online part sends no setup', async () => {
    const hub = new MemoryHub(nodes(3));
    const prepared = await prepareAll(hub, specs);
    const setupMessages = hub.log.length;
    assert.deepEqual(prepared[0]!.members.status!([], {}, ctxFor(hub, 0)), { stage: 'prepared' });
    const models = [0, 1, 2].map((k) => model(specs, 50 + k, 3));
    const weights = [5, 10, 15];
    const want = reference(models, weights);
    const got = results(
      await Promise.allSettled(prepared.map((p, i) => p.members.submit!([], { data: { tensors: models[i], weight: weights[i] } }, ctxFor(hub, i)) as Promise<unknown>)),
    );
    assert.ok(hub.log.slice(setupMessages).every((m) => m.stage !== 'setup'));
    for (const r of got) assert.ok(maxError(r, want) <= 3e-6);
    // A second submit is refused.
    await assert.rejects(
      Promise.resolve(prepared[0]!.members.submit!([], { data: { tensors: models[0], weight: 1 } }, ctxFor(hub, 0))),
      ConflictError,
    );
    assert.deepEqual(prepared[0]!.members.status!([], {}, ctxFor(hub, 0)), { stage: 'done' });
  });

  test('a submitted model that differs from the announced manifest is a 400 naming the tensor', async () => {
    const hub = new MemoryHub(nodes(2));
    const prepared = await prepareAll(hub, specs, { ttl: 5 });
    const wrong = model([{ name: 'w', dtype: 'F32', shape: [101] }, { name: 'b', dtype: 'F64', shape: [3] }], 1, 1);
    await assert.rejects(
      Promise.resolve(prepared[0]!.members.submit!([], { data: { tensors: wrong, weight: 1 } }, ctxFor(hub, 0))),
      (err: unknown) => err instanceof BadInputError && err.where === 'kwargs.data.tensors.w',
    );
    // The other party learns that party 0 gave up.
    await assert.rejects(
      Promise.resolve(prepared[1]!.members.submit!([], { data: { tensors: model(specs, 2, 1), weight: 1 } }, ctxFor(hub, 1))),
      (err: unknown) => err instanceof PeerError && String(err.where).includes('party 0'),
    );
  });

  test('a party that dies after setup makes the others fail within the timeout, naming it, with every session closed', async () => {
    const hub = new MemoryHub(nodes(3), 400);
    const prepared = await prepareAll(hub, specs);
    hub.dead.add(2);
    const started = Date.now();
    const settled = await Promise.allSettled(
      [0, 1].map((i) => prepared[i]!.members.submit!([], { data: { tensors: model(specs, i, 1), weight: 1 }, timeout: 0.5 }, ctxFor(hub, i)) as Promise<unknown>),
    );
    assert.ok(Date.now() - started < 3000);
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      const err = (s as PromiseRejectedResult).reason;
      // Whoever gave up first passes the cause on (the abort notice carries it, as the real
      // session's does): every party blames party 2 in `where`, never the party that gave up first.
      assert.ok(err instanceof TimeoutError || err instanceof PeerError, String(err));
      assert.match(String(err.where), /^party 2 \(/, String(err));
    }
    assert.ok(hub.closed.includes(`${[...hub.sessions.keys()][0]!.split('/')[0]}/0`));
    assert.ok(hub.closed.filter((k) => k.endsWith('/0') || k.endsWith('/1')).length >= 2);
    prepared[2]!.members.cancel!([], {}, ctxFor(hub, 2));
  });

  test('a party that dies in the middle of streaming: the others fail within the timeout, naming it', async () => {
    const hub = new MemoryHub(nodes(3), 400);
    const big: Spec[] = [{ name: 'w', dtype: 'F32', shape: [CHUNK_ELEMENTS * 6] }];
    // Setup (2 messages), weights (2), then a few reduce chunks, then nothing.
    hub.dieAfter = { party: 1, messages: 7 };
    const started = Date.now();
    const settled = await runAll(secureFedAvg, hub, (i) => ({ data: { tensors: model(big, i, 1), weight: 1 } }));
    assert.ok(Date.now() - started < 5000);
    assert.ok(hub.log.some((m) => m.from === 1 && m.stage === 'reduce'), 'party 1 died mid-stream');
    for (const i of [0, 2]) {
      const s = settled[i]!;
      assert.equal(s.status, 'rejected');
      assertNames((s as PromiseRejectedResult).reason, 'party 1');
    }
    assert.ok(hub.closed.includes(`${[...hub.sessions.keys()][0]!.split('/')[0]}/0`) && hub.closed.some((k) => k.endsWith('/2')), 'sessions closed');
  });

  test('cancel before submit: the peers fail promptly naming the cancelling party', async () => {
    const hub = new MemoryHub(nodes(2), 5000);
    const prepared = await prepareAll(hub, specs);
    prepared[0]!.members.cancel!([], {}, ctxFor(hub, 0));
    const started = Date.now();
    // Whether party 1 hears the abort first (PeerError) or hits party 0's closed session
    // (ConflictError) depends on timing; either way it fails at once, naming party 0.
    await assert.rejects(
      Promise.resolve(prepared[1]!.members.submit!([], { data: { tensors: model(specs, 1, 1), weight: 1 } }, ctxFor(hub, 1))),
      (err: unknown) => (err instanceof PeerError || err instanceof ConflictError) && String(err.where).includes('party 0'),
    );
    assert.ok(Date.now() - started < 2000, 'well before the 5 s timeout');
    // Once the abort has arrived, the prepared computation reports it.
    const p2 = await prepareAll(hub, specs);
    p2[0]!.members.cancel!([], {}, ctxFor(hub, 0));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const status = p2[1]!.members.status!([], {}, ctxFor(hub, 1)) as { stage: string; error?: string };
    assert.equal(status.stage, 'failed');
    assert.match(status.error ?? '', /party 0/);
  });
});
