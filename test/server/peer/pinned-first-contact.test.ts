// First contact between pinned peers (docs/relay.md "First contact with pinned peers"): a party
// whose peers file pins every node opens a computation without asking anyone's identity, derives
// its pair secrets from the pinned keys, and asks a peer's run only when it exchanges a message
// with that peer. What the identity exchange guaranteed must still hold: a server at a pinned URL
// that does not hold the pinned key is refused, and a message of a sender's run that has since
// restarted is not taken into a computation opened after the restart (hardening finding 5).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { PeerError } from '../../../services/errors.js';
import { within } from '../../within.js';
import { identityOf, openAll, STAGES, startNetwork, termsFor, type Network, type Party } from './harness.js';

const identityRequests = (party: Party): number => party.requests.filter((path) => path === '/peer/identity').length;

describe('first contact between pinned peers', { timeout: 60_000 }, () => {
  let net: Network | undefined;
  let scratch: string | undefined;
  afterEach(async () => {
    await net?.close();
    net = undefined;
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    scratch = undefined;
  });

  test('opening asks nobody; only the parties that exchange a message learn each other\'s run; pair secrets come from the pins', async () => {
    net = await startNetwork(3, { mode: 'pinned' });
    const sessions = await openAll(net, 'pinned-first');
    // With no identity cached anywhere, the opens asked no identity (before: each party asked the other two).
    assert.deepEqual(net.parties.map(identityRequests), [0, 0, 0]);
    await sessions[0]!.send(1, 'share', Buffer.from('hello'));
    assert.equal(Buffer.from(await within(5000, 'share', sessions[1]!.receive(0, 'share'))).toString(), 'hello');
    // Parties 1 and 2 exchanged nothing, yet share a pair secret, derived from the pinned keys alone.
    const context = Buffer.from('mask');
    assert.deepEqual(Buffer.from(sessions[1]!.pairSecret(2, context)), Buffer.from(sessions[2]!.pairSecret(1, context)));
    assert.notDeepEqual(Buffer.from(sessions[1]!.pairSecret(2, context)), Buffer.from(sessions[1]!.pairSecret(0, context)));
    // Nobody talked to party 2, so nobody asked it; parties 0 and 1 asked each other.
    assert.equal(identityRequests(net.parties[2]!), 0);
    assert.ok(identityRequests(net.parties[0]!) >= 1 && identityRequests(net.parties[1]!) >= 1);
    sessions.forEach((s) => s.close());
  });

  test('a pinned URL whose server holds another key is refused, naming that party, when a message goes to or comes from it', async () => {
    net = await startNetwork(3, { mode: 'pinned' });
    scratch = await mkdtemp(join(tmpdir(), 'tessera-pinned-'));
    // Party 2 is set up anew: a new key at the URL the peers file pins to its old one.
    await net.parties[2]!.restart(join(scratch, 'party2-new'));
    const [s0, s1] = await Promise.all([0, 1].map((myself) => net!.parties[myself]!.node.open({ uuid: 'wrong-key', myself, terms: termsFor(net!.urls), stages: STAGES })));
    const party2 = `party 2 (${net.urls[2]})`;
    await assert.rejects(s0!.send(2, 'share', Buffer.from('for the pinned key')), (err: Error) => {
      assert.ok(err instanceof PeerError, String(err));
      assert.equal(err.where, party2);
      assert.match(err.message, /not the one pinned/);
      return true;
    });
    // Waiting for party 2 asks it, and fails the computation the same way, not at the stage timeout.
    await assert.rejects(within(5000, 'receive', s1!.receive(2, 'share')), (err: Error) => {
      assert.ok(err instanceof PeerError, String(err));
      assert.match(err.message, /not the one pinned/);
      return true;
    });
    // Party 2 itself cannot join: its own URL is pinned to a key it no longer holds.
    await assert.rejects(net.parties[2]!.node.open({ uuid: 'wrong-key', myself: 2, terms: termsFor(net.urls), stages: STAGES }), /not this server|not the one pinned/);
    s0!.close();
    s1!.close();
  });

  test('a message of a sender run that restarted since is not taken into a computation opened after the restart', async () => {
    net = await startNetwork(2, { mode: 'pinned' });
    const sender = net.parties[0]!;
    // The first attempt: only the sender's client called; its message waits at the receiver.
    const first = await sender.node.open({ uuid: 'retried', myself: 0, terms: termsFor(net.urls), stages: STAGES });
    const oldBoot = (await identityOf(sender.url)).bootId;
    await first.send(1, 'share', Buffer.from('from the run that restarted'));
    first.close();
    await sender.restart(); // the same key (pinned), a new run
    assert.notEqual((await identityOf(sender.url)).bootId, oldBoot);
    // The retry on the same uuid: both open; the receiver must take the new run's message only.
    const asked = identityRequests(sender);
    const [retry, taking] = await Promise.all([0, 1].map((myself) => net!.parties[myself]!.node.open({ uuid: 'retried', myself, terms: termsFor(net!.urls), stages: STAGES })));
    assert.equal(identityRequests(sender), asked, 'opening asked nobody');
    const received = taking!.receive(0, 'share');
    await retry!.send(1, 'share', Buffer.from('from the current run'));
    assert.equal(Buffer.from(await within(5000, 'share', received)).toString(), 'from the current run');
    retry!.close();
    taking!.close();
  });
});
