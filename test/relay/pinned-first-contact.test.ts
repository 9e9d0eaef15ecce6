// First contact through the relay between parties pinned in a peers file (with the network secret
// too): the first SecureSum asks only the identities of the peers each party exchanges messages
// with (docs/relay.md "First contact with pinned peers"), counted at the nats-server, and its
// result is right, as is the next one's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startNats, type Nats } from './nats.js';
import { computeOnBus, startRelayCluster } from './harness.js';
import { within } from '../within.js';

const N = 6; // the secure sum's star (services/common/vectorsum.ts) from 4 parties

describe('a pinned relay federation: the first SecureSum', { timeout: 120_000 }, () => {
  let nats: Nats;
  let cluster: Awaited<ReturnType<typeof startRelayCluster>>;
  before(async () => {
    nats = await startNats({ monitor: true });
    cluster = await startRelayCluster(nats.url, { parties: N, pinned: true });
  });
  after(async () => {
    await cluster?.close();
    await nats?.stop();
  });

  const sum = async (): Promise<number> => {
    const before = (await nats.varz()).in_msgs!;
    const uuid = randomUUID();
    const results = await within(60_000, 'SecureSum', Promise.all(cluster.servers.map((s, myself) => computeOnBus(s, 'SecureSum', myself + 1, { nodes: cluster.nodes, uuid, myself }))));
    for (const r of results) assert.deepEqual((r as { result: unknown }).result, { samples: N, sum: (N * (N + 1)) / 2 });
    return (await nats.varz()).in_msgs! - before;
  };

  test('moves fewer NATS messages than asking every party\'s identity alone would, and the warm one works', async () => {
    const first = await sum();
    // Every party asking every other (the first contact without pins) is n(n − 1) requests and as
    // many answers, before a single envelope; the star's envelopes are 3(n − 1), each answered.
    assert.ok(first < 2 * N * (N - 1), `the first sum moved ${first} NATS messages`);
    assert.ok(first >= 6 * (N - 1), `the first sum moved ${first} NATS messages, fewer than its envelopes`);
    const warm = await sum();
    assert.ok(warm <= first, `the warm sum moved ${warm} NATS messages, the first ${first}`);
  });
});
