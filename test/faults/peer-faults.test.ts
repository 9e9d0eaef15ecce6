// Faults of a peer during a computation (SECURITY.md "Availability"): a peer killed mid-computation,
// restarted mid-computation, slow, silent, answering garbage, or sending authenticated garbage.
// Every other party's call fails within its stage timeout with a problem naming that peer; no
// session, buffered message or representation is left behind; the next computation works.
// Party 2 sits behind a proxy (its node URL) so the test can break it; killed means SIGKILL of a
// child process: no shutdown, no abort message.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RunningServer } from '../../server/main.js';
import { within } from '../within.js';
import { SECURE_SUM_STAGES } from '../../services/simon/linear/securesum.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { ProblemError, RawClient } from '../support/http.js';
import { startPeerNodeServer } from '../support/peer-server.js';
import { spawnParty, type ChildParty } from '../support/process.js';
import type { Proxy } from '../support/proxy.js';

const STAGE_TIMEOUT_MS = 2000;
/** A failing party must answer within its stage timeout, plus the time to send its aborts and slack. */
const FAIL_WITHIN_MS = 2 * STAGE_TIMEOUT_MS + 3000;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('a peer that fails mid-computation', { timeout: 180_000 }, () => {
  let cluster: Cluster;
  let s0: RunningServer;
  let s1: RunningServer;
  let proxy: Proxy;
  let child: ChildParty | undefined;
  let nodes: string[];
  /** Party 2's server now (restarts replace it). */
  const party2 = (): RunningServer => cluster.servers[2]!;

  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: STAGE_TIMEOUT_MS, proxied: [2] });
    [s0, s1] = cluster.servers as [RunningServer, RunningServer];
    proxy = cluster.proxy(2);
    nodes = cluster.nodes;
  });
  afterEach(async () => {
    proxy.reset();
  });
  after(async () => {
    await child?.kill();
    await cluster.close();
  });

  /** Party 2 as a fresh in-process server on its data dir, behind the same URL. */
  async function restartParty2(): Promise<void> {
    await cluster.restart(2);
  }

  function client(myself: number, direct?: string): RawClient {
    return new RawClient(myself === 2 ? (direct ?? party2().url) : nodes[myself]!);
  }

  /** Waits until a server holds no session, early message or representation (bounded). */
  async function assertNothingLeft(server: RunningServer, name: string): Promise<void> {
    const deadline = Date.now() + 3 * STAGE_TIMEOUT_MS + 2000;
    for (;;) {
      const stats = server.peerStats();
      const clean = stats.sessions === 0 && stats.active === 0 && stats.bufferedMessages === 0 && stats.bufferedBytes === 0 && server.bus.size === 0;
      if (clean) return;
      if (Date.now() > deadline) assert.fail(`${name} still holds ${JSON.stringify({ ...stats, representations: server.bus.size })}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Parties 0 and 1 failed in time with a problem that names party 2 (its node URL). */
  function assertBlamesParty2(outcomes: PromiseSettledResult<unknown>[], started: number): void {
    for (const myself of [0, 1]) {
      const outcome = outcomes[myself]!;
      assert.equal(outcome.status, 'rejected', `party ${myself} must fail`);
      const err = (outcome as PromiseRejectedResult).reason as ProblemError;
      assert.ok(err instanceof ProblemError, `party ${myself}: ${String(err)}`);
      assert.ok([502, 504].includes(err.status), `party ${myself}: ${err.status} ${err.message}`);
      assert.ok(
        String(err.problem.where).includes(`party 2 (${proxy.url})`) || String(err.problem.detail).includes(`party 2 (${proxy.url})`),
        `party ${myself} names party 2: ${JSON.stringify(err.problem)}`,
      );
      assert.ok(!/\n\s+at /.test(JSON.stringify(err.problem)), 'no stack trace');
    }
    assert.ok(Date.now() - started < FAIL_WITHIN_MS, `failed after ${Date.now() - started} ms`);
  }

  async function nextComputationWorks(): Promise<void> {
    const uuid = randomUUID();
    const results = await within(20_000, 'next computation', Promise.all([3, 4, 5].map((v, i) => client(i).secureSum(v, { nodes, uuid, myself: i }))));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 12 } });
  }

  test('baseline: the three parties compute through the proxy', async () => {
    await nextComputationWorks();
  });

  test('killed (SIGKILL) mid-computation: the others fail in time naming it; nothing left behind; after a restart the next computation works', async () => {
    await party2().close();
    child = await spawnParty(join(cluster.root, 'p2'), cluster.networkSecret, STAGE_TIMEOUT_MS);
    proxy.target = child.url;
    let killed = false;
    proxy.onRequest = async (method, path) => {
      if (!killed && path.startsWith('/peer/messages')) {
        killed = true;
        await child!.kill();
        proxy.mode = { kind: 'down' };
      }
    };
    const uuid = randomUUID();
    const started = Date.now();
    // Party 2 starts first; once it has asked for its own identity (it is inside its computation),
    // the others start, and their first message to it kills it.
    const seenBefore = proxy.seen.length;
    const call2 = client(2, child.url).secureSum(61, { nodes, uuid, myself: 2 });
    call2.catch(() => undefined);
    await within(10_000, 'party 2 starts', (async () => {
      while (!proxy.seen.slice(seenBefore).includes('GET /peer/identity')) await new Promise((r) => setTimeout(r, 20));
    })());
    const outcomes = await within(FAIL_WITHIN_MS + 5000, 'the others fail', Promise.allSettled([client(0).secureSum(19, { nodes, uuid, myself: 0 }), client(1).secureSum(5, { nodes, uuid, myself: 1 })]));
    assert.ok(killed, 'party 2 was killed mid-computation');
    await assert.rejects(call2);
    assertBlamesParty2(outcomes, started);
    await Promise.all([assertNothingLeft(s0, 'party 0'), assertNothingLeft(s1, 'party 1')]);
    child = undefined;
    proxy.mode = { kind: 'pass' };
    await restartParty2();
    await nextComputationWorks();
    await assertNothingLeft(party2(), 'party 2');
  });

  test('restarted mid-computation: the others fail in time naming it; the restarted party drops what it buffered; the next computation works', async () => {
    let restarted: Promise<void> | undefined;
    proxy.onRequest = async (method, path) => {
      if (restarted === undefined && path.startsWith('/peer/messages')) {
        // A new process on the same data dir: same key, new boot; the message in flight now
        // reaches the new process, which knows nothing of the computation.
        restarted = restartParty2();
        await restarted;
      }
    };
    const uuid = randomUUID();
    const started = Date.now();
    const first = party2();
    const call2 = client(2, first.url).secureSum(61, { nodes, uuid, myself: 2 });
    call2.catch(() => undefined);
    await within(10_000, 'party 2 starts', (async () => {
      while (first.peerStats().active === 0) await new Promise((r) => setTimeout(r, 10));
    })());
    const outcomes = await within(FAIL_WITHIN_MS + 5000, 'the others fail', Promise.allSettled([client(0).secureSum(19, { nodes, uuid, myself: 0 }), client(1).secureSum(5, { nodes, uuid, myself: 1 })]));
    assert.ok(restarted !== undefined);
    await restarted;
    await assert.rejects(call2);
    assertBlamesParty2(outcomes, started);
    await Promise.all([assertNothingLeft(s0, 'party 0'), assertNothingLeft(s1, 'party 1'), assertNothingLeft(party2(), 'restarted party 2')]);
    await nextComputationWorks();
  });

  test('slow (every request delayed 300 ms, within the stage timeout): the sum is still right', async () => {
    proxy.mode = { kind: 'delay', ms: 300 };
    await nextComputationWorks();
  });

  test('silent (it never answers peer messages): the others fail in time naming it; nothing left; the next computation works', async () => {
    proxy.mode = { kind: 'hang-messages' };
    const uuid = randomUUID();
    const started = Date.now();
    const outcomes = await within(FAIL_WITHIN_MS + 5000, 'silent peer', Promise.allSettled([19, 5, 61].map((v, i) => client(i).secureSum(v, { nodes, uuid, myself: i }))));
    assertBlamesParty2(outcomes, started);
    assert.equal(outcomes[2]!.status, 'rejected', 'party 2 never got its shares either');
    proxy.mode = { kind: 'pass' };
    await Promise.all([assertNothingLeft(s0, 'party 0'), assertNothingLeft(s1, 'party 1'), assertNothingLeft(party2(), 'party 2')]);
    await nextComputationWorks();
  });

  for (const status of [200, 500, 418]) {
    test(`answering garbage (HTTP ${status}, random bytes) to peer messages: the others fail in time naming it; nothing left; the next works`, async () => {
      proxy.mode = { kind: 'garbage', status };
      const uuid = randomUUID();
      const started = Date.now();
      const outcomes = await within(FAIL_WITHIN_MS + 5000, 'garbage answers', Promise.allSettled([19, 5, 61].map((v, i) => client(i).secureSum(v, { nodes, uuid, myself: i }))));
      assertBlamesParty2(outcomes, started);
      proxy.mode = { kind: 'pass' };
      await Promise.all([assertNothingLeft(s0, 'party 0'), assertNothingLeft(s1, 'party 1'), assertNothingLeft(party2(), 'party 2')]);
      await nextComputationWorks();
    });
  }

  test('an authenticated party that sends garbage shares: the others fail at once naming it; nothing left; the next works', async () => {
    // A rogue party 2: it holds the network secret (so its envelopes authenticate) but sends
    // malformed payloads instead of shares.
    const rogue = await startPeerNodeServer({ dataDir: join(cluster.root, 'rogue'), log: silent, networkSecret: cluster.networkSecret, stageTimeoutMs: STAGE_TIMEOUT_MS });
    proxy.target = rogue.url;
    try {
      const uuid = randomUUID();
      const started = Date.now();
      const others = Promise.allSettled([19, 5].map((v, i) => client(i).secureSum(v, { nodes, uuid, myself: i })));
      const session = await rogue.node.open({ uuid, myself: 2, terms: { microprotocol: 'SecureSum', nodes }, stages: SECURE_SUM_STAGES.all });
      await Promise.allSettled([0, 1].map((to) => session.send(to, SECURE_SUM_STAGES.shares, randomBytes(37))));
      const outcomes = await within(FAIL_WITHIN_MS + 5000, 'garbage shares', others);
      // The party that decodes the garbage first names party 2 and aborts; the other may hear
      // that abort first, whose reason carries the decoding error.
      const problems = outcomes.map((o) => {
        assert.equal(o.status, 'rejected');
        return ((o as PromiseRejectedResult).reason as ProblemError).problem;
      });
      assert.ok(problems.some((p) => p.where === `party 2 (${proxy.url})`), JSON.stringify(problems));
      for (const p of problems) assert.match(String(p.detail), /malformed vector-sum message/);
      assert.ok(Date.now() - started < FAIL_WITHIN_MS);
      session.close();
      await Promise.all([assertNothingLeft(s0, 'party 0'), assertNothingLeft(s1, 'party 1')]);
    } finally {
      await rogue.close();
      proxy.target = party2().url;
    }
    await nextComputationWorks();
  });
});
