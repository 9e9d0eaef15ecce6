// The secure vector sum on the in-memory network: element-wise totals over mixed lanes (exact
// reals, counts, F_p), repeated runs numbered by seq, and a shape disagreement named; then the
// masked construction's claims (services/common/vectorsum.ts, SECURITY.md "Secure vector sum"):
// 3(n−1) messages in a star, a transcript of uniformly masked vectors, fresh masks on a reused
// uuid, what a coalition with the aggregator is left with, a missing leaf named by every party,
// and leaves whose pair keys disagree caught by the key checks. Last, the stages' sends: no stage
// awaits the last stage's receipts when the caller tracks them, and a lost send still fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub, simulatedNodes } from '../../../services/simulation/index.js';
import { AGGREGATOR, COUNT_RING, MASKED_FROM, pairMask, REAL_RING, secureVectorSum, vectorSumMessages, vectorSumStages } from '../../../services/common/vectorsum.js';
import { Deliveries } from '../../../services/common/deliveries.js';
import { PeerError, TimeoutError } from '../../../services/errors.js';
import { F25519 } from '../../../services/common/field.js';
import { EXACT_SCALAR } from '../../../services/common/fixedpoint.js';
import { runProtocol, StageOrder } from '../../../services/common/stages.js';
import { zeroRuns } from '../../support/transcript.js';
import { wrapNetwork } from '../../support/network.js';
import { within } from '../../within.js';

const STAGES = vectorSumStages('test');

async function run(parties: number, lanesOf: (i: number) => Parameters<typeof secureVectorSum>[2], rounds = 1, construction?: 'masked' | 'shared') {
  const nodes = simulatedNodes(parties);
  const hub = new MemoryHub(nodes, 5000);
  return Promise.all(
    nodes.map(async (_, myself) => {
      const session = await hub.network(myself).open({ uuid: 'v', myself, terms: { microprotocol: 'T', nodes }, stages: STAGES.all });
      return runProtocol(session, async () => {
        const out = [];
        for (let seq = 0; seq < rounds; seq++) out.push(await secureVectorSum(session, STAGES, lanesOf(myself), { seq, ...(construction ? { construction } : {}) }));
        return out;
      });
    }),
  );
}

for (const construction of ['shared', 'masked'] as const) {
  test(`${construction}: sums mixed lanes element-wise, the same at every party`, async () => {
    const reals = [[0.1, -5], [0.2, 2.5], [0.3, 1e300]];
    const counts = [[1n, 0n, 7n], [2n, 0n, 0n], [3n, 5n, 1n]];
    const field = [[F25519.modulus - 1n], [2n], [0n]];
    const results = await run(3, (i) => [
      { group: REAL_RING, values: reals[i]!.map((x) => EXACT_SCALAR.encode(x, 'x')) },
      { group: COUNT_RING, values: counts[i]! },
      { group: F25519, values: field[i]! },
    ], 2, construction);
    for (const rounds of results) {
      for (const [r, c, f] of rounds) {
        assert.deepEqual(r!.map((x) => EXACT_SCALAR.decode(x, 'x')), [0.6, 1e300 - 2.5]);
        assert.deepEqual(c, [6n, 5n, 8n]);
        assert.deepEqual(f, [1n]);
      }
    }
  });

  test(`${construction}: a party with a different shape fails as a malformed message naming it`, async () => {
    await assert.rejects(run(3, (i) => [{ group: COUNT_RING, values: i === 2 ? [1n, 2n] : [1n] }], 1, construction), /malformed vector-sum message/);
  });
}

test(`from ${MASKED_FROM} parties on the sum is masked, below it shared`, async () => {
  for (const n of [MASKED_FROM - 1, MASKED_FROM]) {
    const hub = new MemoryHub(simulatedNodes(n), 5000);
    await Promise.all(hub.nodes.map(async (_, myself) => {
      const session = await hub.network(myself).open({ uuid: 'choice', myself, terms: { microprotocol: 'T', nodes: hub.nodes }, stages: STAGES.all });
      return runProtocol(session, () => secureVectorSum(session, STAGES, [{ group: COUNT_RING, values: [1n] }]));
    }));
    assert.equal(hub.log.length, vectorSumMessages(n));
    assert.equal(hub.log.some((m) => m.stage === STAGES.masked), n >= MASKED_FROM, `${n} parties`);
  }
});

