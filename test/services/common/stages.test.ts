import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { BadInputError, ConflictError, PeerError, TimeoutError } from '../../../services/errors.js';
import type { Session } from '../../../services/peer.js';
import {
  broadcast, defineStages, gather, otherParties, raisedByEveryParty, runProtocol, scatter, type StageOf,
} from '../../../services/common/stages.js';
import { MemoryHub } from '../../support/network.js';

// The stage machinery on the one in-memory network (services/simulation/network.ts), with the
// real session's semantics; the faults a network or a peer causes come from its fault hook.
const NODES = ['http://127.0.0.1:55501', 'http://127.0.0.1:55502', 'http://127.0.0.1:55503'];
const UUID = 'test-uuid';

const opened: Session[] = [];
afterEach(() => {
  // Ends every wait still pending, so no timer outlives a test.
  for (const s of opened.splice(0)) s.close();
});

/** A hub of three parties (per-wait timeout `timeoutMs`) and each party's open session. */
async function network(timeoutMs = 2_000): Promise<{ hub: MemoryHub; sessions: [Session, Session, Session] }> {
  const hub = new MemoryHub(NODES, timeoutMs);
  const sessions = await Promise.all(
    NODES.map((_, i) => hub.network(i).open({ uuid: UUID, myself: i, terms: { microprotocol: 'test', nodes: NODES }, stages: STAGES.all })),
  );
  opened.push(...sessions);
  return { hub, sessions: sessions as [Session, Session, Session] };
}

const STAGES = defineStages(['shares', 'partials'] as const);
const byte = (b: number) => Uint8Array.of(b);
const decodeByte = (p: Uint8Array): number => {
  if (p.length !== 1) throw new BadInputError(`expected 1 byte, got ${p.length}`);
  return p[0]!;
};

/** Resolves to 'pending' if p has not settled within ms. */
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<'settled' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(() => 'settled' as const, () => 'settled' as const),
    new Promise<'pending'>((resolve) => {
      timer = setTimeout(() => resolve('pending'), ms);
    }),
  ]);
  clearTimeout(timer);
  return r;
}

describe('defineStages', () => {
  test('gives the ordered list and one constant per stage', () => {
    assert.deepEqual(STAGES.all, ['shares', 'partials']);
    assert.equal(STAGES.shares, 'shares');
    assert.equal(STAGES.partials, 'partials');
    const s: StageOf<typeof STAGES> = 'partials';
    assert.ok(STAGES.all.includes(s));
    assert.ok(Object.isFrozen(STAGES) && Object.isFrozen(STAGES.all));
  });

  const bad: [string, readonly string[]][] = [
    ['a repeated stage', ['shares', 'shares']],
    ['the reserved name "all"', ['all']],
    ['no stage at all', []],
    ['a name that is not an identifier', ['__proto__']],
  ];
  for (const [name, names] of bad) {
    test(`refuses ${name}`, () => {
      assert.throws(() => defineStages(names), BadInputError);
    });
  }
});

