// SecureFedAvg among 30 parties through one relay (slow: its own file): 30 servers in this process,
// each connected outbound to one nats-server, none named by an HTTP URL; each party's client calls
// its own server through the server's bus (harness.ts computeOnBus). 100 parties: SecureSum in
// hundred-parties-sum.test.ts; SecureFedAvg in the last table of bench/relay.ts (on a 2-core machine
// shared with other work, 100 parties' SecureFedAvg in one process did not fit the runner's 300 s).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TensorSet } from '../../services/common/tensors.js';
import { startNats, type Nats } from './nats.js';
import { computeOnBus, maxDifference, plainAverage, smallModel, startRelayCluster } from './harness.js';
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
    const uuid = randomUUID();
    const got = await within(240_000, 'SecureFedAvg', Promise.all(cluster.servers.map((s, myself) => {
      const tensors = { representation_uuid: s.bus.upload(models[myself]) };
      return computeOnBus(s, 'SecureFedAvg', { tensors, weight: 1 }, { nodes: cluster.nodes, uuid, myself }) as Promise<TensorSet>;
    })));
    const want = plainAverage(models);
    for (const tensors of got) assert.ok(maxDifference(tensors, want) < 1e-3, `max error ${maxDifference(tensors, want)}`);
  });
});
