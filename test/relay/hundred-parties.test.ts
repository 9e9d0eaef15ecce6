// A federation of 100 parties through one relay (slow: its own file): 100 servers in this
// process, each connected outbound to one nats-server, none named by an HTTP URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNats, type Nats } from './nats.js';
import { computeAll, fedAvgAll, maxDifference, plainAverage, smallModel, startRelayCluster } from './harness.js';
import { within } from '../within.js';

const N = 100;

describe(`${N} parties through one relay`, { timeout: 600_000 }, () => {
  let nats: Nats;
  let cluster: Awaited<ReturnType<typeof startRelayCluster>>;
  before(async () => {
    nats = await startNats();
    cluster = await startRelayCluster(nats.url, { parties: N, stageTimeoutMs: 120_000, config: { peer: { limits: { maxParties: N } } } });
  });
  after(async () => {
    await cluster?.close();
    await nats?.stop();
  });

  test('SecureSum: every party gets the sum of 1..100', async () => {
    const inputs = Array.from({ length: N }, (_, i) => i + 1);
    const results = await within(300_000, 'SecureSum', computeAll(cluster, 'SecureSum', inputs));
    for (const r of results) assert.deepEqual(r, { inputs: N, result: { samples: N, sum: (N * (N + 1)) / 2 } });
  });

  test('SecureFedAvg of a 100-parameter model: the plain average at every party', async () => {
    const models = Array.from({ length: N }, (_, i) => smallModel(100, i + 1));
    const got = await within(300_000, 'SecureFedAvg', fedAvgAll(cluster, models));
    const want = plainAverage(models);
    for (const tensors of got) assert.ok(maxDifference(tensors, want) < 1e-3, `max error ${maxDifference(tensors, want)}`);
  });
});