describe('gather / scatter / broadcast', () => {
  test('a stage completes with one message from each sender, in sender order', async () => {
    const { hub, sessions } = await network();
    // Party i sends 10·i + j to party j, then everyone gathers.
    await Promise.all(sessions.map((s) => scatter(s, STAGES.shares, (to) => byte(10 * s.myself + to))));
    const got = await Promise.all(sessions.map((s) => gather(s, STAGES.shares, otherParties(s), decodeByte)));
    assert.deepEqual([...got[0]!], [[1, 10], [2, 20]]);
    assert.deepEqual([...got[1]!], [[0, 1], [2, 21]]);
    assert.deepEqual([...got[2]!], [[0, 2], [1, 12]]);
    assert.deepEqual(hub.log.filter((m) => m.from === 0).map((m) => m.to), [1, 2], 'scatter sends to every other party once');
  });

  test('the stage is not complete while one sender is missing', async () => {
    const { sessions: [a, b, c] } = await network();
    await broadcast(b, STAGES.partials, byte(7));
    const pending = gather(a, STAGES.partials, [1, 2], decodeByte);
    assert.equal(await settledWithin(pending, 50), 'pending');
    // A message for another stage or chunk does not count for this one.
    await broadcast(c, STAGES.shares, byte(9));
    await broadcast(c, STAGES.partials, byte(9), { seq: 1 });
    assert.equal(await settledWithin(pending, 50), 'pending');
    await broadcast(c, STAGES.partials, byte(8));
    assert.deepEqual([...(await pending)], [[1, 7], [2, 8]]);
  });

  test('a duplicate identical message is harmless, a conflicting one is refused naming its sender', async () => {
    const { sessions: [a, b] } = await network();
    await scatter(b, STAGES.shares, () => byte(3), { to: [0] });
    await scatter(b, STAGES.shares, () => byte(3), { to: [0] });
    await assert.rejects(scatter(b, STAGES.shares, () => byte(4), { to: [0] }), (e: unknown) =>
      e instanceof ConflictError && e.where === 'party 1 (http://127.0.0.1:55502)' && /two different "shares" messages/.test(e.message));
    assert.deepEqual([...(await gather(a, STAGES.shares, [1], decodeByte))], [[1, 3]]);
    // Also once the first copy was consumed.
    await scatter(b, STAGES.shares, () => byte(3), { to: [0] });
    await assert.rejects(scatter(b, STAGES.shares, () => byte(5), { to: [0] }), ConflictError);
  });

  test('a missing sender times out, naming that party', async () => {
    const { sessions: [a, b] } = await network(60);
    await scatter(b, STAGES.shares, () => byte(1), { to: [0] });
    const started = Date.now();
    await assert.rejects(gather(a, STAGES.shares, [1, 2], decodeByte), (e: unknown) =>
      e instanceof TimeoutError && e.where === 'party 2 (http://127.0.0.1:55503)' && /party 2/.test(e.message));
    assert.ok(Date.now() - started < 1_000);
  });

  test('a per-call timeout overrides the session default', async () => {
    const { sessions: [a] } = await network(60_000);
    await assert.rejects(gather(a, STAGES.shares, [1], decodeByte, { timeoutMs: 30 }), TimeoutError);
  });

  test('a message the decoder refuses fails the stage at once, naming the sender', async () => {
    const { sessions: [a, b] } = await network(10_000);
    await scatter(b, STAGES.shares, () => Uint8Array.of(1, 2), { to: [0] });
    // Party 2 never sends: the failure of party 1 must not wait for party 2's 10 s timeout.
    const gathering = gather(a, STAGES.shares, [1, 2], decodeByte);
    assert.equal(await settledWithin(gathering, 1_000), 'settled');
    await assert.rejects(gathering, (e: unknown) =>
      e instanceof PeerError && e.where === 'party 1 (http://127.0.0.1:55502)' && /expected 1 byte/.test(e.message));
  });

  test('a peer that aborts ends a waiting gather promptly, naming it', async () => {
    const { hub, sessions: [a, , c] } = await network(10_000);
    const gathering = gather(a, STAGES.shares, [1, 2], decodeByte);
    hub.fault = (m) => (m.from === 2 && !m.abort ? { kind: 'abort', reason: 'terms differ' } : undefined);
    await assert.rejects(broadcast(c, STAGES.shares, byte(1)), PeerError);
    await assert.rejects(gathering, (e: unknown) => e instanceof PeerError && e.where === 'party 2 (http://127.0.0.1:55503)' && /terms differ/.test(e.message));
  });

  const badPeers: [string, number[]][] = [
    ['this party itself', [0, 1]],
    ['a repeated party', [1, 1]],
    ['an index outside the network', [3]],
  ];
  for (const [name, peers] of badPeers) {
    test(`refuses to wait for ${name}`, async () => {
      const { sessions: [a] } = await network();
      await assert.rejects(gather(a, STAGES.shares, peers, decodeByte), BadInputError);
      await assert.rejects(scatter(a, STAGES.shares, () => byte(0), { to: peers }), BadInputError);
    });
  }
});

