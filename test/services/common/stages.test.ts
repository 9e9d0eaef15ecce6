import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { BadInputError, ConflictError, PeerError, TimeoutError } from '../../../services/errors.js';
import type { Session } from '../../../services/peer.js';
import {
  broadcast, defineStages, gather, otherParties, runProtocol, scatter, type StageOf,
} from '../../../services/common/stages.js';

/**
 * In-memory Session: one mailbox per (from, to, stage, seq). An identical duplicate is ignored, a
 * conflicting one refused, like the real transport; receive times out with a TimeoutError that
 * does not name the party (gather must add it).
 */
class FakeSession implements Session {
  readonly uuid = 'test-uuid';
  readonly nodes: readonly string[];
  readonly parties: number;
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  aborts: string[] = [];
  closed = false;
  sent: { to: number; stage: string; seq: number }[] = [];
  constructor(
    private readonly net: FakeNetwork,
    readonly myself: number,
  ) {
    this.nodes = net.nodes;
    this.parties = net.nodes.length;
  }
  async send(to: number, stage: string, payload: Uint8Array, seq = 0): Promise<void> {
    this.sent.push({ to, stage, seq });
    this.net.deliver(`${this.myself}>${to}/${stage}/${seq}`, payload);
  }
  receive(from: number, stage: string, seq = 0, timeoutMs = this.net.timeoutMs): Promise<Uint8Array> {
    return this.net.take(`${from}>${this.myself}/${stage}/${seq}`, timeoutMs);
  }
  whenJoined(): Promise<boolean> {
    return Promise.resolve(true);
  }
  pairSecret(): Uint8Array {
    throw new Error('the stage tests use no pair secrets');
  }

  async abort(reason: string): Promise<void> {
    this.aborts.push(reason);
    this.controller.abort(new PeerError(`aborted: ${reason}`));
    if (this.net.abortHangs) await new Promise(() => {});
  }
  close(): void {
    this.closed = true;
  }
}

class FakeNetwork {
  readonly nodes = ['http://127.0.0.1:55501', 'http://127.0.0.1:55502', 'http://127.0.0.1:55503'];
  readonly timeoutMs: number;
  abortHangs = false;
  private readonly boxes = new Map<string, Uint8Array>();
  private readonly waiters = new Map<string, (p: Uint8Array) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  constructor(timeoutMs = 2_000) {
    this.timeoutMs = timeoutMs;
    networks.push(this);
  }
  /** Ends every wait still pending (as closing the real sessions does), so no timer outlives a test. */
  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiters.clear();
  }
  session(i: number): FakeSession {
    return new FakeSession(this, i);
  }
  deliver(key: string, payload: Uint8Array): void {
    const had = this.boxes.get(key);
    if (had) {
      if (Buffer.compare(had, payload) !== 0) throw new PeerError(`conflicting duplicate ${key}`);
      return;
    }
    this.boxes.set(key, payload);
    this.waiters.get(key)?.(payload);
  }
  take(key: string, timeoutMs: number): Promise<Uint8Array> {
    const ready = this.boxes.get(key);
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiters.delete(key);
        reject(new TimeoutError(`no message ${key}`));
      }, timeoutMs);
      this.timers.add(timer);
      this.waiters.set(key, (p) => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.waiters.delete(key);
        resolve(p);
      });
    });
  }
}