// ---- the masked construction: messages, transcript, freshness, what a coalition holds ----------

type Lanes = Parameters<typeof secureVectorSum>[2];

/** One sum on `hub` under `uuid`; returns every party's totals and its session (closed). */
async function sumOn(hub: MemoryHub, uuid: string, lanesOf: (i: number) => Lanes) {
  return Promise.all(
    hub.nodes.map(async (_, myself) => {
      const session = await hub.network(myself).open({ uuid, myself, terms: { microprotocol: 'T', nodes: hub.nodes }, stages: STAGES.all });
      const totals = await runProtocol(session, () => secureVectorSum(session, STAGES, lanesOf(myself), { construction: 'masked' }));
      return { session, totals };
    }),
  );
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const concat = (parts: Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));
/** SecureSum's shape: one exact real and one count per party. */
const sumLanes = (x: number, count: bigint): Lanes => [
  { group: REAL_RING, values: [EXACT_SCALAR.encode(x, 'x')] },
  { group: COUNT_RING, values: [count] },
];
const encoded = (x: number, count: bigint) => concat([REAL_RING.encodeBytes(EXACT_SCALAR.encode(x, 'x')), COUNT_RING.encodeBytes(count)]);

test('2 to 9 parties: the right totals everywhere in 3(n−1) messages, and only the aggregator receives vectors', async () => {
  for (const n of [2, 3, 5, 9]) {
    const hub = new MemoryHub(simulatedNodes(n), 5000);
    const runs = await sumOn(hub, `count-${n}`, (i) => [{ group: COUNT_RING, values: [BigInt(i + 1), 2n ** 64n - 1n] }, { group: F25519, values: [F25519.modulus - BigInt(i)] }]);
    const expected = BigInt((n * (n + 1)) / 2);
    for (const { totals } of runs) assert.deepEqual(totals, [[expected, BigInt.asUintN(64, -BigInt(n))], [F25519.reduce(-BigInt((n * (n - 1)) / 2))]]);
    assert.equal(hub.log.length, 3 * (n - 1), `${n} parties`);
    assert.ok(hub.log.every((m) => (m.stage === STAGES.masked ? m.to === AGGREGATOR : m.from === AGGREGATOR)), `${n} parties: a star around party ${AGGREGATOR}`);
  }
});

test('transcript: the aggregator receives uniformly masked vectors holding no input; every other party only the nonce and the total', async () => {
  const n = 4;
  const inputs = [[3.5, 1n], [4.123456789, 2n], [-17.25, 3n], [0.5, 4n]] as const;
  const hub = new MemoryHub(simulatedNodes(n), 5000);
  hub.capture = true;
  const runs = await sumOn(hub, 'transcript', (i) => sumLanes(inputs[i]![0], inputs[i]![1]));
  // The exact ring sum of the inputs, as the output carries it.
  const exactSum = inputs.reduce((acc, [x]) => REAL_RING.add(acc, EXACT_SCALAR.encode(x, 'x')), 0n);
  const total = concat([REAL_RING.encodeBytes(exactSum), COUNT_RING.encodeBytes(10n)]);
  for (const { totals } of runs) assert.deepEqual(totals, [[exactSum], [10n]]);
  for (const m of hub.log) {
    const payload = m.payload!;
    if (m.stage === STAGES.nonce) assert.equal(payload.length, 32);
    else if (m.stage === STAGES.total) assert.equal(hex(payload), hex(total), 'the total is the output');
    else {
      assert.equal(m.stage, STAGES.masked);
      assert.deepEqual(zeroRuns(payload), [], `party ${m.from}'s vector is not uniform`);
      // No party's input, neither its real nor its count, appears in what the aggregator holds.
      for (const [x, c] of inputs) {
        for (const needle of [REAL_RING.encodeBytes(EXACT_SCALAR.encode(x, 'x')).subarray(0, 16), COUNT_RING.encodeBytes(c)]) {
          assert.equal(Buffer.from(payload).indexOf(Buffer.from(needle)), -1);
        }
      }
    }
    if (m.stage !== STAGES.total) assert.deepEqual(zeroRuns(payload), [], `${m.stage} from ${m.from} to ${m.to}`);
  }
  assert.equal(hub.log.filter((m) => m.stage === STAGES.masked).length, n - 1);
});