describe('faults of the in-memory network', () => {
  test('a dropped message never arrives: the receiver times out naming its sender', async () => {
    const { hub, sessions: [a, b, c] } = await network(100);
    hub.fault = (m) => (m.from === 2 ? { kind: 'drop' } : undefined);
    await broadcast(b, STAGES.shares, byte(1));
    await broadcast(c, STAGES.shares, byte(2)); // the sender does not notice
    await assert.rejects(gather(a, STAGES.shares, [1, 2], decodeByte), (e: unknown) => e instanceof TimeoutError && e.where === 'party 2 (http://127.0.0.1:55503)');
  });

  test('a delayed message still completes the stage, later', async () => {
    const { hub, sessions: [a, b] } = await network();
    hub.fault = () => ({ kind: 'delay', ms: 60 });
    const sending = scatter(b, STAGES.shares, () => byte(5), { to: [0] });
    const gathering = gather(a, STAGES.shares, [1], decodeByte);
    assert.equal(await settledWithin(gathering, 20), 'pending');
    await sending;
    assert.deepEqual([...(await gathering)], [[1, 5]]);
  });

  test('a duplicated message is harmless; a conflicting resend is refused to its sender', async () => {
    const { hub, sessions: [a, b, c] } = await network();
    hub.fault = (m) => (m.from === 1 ? { kind: 'duplicate' } : m.from === 2 ? { kind: 'duplicate', payload: byte(6) } : undefined);
    await scatter(b, STAGES.shares, () => byte(3), { to: [0] });
    await assert.rejects(scatter(c, STAGES.shares, () => byte(4), { to: [0] }), (e: unknown) => e instanceof ConflictError && e.where === 'party 2 (http://127.0.0.1:55503)');
    assert.deepEqual([...(await gather(a, STAGES.shares, [1, 2], decodeByte))], [[1, 3], [2, 4]]);
  });

  test('reordered chunks are matched by (sender, stage, seq), not by arrival', async () => {
    const { hub, sessions: [a, b] } = await network();
    hub.fault = (m) => (m.seq === 0 ? { kind: 'reorder' } : undefined);
    await broadcast(b, STAGES.shares, byte(10), { seq: 0 });
    const first = gather(a, STAGES.shares, [1], decodeByte, { seq: 0 });
    assert.equal(await settledWithin(first, 30), 'pending', 'held back until the next message');
    await broadcast(b, STAGES.shares, byte(11), { seq: 1 });
    assert.deepEqual([...(await first)], [[1, 10]]);
    assert.deepEqual([...(await gather(a, STAGES.shares, [1], decodeByte, { seq: 1 }))], [[1, 11]]);
  });

  test('a replaced payload is what the receiver decodes (a tampering network)', async () => {
    const { hub, sessions: [a, b] } = await network();
    hub.fault = () => ({ kind: 'replace', payload: Uint8Array.of(1, 2, 3) });
    await scatter(b, STAGES.shares, () => byte(1), { to: [0] });
    await assert.rejects(gather(a, STAGES.shares, [1], decodeByte), (e: unknown) => e instanceof PeerError && /expected 1 byte, got 3/.test(e.message));
  });
});

