// Faults of the relay carrier, against a real nats-server: the relay down at start, wrong
// credentials, a peer on neither transport, forged and replayed envelopes injected on the relay's
// subjects, and the relay restarted during a computation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { startServer } from '../../server/main.js';
import { PeerError, UnauthenticatedError } from '../../services/errors.js';
import { freePort, startNats, type Nats } from './nats.js';
import { computeAll, fedAvgAll, randomUUID, smallModel, startRelayCluster } from './harness.js';
import { within } from '../within.js';

async function withDataDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-relay-fault-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('starting against a relay that is down or refuses us', { timeout: 60_000 }, () => {
  test('relay down at start: retries with backoff, then a clear error naming the relay', async () => {
    const port = await freePort();
    const warnings: string[] = [];
    const log = { debug: () => {}, info: () => {}, error: () => {}, warn: (_: object, msg?: string) => warnings.push(msg ?? '') };
    await withDataDir(async (dataDir) => {
      await assert.rejects(
        within(20_000, 'start', startServer({ dataDir, port: 0, log, peer: { relay: { servers: [`nats://127.0.0.1:${port}`], name: 'alone', connectTimeoutMs: 1500 } } })),
        (err: Error) => err instanceof PeerError && err.where === 'relay' &&
          new RegExp(`cannot reach the relay nats://127\\.0\\.0\\.1:${port} after [2-9]\\d* attempts`).test(err.message),
      );
    });
    assert.ok(warnings.filter((w) => /unreachable; retrying/.test(w)).length >= 2, `retries logged: ${warnings.join(' | ')}`);
  });

  test('the relay comes up while the server retries: it starts', async () => {
    const port = await freePort();
    await withDataDir(async (dataDir) => {
      const starting = startServer({ dataDir, port: 0, logLevel: 'silent', peer: { relay: { servers: [`nats://127.0.0.1:${port}`], name: 'late', connectTimeoutMs: 20_000 } } });
      await new Promise((resolve) => setTimeout(resolve, 700));
      const nats = await startNats({ port });
      try {
        const server = await within(20_000, 'start', starting);
        assert.equal(server.relayUrl, 'relay://late');
        await server.close();
      } finally {
        await nats.stop();
      }
    });
  });

  test('wrong credentials: a clear error, no endless retries', async () => {
    const nats = await startNats({ user: 'hospital', password: 'right-password' });
    try {
      await withDataDir(async (dataDir) => {
        await assert.rejects(
          within(20_000, 'start', startServer({ dataDir, port: 0, logLevel: 'silent', peer: { relay: { servers: [nats.url], name: 'wrong', user: 'hospital', password: 'wrong-password' } } })),
          (err: Error) => err instanceof UnauthenticatedError && err.where === 'relay' && err.message.includes(`the relay ${nats.url} refused this server's credentials`) &&
            !err.message.includes('wrong-password'),
        );
      });
      // The right ones work: a SecureSum through the authenticated relay.
      const cluster = await startRelayCluster(nats.url, { parties: 2, relay: { user: 'hospital', password: 'right-password' } });
      try {
        const results = await within(60_000, 'SecureSum', computeAll(cluster, 'SecureSum', [2, 3]));
        for (const r of results) assert.deepEqual(r, { inputs: 2, result: { samples: 2, sum: 5 } });
      } finally {
        await cluster.close();
      }
    } finally {
      await nats.stop();
    }
  });

  test('two servers cannot take the same relay name', async () => {
    const nats = await startNats();
    try {
      await withDataDir(async (a) => withDataDir(async (b) => {
        const first = await startServer({ dataDir: a, port: 0, logLevel: 'silent', peer: { relay: { servers: [nats.url], name: 'twin' } } });
        try {
          await assert.rejects(startServer({ dataDir: b, port: 0, logLevel: 'silent', peer: { relay: { servers: [nats.url], name: 'twin' } } }), /already listens on the relay .* as relay:\/\/twin/);
        } finally {
          await first.close();
        }
      }));
    } finally {
      await nats.stop();
    }
  });
});

