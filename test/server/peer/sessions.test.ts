// Sessions over real HTTP between two and three peer nodes: delivery, matching of computations
// that reuse one uuid, buffering of early messages, terms agreement, abort, timeouts.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ConflictError, PeerError, TimeoutError } from '../../../services/errors.js';
import { openAll, STAGES, startNetwork, termsFor, type Network } from './harness.js';
import { within } from '../../within.js';

describe('peer sessions, three parties (network secret)', () => {
  let net: Network;
  before(async () => {
    net = await startNetwork(3);
  });
  after(() => net.close());

  for (const [name, size] of [
    ['a small message', 16],
    ['an empty message', 0],
    ['an 8 MB message', 8 * 1024 * 1024],
  ] as const) {
    test(`round trip of ${name}`, async () => {
      const sessions = await within(5000, 'open', openAll(net, `round-trip-${size}`));
      try {
        const payload = randomBytes(size);
        const [sent, got] = await within(10_000, 'send', Promise.all([sessions[0]!.send(2, 'share', payload), sessions[2]!.receive(0, 'share')]));
        assert.equal(sent, undefined);
        assert.ok(Buffer.from(got).equals(payload));
        assert.equal(sessions[2]!.parties, 3);
      } finally {
        sessions.forEach((s) => s.close());
      }
    });
  }

  test('every pair exchanges, chunks by seq, and nothing stays held after close', async () => {
    const sessions = await within(5000, 'open', openAll(net, 'all-pairs'));
    const payload = (from: number, to: number, seq: number) => Buffer.from(`${from}->${to}#${seq}`);
    await within(
      5000,
      'sends',
      Promise.all(
        sessions.flatMap((s, from) =>
          [0, 1, 2].filter((to) => to !== from).flatMap((to) => [0, 1].map((seq) => s.send(to, 'share', payload(from, to, seq), seq))),
        ),
      ),
    );
    for (const [to, s] of sessions.entries()) {
      for (const from of [0, 1, 2].filter((f) => f !== to)) {
        for (const seq of [1, 0]) {
          assert.equal(Buffer.from(await s.receive(from, 'share', seq)).toString(), `${from}->${to}#${seq}`);
        }
      }
    }
    sessions.forEach((s) => s.close());
    for (const p of net.parties) {
      const stats = p.node.stats();
      assert.equal(stats.bufferedMessages, 0);
      assert.equal(stats.sessions, 0);
    }
  });

  test('consecutive computations on one uuid meet in order (FIFO), even when one party runs ahead', async () => {
    const uuid = 'reused-uuid';
    const rounds = 3;
    // Party 0 and 1 run three computations back to back; party 2 starts late, then catches up.
    const runParty = async (i: number, delayMs: number) => {
      await new Promise((r) => setTimeout(r, delayMs));
      const results: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const s = await net.parties[i]!.node.open({ uuid, myself: i, terms: termsFor(net.urls), stages: STAGES });
        try {
          await Promise.all([0, 1, 2].filter((to) => to !== i).map((to) => s.send(to, 'share', Buffer.from(`r${round}p${i}`))));
          const got = await Promise.all([0, 1, 2].filter((f) => f !== i).map((f) => s.receive(f, 'share')));
          results.push(got.map((b) => Buffer.from(b).toString()).join(','));
        } finally {
          s.close();
        }
      }
      return results;
    };
    const [r0, r1, r2] = await within(15_000, 'rounds', Promise.all([runParty(0, 0), runParty(1, 0), runParty(2, 300)]));
    for (let round = 0; round < rounds; round++) {
      assert.equal(r0![round], `r${round}p1,r${round}p2`);
      assert.equal(r1![round], `r${round}p0,r${round}p2`);
      assert.equal(r2![round], `r${round}p0,r${round}p1`);
    }
  });

  test('messages that arrive before the receiver opens are buffered, then adopted', async () => {
    const uuid = 'early-bird';
    const s0 = await net.parties[0]!.node.open({ uuid, myself: 0, terms: termsFor(net.urls), stages: STAGES });
    // Party 1 has not opened yet: its server must hold the message.
    await within(5000, 'early send', s0.send(1, 'share', Buffer.from('early')));
    const held = net.parties[1]!.node.stats();
    assert.equal(held.bufferedMessages, 1);
    const s1 = await net.parties[1]!.node.open({ uuid, myself: 1, terms: termsFor(net.urls), stages: STAGES });
    assert.equal(Buffer.from(await within(2000, 'receive', s1.receive(0, 'share'))).toString(), 'early');
    assert.equal(net.parties[1]!.node.stats().bufferedMessages, 0);
    s0.close();
    s1.close();
  });

  test('an identical resend is accepted once; a different payload for the same stage is a conflict', async () => {
    const sessions = await openAll(net, 'duplicates');
    await sessions[0]!.send(1, 'share', Buffer.from('one'));
    await sessions[0]!.send(1, 'share', Buffer.from('one'));
    await assert.rejects(sessions[0]!.send(1, 'share', Buffer.from('two')), (err: Error) => err instanceof PeerError && /409/.test(err.message));
    assert.equal(Buffer.from(await sessions[1]!.receive(0, 'share')).toString(), 'one');
    // Also after it was consumed.
    await sessions[0]!.send(1, 'share', Buffer.from('one'));
    await assert.rejects(sessions[0]!.send(1, 'share', Buffer.from('two')), PeerError);
    sessions.forEach((s) => s.close());
  });

  test('parties that disagree on the terms fail, naming the party and the differing term', async () => {
    const uuid = 'disagree';
    const open = (i: number, microprotocol: string) =>
      net.parties[i]!.node.open({ uuid, myself: i, terms: { ...termsFor(net.urls), microprotocol }, stages: STAGES });
    const [s0, s1, s2] = await Promise.all([open(0, 'SecureSum'), open(1, 'SecureFedAvg'), open(2, 'SecureSum')]);
    const sent = s0!.send(1, 'share', Buffer.from('x'));
    await assert.rejects(sent, (err: Error) => err instanceof PeerError && /disagrees on microprotocol/.test(err.message));
    // The receiver names party 0 and both values.
    await assert.rejects(s1!.receive(0, 'share'), (err: Error) => {
      assert.ok(err instanceof ConflictError, err.message);
      assert.equal(err.message, `party 0 (${net.urls[0]}) disagrees on microprotocol: "SecureFedAvg" here, "SecureSum" there`);
      assert.equal(err.where, `party 0 (${net.urls[0]})`);
      return true;
    });
    // Party 1 aborted: party 2 fails promptly, naming party 1, long before its 5 s timeout.
    const started = Date.now();
    await assert.rejects(within(3000, 'abort', s2!.receive(0, 'share')), (err: Error) => err instanceof PeerError && err.where === `party 1 (${net.urls[1]})` && /disagrees on microprotocol/.test(err.message));
    assert.ok(Date.now() - started < 2000);
    [s0, s1, s2].forEach((s) => s!.close());
  });

  test('a party that lists the nodes in another order refuses the others for that disagreement, and fails itself naming the party', async () => {
    // Party 2 counts party 0's server as its party 1 and party 1's as its party 0. Party 0's message
    // is from a party of its computation that disagrees on the nodes (a 409, as for any other term),
    // not from an impostor of its party 0 (a 403 that would not fail party 2: when party 2 saw the
    // disagreement first, no party reported it, only the refusals it caused).
    const uuid = 'swapped-nodes';
    const swapped = [net.urls[1]!, net.urls[0]!, net.urls[2]!];
    const open = (i: number, nodes: string[]) => net.parties[i]!.node.open({ uuid, myself: i, terms: termsFor(nodes), stages: STAGES });
    const [s0, s2] = await within(5000, 'open', Promise.all([open(0, net.urls), open(2, swapped)]));
    try {
      await assert.rejects(within(5000, 'send', s0.send(2, 'share', Buffer.from('x'))), (err: Error) => {
        assert.ok(err instanceof PeerError, err.message);
        assert.match(err.message, /HTTP 409\): party 1 \(http:\/\/[^)]+\) disagrees on nodes/);
        return true;
      });
      const failed = s2.signal.aborted ? Promise.resolve() : new Promise((resolve) => s2.signal.addEventListener('abort', resolve, { once: true }));
      await within(5000, 'party 2 fails', failed);
      const reason: unknown = s2.signal.reason;
      assert.ok(reason instanceof ConflictError, String(reason));
      assert.equal(reason.where, `party 1 (${net.urls[0]})`);
      assert.match(reason.message, /disagrees on nodes/);
    } finally {
      s0.close();
      s2.close();
    }
  });

  test('abort reaches every other party promptly with the reason', async () => {
    const sessions = await openAll(net, 'abort');
    // Settled into values at once: the rejections arrive while the abort is still being sent.
    const waits = [sessions[0]!.receive(2, 'share'), sessions[1]!.receive(2, 'result')].map((w) =>
      within(2000, 'abort', w).then(() => assert.fail('receive should fail'), (err: Error) => err),
    );
    const started = Date.now();
    await sessions[2]!.abort('data is NaN');
    for (const wait of waits) {
      await assert.rejects(wait.then((err) => Promise.reject(err)), (err: Error) => {
        assert.ok(err instanceof PeerError);
        assert.equal(err.where, `party 2 (${net.urls[2]})`);
        assert.match(err.message, /aborted the computation: data is NaN/);
        return true;
      });
    }
    assert.ok(Date.now() - started < 2000);
    assert.ok(sessions[0]!.signal.aborted);
    await assert.rejects(sessions[2]!.send(0, 'share', Buffer.from('late')), PeerError);
    sessions.forEach((s) => s.close());
  });

  test('a missing party times out, naming the party and the stage', async () => {
    const s0 = await net.parties[0]!.node.open({ uuid: 'no-show', myself: 0, terms: termsFor(net.urls), stages: STAGES, timeoutMs: 300 });
    await assert.rejects(within(2000, 'timeout', s0.receive(2, 'share')), (err: Error) => {
      assert.ok(err instanceof TimeoutError);
      assert.equal(err.where, `party 2 (${net.urls[2]})`);
      assert.match(err.message, /"share"/);
      return true;
    });
    s0.close();
  });

  test('every waited message keeps its own time limit, whichever waits began first', async () => {
    const s0 = await net.parties[0]!.node.open({ uuid: 'deadlines', myself: 0, terms: termsFor(net.urls), stages: STAGES, timeoutMs: 10_000 });
    try {
      const started = performance.now();
      const elapsed = (wait: Promise<Uint8Array>) => wait.then(() => assert.fail('no message was sent'), (err: Error) => {
        assert.ok(err instanceof TimeoutError, err.message);
        return performance.now() - started;
      });
      const long = s0.receive(2, 'share', 0).catch((err: unknown) => err);
      // Shorter limits than the one already waiting, and a later one after an earlier expired.
      const [short, later] = await within(3000, 'the shorter limits', Promise.all([elapsed(s0.receive(1, 'share', 0, 150)), elapsed(s0.receive(1, 'share', 1, 600))]));
      assert.ok(short >= 140 && short < 600, `the 150 ms wait ended after ${short} ms`);
      assert.ok(later >= 590, `the 600 ms wait ended after ${later} ms`);
      s0.close();
      // The wait with the session's 10 s limit was still waiting: it ends with the session.
      assert.match(String(await long), /is closed/);
    } finally {
      s0.close();
    }
  });
});

