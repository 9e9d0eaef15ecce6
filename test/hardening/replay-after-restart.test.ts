// Finding 5 of the hardening issue: an envelope recorded before its SENDER restarted, which the
// receiver never consumed, was accepted afterwards (204) and made the next honest sum fail at
// every party; SECURITY.md said an envelope recorded before either side restarted never opens
// again. The receiver now refuses an envelope whose sender boot is not the run of the sender
// that is running now, as the sender's URL proves with a fresh challenge (server/peer/directory.ts
// isCurrentBoot). The recorded envelope is made here with the sender's own key and boot, exactly
// the bytes a network attacker would have captured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RunningServer } from '../../server/main.js';
import { ChannelKeys, type EnvelopeHeader } from '../../server/peer/envelope.js';
import { loadOrCreateIdentity } from '../../server/peer/identity.js';
import { Trust } from '../../server/peer/trust.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { RawClient, rawRequest } from '../support/http.js';
import { within } from '../within.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('finding 5: a replay across the sender\'s restart', { timeout: 60_000 }, () => {
  let cluster: Cluster;
  let receiver: RunningServer;
  let sender: RunningServer;

  before(async () => {
    // Party 0 receives, party 1 sends (and restarts).
    cluster = await startCluster(2, { stageTimeoutMs: 5000, config: { validateResponses: false } });
    [receiver, sender] = cluster.servers as [RunningServer, RunningServer];
  });
  after(async () => {
    await cluster.close();
  });

  const identityOf = async (url: string) => (await rawRequest(url, '/peer/identity')).json as { publicKey: string; bootId: string };

  /** An envelope of party 1 (the sender, in its current run) for party 0, as it would send one. */
  async function recordedEnvelope(uuid: string): Promise<Buffer> {
    const base = await loadOrCreateIdentity(join(cluster.root, 'p1'), silent);
    const boot = (await identityOf(sender.url)).bootId;
    const keys = new ChannelKeys({ ...base, bootId: boot, bootIdBytes: Buffer.from(boot, 'base64url') }, new Trust({ secret: cluster.networkSecret }));
    const target = await identityOf(receiver.url);
    const header: EnvelopeHeader = {
      v: 1, uuid, instance: randomBytes(16).toString('base64url'), stage: 'shares', seq: 0, from: 1, to: 0, ts: Date.now(),
      senderKey: base.publicKey, senderBoot: boot, receiverKey: target.publicKey, receiverBoot: target.bootId,
      terms: { microprotocol: 'SecureSum', nodes: [receiver.url, sender.url] },
    };
    return keys.seal(header, randomBytes(300));
  }
  const post = (body: Buffer) => rawRequest(receiver.url, '/peer/messages', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });

  test('recorded before the sender restarted: refused after the restart (401), and the next honest sum succeeds', async () => {
    // Such an envelope is accepted (held for its computation) while its sender's run is current…
    const control = await post(await recordedEnvelope(randomUUID()));
    assert.equal(control.status, 204, control.text);

    const uuid = randomUUID();
    const recorded = await recordedEnvelope(uuid);
    sender = await cluster.restart(1, { samePort: true }); // the same party, a new run, at the same URL

    // Replayed before the receiver has heard of the new run, it can only be held (the receiver
    // cannot tell without asking); it is never taken for the next computation, which asks every
    // peer's current run first: the next honest sum on that uuid succeeds.
    const early = await post(recorded);
    assert.ok(early.status === 204 || early.status === 401, early.text);
    const results = await within(20_000, 'the next honest sum', Promise.all([receiver.url, sender.url].map((url, myself) =>
      new RawClient(url).secureSum(myself + 20, { nodes: [receiver.url, sender.url], uuid, myself }))));
    for (const r of results) assert.equal(r.result.sum, 41);

    // Once the receiver knows the sender's current run, the recording is refused outright.
    for (let i = 0; i < 2; i++) {
      const replay = await post(recorded);
      assert.equal(replay.status, 401, replay.text);
      assert.equal((replay.json as { where?: string }).where, 'envelope.header.senderBoot');
    }
  });

  // The same attack on a receiver that asks no identity when a computation opens: it has met the
  // sender before, so it starts the next computation with the sender's cached (now stale) run and
  // waits for a proof of the sender's current run drawn after the open (server/peer/node.ts open).
  test('with the sender\'s identity cached at the receiver: the recording is still never taken', async () => {
    const sum = (uuid: string) => within(20_000, 'an honest sum', Promise.all([receiver.url, sender.url].map((url, myself) =>
      new RawClient(url).secureSum(myself + 20, { nodes: [receiver.url, sender.url], uuid, myself }))));
    for (const r of await sum(randomUUID())) assert.equal(r.result.sum, 41);
    const uuid = randomUUID();
    const recorded = await recordedEnvelope(uuid);
    sender = await cluster.restart(1, { samePort: true }); // a new run at the same URL
    // The receiver still holds the old run as current: the recording is held for its computation…
    const early = await post(recorded);
    assert.equal(early.status, 204, early.text);
    // …which never takes it: the sum on that uuid has the new run's input.
    for (const r of await sum(uuid)) assert.equal(r.result.sum, 41);
    const replay = await post(recorded);
    assert.equal(replay.status, 401, replay.text);
    assert.equal((replay.json as { where?: string }).where, 'envelope.header.senderBoot');
  });
});