test('the check can fail: with two parties there is no pair to mask with, and party 1\'s vector arrives as it is (the output reveals it anyway)', async () => {
  const hub = new MemoryHub(simulatedNodes(2), 5000);
  hub.capture = true;
  await sumOn(hub, 'two', (i) => sumLanes(i + 0.25, 7n));
  const [vector] = hub.log.filter((m) => m.stage === STAGES.masked);
  assert.equal(hex(vector!.payload!), hex(encoded(1.25, 7n)));
  assert.notDeepEqual(zeroRuns(vector!.payload!), []);
});

test('two computations on one uuid use different masks: equal inputs give different masked vectors; replaying the first nonce would repeat them', async () => {
  const hub = new MemoryHub(simulatedNodes(3), 5000);
  hub.capture = true;
  const maskedOf = (from: number, after: number) => hub.log.slice(after).filter((m) => m.stage === STAGES.masked && m.from === from).map((m) => hex(m.payload!));
  const nonceOf = (after: number) => hub.log.slice(after).find((m) => m.stage === STAGES.nonce)!.payload!;
  const lanes = (i: number) => sumLanes(i + 1, 1n);

  await sumOn(hub, 'reused', lanes);
  const first = { masked: [maskedOf(1, 0), maskedOf(2, 0)], nonce: nonceOf(0) };
  const second = hub.log.length;
  await sumOn(hub, 'reused', lanes);
  for (const party of [1, 2]) assert.notEqual(maskedOf(party, second)[0], first.masked[party - 1]![0], `party ${party}`);

  // The nonce is what tells the attempts apart: an aggregator that resent the first one would
  // make every party send exactly its first masked vector again (and learn differences of inputs).
  const deliver = hub.deliver.bind(hub);
  hub.deliver = (uuid, to, nodes, m) => deliver(uuid, to, nodes, m.stage === STAGES.nonce ? { ...m, payload: first.nonce } : m);
  const third = hub.log.length;
  await sumOn(hub, 'reused', lanes);
  for (const party of [1, 2]) assert.equal(maskedOf(party, third)[0], first.masked[party - 1]![0], `party ${party}`);
});

test('a coalition of the aggregator and all but two parties, removing every mask it knows, is left with vectors masked by the honest pair\'s key, which cancel only in their sum', async () => {
  const n = 5;
  const honest = [2, 4];
  const corrupt = [1, 3]; // with the aggregator, party 0
  const inputs = [1.5, 2.25, -8, 100.125, 0.0625];
  const hub = new MemoryHub(simulatedNodes(n), 5000);
  hub.capture = true;
  const runs = await sumOn(hub, 'coalition', (i) => sumLanes(inputs[i]!, 1n));
  const lanes = sumLanes(0, 0n);
  const nonce = hub.log.find((m) => m.stage === STAGES.nonce)!.payload!;
  const stripped = honest.map((h) => {
    const y = hub.log.find((m) => m.stage === STAGES.masked && m.from === h)!.payload!;
    const REAL = REAL_RING.byteLength;
    const vector = [REAL_RING.decodeBytes(y.subarray(0, REAL), 'y'), COUNT_RING.decodeBytes(y.subarray(REAL, REAL + COUNT_RING.byteLength), 'y')];
    // Every key the coalition holds with h: its members' own sessions derive them.
    for (const c of corrupt) {
      const mask = pairMask(runs[c]!.session, h, lanes, STAGES.masked, 0, nonce);
      const sign = h < c ? 1n : -1n;
      vector[0] = REAL_RING.sub(vector[0]!, sign * mask[0]![0]!);
      vector[1] = COUNT_RING.sub(vector[1]!, sign * mask[1]![0]!);
    }
    return vector;
  });
  // What remains of each honest vector is still uniform: its value is nowhere in it …
  for (const [k, h] of honest.entries()) {
    const bytes = concat([REAL_RING.encodeBytes(stripped[k]![0]!), COUNT_RING.encodeBytes(stripped[k]![1]!)]);
    assert.deepEqual(zeroRuns(bytes), [], `party ${h}`);
    assert.notEqual(hex(bytes), hex(encoded(inputs[h]!, 1n)));
  }
  // … and the honest pair's masks cancel in the sum, which is what the output reveals.
  assert.equal(EXACT_SCALAR.decode(REAL_RING.add(stripped[0]![0]!, stripped[1]![0]!), 'sum'), inputs[2]! + inputs[4]!);
  assert.equal(COUNT_RING.add(stripped[0]![1]!, stripped[1]![1]!), 2n);
});

