// HTTPS (SECURITY.md "Transport"): servers serve HTTPS with --tls-cert/--tls-key, reach https peers
// with verified certificates, trust private CAs given with --tls-ca, and refuse a peer whose
// certificate does not verify, naming it. The certificates are made per run (test/support/tls.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { within } from '../within.js';
import { startCluster, startTestServer } from '../support/cluster.js';
import { ProblemError, RawClient, rawRequest } from '../support/http.js';
import { makeCa, makeLeaf, type Pem } from '../support/tls.js';

describe('HTTPS between clients and servers and between peers', { timeout: 120_000 }, () => {
  let dir: string;
  let ca: Pem;
  let otherCa: Pem;
  const running: { close(): Promise<void> }[] = [];

  /** HTTPS parties on the harness, party i serving `leaves[i]` and trusting `trusted(i)`; closed after the tests if a test fails first. */
  async function start(leaves: Pem[], trusted: (i: number) => string[], stageTimeoutMs = 3000) {
    const cluster = await startCluster(leaves.length, {
      stageTimeoutMs,
      party: (i) => ({ tls: { cert: leaves[i]!.cert, key: leaves[i]!.key, ca: trusted(i) } }),
    });
    running.push(cluster);
    return cluster;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-tls-'));
    ca = await makeCa(dir, 'ca');
    otherCa = await makeCa(dir, 'other-ca');
  });
  after(async () => {
    await Promise.all(running.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  test('three HTTPS servers with certificates of a private CA compute a SecureSum', async () => {
    const leaves = await Promise.all([0, 1, 2].map((i) => makeLeaf(dir, `leaf${i}`, 'ca')));
    const cluster = await start(leaves, () => [ca.cert]);
    const nodes = cluster.nodes;
    for (const url of nodes) assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const uuid = randomUUID();
    const results = await within(30_000, 'sum over https', Promise.all(
      [19, 5, 61].map((data, myself) => new RawClient(nodes[myself]!, { ca: ca.cert }).secureSum(data, { nodes, uuid, myself })),
    ));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 85 } });
    await cluster.close();
  });

  test('a client that does not trust the CA cannot talk to the server (the certificate is really checked)', async () => {
    const leaf = await makeLeaf(dir, 'leaf-client', 'ca');
    const server = await startTestServer({ tls: { cert: leaf.cert, key: leaf.key, ca: [ca.cert] }, peer: { stageTimeoutMs: 3000 } });
    running.push(server);
    await assert.rejects(rawRequest(server.url, '/health', { ca: otherCa.cert }), (err: NodeJS.ErrnoException) => err.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const ok = await rawRequest(server.url, '/health', { ca: ca.cert });
    assert.equal(ok.status, 200);
    // Plain HTTP on the HTTPS port gets nothing useful.
    await assert.rejects(rawRequest(server.url.replace('https:', 'http:'), '/health', { timeoutMs: 5000 }).then((r) => {
      if (r.status === 200) throw new Error('served plain HTTP');
      throw new Error(`refused with ${r.status}`);
    }));
    await server.close();
  });

  test('a peer whose certificate does not verify is refused, named, before anything is sent to it', async () => {
    const good = await Promise.all([0, 1].map((i) => makeLeaf(dir, `good${i}`, 'ca')));
    const stranger = await makeLeaf(dir, 'stranger', 'other-ca');
    // Party 2 trusts both CAs, but parties 0 and 1 trust only theirs.
    const cluster = await start([...good, stranger], (i) => (i === 2 ? [ca.cert, otherCa.cert] : [ca.cert]), 2000);
    const nodes = cluster.nodes;
    const p2 = cluster.servers[2]!;
    const uuid = randomUUID();
    const started = Date.now();
    const outcomes = await within(20_000, 'untrusted peer', Promise.allSettled(
      [1, 2, 3].map((data, myself) => new RawClient(nodes[myself]!, { ca: myself === 2 ? otherCa.cert : ca.cert }).secureSum(data, { nodes, uuid, myself })),
    ));
    for (const myself of [0, 1]) {
      const outcome = outcomes[myself]!;
      assert.equal(outcome.status, 'rejected');
      const err = (outcome as PromiseRejectedResult).reason as ProblemError;
      assert.ok(err instanceof ProblemError, String(err));
      assert.equal(err.status, 502);
      assert.equal(err.problem.where, `party 2 (${p2.url})`);
      assert.match(String(err.problem.detail), /TLS certificate did not verify/);
    }
    // Party 2 was never sent anything by 0 or 1: it times out waiting for them.
    assert.equal(outcomes[2]!.status, 'rejected');
    assert.ok(Date.now() - started < 15_000);
    await cluster.close();
  });

  test('self-signed certificates work when each party is given the others\' (a server trusts its own)', async () => {
    const leaves = await Promise.all([0, 1].map((i) => makeLeaf(dir, `self${i}`)));
    const cluster = await start(leaves, (i) => [leaves[1 - i]!.cert]);
    const nodes = cluster.nodes;
    const uuid = randomUUID();
    const results = await within(30_000, 'self-signed', Promise.all(
      [2.5, 4].map((data, myself) => new RawClient(nodes[myself]!, { ca: leaves[myself]!.cert }).secureSum(data, { nodes, uuid, myself })),
    ));
    for (const r of results) assert.equal(r.result.sum, 6.5);
    await cluster.close();
  });
});
