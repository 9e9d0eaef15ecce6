// The in-memory network's whenJoined follows the real session's rule (server/peer/session.ts):
// a party has joined once it has sent this computation a message, not once its session is open.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { BadInputError, PeerError } from '../../../services/errors.js';
import type { Session } from '../../../services/peer.js';
import { broadcast, defineStages, gather, runProtocol } from '../../../services/common/stages.js';
import { MemoryHub } from '../../support/network.js';

const NODES = ['http://127.0.0.1:55501', 'http://127.0.0.1:55502', 'http://127.0.0.1:55503'];
const UUID = 'joined-uuid';
const STAGES = defineStages(['hello'] as const);

const opened: Session[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

async function open(hub: MemoryHub, myself: number): Promise<Session> {
  const session = await hub.network(myself).open({ uuid: UUID, myself, terms: { microprotocol: 'test', nodes: NODES }, stages: STAGES.all });
  opened.push(session);
  return session;
}

test('an open session at every peer is not "joined": each must have sent this computation a message', async () => {
  const hub = new MemoryHub(NODES, 2_000);
  const [a, b, c] = [await open(hub, 0), await open(hub, 1), await open(hub, 2)];
  assert.equal(await a.whenJoined(50), false, 'nobody has sent anything yet');
  await b.send(0, STAGES.hello, Uint8Array.of(1));
  assert.equal(await a.whenJoined(50), false, 'party 2 has not sent anything yet');
  const waiting = a.whenJoined(2_000);
  await c.send(0, STAGES.hello, Uint8Array.of(2));
  assert.equal(await waiting, true, 'the last party\'s message wakes the wait');
  assert.equal(await a.whenJoined(0), true);
});

test('a message that arrived before the session opened counts, and a closing session ends the wait with false', async () => {
  const hub = new MemoryHub(NODES, 2_000);
  const [b, c] = [await open(hub, 1), await open(hub, 2)];
  await b.send(0, STAGES.hello, Uint8Array.of(1));
  await c.send(0, STAGES.hello, Uint8Array.of(2));
  const a = await open(hub, 0);
  assert.equal(await a.whenJoined(50), true, 'held (early) messages join their senders at open');
  const lonely = await open(new MemoryHub(NODES, 2_000), 0);
  const waiting = lonely.whenJoined(5_000);
  lonely.close();
  assert.equal(await waiting, false);
  assert.equal(await lonely.whenJoined(5_000), false, 'a closed session never joins');
});

test('a party whose own input is bad tells a peer only after it joined, so the peer fails naming it (502), as with real servers', async () => {
  const hub = new MemoryHub(NODES.slice(0, 2), 2_000);
  const nodes = NODES.slice(0, 2);
  const openTwo = async (myself: number) => {
    const s = await hub.network(myself).open({ uuid: UUID, myself, terms: { microprotocol: 'test', nodes }, stages: STAGES.all });
    opened.push(s);
    return s;
  };
  const [a, b] = [await openTwo(0), await openTwo(1)];
  // Party 0 fails on its own input before sending anything; party 1's client calls just after.
  const bad = new BadInputError('kwargs.data is not a number', { where: 'kwargs.data' });
  await assert.rejects(runProtocol(a, async () => { throw bad; }), (e: unknown) => e === bad);
  const err = await runProtocol(b, async () => {
    await broadcast(b, STAGES.hello, Uint8Array.of(1));
    return gather(b, STAGES.hello, [0], (p) => p[0]);
  }).then(
    () => assert.fail('party 1 must fail: party 0 gave up'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PeerError, `a PeerError (502), not ${String(err)}`);
  assert.equal(err.status, 502);
  assert.match(err.message, /party 0 \(http:\/\/127\.0\.0\.1:55501\) aborted/);
});
