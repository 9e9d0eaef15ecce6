// A party's server replaced by another with a new key at the same URL (network-secret mode),
// between two computations, in the vector sum's star (from MASKED_FROM parties on). The other
// leaves never hear from that party in the star, so they mask with the key they last knew for it,
// which no longer agrees with the new server's. The aggregator compares the leaves' key checks
// (services/common/vectorsum.ts): the computation fails at every party with a 502 naming the
// replaced party and the pairs whose keys disagree, never a wrong result or a "sum out of range";
// the leaves drop the keys that computation did not confirm, and the next computation is right.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startCluster, startParty, type Cluster, type Party } from '../support/cluster.js';
import { ProblemError, RawClient } from '../support/http.js';
import type { Proxy } from '../support/proxy.js';
import { MASKED_FROM } from '../../services/common/vectorsum.js';
import { within } from '../within.js';

const STAGE_TIMEOUT_MS = 3000;
const N = Math.max(4, MASKED_FROM);
const REPLACED = N - 1;

describe(`a party's server replaced with a new key at its URL (${N} parties, the star)`, { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let proxy: Proxy;
  let replacement: Party | undefined;

  before(async () => {
    cluster = await startCluster(N, { stageTimeoutMs: STAGE_TIMEOUT_MS, proxied: [REPLACED] });
    proxy = cluster.proxy(REPLACED);
  });
  after(async () => {
    await replacement?.close();
    await cluster?.close();
  });

  /** Every party's SecureSum of `inputs`, settled; party REPLACED through `replacedUrl`. */
  function sumAll(inputs: readonly number[], replacedUrl: string): Promise<PromiseSettledResult<unknown>[]> {
    const uuid = randomUUID();
    const nodes = cluster.nodes;
    return within(6 * STAGE_TIMEOUT_MS, 'every party', Promise.allSettled(
      inputs.map((v, myself) => new RawClient(myself === REPLACED ? replacedUrl : cluster.servers[myself]!.url).secureSum(v, { nodes, uuid, myself })),
    ));
  }

  function assertRight(outcomes: PromiseSettledResult<unknown>[], inputs: readonly number[]): void {
    const sum = inputs.reduce((a, b) => a + b, 0);
    outcomes.forEach((o, i) => {
      assert.equal(o.status, 'fulfilled', `party ${i}: ${String((o as PromiseRejectedResult).reason)}`);
      assert.deepEqual((o as PromiseFulfilledResult<unknown>).value, { inputs: N, result: { samples: N, sum } }, `party ${i}`);
    });
  }

  test('the first computation after the change fails at every party naming the replaced one; the next is right', async () => {
    const inputs = Array.from({ length: N }, (_, i) => 10 * (i + 1));
    // Every server meets every other once, so each starts the next computations from the keys it knows.
    assertRight(await sumAll(inputs, cluster.servers[REPLACED]!.url), inputs);

    // A new server, a new key, the same network secret, behind party REPLACED's URL.
    replacement = await startParty(join(cluster.root, 'replacement'), cluster.networkSecret, STAGE_TIMEOUT_MS);
    proxy.target = replacement.url;
    const started = Date.now();
    const outcomes = await sumAll(inputs, replacement.url);
    const elapsed = Date.now() - started;
    const replaced = `party ${REPLACED} (${cluster.nodes[REPLACED]})`;
    outcomes.forEach((o, i) => {
      assert.equal(o.status, 'rejected', `party ${i} must fail, not answer ${JSON.stringify((o as PromiseFulfilledResult<unknown>).value)}`);
      const err = (o as PromiseRejectedResult).reason as ProblemError;
      assert.ok(err instanceof ProblemError, `party ${i}: ${String(err)}`);
      assert.equal(err.status, 502, `party ${i}: ${err.message}`);
      assert.match(String(err.problem.detail), /derived different pair keys/, `party ${i}`);
      assert.ok(String(err.problem.detail).includes(replaced), `party ${i} names ${replaced}: ${err.problem.detail}`);
    });
    assert.ok(elapsed < STAGE_TIMEOUT_MS, `every party fails at once, not at a timeout (${elapsed} ms)`);

    assertRight(await sumAll(inputs.map((v) => v + 1), replacement.url), inputs.map((v) => v + 1));
  });

  test('a computation that fails before the check (the replaced party missing) still drops the keys it did not confirm: the next is right', async () => {
    // The leaves mask with the keys they know, and the computation times out waiting for the
    // missing party, so no check compares them, and nothing of the replaced party reaches a leaf.
    // Had the leaves kept the key they never confirmed, the next computation would fail the check.
    const inputs = Array.from({ length: N }, (_, i) => i + 1);
    assertRight(await sumAll(inputs, replacement!.url), inputs);
    await replacement!.close();
    replacement = await startParty(join(cluster.root, 'second-replacement'), cluster.networkSecret, STAGE_TIMEOUT_MS);
    proxy.target = replacement.url;
    const uuid = randomUUID();
    const nodes = cluster.nodes;
    const outcomes = await within(6 * STAGE_TIMEOUT_MS, 'the others', Promise.allSettled(
      inputs.slice(0, REPLACED).map((v, myself) => new RawClient(cluster.servers[myself]!.url).secureSum(v, { nodes, uuid, myself })),
    ));
    outcomes.forEach((o, i) => {
      assert.equal(o.status, 'rejected', `party ${i} must fail`);
      assert.equal(((o as PromiseRejectedResult).reason as ProblemError).status, 504, `party ${i}`);
    });
    assertRight(await sumAll(inputs, replacement.url), inputs);
  });
});
