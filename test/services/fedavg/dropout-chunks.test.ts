// The double-masked round with a model of several chunks per segment (services/fedavg/double.ts):
// the gather streams each segment chunk by chunk as it is unmasked, a few chunks per peer in
// flight; every chunk must reach every party, with and without the backup. The other dropout
// tests use one chunk per segment, where a gather that stopped after its first window passed.
// Each party's average is written into its own input (after its statement), checked here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../services/simulation/network.js';
import { prepareFedAvg, secureFedAvg } from '../../../services/fedavg/index.js';
import type { ServerObject } from '../../../services/microservice.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { CHUNK_ELEMENTS } from '../../../services/fedavg/protocol.js';
import { ConflictError } from '../../../services/errors.js';
import { LeftOutError } from '../../../services/fedavg/double.js';
import { Layout, manifestOf } from '../../../services/fedavg/layout.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
// Four chunks per segment at 3 parties (the last one partial).
const ELEMENTS = 3 * 3 * CHUNK_ELEMENTS + 17;
const WEIGHTS = [3, 5, 11];
const modelOf = (k: number) => TensorSet.from({ w: new Float64Array(ELEMENTS).map((_, i) => Math.cos(k * 3 + i)) });

/**
 * Once a party stated its included set the round never restarts (docs/dropouts.md), so its average
 * is written into its input's own buffers, as in the default round, and the input is consumed: a
 * later use is a 409 naming it. The averages checked above were read from those buffers, after
 * every chunk of each input (a resent one too) was encoded from them.
 */
function assertInPlace(got: TensorSet[], inputs: TensorSet[]): void {
  got.forEach((g, k) => {
    assert.equal(g.get('w')!.data, inputs[k]!.get('w')!.data, `result ${k} is in its input's buffer`);
    assert.throws(() => inputs[k]!.ensureUsable('kwargs.data.tensors'), (err: ConflictError) => err instanceof ConflictError && err.status === 409 && /consumed by SecureFedAvg computation/.test(err.message));
  });
}

// The ring widths alternate over the cases, so that the packed rings (40 and 48 bits, k/8 bytes
// per element: vector.ts packRing) go through the reduce, resend and backup paths too.
for (const [rescue, ringBits] of [['none', 64], ['backup', 48]] as const) {
  test(`2 of 3, rescue "${rescue}", ${ringBits}-bit ring, four chunks per segment: every party gets every chunk of the average`, { timeout: 300_000 }, async () => {
    const nodes = [0, 1, 2].map((i) => `http://127.0.0.1:${57300 + i}`);
    const hub = new MemoryHub(nodes, 60_000);
    const inputs = nodes.map((_, i) => modelOf(i));
    const got = await Promise.all(nodes.map((_, i) =>
      secureFedAvg(
        { data: { tensors: inputs[i], weight: WEIGHTS[i] }, network: { nodes, uuid: `chunks-${rescue}`, myself: i }, min_parties: 2, max_weight: 64, rescue, ring_bits: ringBits },
        { signal: new AbortController().signal, peers: hub.network(i), log: silent },
      ) as Promise<TensorSet>));
    const total = WEIGHTS.reduce((a, w) => a + w, 0);
    for (const g of got) {
      const data = g.get('w')!.data;
      for (let e = 0; e < ELEMENTS; e += 997) {
        const want = WEIGHTS.reduce((a, w, k) => a + w * Math.cos(k * 3 + e), 0) / total;
        assert.ok(Math.abs(data[e]! - want) <= 1e-6, `w[${e}]: ${data[e]} vs ${want}`);
      }
      assert.ok(Math.abs(data[ELEMENTS - 1]! - WEIGHTS.reduce((a, w, k) => a + w * Math.cos(k * 3 + ELEMENTS - 1), 0) / total) <= 1e-6, 'the last element');
    }
    assertInPlace(got, inputs);
    // Each holder sent each of its four chunks to each of the two others.
    assert.equal(hub.log.filter((m) => m.stage === 'gather').length, 3 * 4 * 2);
    // A full chunk's contribution travels in ring_bits/8 bytes per element.
    assert.equal(Math.max(...hub.log.filter((m) => m.stage === 'reduce').map((m) => m.bytes)), CHUNK_ELEMENTS * (ringBits / 8));
  });
}

