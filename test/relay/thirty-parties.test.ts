// 30 parties through one relay (slow: its own file): 30 servers in this process, each connected
// outbound to one nats-server, none named by an HTTP URL; each party's client calls its own server
// through the server's bus (harness.ts computeOnBus). SecureFedAvg with the full mesh and with the
// sparse mask graph (mask_graph "sparse": k = 12 of 29, docs/sparse-masks.md), and SecureSum.
// 100 parties: hundred-parties.test.ts (SecureSum and the default, sparse, SecureFedAvg).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { neighbourCount } from '../../services/fedavg/graph.js';
import { startNats, type Nats } from './nats.js';
import { computeOnBus, fedAvgOnBus, maxDifference, plainAverage, smallModel, startRelayCluster } from './harness.js';
import { within } from '../within.js';

const N = 30;

describe(`${N} parties through one relay`, { timeout: 290_000 }, () => {
  let nats: Nats;
  let cluster: Awaited<ReturnType<typeof startRelayCluster>>;
  before(async () => {
    nats = await startNats();
    cluster = await startRelayCluster(nats.url, { parties: N, stageTimeoutMs: 240_000, config: { peer: { limits: { maxParties: N } } } });
  });
  after(async () => {
    await cluster?.close();
    await nats?.stop();
  });

  test('SecureFedAvg of a 1000-parameter model: the plain average at every party', async () => {
    const models = Array.from({ length: N }, (_, i) => smallModel(1000, i + 1));
    const got = await fedAvgOnBus(cluster, models);
    const want = plainAverage(models);
    for (const tensors of got) assert.ok(maxDifference(tensors, want) < 1e-3, `max error ${maxDifference(tensors, want)}`);
  });

  test('SecureFedAvg with the sparse mask graph: the plain average at every party, each masked with k neighbours', async () => {
    const models = Array.from({ length: N }, (_, i) => smallModel(1000, i + 101));
    const got = await fedAvgOnBus(cluster, models, { mask_graph: 'sparse' });
    const want = plainAverage(models);
    for (const tensors of got) {
      assert.ok(maxDifference(tensors, want) < 1e-3, `max error ${maxDifference(tensors, want)}`);
      assert.equal(tensors.metadata?.['tessera.mask_neighbours'], String(neighbourCount(N)));
    }
  });

  test('SecureSum of one number per party: 1 + 2 + … + 30 = 465 at every party', async () => {
    const uuid = randomUUID();
    const got = await within(240_000, 'SecureSum', Promise.all(cluster.servers.map((s, myself) =>
      computeOnBus(s, 'SecureSum', myself + 1, { nodes: cluster.nodes, uuid, myself }))));
    for (const r of got) assert.deepEqual((r as { result: unknown }).result, { samples: N, sum: (N * (N + 1)) / 2 });
  });
});