describe('a peer set up anew (new identity key at the same URL)', () => {
  let net: Network;
  before(async () => {
    net = await startNetwork(2);
  });
  after(() => net.close());

  test('its peers learn the new key on the next computation, in both directions', async () => {
    const first = await openAll(net, 'before-rekey');
    await first[0]!.send(1, 'share', Buffer.from('old key'));
    await first[1]!.receive(0, 'share');
    first.forEach((s) => s.close());
    await net.parties[1]!.restart(`${net.parties[1]!.dataDir}-new`);
    for (const round of [0, 1]) {
      const sessions = await within(5000, 'open', openAll(net, `after-rekey-${round}`));
      await within(5000, 'send', Promise.all([sessions[0]!.send(1, 'share', Buffer.from('to new')), sessions[1]!.send(0, 'share', Buffer.from('from new'))]));
      assert.equal(Buffer.from(await sessions[1]!.receive(0, 'share')).toString(), 'to new');
      assert.equal(Buffer.from(await sessions[0]!.receive(1, 'share')).toString(), 'from new');
      sessions.forEach((s) => s.close());
    }
  });
});

describe('peer sessions, two parties with a small inbox (backpressure)', () => {
  let net: Network;
  before(async () => {
    net = await startNetwork(2, { mode: 'secret' }, () => ({ limits: { maxInboxBytes: 1024 * 1024 } }));
  });
  after(() => net.close());

  test('a fast sender of a streamed model waits for the receiver instead of filling its memory', async () => {
    const [s0, s1] = await openAll(net, 'stream');
    const chunk = randomBytes(512 * 1024);
    const chunks = 12; // 6 MB through a 1 MB inbox
    let sent = 0;
    const sender = (async () => {
      for (let seq = 0; seq < chunks; seq++) {
        await s0!.send(1, 'share', chunk, seq);
        sent += 1;
      }
    })();
    const senderDone = within(10_000, 'sender', sender);
    await new Promise((r) => setTimeout(r, 300));
    // The receiver has read nothing: at most the inbox limit (plus one chunk in flight) is held.
    assert.ok(sent <= 3, `sender got ${sent} chunks accepted while nothing was read`);
    for (let seq = 0; seq < chunks; seq++) {
      assert.ok(Buffer.from(await within(5000, `chunk ${seq}`, s1!.receive(0, 'share', seq))).equals(chunk));
    }
    await senderDone;
    assert.equal(sent, chunks);
    s0!.close();
    s1!.close();
  });

  test('a sender that fires all its chunks at once is refused (429) past a few held deliveries', async () => {
    const [s0, s1] = await openAll(net, 'parallel-flood', {}, 800);
    const chunk = randomBytes(512 * 1024);
    const outcomes = await within(
      10_000,
      'flood',
      Promise.allSettled(Array.from({ length: 12 }, (_, seq) => s0!.send(1, 'share', chunk, seq))),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected' && /HTTP 429/.test((o.reason as Error).message));
    assert.ok(refused.length > 0, 'some parallel chunks must be refused');
    s0!.close();
    s1!.close();
  });
});

// Identities are proven once per pair, not per computation (server/peer/node.ts open): a party
// that met its peers before starts at once and takes a peer's messages when a proof of that peer's
// current run drawn after the open arrives, normally the receipt of its own first message to it.
describe('identity requests: once per pair of servers, not per computation', () => {
  let net: Network;
  before(async () => {
    net = await startNetwork(3);
  });
  after(() => net.close());

  const identityRequests = () => net.parties.map((p) => p.requests.filter((r) => r === '/peer/identity').length);
  const clearRequests = () => net.parties.forEach((p) => p.requests.splice(0));

  /** Every party sends to every other, then receives from every other (a SecureSum's round). */
  async function allPairs(uuid: string): Promise<void> {
    const sessions = await within(5000, 'open', openAll(net, uuid));
    try {
      const payload = (from: number, to: number) => Buffer.from(`${uuid}:${from}->${to}`);
      await within(10_000, 'round', Promise.all(sessions.map(async (s, me) => {
        const others = [0, 1, 2].filter((p) => p !== me);
        await Promise.all(others.map((to) => s.send(to, 'share', payload(me, to))));
        for (const from of others) assert.equal(Buffer.from(await s.receive(from, 'share')).toString(), payload(from, me).toString());
      })));
    } finally {
      sessions.forEach((s) => s.close());
    }
  }

  test('the first computation asks every peer once; the next ones ask nobody, their receipts prove each peer\'s run', async () => {
    await allPairs('first-contact');
    assert.ok(identityRequests().every((n) => n >= 2), `each party was asked by both others: ${identityRequests()}`);
    for (const round of [0, 1, 2]) {
      clearRequests();
      await allPairs(`warm-${round}`);
      assert.deepEqual(identityRequests(), [0, 0, 0], `computation ${round} after the first asked for identities`);
      assert.ok(net.parties.every((p) => p.requests.includes('/peer/messages')));
    }
  });

  test('a party that waits for a peer before sending it anything asks that peer alone, and gets its message', async () => {
    await allPairs('warm-up');
    clearRequests();
    const sessions = await within(5000, 'open', openAll(net, 'star'));
    try {
      // Parties 1 and 2 send to party 0, which sends nothing before it has both (a gather at a leader).
      const gathered = Promise.all([1, 2].map((from) => sessions[0]!.receive(from, 'share')));
      await within(10_000, 'to the leader', Promise.all([sessions[1]!.send(0, 'share', Buffer.from('one')), sessions[2]!.send(0, 'share', Buffer.from('two'))]));
      assert.deepEqual((await within(10_000, 'gather', gathered)).map((b) => Buffer.from(b).toString()), ['one', 'two']);
      // Only the leader had to ask (parties 1 and 2 each once); the senders learnt party 0's run from their receipts.
      assert.deepEqual(identityRequests(), [0, 1, 1]);
    } finally {
      sessions.forEach((s) => s.close());
    }
  });

  test('a party that waits only for everyone to have joined (before an abort) gets the peers it holds messages of confirmed', async () => {
    await allPairs('warm-up-join');
    const sessions = await within(5000, 'open', openAll(net, 'join'));
    try {
      await within(10_000, 'to party 0', Promise.all([sessions[1]!.send(0, 'share', Buffer.from('a')), sessions[2]!.send(0, 'share', Buffer.from('b'))]));
      // Party 0 receives nothing: without asking, it would wait the whole minute for its held peers.
      assert.equal(await within(10_000, 'joined', sessions[0]!.whenJoined(60_000)), true);
    } finally {
      sessions.forEach((s) => s.close());
    }
  });

  test('a peer that restarted between computations is still found out: its new run is learnt, the computation completes', async () => {
    await allPairs('before-restart');
    await net.parties[2]!.restart();
    clearRequests();
    await allPairs('after-restart');
    // Sealed to its old run, party 2 answered 401 and was asked afresh (by each of the two others).
    assert.ok(identityRequests()[2]! >= 1);
    clearRequests();
    await allPairs('after-restart-again');
    assert.deepEqual(identityRequests(), [0, 0, 0]);
  });

  test('a computation that fails after deriving a pair secret with a peer it never confirmed drops that key: its next computation asks every peer', async () => {
    // Party 1 derives a pair secret with party 2 and exchanges nothing with it, as one leaf of the
    // vector sum's star does with another: party 2's key stays unconfirmed in that computation.
    // Whether the computation failed decides whether that key is kept (node.ts sessionClosed).
    const context = Buffer.from('context');
    for (const fails of [false, true]) {
      await allPairs(`warm-up-pair-${fails}`);
      const sessions = await within(5000, 'open', openAll(net, `pair-${fails}`));
      sessions[1]!.pairSecret(2, context);
      if (fails) {
        // Party 0 gives up and tells the others; party 1 fails on that notice, sending party 2 nothing.
        await within(5000, 'abort', sessions[0]!.abort('gave up'));
        await within(5000, 'party 1 told', new Promise((resolve) => (sessions[1]!.signal.aborted ? resolve(undefined) : sessions[1]!.signal.addEventListener('abort', resolve))));
      }
      sessions.forEach((s) => s.close());
      clearRequests();
      await allPairs(`after-pair-${fails}`);
      // Party 1 opens anew, asking both peers their identity (each once); no one else asks anyone.
      assert.deepEqual(identityRequests(), fails ? [1, 0, 1] : [0, 0, 0], fails ? 'after a failure' : 'after a success');
    }
  });
});