test('a leaf that never sends its masked vector is named by every party, though the aggregator\'s notice of it comes late', async () => {
  // The aggregator's wait for the masked vectors and a leaf's wait for the total end one stage
  // timeout after they began, which is milliseconds apart; the leaf's grace on the total
  // (totalGraceMs) lets the aggregator's timeout, which names the missing leaf, arrive first, even
  // when it takes 150 ms to get there. Without it the leaves' own timeouts name the aggregator.
  const n = 5;
  const missing = 3;
  const hub = new MemoryHub(simulatedNodes(n), 400);
  const deliver = hub.deliver.bind(hub);
  hub.deliver = async (...args: Parameters<MemoryHub['deliver']>) => {
    if (args[3].stage === 'abort') await new Promise((resolve) => setTimeout(resolve, 150));
    return deliver(...args);
  };
  const outcomes = await within(10_000, 'every party', Promise.allSettled(hub.nodes.map(async (_, myself) => {
    if (myself === missing) return new Promise<never>(() => {}); // its client never calls
    const session = await hub.network(myself).open({ uuid: 'late', myself, terms: { microprotocol: 'T', nodes: hub.nodes }, stages: STAGES.all });
    return runProtocol(session, () => secureVectorSum(session, STAGES, sumLanes(myself, 1n), { construction: 'masked' }));
  }).filter((_, i) => i !== missing)));
  outcomes.forEach((o, k) => {
    assert.equal(o.status, 'rejected');
    const err = (o as PromiseRejectedResult).reason as Error & { where?: string };
    assert.ok(err instanceof TimeoutError, `party ${k}: ${String(err)}`);
    assert.match(String(err.where), new RegExp(`^party ${missing} `), `party ${k} names party ${missing}: ${err.message}`);
  });
});

