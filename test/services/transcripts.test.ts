// Transcript tests (SECURITY.md "Protocols"): record every peer message each party receives in a
// SecureSum and a SecureFedAvg, and check that nothing in it determines another party's input,
// count or weight: every payload that carries a party's contribution is uniformly masked (no run
// of zero bytes that a small value in clear would leave, no other party's value as bytes), and
// each pair seed of SecureFedAvg depends on the contributions of both parties of the pair.
// Bugs these catch that every correctness test missed: SecureSum's counts sent in clear,
// SecureFedAvg's weights sent unmasked, a pair seed taken from one party only.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../services/simulation/network.js';
import { secureFedAvg } from '../../services/fedavg/index.js';
import { secureSum } from '../../services/simon/linear/securesum.js';
import { SEED_BYTES } from '../../services/common/prg.js';
import { TensorSet } from '../../services/common/tensors.js';
import type { CallContext } from '../../services/microservice.js';
import { zeroRuns, contains } from '../support/transcript.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const nodes = (n: number) => Array.from({ length: n }, (_, i) => `http://127.0.0.1:${57000 + i}`);
const ctx = (hub: MemoryHub, i: number): CallContext => ({ signal: new AbortController().signal, peers: hub.network(i), log: silent });
let counter = 0;

describe('SecureSum transcript', () => {
  test('every masked vector the aggregator receives is uniform: no input and no count in clear', async () => {
    const n = 4;
    const hub = new MemoryHub(nodes(n));
    hub.capture = true;
    const uuid = `transcript-sum-${++counter}`;
    // Different counts per party (1..4 numbers), small values: in clear they would be mostly zeros.
    const data = (i: number) => Array.from({ length: i + 1 }, (_, k) => i * 10 + k);
    const results = await Promise.all(hub.nodes.map((_, i) => secureSum({ microprotocol: 'SecureSum', data: data(i), network: { nodes: hub.nodes, uuid, myself: i } }, ctx(hub, i))));
    for (const r of results) assert.deepEqual((r as { result: unknown }).result, { samples: 10, sum: [0, 10, 11, 20, 21, 22, 30, 31, 32, 33].reduce((a, b) => a + b, 0) });
    // Party 0 aggregates: it alone receives the others' vectors, each masked; the rest receive
    // its nonce and the total (the output), nothing from each other.
    const received = hub.log.filter((m) => m.stage === 'sum.masked');
    assert.equal(received.length, n - 1);
    assert.ok(received.every((m) => m.to === 0));
    assert.equal(hub.log.length, 3 * (n - 1));
    for (const m of received) {
      assert.deepEqual(zeroRuns(m.payload!), [], `${m.stage} from ${m.from} to ${m.to} is not uniform`);
    }
  });
});

describe('SecureFedAvg transcript', () => {
  const n = 4;
  const weights = [3, 1000, 17, 250];
  const modelOf = (i: number) => new TensorSet(new Map([['w', { dtype: 'F64' as const, shape: [512], data: Float64Array.from({ length: 512 }, (_, k) => (i + 1) * 0.001 * (k % 7)) }]]));

  async function run(tamper?: (from: number, to: number, stage: string, payload: Uint8Array) => Uint8Array): Promise<{ hub: MemoryHub; results: PromiseSettledResult<unknown>[] }> {
    const hub = new MemoryHub(nodes(n), 3000);
    hub.capture = true;
    if (tamper) {
      const deliver = hub.deliver.bind(hub);
      hub.deliver = (uuid, to, nodes, m) => deliver(uuid, to, nodes, m.abort ? m : { ...m, payload: tamper(m.from, to, m.stage, m.payload) });
    }
    const uuid = `transcript-fedavg-${++counter}`;
    const results = await Promise.allSettled(hub.nodes.map((_, i) =>
      secureFedAvg({ data: { tensors: modelOf(i), weight: weights[i] }, network: { nodes: hub.nodes, uuid, myself: i } }, ctx(hub, i))));
    return { hub, results };
  }
  const expected = (k: number) => weights.reduce((a, w, i) => a + w * (i + 1) * 0.001 * (k % 7), 0) / weights.reduce((a, b) => a + b, 0);

  test('weights and model segments arrive masked: uniform, and no other party\'s weight or value as bytes', async () => {
    const { hub, results } = await run();
    for (const r of results) {
      assert.equal(r.status, 'fulfilled');
      const w = ((r as PromiseFulfilledResult<TensorSet>).value).get('w')!.data;
      for (let k = 0; k < 512; k++) assert.ok(Math.abs(w[k]! - expected(k)) < 1e-8);
    }
    const masked = hub.log.filter((m) => m.stage === 'weights' || m.stage === 'reduce');
    assert.ok(masked.some((m) => m.stage === 'weights') && masked.some((m) => m.stage === 'reduce'));
    for (const m of masked) {
      assert.deepEqual(zeroRuns(m.payload!), [], `${m.stage} from ${m.from} to ${m.to} is not uniform`);
      for (let other = 0; other < n; other++) {
        if (other === m.to) continue;
        const value = new Float64Array([modelOf(other).get('w')!.data[1]!]);
        assert.ok(!contains(m.payload!, new Uint8Array(value.buffer)), `party ${other}'s value in a message to ${m.to}`);
        assert.ok(!contains(m.payload!, new Uint8Array(new Float64Array([weights[other]!]).buffer)), `party ${other}'s weight in a message to ${m.to}`);
      }
    }
    // The setup messages carry the restart-veto flag, a random seed contribution and the public manifest only.
    for (const m of hub.log.filter((x) => x.stage === 'setup')) {
      assert.ok(m.payload![0] === 0 || m.payload![0] === 1);
      assert.deepEqual(zeroRuns(m.payload!.subarray(1, 1 + SEED_BYTES)), []);
      assert.doesNotThrow(() => JSON.parse(Buffer.from(m.payload!.subarray(1 + SEED_BYTES)).toString('utf8')));
    }
  });

  // If a pair's seed ignored one party's contribution, changing that contribution in transit
  // would leave the masks cancelling and the average right. It must not, in either direction.
  for (const [from, to] of [[1, 2], [2, 1]] as const) {
    test(`each pair seed depends on both contributions: party ${from}'s contribution to party ${to}, altered, breaks the average`, async () => {
      const { results } = await run((f, t, stage, payload) => {
        if (stage !== 'setup' || f !== from || t !== to) return payload;
        // Byte 0 is the restart-veto flag (services/fedavg/protocol.ts); the seed contribution follows.
        const altered = Uint8Array.from(payload);
        altered[1] = altered[1]! ^ 0x01;
        return altered;
      });
      const right = results.every((r) => r.status === 'fulfilled' &&
        Array.from(((r as PromiseFulfilledResult<TensorSet>).value).get('w')!.data).every((v, k) => Math.abs(v - expected(k)) < 1e-6));
      assert.ok(!right, 'the average came out right although one seed contribution was altered');
    });
  }
});