// A party that prepared but never submits: the survivors decide without it, and the substitute of
// its segment (party 0, services/fedavg/double.ts `owner`) finishes that segment from the
// contributions resent to it. With segments of several full chunks (each many slices of the
// unmasking pass, double.ts finishChunk), every chunk of the resent path is checked, not only the
// first slice of a one-chunk segment as in dropout.test.ts.
for (const [rescue, ringBits] of [['none', 40], ['backup', 64]] as const) {
  test(`2 of 3, rescue "${rescue}", ${ringBits}-bit ring, four chunks per segment, party 1 never submits: the substitute finishes its segment from resent chunks`, { timeout: 300_000 }, async () => {
    const nodes = [0, 1, 2].map((i) => `http://127.0.0.1:${57310 + i}`);
    const hub = new MemoryHub(nodes, 20_000);
    const ctx = (i: number) => ({ signal: new AbortController().signal, peers: hub.network(i), log: silent });
    const uuid = `chunks-absent-${rescue}`;
    const prepared = (await Promise.all(nodes.map((_, i) =>
      prepareFedAvg({ microprotocol: 'SecureFedAvg', data: { tensors: modelOf(i) }, network: { nodes, uuid, myself: i }, min_parties: 2, max_weight: 64, rescue, ring_bits: ringBits }, ctx(i))))) as ServerObject[];
    // The wait for party 1's reduce messages is the submit timeout (seconds).
    const inputs = nodes.map((_, i) => modelOf(i));
    const submit = (i: number) => prepared[i]!.members.submit!([], { data: { tensors: inputs[i], weight: WEIGHTS[i] }, timeout: 8 }, ctx(i)) as Promise<TensorSet>;
    const got = await Promise.all([submit(0), submit(2)]);
    const total = WEIGHTS[0]! + WEIGHTS[2]!;
    const want = (e: number) => [0, 2].reduce((a, k) => a + WEIGHTS[k]! * Math.cos(k * 3 + e), 0) / total;
    for (const g of got) {
      assert.equal(g.metadata?.['tessera.included'], '[0,2]');
      const data = g.get('w')!.data;
      for (let e = 0; e < ELEMENTS; e += 997) assert.ok(Math.abs(data[e]! - want(e)) <= 1e-6, `w[${e}]: ${data[e]} vs ${want(e)}`);
      assert.ok(Math.abs(data[ELEMENTS - 1]! - want(ELEMENTS - 1)) <= 1e-6, 'the last element');
    }
    assertInPlace(got, [inputs[0]!, inputs[2]!]);
    // Party 2 resent its four chunks of segment 1 to party 0, which sent each chunk of segments 0 and 1 to party 2.
    assert.equal(hub.log.filter((m) => m.stage === 'resend' && m.from === 2 && m.to === 0).length, 4);
    assert.equal(Math.max(...hub.log.filter((m) => m.stage === 'resend').map((m) => m.bytes)), CHUNK_ELEMENTS * (ringBits / 8));
    assert.equal(hub.log.filter((m) => m.stage === 'gather' && m.from === 0).length, 8);
  });
}

// Rescue "none": a holder adds each contribution to its segment onto its own as it arrives and
// keeps none of them (services/fedavg/double.ts, `dirty`). Here party 2's third chunk to party 0
// is lost: party 0 has added two chunks of party 2's contribution, its view marks party 2 as
// arrived in part, and party 2 is decided out. Party 1 had all of party 2's contribution to its
// segment added. So both holders mask their own contribution afresh, and each gets the other's
// contribution to its segment again (stage "resend"); the average is over parties 0 and 1 alone.
// Without the resend, or with the partial arrival not marked, a holder's segment would keep
// party 2's masked chunks (under a self mask nobody removes) and its average would be wrong.
test('2 of 3, rescue "none", four chunks per segment: a party decided out after part of its contribution was summed is taken out by a resend', { timeout: 300_000 }, async () => {
  const nodes = [0, 1, 2].map((i) => `http://127.0.0.1:${57320 + i}`);
  const hub = new MemoryHub(nodes, 10_000);
  hub.capture = true;
  const layout = new Layout(manifestOf(modelOf(0)), 3, CHUNK_ELEMENTS);
  const lost = layout.chunkId(0, 2);
  hub.fault = (m) => (m.from === 2 && m.to === 0 && m.stage === 'reduce' && m.seq === lost ? { kind: 'drop' } : undefined);
  const inputs = nodes.map((_, i) => modelOf(i));
  const calls = nodes.map((_, i) =>
    secureFedAvg(
      { data: { tensors: inputs[i], weight: WEIGHTS[i] }, network: { nodes, uuid: 'chunks-partly-summed', myself: i }, min_parties: 2, max_weight: 64, rescue: 'none' },
      { signal: new AbortController().signal, peers: hub.network(i), log: silent },
    ) as Promise<TensorSet>);
  await assert.rejects(calls[2]!, (err: Error) => err instanceof LeftOutError);
  const got = await Promise.all(calls.slice(0, 2));
  const total = WEIGHTS[0]! + WEIGHTS[1]!;
  const want = (e: number) => [0, 1].reduce((a, k) => a + WEIGHTS[k]! * Math.cos(k * 3 + e), 0) / total;
  for (const g of got) {
    assert.equal(g.metadata?.['tessera.included'], '[0,1]');
    const data = g.get('w')!.data;
    for (let e = 0; e < ELEMENTS; e += 997) assert.ok(Math.abs(data[e]! - want(e)) <= 1e-6, `w[${e}]: ${data[e]} vs ${want(e)}`);
  }
  // Party 0 had two of party 2's chunks added (its view: 2, in part), party 1 all four (1).
  const view = (from: number) => [...hub.log.find((m) => m.stage === 'decide' && m.from === from && m.to === 1 - from)!.payload!];
  assert.deepEqual(view(0), [1, 1, 2]);
  assert.deepEqual(view(1), [1, 1, 1]);
  const resent = (from: number, to: number) => hub.log.filter((m) => m.stage === 'resend' && m.from === from && m.to === to).map((m) => m.seq);
  // Party 0 also finishes party 2's segment (its substitute), from resent chunks as ever.
  assert.deepEqual(resent(1, 0), [0, 2].flatMap((s) => [0, 1, 2, 3].map((c) => layout.chunkId(s, c))));
  assert.deepEqual(resent(0, 1), [0, 1, 2, 3].map((c) => layout.chunkId(1, c)));
});
