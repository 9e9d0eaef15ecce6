// A restarted server never reuses randomness (docs/architecture.md §4 "Randomness"): the same party, with the same
// identity key, the same input and the same network uuid, sends a differently masked vector after
// a restart (and in every computation), under a new boot id and a new computation instance. Its
// pair keys come from the same long-term key agreement every time, so only the aggregator's fresh
// nonce (services/common/vectorsum.ts) tells the runs apart: this checks that it does. The test
// opens the envelopes party 0 (the aggregator) received with party 0's own key, so it sees the
// masked vectors themselves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ChannelKeys, parseEnvelope } from '../../server/peer/envelope.js';
import { loadOrCreateIdentity } from '../../server/peer/identity.js';
import { Trust } from '../../server/peer/trust.js';
import { within } from '../within.js';
import { SECURE_SUM_STAGES } from '../../services/simon/linear/securesum.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { RawClient } from '../support/http.js';
import type { Proxy } from '../support/proxy.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('randomness after a restart', { timeout: 60_000 }, () => {
  let cluster: Cluster;
  let proxy: Proxy;

  before(async () => {
    // Party 0 (the aggregator) is reached through a recording proxy: its node URL is the proxy's.
    cluster = await startCluster(4, { stageTimeoutMs: 5000, config: { validateResponses: false }, proxied: [0] });
    proxy = cluster.proxy(0);
  });
  after(async () => {
    await cluster.close();
  });

  test('the same party, input and uuid: a fresh masked vector, instance and boot after a restart and in every run', async () => {
    const nodes = cluster.nodes; // four parties: the masked sum (vectorsum.ts MASKED_FROM)
    const uuid = 'a7f4fea2-b5f4-4d64-9705-45b3629a8145';
    // Party 0's key opens what party 1 sealed for it.
    const keys = new ChannelKeys(await loadOrCreateIdentity(join(cluster.root, 'p0'), silent), new Trust({ secret: cluster.networkSecret }));
    const runs: { masked: Buffer; instance: string; boot: string; senderKey: string }[] = [];
    const run = async (): Promise<void> => {
      const before = proxy.envelopes.length;
      const results = await within(20_000, 'sum', Promise.all([7, 11, 13, 17].map((v, i) => new RawClient(cluster.servers[i]!.url).secureSum(v, { nodes, uuid, myself: i }))));
      for (const r of results) assert.equal(r.result.sum, 48);
      const sent = proxy.envelopes.slice(before).map(parseEnvelope).filter((e) => e.header.stage === SECURE_SUM_STAGES.masked && e.header.from === 1);
      assert.equal(sent.length, 1);
      const envelope = sent[0]!;
      runs.push({ masked: keys.open(envelope), instance: envelope.header.instance, boot: envelope.header.senderBoot, senderKey: envelope.header.senderKey });
    };
    await run();
    await run();
    await cluster.restart(1, { samePort: true }); // same URL, same data dir: the same party, a new process
    await run();
    await run();

    assert.equal(new Set(runs.map((r) => r.senderKey)).size, 1, 'the identity key survives the restart');
    assert.equal(new Set(runs.map((r) => r.boot)).size, 2, 'a new boot id after the restart');
    assert.equal(new Set(runs.map((r) => r.instance)).size, runs.length, 'a new instance per computation');
    assert.equal(new Set(runs.map((r) => r.masked.toString('hex'))).size, runs.length, 'no masked vector repeats');
    // Masked vectors are uniform ring elements: no two runs agree even on a long prefix.
    for (let i = 0; i < runs.length; i++) {
      for (let j = i + 1; j < runs.length; j++) {
        assert.notDeepEqual(runs[i]!.masked.subarray(0, 16), runs[j]!.masked.subarray(0, 16));
      }
    }
  });
});