describe('runProtocol', () => {
  test('returns the body result and closes the session without aborting', async () => {
    const { hub, sessions: [s] } = await network();
    assert.equal(await runProtocol(s, async () => 42), 42);
    assert.deepEqual([hub.closed, hub.aborts], [[`${UUID}/0`], []]);
  });

  test('on failure it aborts the peers, rethrows the original error and closes', async () => {
    const { hub, sessions: [s, b] } = await network();
    const err = new ConflictError('party 1 disagrees on nodes', { where: 'party 1' });
    await assert.rejects(runProtocol(s, async () => { throw err; }), (e: unknown) => e === err);
    assert.deepEqual(hub.aborts.map((a) => a.reason), ['ConflictError: party 1 disagrees on nodes']);
    assert.deepEqual(hub.closed, [`${UUID}/0`]);
    await assert.rejects(b.receive(0, STAGES.shares), (e: unknown) => e instanceof PeerError && e.where === 'party 0 (http://127.0.0.1:55501)');
  });

  test('a bad input fails its party at once and reaches the peers by its field only, never its value', async () => {
    const { hub, sessions: [s, b, c] } = await network();
    // The others join (send party 0 a message), so the notice goes out at once.
    await Promise.all([b, c].map((p) => scatter(p, STAGES.shares, () => byte(1), { to: [0] })));
    const err = new BadInputError('element 3 of kwargs.data.tensors.w is 2500.123456789, beyond the range', { where: 'kwargs.data.tensors.w' });
    await assert.rejects(runProtocol(s, async () => { throw err; }), (e: unknown) => e === err);
    // The notice goes out once the others joined, after the client has its answer.
    await new Promise((r) => setTimeout(r, 20));
    const reasons = hub.aborts.map((a) => a.reason);
    assert.deepEqual(reasons, ['BadInputError: invalid input at kwargs.data.tensors.w']);
    assert.ok(!reasons.join().includes('2500'), 'no input value in the notice');
    assert.deepEqual(hub.closed, [`${UUID}/0`]);
  });

  test('a bad input is told to each peer as soon as that peer has joined, not once every peer has', async () => {
    const { sessions: [s, b, c] } = await network();
    // Party 1 has sent party 0 something; party 2 never does (a leaf to another leaf in a star).
    await scatter(b, STAGES.shares, () => byte(1), { to: [0] });
    const started = Date.now();
    await assert.rejects(runProtocol(s, async () => { throw new BadInputError('not a number', { where: 'kwargs.data' }); }), BadInputError);
    // Party 1 fails at once, naming party 0; party 2 is told only when the join wait ends (3 s).
    await assert.rejects(b.receive(0, STAGES.partials), (e: unknown) => e instanceof PeerError && /party 0 .*aborted the computation: BadInputError: invalid input at kwargs\.data/.test(e.message));
    assert.ok(Date.now() - started < 1_000, `party 1 told at once (${Date.now() - started} ms)`);
    assert.equal(c.signal.aborted, false, 'party 2, which never sent party 0 anything, is not told yet');
  });

  test('a failure every party raises by itself is rethrown and closes the session, telling no peer', async () => {
    const { hub, sessions: [s] } = await network();
    const err = raisedByEveryParty(new ConflictError('X at party 0 is 2×3 and Y at party 1 is 2×2', { where: 'kwargs.data' }));
    await assert.rejects(runProtocol(s, async () => { throw err; }), (e: unknown) => e === err);
    assert.deepEqual([hub.closed, hub.aborts], [[`${UUID}/0`], []]);
    // The same error unmarked is told to the peers.
    const { hub: told, sessions: [t] } = await network();
    await assert.rejects(runProtocol(t, async () => { throw new ConflictError('X at party 0 is 2×3 and Y at party 1 is 2×2', { where: 'kwargs.data' }); }));
    assert.equal(told.aborts.length, 1);
  });

  test('an unexpected exception is reported to peers without its text', async () => {
    const { hub, sessions: [s] } = await network();
    await assert.rejects(runProtocol(s, async () => { throw new Error('secret=1234'); }), /secret=1234/);
    assert.deepEqual(hub.aborts.map((a) => a.reason), ['internal error']);
  });

  test('an abort that never completes does not hang the failing party', async () => {
    const { hub, sessions: [s] } = await network();
    hub.fault = (m) => (m.abort ? { kind: 'hang' } : undefined);
    await assert.rejects(runProtocol(s, async () => { throw new PeerError('boom'); }, { abortGraceMs: 30 }), /boom/);
    assert.deepEqual(hub.closed, [`${UUID}/0`]);
  });
});
