// A party dropping out in every stage of SecureFedAvg in turn, with min_parties (issue 11), over
// the in-memory network. Before setup completes, the others restart without it. After setup, the
// round recovers inside itself by double masking (services/fedavg/double.ts): a party that drops
// in the weights or reduce stage, or before the decision, is left out and the others get their own
// average. At the decision itself (its view reached one survivor only) the survivors disagree and
// stop before anything is unmasked; after the decision, a dropped segment holder ends the round
// with an error naming it. Never is an average over the survivors released next to one that
// includes the dropped party (docs/dropouts.md).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../services/simulation/network.js';
import { prepareFedAvg, secureFedAvg } from '../../../services/fedavg/index.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { BadInputError, PeerError, TesseraError, TimeoutError } from '../../../services/errors.js';
import type { CallContext, ServerObject } from '../../../services/microservice.js';
import { F25519 } from '../../../services/common/field.js';
import { shamirReconstruct } from '../../../services/common/shamir.js';
import { dhPairSeed, keyFromSecret, selfSeed } from '../../../services/fedavg/double.js';
import { combinedMask } from '../../../services/fedavg/masks.js';
import { addInto, decodeInto, fixedPoint, wordsOf } from '../../../services/common/vector.js';
import { Layout, manifestOf } from '../../../services/fedavg/layout.js';
import { CHUNK_ELEMENTS } from '../../../services/fedavg/protocol.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const NODES = [0, 1, 2].map((i) => `http://127.0.0.1:${57000 + i}`);
const WEIGHTS = [3, 5, 11];
/** The in-memory stage timeout: short, since every dropout costs a few of them, yet not so short that a loaded machine's scheduling looks like one. */
const STAGE_MS = 800;
let counter = 0;

function modelOf(k: number): TensorSet {
  return TensorSet.from({ w: new Float64Array(40).map((_, i) => Math.cos(k * 3 + i)) });
}

function ctxOf(hub: MemoryHub, i: number): CallContext {
  return { signal: new AbortController().signal, peers: hub.network(i), log: silent };
}

function averageOf(parties: number[]): Float64Array {
  const total = parties.reduce((a, k) => a + WEIGHTS[k]!, 0);
  return new Float64Array(40).map((_, e) => parties.reduce((a, k) => a + (WEIGHTS[k]! * modelOf(k).get('w')!.data[e]!) / total, 0));
}

function assertAverage(got: TensorSet, parties: number[]): void {
  const want = averageOf(parties);
  got.get('w')!.data.forEach((v, e) => assert.ok(Math.abs(v - want[e]!) <= 1e-6, `w[${e}]: ${v} vs ${want[e]}`));
  assert.equal(got.metadata?.['tessera.included'], JSON.stringify(parties));
}

async function round(hub: MemoryHub, extra: Record<string, unknown> = {}): Promise<PromiseSettledResult<unknown>[]> {
  const uuid = `dropout-${++counter}`;
  const calls = NODES.map((_, i) =>
    secureFedAvg({ data: { tensors: modelOf(i), weight: WEIGHTS[i] }, network: { nodes: NODES, uuid, myself: i }, min_parties: 2, max_weight: 64, ...extra }, ctxOf(hub, i)),
  );
  // Party 1's own call hangs where its server died (a dead server answers nothing): only the
  // survivors are awaited.
  calls[1]!.catch(() => undefined);
  const [a, c] = await Promise.allSettled([calls[0]!, calls[2]!]);
  return [a!, { status: 'rejected', reason: new Error('dead') }, c!];
}

type Outcome = 'survivors' | 'fails' | 'everyone: it was decided in';