test('leaves whose pair keys disagree (one holds an out-of-date key of the other) fail at every party, naming the pair, and no total goes out', async () => {
  const n = 5;
  const [stale, of] = [3, 2]; // party 3 derives its pair key with party 2 from a key party 2 no longer has
  const hub = new MemoryHub(simulatedNodes(n), 5000);
  hub.capture = true;
  const net = (myself: number) => wrapNetwork(hub.network(myself), (s) => (myself !== stale ? {} : {
    pairSecret: (peer, context) => {
      const secret = s.pairSecret(peer, context);
      return peer === of ? secret.map((b) => b ^ 1) : secret;
    },
  }));
  const outcomes = await Promise.allSettled(hub.nodes.map(async (_, myself) => {
    const session = await net(myself).open({ uuid: 'stale', myself, terms: { microprotocol: 'T', nodes: hub.nodes }, stages: STAGES.all });
    return runProtocol(session, () => secureVectorSum(session, STAGES, sumLanes(myself, 1n), { construction: 'masked' }));
  }));
  outcomes.forEach((o, i) => {
    assert.equal(o.status, 'rejected', `party ${i} must fail, not return ${JSON.stringify((o as PromiseFulfilledResult<unknown>).value, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    const err = (o as PromiseRejectedResult).reason as Error;
    assert.ok(err instanceof PeerError, `party ${i}: ${String(err)}`);
    assert.match(err.message, /derived different pair keys \(party 2 \([^)]*\) and party 3 \([^)]*\)\)/, `party ${i}`);
  });
  assert.equal(hub.log.filter((m) => m.stage === STAGES.total).length, 0, 'no total');
  // Each leaf's checks ride with its masked vector: 8 bytes for each of the other n − 2 leaves.
  for (const m of hub.log.filter((m) => m.stage === STAGES.masked)) assert.equal(m.payload!.length, encoded(0, 0n).length + 8 * (n - 2));
});

// ---- the last stage's receipts are the caller's to await (deliveries.ts); a lost send still fails -

/** The last stage of either construction: what a party sends once it has everything it needs. */
const LAST = new Set([STAGES.partials, STAGES.masked, STAGES.total]);

/** A hub on which every message arrives at once but a last-stage receipt (send's resolution) waits for `release`. */
function heldReceipts(n: number, timeoutMs = 60_000): { hub: MemoryHub; release: () => void } {
  const hub = new MemoryHub(simulatedNodes(n), timeoutMs);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const deliver = hub.deliver.bind(hub);
  hub.deliver = async (...args: Parameters<MemoryHub['deliver']>) => {
    await deliver(...args);
    if (LAST.has(args[3].stage)) await gate;
  };
  return { hub, release };
}

function openAll(hub: MemoryHub, uuid: string, order?: StageOrder) {
  return Promise.all(hub.nodes.map((_, myself) =>
    hub.network(myself).open({ uuid, myself, terms: { microprotocol: 'T', nodes: hub.nodes }, stages: STAGES.all, ...(order ? { order } : {}) })));
}

// No loop edge: within a sum, one sender's messages never overtake one another.
const ORDER = new StageOrder(STAGES.all);

for (const [n, construction] of [[3, 'shared'], [MASKED_FROM, 'masked']] as const) {
  test(`${construction}: with a tracker the totals come while the last stage's receipts are held; they are awaited there`, async () => {
    const { hub, release } = heldReceipts(n);
    const messages = construction === 'masked' ? 3 * (n - 1) : 2 * n * (n - 1);
    const sessions = await openAll(hub, 'held', ORDER);
    const lanes = (i: number) => [{ group: COUNT_RING, values: [BigInt(i + 1), 10n] }];
    const trackers = sessions.map(() => new Deliveries());
    // Had the last stage waited for its receipts, no total would come before release().
    const totals = await within(20_000, 'the totals with the last receipts held', Promise.all(sessions.map((s, i) =>
      secureVectorSum(s, STAGES, lanes(i), { construction, deliveries: trackers[i]! }))));
    const expected = [BigInt((n * (n + 1)) / 2), BigInt(10 * n)];
    for (const [counts] of totals) assert.deepEqual(counts, expected);
    assert.equal(hub.log.length, messages, 'every message was delivered');
    // Without a tracker of its own the call resolves only once its sends are accepted.
    const second = await openAll(hub, 'held-2', ORDER);
    let done = 0;
    const own = Promise.all(second.map((s, i) => secureVectorSum(s, STAGES, lanes(i), { construction }).then((t) => {
      done += 1;
      return t;
    })));
    const settled = Promise.all(trackers.map((t) => t.settled()));
    while (hub.log.length < 2 * messages) await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, 0, 'no untracked sum returned before its receipts');
    release();
    await within(20_000, 'the held receipts', settled);
    for (const [counts] of await within(20_000, 'the untracked sums', own)) assert.deepEqual(counts, expected);
    for (const s of [...sessions, ...second]) s.close();
  });
}

for (const stage of ['shares', 'partials'] as const) {
  test(`shared: a ${stage} message that is never delivered fails its sender at once, naming the receiver`, async () => {
    // A stage timeout far beyond the test's limit: the failure must come from the failed send.
    const hub = new MemoryHub(simulatedNodes(3), 600_000);
    const deliver = hub.deliver.bind(hub);
    hub.deliver = async (...args: Parameters<MemoryHub['deliver']>) => {
      const [, to, nodes, m] = args;
      if (m.from === 0 && to === 1 && m.stage === STAGES[stage]) throw new PeerError(`cannot reach party 1 (${nodes[1]}): connection refused`, { where: `party 1 (${nodes[1]})` });
      return deliver(...args);
    };
    const sessions = await openAll(hub, `lost-${stage}`, ORDER);
    const outcomes = await within(20_000, 'every party', Promise.allSettled(sessions.map((s, i) =>
      runProtocol(s, () => secureVectorSum(s, STAGES, [{ group: COUNT_RING, values: [BigInt(i)] }], { construction: 'shared' })))));
    const first = outcomes[0]!;
    assert.equal(first.status, 'rejected', 'party 0 fails though (for lost partials) it holds every total');
    const err = (first as PromiseRejectedResult).reason as Error & { where?: string };
    assert.ok(err instanceof PeerError, String(err));
    assert.equal(err.where, `party 1 (${hub.nodes[1]})`);
    assert.ok(outcomes.every((o) => o.status === 'rejected'), 'the others are told and fail too');
  });
}
