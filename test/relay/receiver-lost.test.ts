// A party that waits for a message when the relay goes away fails at once, naming the relay — not
// after its stage timeout, naming the peer whose message the relay could no longer carry. Against
// a real nats-server, stopped in the middle of a round in which two parties wait for a third.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerError } from '../../services/errors.js';
import { startNats } from './nats.js';
import { computeOnBus, randomUUID, startRelayCluster } from './harness.js';
import { within } from '../within.js';

describe('the relay stopped while parties wait for a message', { timeout: 120_000 }, () => {
  test('the waiting parties fail naming the relay, well before their stage timeout; the server stays up', async () => {
    const nats = await startNats();
    // A stage timeout far longer than the test waits: a failure at the timeout would say "did not
    // arrive" and name party 2; the relay's loss must end the waits instead.
    const stageTimeoutMs = 90_000;
    const cluster = await startRelayCluster(nats.url, { parties: 3, stageTimeoutMs });
    try {
      const uuid = randomUUID();
      const network = (myself: number) => ({ nodes: cluster.nodes, uuid, myself });
      // Parties 0 and 1 start; party 2's server is up (its messages are buffered there) but its
      // client never calls, so 0 and 1 wait for party 2's first message.
      const waiting = [0, 1].map((i) => computeOnBus(cluster.servers[i]!, 'SecureSum', 10 + i, network(i)).then(
        () => assert.fail('the computation cannot complete without party 2'),
        (err: unknown) => err,
      ));
      // Until both are waiting: each has sent its first messages through the relay to party 2.
      await within(30_000, 'both parties waiting', (async () => {
        for (;;) {
          const open = cluster.servers.slice(0, 2).map((s) => s.peerStats().sessions);
          if (open.every((n) => n === 1)) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })());
      await new Promise((resolve) => setTimeout(resolve, 500));
      await nats.stop();
      const errors = await within(stageTimeoutMs / 3, 'the waiting parties fail', Promise.all(waiting));
      for (const err of errors) {
        assert.ok(err instanceof PeerError, String(err));
        assert.equal(err.where, 'relay', err.message);
        assert.ok(err.message.includes(`the relay ${nats.url}`), err.message);
        assert.doesNotMatch(err.message, /party 2|did not arrive/);
      }
      // The servers answer their clients meanwhile: /health names the relay check as failing.
      const health = await fetch(`${cluster.servers[0]!.url}/health`);
      assert.equal(health.status, 503);
    } finally {
      await cluster.close();
      await nats.stop();
    }
  });
});
