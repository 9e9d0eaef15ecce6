// The stuck network uuid (issue: "a network uuid that never gets stuck"), as a new user meets it:
// one fixed uuid, a short stage timeout, one party's client started late. Parties 0 and 1 time
// out waiting for party 2 and abort; the abort notices reach party 2's server before its client
// calls. Before the fix, those stale notices waited in party 2's early-message buffer, failed its
// late call at once, whose own abort then failed the next retry at parties 0 and 1, and so on: a
// growing chain of 504 "gave up waiting". Now a notice of an instance a party never joined marks
// that instance dead there and fails nothing; the next computation, once every party calls,
// succeeds; and nothing accumulates across retries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startCluster, type Cluster } from '../support/cluster.js';
import { ProblemError, RawClient } from '../support/http.js';
import { within } from '../within.js';

const STAGE_TIMEOUT_MS = 4000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a network uuid reused after a party was started late', { timeout: 240_000 }, () => {
  let cluster: Cluster;
  let clients: RawClient[];
  const uuid = randomUUID(); // one uuid for the whole test, as the examples hard-code one

  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: STAGE_TIMEOUT_MS });
    clients = cluster.nodes.map((url) => new RawClient(url));
  });
  after(async () => {
    await cluster?.close();
  });

  const sum = (i: number, value: number) => clients[i]!.secureSum(value, { nodes: cluster.nodes, uuid, myself: i });

  async function allSucceed(values: number[], what: string): Promise<void> {
    const results = await within(4 * STAGE_TIMEOUT_MS + 5000, what, Promise.allSettled(values.map((v, i) => sum(i, v))));
    const want = values.reduce((a, b) => a + b, 0);
    results.forEach((r, i) => {
      assert.equal(r.status, 'fulfilled', `${what}: party ${i} failed: ${r.status === 'rejected' ? String((r.reason as Error).message) : ''}`);
      assert.deepEqual((r as PromiseFulfilledResult<unknown>).value, { inputs: 3, result: { samples: 3, sum: want } });
    });
  }

  async function nothingLeft(): Promise<void> {
    const deadline = Date.now() + 3 * STAGE_TIMEOUT_MS + 2000;
    for (;;) {
      const stats = cluster.servers.map((s) => s.peerStats());
      if (stats.every((s) => s.sessions === 0 && s.active === 0 && s.bufferedMessages === 0 && s.bufferedBytes === 0)) return;
      if (Date.now() > deadline) assert.fail(`state left behind: ${JSON.stringify(stats)}`);
      await sleep(100);
    }
  }

  test('parties 0 and 1 time out naming party 2; party 2 calls late together with their retry: all three succeed', async () => {
    for (let round = 0; round < 3; round++) {
      const early = await within(3 * STAGE_TIMEOUT_MS + 5000, 'early parties', Promise.allSettled([sum(0, 19), sum(1, 5)]));
      for (const outcome of early) {
        assert.equal(outcome.status, 'rejected');
        const err = (outcome as PromiseRejectedResult).reason as ProblemError;
        assert.ok(err instanceof ProblemError, String(err));
        assert.equal(err.status, 504, err.message);
        assert.match(String(err.problem.where), /^party 2 /);
      }
      // The stale notices of the failed attempt are at party 2 now; its client calls late, and
      // the others retry at once: the retry is one computation of all three.
      const late = sum(2, 61);
      await sleep(200);
      const retry = Promise.all([sum(0, 19), sum(1, 5)]);
      const results = await within(4 * STAGE_TIMEOUT_MS + 5000, `round ${round}`, Promise.allSettled([retry, late]));
      for (const r of results) assert.equal(r.status, 'fulfilled', `round ${round}: ${r.status === 'rejected' ? String((r.reason as Error).message) : ''}`);
      const [sums] = results as [PromiseFulfilledResult<{ result: { sum: number } }[]>, PromiseFulfilledResult<{ result: { sum: number } }>];
      for (const s of sums.value) assert.equal(s.result.sum, 85);
      assert.equal((results[1] as PromiseFulfilledResult<{ result: { sum: number } }>).value.result.sum, 85);
    }
    await nothingLeft();
  });

  test('party 2 calls late alone and times out; then every retry of all three succeeds at once', async () => {
    const early = await within(3 * STAGE_TIMEOUT_MS + 5000, 'early parties', Promise.allSettled([sum(0, 1), sum(1, 2)]));
    for (const o of early) assert.equal(o.status, 'rejected');
    const late = await within(3 * STAGE_TIMEOUT_MS + 5000, 'late party', Promise.allSettled([sum(2, 3)]));
    assert.equal(late[0]!.status, 'rejected');
    // Its abort (an instance the others never joined) must not fail them now.
    for (let i = 0; i < 4; i++) await allSucceed([19, 5, 61 + i], `retry ${i}`);
    await nothingLeft();
  });
});
