// A party called with a bad `network` (issue 15, finding 10), and parties that never arrive:
// - a party whose `myself` is wrong (another party's index, or out of range) gets its 400 at once,
//   and the others learn it from an abort naming the field, not from their stage timeout (a 504);
// - when several parties never arrive, the others' problem names every one of them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startCluster, type Cluster } from '../support/cluster.js';
import { ProblemError, RawClient } from '../support/http.js';
import { within } from '../within.js';

const STAGE_TIMEOUT_MS = 3000;

function problemOf(outcome: PromiseSettledResult<unknown>, who: string): ProblemError {
  assert.equal(outcome.status, 'rejected', `${who} must fail`);
  const err = (outcome as PromiseRejectedResult).reason as ProblemError;
  assert.ok(err instanceof ProblemError, `${who}: ${String(err)}`);
  return err;
}

/** Simon compute of any microprotocol; rejects with the problem. */
async function compute(client: RawClient, kwargs: Record<string, unknown>): Promise<void> {
  const simon = await client.create({ protocol: 'Simon' });
  const member = await client.attribute(simon, 'compute');
  const res = await client.request('PATCH', `/representation/${member}`, { args: [], kwargs }, undefined, 60_000);
  await Promise.all([client.release(member), client.release(simon)]);
  if (res.status !== 200) throw new ProblemError(res);
}

describe('bad network arguments and missing parties', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let clients: RawClient[];

  before(async () => {
    cluster = await startCluster(4, { stageTimeoutMs: STAGE_TIMEOUT_MS });
    clients = cluster.nodes.map((url) => new RawClient(url));
  });
  after(async () => {
    await cluster?.close();
  });

  const nodes3 = () => cluster.nodes.slice(0, 3);

  for (const [name, wrong] of [['another party\'s index', 1], ['an index out of range', 7]] as const) {
    test(`myself is ${name}: that party gets a 400 naming the field, the others a 502 from its abort naming it`, async () => {
      const uuid = randomUUID();
      const nodes = nodes3();
      const outcomes = await within(10 * STAGE_TIMEOUT_MS, 'all parties', Promise.allSettled([
        clients[0]!.secureSum(19, { nodes, uuid, myself: 0 }),
        clients[1]!.secureSum(5, { nodes, uuid, myself: 1 }),
        clients[2]!.secureSum(61, { nodes, uuid, myself: wrong }),
      ]));
      const own = problemOf(outcomes[2]!, 'party 2');
      assert.equal(own.status, 400);
      assert.equal(own.problem.where, 'kwargs.network.myself');
      for (const i of [0, 1]) {
        const err = problemOf(outcomes[i]!, `party ${i}`);
        // A timeout would be a 504 naming party 2 without saying why; the abort says why.
        assert.equal(err.status, 502, err.message);
        assert.match(String(err.problem.detail), /kwargs\.network\.myself/);
        assert.match(String(err.problem.where), /^party 2 /);
      }
      const results = await within(10 * STAGE_TIMEOUT_MS, 'next computation', Promise.all([0, 1, 2].map((i) => clients[i]!.secureSum(i, { nodes, uuid, myself: i }))));
      for (const r of results) assert.equal(r.result.sum, 3);
    });
  }

  test('two parties never arrive: the others\' problem names both of them', async () => {
    const uuid = randomUUID();
    const outcomes = await within(10 * STAGE_TIMEOUT_MS, 'parties 0 and 1', Promise.allSettled([0, 1].map((i) => clients[i]!.secureSum(1, { nodes: cluster.nodes, uuid, myself: i }))));
    for (const i of [0, 1]) {
      const err = problemOf(outcomes[i]!, `party ${i}`);
      assert.equal(err.status, 504);
      const text = `${String(err.problem.where)} ${String(err.problem.detail)}`;
      assert.ok(text.includes(`party 2 (${cluster.nodes[2]})`) && text.includes(`party 3 (${cluster.nodes[3]})`), text);
      // The same parties as indices a client can act on, in the problem's `missing`.
      assert.deepEqual(err.problem.missing, [2, 3]);
    }
  });

  test('one party never arrives in a SIMON protocol (SecureMedian): the problem lists it in missing', async () => {
    const uuid = randomUUID();
    const nodes = nodes3();
    const outcomes = await within(10 * STAGE_TIMEOUT_MS, 'parties 0 and 1', Promise.allSettled([0, 1].map((i) =>
      compute(clients[i]!, { microprotocol: 'SecureMedian', data: [i, i + 1, i + 2], network: { nodes, uuid, myself: i } }))));
    for (const i of [0, 1]) {
      const err = problemOf(outcomes[i]!, `party ${i}`);
      assert.equal(err.status, 504);
      assert.match(String(err.problem.where), new RegExp(`party 2 \\(${nodes[2]!.replace(/[.]/g, '\\.')}\\)`));
      assert.deepEqual(err.problem.missing, [2]);
    }
  });

  test('a bad input at a leaf of the star (4 parties): every other party fails at once with a 502 naming that leaf', async () => {
    // From 4 parties on the sum is the star: the leaves hear from the aggregator alone. The bad leaf
    // tells the aggregator as soon as its nonce is in, and the aggregator passes the notice on,
    // naming the leaf (services/abort.ts abortAsPeersJoin, abortError). Telling every peer only
    // once all had sent something kept the other leaves waiting for the 3 s join wait, which no
    // leaf ever ends, and met their 3 s stage timeout (a 504).
    const uuid = randomUUID();
    const nodes = cluster.nodes;
    const started = Date.now();
    const outcomes = await within(10 * STAGE_TIMEOUT_MS, 'all parties', Promise.allSettled(
      [19, 5, 'abc', 61].map((data, myself) => clients[myself]!.secureSum(data, { nodes, uuid, myself })),
    ));
    const elapsed = Date.now() - started;
    const own = problemOf(outcomes[2]!, 'party 2');
    assert.equal(own.status, 400);
    assert.equal(own.problem.where, 'kwargs.data');
    const culprit = `party 2 (${nodes[2]})`;
    for (const i of [0, 1, 3]) {
      const err = problemOf(outcomes[i]!, `party ${i}`);
      assert.equal(err.status, 502, err.message);
      // Every problem says who failed and why. A leaf told by the aggregator names party 2 as its
      // `where`; a leaf whose masked vector reached the aggregator after it had failed was refused
      // (409) and names the aggregator, with party 2's abort as the reason.
      assert.ok(String(err.problem.detail).includes(`${culprit} aborted the computation: BadInputError: invalid input at kwargs.data`), `party ${i}: ${err.problem.detail}`);
      assert.ok(err.problem.where === culprit || (i !== 0 && err.problem.where === `party 0 (${nodes[0]})` && /refused/.test(String(err.problem.detail))), `party ${i}: ${err.problem.where}`);
    }
    assert.ok(elapsed < STAGE_TIMEOUT_MS / 2, `the others fail by the abort, long before the join wait and their timeouts (${elapsed} ms)`);
  });
});