describe('a party dropping in each stage of SecureFedAvg (min_parties 2 of 3)', () => {
  // [where party 1 stops, {messages it sends before, what the survivors get}]
  // A 40-element model, party 1 sends in this order: setup to 0 and 2; its masked weight to 0 and
  // 2 and its contribution to 0 and 2 (the reduce stage, two messages in flight per destination),
  // then to 2 (its backup holder) its own-segment contribution; decide to 0 and 2; echo to 0
  // and 2; confirm to 0 and 2; unmask to 0 and 2; gather to 0 and 2; done to 0 and 2.
  const cases: [string, { messages: number; outcome: Outcome }][] = [
    ['never sends anything (setup): restart among the others', { messages: 0, outcome: 'survivors' }],
    ['after setup, before its weight', { messages: 2, outcome: 'survivors' }],
    ['in the reduce stage (its masked weight sent)', { messages: 3, outcome: 'survivors' }],
    ['in the reduce stage (one masked contribution sent)', { messages: 5, outcome: 'survivors' }],
    ['after the reduce stage and its backup, before the decision', { messages: 7, outcome: 'survivors' }],
    ['at the decision (its view reached party 0 only): party 0 echoes it to party 2, both decide it in, its segment is rebuilt from the backup', { messages: 8, outcome: 'everyone: it was decided in' }],
    ['after the decision, before its echo: its segment is rebuilt from the backup', { messages: 9, outcome: 'everyone: it was decided in' }],
    ['in the echo stage (its echo reached party 0 only): its segment is rebuilt from the backup', { messages: 10, outcome: 'everyone: it was decided in' }],
    ['in the confirm stage: its segment is rebuilt from the backup', { messages: 12, outcome: 'everyone: it was decided in' }],
    ['in the unmask stage: its segment is rebuilt from the backup', { messages: 14, outcome: 'everyone: it was decided in' }],
    ['in the gather stage (its segment reached party 0 only): party 2 has it rebuilt', { messages: 16, outcome: 'everyone: it was decided in' }],
  ];
  for (const [name, { messages, outcome }] of cases) {
    test(`${name}: ${outcome}`, async () => {
      const hub = new MemoryHub(NODES, STAGE_MS);
      hub.dieAfter = { party: 1, messages };
      const settled = await round(hub);
      const averages: string[] = [];
      for (const i of [0, 2]) {
        const s = settled[i]!;
        if (outcome !== 'fails') {
          assert.equal(s.status, 'fulfilled', `party ${i}: ${s.status === 'rejected' ? String((s.reason as Error).message) : ''}`);
          const got = (s as PromiseFulfilledResult<TensorSet>).value;
          const all = outcome !== 'survivors';
          assertAverage(got, all ? [0, 1, 2] : [0, 2]);
          assert.equal(got.metadata?.['tessera.dropped'], all ? '[]' : '[1]');
          averages.push(got.metadata!['tessera.included']!);
        } else {
          assert.equal(s.status, 'rejected', `party ${i} got an average`);
          const err = (s as PromiseRejectedResult).reason;
          assert.ok(err instanceof PeerError || err instanceof TimeoutError, String(err));
          // The error names the survivor that decided differently.
          assert.match(`${(err as TesseraError).where} ${(err as Error).message}`, /party [012] \(/);
        }
      }
      // Never the survivors' average next to one that includes party 1.
      assert.ok(new Set(averages).size <= 1, averages.join(' vs '));
      // Party 1's segment came from its backup holder, party 2, rebuilt with party 0's recontribution.
      if (outcome === 'everyone: it was decided in') {
        assert.ok(hub.log.some((m) => m.from === 0 && m.to === 2 && m.stage === 'recontribute'), 'party 0 recontributed to party 2');
        assert.equal(hub.log.filter((m) => m.from === 1 && m.stage === 'gather' && m.to === 2).length, 0);
      }
    });
  }
});

describe('a party dropping with a 40-bit ring (packed contributions, vector.ts packRing)', () => {
  test('in the reduce stage (one masked contribution sent): the survivors get their average', async () => {
    const hub = new MemoryHub(NODES, STAGE_MS);
    hub.dieAfter = { party: 1, messages: 5 };
    const settled = await round(hub, { ring_bits: 40 });
    for (const i of [0, 2]) assertAverage((settled[i] as PromiseFulfilledResult<TensorSet>).value, [0, 2]);
    // Contributions are 5 bytes per element: a 40-element model's segments are 13 or 14 elements.
    const sizes = new Set(hub.log.filter((m) => m.stage === 'reduce' && m.seq < 3).map((m) => m.bytes));
    assert.deepEqual([...sizes].sort(), [65, 70]);
  });
  test('in the confirm stage: decided in, its segment rebuilt from the backup and a recontribution', async () => {
    const hub = new MemoryHub(NODES, STAGE_MS);
    hub.dieAfter = { party: 1, messages: 12 };
    const settled = await round(hub, { ring_bits: 40 });
    for (const i of [0, 2]) assertAverage((settled[i] as PromiseFulfilledResult<TensorSet>).value, [0, 1, 2]);
    assert.ok(hub.log.some((m) => m.from === 0 && m.to === 2 && m.stage === 'recontribute' && m.bytes % 5 === 0), 'party 0 recontributed to party 2, packed');
  });
});

describe('bad input in a round with min_parties is not a dropout', () => {
  test('weight 0 at party 1: it fails at once naming the field, the others learn it from the abort', async () => {
    const hub = new MemoryHub(NODES, 2000);
    const uuid = `weight0-${++counter}`;
    const weights = [3, 0, 11];
    const settled = await Promise.allSettled(NODES.map((_, i) =>
      secureFedAvg({ data: { tensors: modelOf(i), weight: weights[i] }, network: { nodes: NODES, uuid, myself: i }, min_parties: 2 }, ctxOf(hub, i))));
    const own = (settled[1] as PromiseRejectedResult).reason;
    assert.ok(own instanceof BadInputError, String(own));
    assert.equal(own.where, 'kwargs.data.weight');
    for (const i of [0, 2]) {
      assert.equal(settled[i]!.status, 'rejected');
      const err = (settled[i] as PromiseRejectedResult).reason as Error;
      assert.match(err.message, /kwargs\.data\.weight/);
      assert.doesNotMatch(err.message, /\b0\b.*weight is/);
    }
  });

  test('a weight above max_weight is refused before anything is sent, naming the field', async () => {
    const hub = new MemoryHub(NODES, 2000);
    const uuid = `maxweight-${++counter}`;
    const settled = await Promise.allSettled(NODES.map((_, i) =>
      secureFedAvg({ data: { tensors: modelOf(i), weight: i === 2 ? 100 : 1 }, network: { nodes: NODES, uuid, myself: i }, min_parties: 2, max_weight: 50 }, ctxOf(hub, i))));
    const own = (settled[2] as PromiseRejectedResult).reason;
    assert.ok(own instanceof BadInputError, String(own));
    assert.equal(own.where, 'kwargs.data.weight');
    assert.equal(hub.log.filter((m) => m.from === 2 && m.stage === 'reduce').length, 0, 'no masked data left party 2');
  });
});

describe('a "dropped" party whose messages arrive late (Bonawitz et al. 2017, §4)', () => {
  test('prepared round: parties 0 and 2 finish without party 1; its late contribution stays masked by a self mask nobody can rebuild', async () => {
    const hub = new MemoryHub(NODES, 1500);
    hub.capture = true;
    const uuid = `late-${++counter}`;
    const prepared = (await Promise.all(NODES.map((_, i) =>
      prepareFedAvg({ microprotocol: 'SecureFedAvg', data: { tensors: modelOf(i) }, network: { nodes: NODES, uuid, myself: i }, min_parties: 2, max_weight: 64 }, ctxOf(hub, i))))) as ServerObject[];
    const submit = (i: number, timeout: number) => prepared[i]!.members.submit!([], { data: { tensors: modelOf(i), weight: WEIGHTS[i] }, timeout }, ctxOf(hub, i)) as Promise<TensorSet>;
    const survivors = await Promise.all([submit(0, 1), submit(2, 1)]);
    for (const got of survivors) {
      assertAverage(got, [0, 2]);
      assert.equal(got.metadata?.['tessera.dropped'], '[1]');
    }
    // Party 1 submits only now: it learns it was left out, and its messages reach the others late.
    await assert.rejects(submit(1, 1), (err: unknown) => err instanceof PeerError && /left out/.test(err.message));
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Everything party 0 received, as a curious party 0 would keep it.
    const to0 = hub.log.filter((m) => m.to === 0);
    const payload = (from: number, stage: string) => to0.find((m) => m.from === from && m.stage === stage)?.payload;
    // Party 1's masked weight is the first message of its reduce stream (seq 3, after the three
    // one-chunk segments' ids); party 0's session has closed, so it is refused but recorded here.
    const late = to0.find((m) => m.from === 1 && m.stage === 'reduce' && m.seq === 3)?.payload;
    assert.ok(late, 'party 1\'s masked weight reached party 0 late');
    // Setup from party 1: flag, public key, party 0's share of b_1, party 0's share of sk_1, manifest.
    const setup1 = payload(1, 'setup')!;
    // Public keys: party 0's own (it sent it), and the others' (it received them).
    const pk = (from: number) => hub.log.find((m) => m.from === from && m.stage === 'setup')!.payload!.subarray(1, 33);
    const ownSelfShare = F25519.decodeBytes(setup1.subarray(33, 65), 'test');
    const ownKeyShare = F25519.decodeBytes(setup1.subarray(65, 97), 'test');
    // Party 2's unmask message: its view (party 1 excluded), shares of b_0, b_2, then of sk_1.
    const unmask2 = payload(2, 'unmask')!;
    assert.deepEqual([...unmask2.subarray(0, 3)], [1, 0, 1]);
    assert.equal(unmask2.length, 3 + 3 * 32, 'one share per party: b for the included, sk for the dropped, never both');
    const keyShare2 = F25519.decodeBytes(unmask2.subarray(3 + 64, 3 + 96), 'test');
    // Party 0 can rebuild sk_1 and with it every pair mask of party 1 ...
    const sk1 = keyFromSecret(shamirReconstruct(new Map([[0, ownKeyShare], [2, keyShare2]])));
    const pairTerms = [0, 2].map((j) => ({ seed: dhPairSeed(sk1, pk(j), 1, j), sign: (1 < j ? 1 : -1) as 1 | -1 }));
    const unmasked = wordsOf(late).slice();
    addInto(64, unmasked, combinedMask(64, pairTerms, 'SecureFedAvg/v1/weight', 0, 1), -1);
    // ... yet what is left, q_1 + b'_1, is not party 1's quantised weight q_1 = 5·2^24.
    const q1 = BigInt(WEIGHTS[1]! * 2 ** 24);
    const opened = () => BigInt(unmasked[0]!) + (BigInt(unmasked[1]!) << 32n);
    assert.notEqual(opened(), q1, 'the self mask still hides the late weight');
    // The planted bug: had party 2 also revealed its share of b_1 (both secrets of one party), the
    // late weight would open exactly. This is what the check above would then catch.
    const leakedShare = F25519.decodeBytes(hub.log.find((m) => m.from === 1 && m.to === 2 && m.stage === 'setup')!.payload!.subarray(33, 65), 'test');
    const b1 = shamirReconstruct(new Map([[0, ownSelfShare], [2, leakedShare]]));
    addInto(64, unmasked, combinedMask(64, [{ seed: selfSeed(b1, 1), sign: 1 }], 'SecureFedAvg/v1/weight', 0, 1), -1);
    assert.equal(opened(), q1);
  });
});

describe('the backup of a holder that dropped after the decision (docs/dropouts.md)', () => {
  test('party 2 holds party 1\'s own-segment contribution and b_1, yet cannot open it; with sk_1 as well (the planted bug) it would', async () => {
    const hub = new MemoryHub(NODES, STAGE_MS);
    hub.capture = true;
    hub.dieAfter = { party: 1, messages: 12 }; // in the confirm stage: decided in, then gone
    const settled = await round(hub);
    for (const i of [0, 2]) assertAverage((settled[i] as PromiseFulfilledResult<TensorSet>).value, [0, 1, 2]);

    const to2 = hub.log.filter((m) => m.to === 2);
    const layout = new Layout(manifestOf(modelOf(1)), 3, CHUNK_ELEMENTS);
    const [start, end] = layout.segment(1);
    // The backup: party 1's contribution to its own segment 1 (chunk id 1), sent to party 2 only.
    const backup = to2.find((m) => m.from === 1 && m.stage === 'reduce' && m.seq === layout.chunkId(1, 0))!.payload!;
    assert.equal(hub.log.filter((m) => m.from === 1 && m.stage === 'reduce' && m.seq === layout.chunkId(1, 0)).length, 1);
    // What party 2 legitimately has: its share of b_1 (setup) and party 0's (unmask, 1 ∈ S), so b_1;
    // and its own pair seed with party 1 (computed here from sk_1, which the observer can rebuild).
    const setup = (to: number) => hub.log.find((m) => m.from === 1 && m.to === to && m.stage === 'setup')!.payload!;
    const pk = (from: number) => hub.log.find((m) => m.from === from && m.stage === 'setup')!.payload!.subarray(1, 33);
    const unmask0 = to2.find((m) => m.from === 0 && m.stage === 'unmask')!.payload!;
    assert.deepEqual([...unmask0.subarray(0, 3)], [1, 1, 1]);
    const b1 = shamirReconstruct(new Map([[2, F25519.decodeBytes(setup(2).subarray(33, 65), 't')], [0, F25519.decodeBytes(unmask0.subarray(3 + 32, 3 + 64), 't')]]));
    const sk1 = keyFromSecret(shamirReconstruct(new Map([[0, F25519.decodeBytes(setup(0).subarray(65, 97), 't')], [2, F25519.decodeBytes(setup(2).subarray(65, 97), 't')]])));
    const label = 'SecureFedAvg/v1/model';
    const opened = wordsOf(backup).slice();
    addInto(64, opened, combinedMask(64, [{ seed: selfSeed(b1, 1), sign: 1 }, { seed: dhPairSeed(sk1, pk(2), 1, 2), sign: 1 }], label, start, end), -1);
    const fp = fixedPoint(64, 32);
    const decoded = new Float64Array(end - start);
    decodeInto(fp, opened, decoded);
    const x1 = modelOf(1).get('w')!.data.subarray(start, end).map((v) => (v * WEIGHTS[1]!) / 64);
    assert.ok(decoded.some((v, e) => Math.abs(v - x1[e]!) > 1), 'the pair mask with party 0 still hides the backup');
    // The planted bug: were sk_1 revealed too (both secrets of party 1), the pair mask with party 0 would go.
    addInto(64, opened, combinedMask(64, [{ seed: dhPairSeed(sk1, pk(0), 1, 0), sign: -1 }], label, start, end), -1);
    decodeInto(fp, opened, decoded);
    decoded.forEach((v, e) => assert.ok(Math.abs(v - x1[e]!) <= 1e-6, `opened[${e}]`));
  });
});