const networks: FakeNetwork[] = [];
afterEach(() => {
  for (const n of networks.splice(0)) n.dispose();
});

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
    const net = new FakeNetwork();
    const sessions = [0, 1, 2].map((i) => net.session(i));
    // Party i sends 10·i + j to party j, then everyone gathers.
    await Promise.all(sessions.map((s) => scatter(s, STAGES.shares, (to) => byte(10 * s.myself + to))));
    const got = await Promise.all(sessions.map((s) => gather(s, STAGES.shares, otherParties(s), decodeByte)));
    assert.deepEqual([...got[0]!], [[1, 10], [2, 20]]);
    assert.deepEqual([...got[1]!], [[0, 1], [2, 21]]);
    assert.deepEqual([...got[2]!], [[0, 2], [1, 12]]);
    assert.deepEqual(sessions[0]!.sent.map((m) => m.to), [1, 2], 'scatter sends to every other party once');
  });

  test('the stage is not complete while one sender is missing', async () => {
    const net = new FakeNetwork();
    const [a, b, c] = [0, 1, 2].map((i) => net.session(i)) as [FakeSession, FakeSession, FakeSession];
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

  test('a duplicate identical message is harmless, a conflicting one is refused naming the receiver', async () => {
    const net = new FakeNetwork();
    const [a, b] = [0, 1].map((i) => net.session(i)) as [FakeSession, FakeSession];
    await scatter(b, STAGES.shares, () => byte(3), { to: [0] });
    await scatter(b, STAGES.shares, () => byte(3), { to: [0] });
    await assert.rejects(scatter(b, STAGES.shares, () => byte(4), { to: [0] }), (e: unknown) =>
      e instanceof PeerError && e.where === 'party 0 (http://127.0.0.1:55501)');
    assert.deepEqual([...(await gather(a, STAGES.shares, [1], decodeByte))], [[1, 3]]);
  });

  test('a missing sender times out, naming that party', async () => {
    const net = new FakeNetwork(60);
    const [a, b] = [0, 1].map((i) => net.session(i)) as [FakeSession, FakeSession];
    await scatter(b, STAGES.shares, () => byte(1), { to: [0] });
    const started = Date.now();
    await assert.rejects(gather(a, STAGES.shares, [1, 2], decodeByte), (e: unknown) =>
      e instanceof TimeoutError && e.where === 'party 2 (http://127.0.0.1:55503)' && /party 2/.test(e.message));
    assert.ok(Date.now() - started < 1_000);
  });

  test('a per-call timeout overrides the session default', async () => {
    const net = new FakeNetwork(60_000);
    await assert.rejects(gather(net.session(0), STAGES.shares, [1], decodeByte, { timeoutMs: 30 }), TimeoutError);
  });

  test('a message the decoder refuses fails the stage at once, naming the sender', async () => {
    const net = new FakeNetwork(10_000);
    const [a, b] = [0, 1].map((i) => net.session(i)) as [FakeSession, FakeSession];
    await scatter(b, STAGES.shares, () => Uint8Array.of(1, 2), { to: [0] });
    // Party 2 never sends: the failure of party 1 must not wait for party 2's 10 s timeout.
    const gathering = gather(a, STAGES.shares, [1, 2], decodeByte);
    assert.equal(await settledWithin(gathering, 1_000), 'settled');
    await assert.rejects(gathering, (e: unknown) =>
      e instanceof PeerError && e.where === 'party 1 (http://127.0.0.1:55502)' && /expected 1 byte/.test(e.message));
  });

  test('a failed session ends a waiting gather promptly', async () => {
    const net = new FakeNetwork(10_000);
    const a = net.session(0);
    const gathering = gather(a, STAGES.shares, [1, 2], decodeByte);
    a.controller.abort(new PeerError('party 2 aborted: terms differ', { where: 'party 2 (http://127.0.0.1:55503)' }));
    await assert.rejects(gathering, (e: unknown) => e instanceof PeerError && e.where === 'party 2 (http://127.0.0.1:55503)');
  });

  const badPeers: [string, number[]][] = [
    ['this party itself', [0, 1]],
    ['a repeated party', [1, 1]],
    ['an index outside the network', [3]],
  ];
  for (const [name, peers] of badPeers) {
    test(`refuses to wait for ${name}`, async () => {
      const a = new FakeNetwork().session(0);
      await assert.rejects(gather(a, STAGES.shares, peers, decodeByte), BadInputError);
      await assert.rejects(scatter(a, STAGES.shares, () => byte(0), { to: peers }), BadInputError);
    });
  }
});

describe('runProtocol', () => {
  test('returns the body result and closes the session without aborting', async () => {
    const s = new FakeNetwork().session(0);
    assert.equal(await runProtocol(s, async () => 42), 42);
    assert.deepEqual([s.closed, s.aborts], [true, []]);
  });

  test('on failure it aborts the peers, rethrows the original error and closes', async () => {
    const s = new FakeNetwork().session(0);
    const err = new ConflictError('party 1 disagrees on nodes', { where: 'party 1' });
    await assert.rejects(runProtocol(s, async () => { throw err; }), (e: unknown) => e === err);
    assert.deepEqual(s.aborts, ['ConflictError: party 1 disagrees on nodes']);
    assert.equal(s.closed, true);
  });

  test('a bad input fails its party at once and reaches the peers by its field only, never its value', async () => {
    const s = new FakeNetwork().session(0);
    const err = new BadInputError('element 3 of kwargs.data.tensors.w is 2500.123456789, beyond the range', { where: 'kwargs.data.tensors.w' });
    await assert.rejects(runProtocol(s, async () => { throw err; }), (e: unknown) => e === err);
    // The notice goes out once the others joined (here at once), after the client has its answer.
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(s.aborts, ['BadInputError: invalid input at kwargs.data.tensors.w']);
    assert.ok(!s.aborts.join().includes('2500'), 'no input value in the notice');
    assert.equal(s.closed, true);
  });

  test('an unexpected exception is reported to peers without its text', async () => {
    const s = new FakeNetwork().session(0);
    await assert.rejects(runProtocol(s, async () => { throw new Error('secret=1234'); }), /secret=1234/);
    assert.deepEqual(s.aborts, ['internal error']);
  });

  test('an abort that never completes does not hang the failing party', async () => {
    const net = new FakeNetwork();
    net.abortHangs = true;
    const s = net.session(0);
    await assert.rejects(runProtocol(s, async () => { throw new PeerError('boom'); }, { abortGraceMs: 30 }), /boom/);
    assert.equal(s.closed, true);
  });
});