describe('peers the relay cannot reach, and what an attacker on the relay can inject', { timeout: 120_000 }, () => {
  let nats: Nats;
  let cluster: Awaited<ReturnType<typeof startRelayCluster>>;
  let spy: NatsConnection;
  const seen: Msg[] = [];
  before(async () => {
    nats = await startNats();
    cluster = await startRelayCluster(nats.url, { parties: 3, reach: ['relay', 'relay', 'direct-no-relay'], stageTimeoutMs: 5000 });
  });
  after(async () => {
    await spy?.close();
    await cluster?.close();
    await nats?.stop();
  });

  test('a relay name nobody listens on: an error naming that party and the relay', async () => {
    const nodes = [cluster.nodes[0]!, cluster.nodes[1]!, 'relay://ghost'];
    const uuid = randomUUID();
    const outcome = await within(30_000, 'compute', Promise.allSettled([0, 1].map((myself) => cluster.apis[myself]!.compute('SecureSum', 1, { nodes, uuid, myself }))));
    for (const o of outcome) {
      assert.equal(o.status, 'rejected');
      const message = (o.reason as Error).message;
      assert.match(message, /party 2 \(relay:\/\/ghost\)/);
      assert.match(message, new RegExp(`no server named "ghost" is connected to the relay ${nats.url.replace(/\./g, '\\.')}`));
    }
  });

  test('a relay peer asked of a server without a relay: an error naming that party', async () => {
    const nodes = [cluster.nodes[0]!, cluster.servers[2]!.url];
    await assert.rejects(
      within(30_000, 'compute', cluster.apis[2]!.compute('SecureSum', 1, { nodes, uuid: randomUUID(), myself: 1 })),
      (err: Error) => /party 0 \(relay:\/\/p0-[0-9a-f]+\)/.test(err.message) && /reached through a NATS relay and this server has none/.test(err.message),
    );
  });

  test('the relay sees sealed envelopes only; replayed and forged ones are refused as over HTTP', async () => {
    // Anyone with access to the relay's subjects: it receives a copy of every request. (Started
    // here: a subscriber that never answers also hides "no server named" from the test above.)
    spy = await connect({ servers: nats.url });
    spy.subscribe('tessera.peer.>', {
      callback: (err, msg) => {
        if (!err) seen.push(msg);
      },
    });
    await spy.flush();
    const inputs = [123456789, 987654321];
    const pair = { ...cluster, nodes: cluster.nodes.slice(0, 2), apis: cluster.apis.slice(0, 2) };
    const results = await within(60_000, 'SecureSum', computeAll(pair, 'SecureSum', inputs));
    for (const r of results) assert.deepEqual(r, { inputs: 2, result: { samples: 2, sum: 1111111110 } });
    const posts = seen.filter((m) => m.headers?.get('Tessera-Path') === '/peer/messages');
    assert.ok(posts.length >= 2, `captured ${posts.length} envelopes`);
    // What the relay carried holds neither input (in any spelling a party's encoder would use).
    for (const m of seen) {
      const text = Buffer.from(m.data).toString('latin1');
      for (const x of inputs) assert.ok(!text.includes(String(x)), 'an input crossed the relay in the clear');
    }
    const inject = async (m: Msg, data: Uint8Array): Promise<number> => {
      const h = natsHeaders();
      for (const key of m.headers!.keys()) h.set(key, m.headers!.get(key));
      const answer = await spy.request(m.subject, data, { timeout: 5000, headers: h });
      return Number(answer.headers?.get('Tessera-Status'));
    };
    // Replayed after the computation ended: 409 (finished here) or 401 (refused as a replay).
    const replayed = await inject(posts[0]!, posts[0]!.data);
    assert.ok(replayed === 409 || replayed === 401, `replay answered ${replayed}`);
    // Forged: one bit of the ciphertext flipped; AES-GCM refuses it.
    const forged = Buffer.from(posts[1]!.data);
    forged[forged.length - 20]! ^= 1;
    assert.equal(await inject(posts[1]!, forged), 401);
    // Both parties still compute.
    const again = await within(60_000, 'SecureSum again', computeAll(pair, 'SecureSum', [1, 2]));
    for (const r of again) assert.deepEqual(r, { inputs: 2, result: { samples: 2, sum: 3 } });
  });
});

describe('the relay restarted during a computation', { timeout: 180_000 }, () => {
  test('the computation fails in time naming the relay (or completes); the next one works', async (t) => {
    const nats = await startNats();
    let restarted: Nats | undefined;
    const stageTimeoutMs = 5000;
    const cluster = await startRelayCluster(nats.url, { parties: 3, stageTimeoutMs });
    try {
      const models = [1, 2, 3].map((seed) => smallModel(1_000_000, seed));
      const started = Date.now();
      const running = Promise.allSettled([fedAvgAll(cluster, models)]);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await nats.stop();
      restarted = await startNats({ port: nats.port });
      const [outcome] = await within(6 * stageTimeoutMs + 60_000, 'the interrupted computation', running);
      const elapsed = Date.now() - started;
      t.diagnostic(`${outcome!.status} after ${elapsed} ms${outcome!.status === 'rejected' ? `: ${(outcome!.reason as Error).message}` : ''}`);
      if (outcome!.status === 'rejected') {
        const message = (outcome!.reason as Error).message;
        assert.match(message, new RegExp(`the relay ${nats.url.replace(/\./g, '\\.')}|did not`), message);
      }
      assert.ok(elapsed < 6 * stageTimeoutMs + 60_000);
      // Every server reconnects on its own (/health turns ready again), then computes.
      await within(30_000, 'reconnect', (async () => {
        for (;;) {
          const ready = await Promise.all(cluster.servers.map((s) => fetch(`${s.url}/health`).then((r) => r.status === 200, () => false)));
          if (ready.every(Boolean)) return;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })());
      const results = await within(60_000, 'the next SecureSum', computeAll(cluster, 'SecureSum', [19, 5, 61]));
      for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 85 } });
    } finally {
      await cluster.close();
      await restarted?.stop();
      await nats.stop();
    }
  });
});
