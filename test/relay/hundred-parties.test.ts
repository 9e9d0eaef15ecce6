// 100 parties through one relay (issue 10's scale requirement; slow: its own file): 100 servers in
// this process, each with its own outbound NATS connection to one real nats-server, none named by
// an HTTP URL; each party's client calls its own server through the server's bus (harness.ts
// computeOnBus). SecureSum of one number per party, then SecureFedAvg of a 1000-parameter model
// with the default mask graph, which from 64 parties on is the SecAgg+ sparse graph
// (docs/sparse-masks.md: k = 26 of 99 at 100 parties). Every party's result is checked against the
// plain computation. What made this fit the runner's per-file limit: docs/relay.md "Limits and
// what was measured".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { neighbourCount } from '../../services/fedavg/graph.js';
import { startNats, type Nats } from './nats.js';
import { computeOnBus, fedAvgOnBus, maxDifference, plainAverage, smallModel, startRelayCluster } from './harness.js';
import { within } from '../within.js';

const N = 100;

describe(`${N} parties through one relay`, { timeout: 295_000 }, () => {
  let nats: Nats;
  let cluster: Awaited<ReturnType<typeof startRelayCluster>>;
  before(async () => {
    nats = await startNats();
    // A generous connect timeout: 100 servers connecting at once on a loaded 2-core machine.
    cluster = await startRelayCluster(nats.url, { parties: N, stageTimeoutMs: 240_000, relay: { connectTimeoutMs: 120_000 }, config: { peer: { limits: { maxParties: N } } } });
  });
  after(async () => {
    await cluster?.close();
    await nats?.stop();
  });

  test('SecureSum of one number per party: 1 + 2 + … + 100 = 5050 at every party', async () => {
    const uuid = randomUUID();
    const got = await within(240_000, 'SecureSum', Promise.all(cluster.servers.map((s, myself) =>
      computeOnBus(s, 'SecureSum', myself + 1, { nodes: cluster.nodes, uuid, myself }))));
    assert.equal(got.length, N);
    for (const r of got) assert.deepEqual((r as { result: unknown }).result, { samples: N, sum: (N * (N + 1)) / 2 });
  });

  test('SecureFedAvg of a 1000-parameter model (default graph: sparse at 100): the plain average at every party', async () => {
    const models = Array.from({ length: N }, (_, i) => smallModel(1000, i + 1));
    const got = await fedAvgOnBus(cluster, models);
    const want = plainAverage(models);
    assert.equal(got.length, N);
    for (const tensors of got) {
      assert.ok(maxDifference(tensors, want) < 1e-3, `max error ${maxDifference(tensors, want)}`);
      // The default round at 100 parties masks with k neighbours, not 99: the sparse graph ran.
      assert.equal(tensors.metadata?.['tessera.mask_neighbours'], String(neighbourCount(N)));
    }
  });
});
