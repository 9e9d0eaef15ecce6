// Every limit that protects a server, exceeded on a running server: a 413 or 429 problem (a 400 for
// nesting, a 404 for an expired uuid), never a crash, and the server keeps serving. Also: a client
// cannot make a server contact a URL outside its trust (no proxying) — nothing is sent to it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from '../../server/main.js';
import { TensorSet } from '../../services/common/tensors.js';
import { within } from '../within.js';
import { startCluster, startTestServer, type Cluster, type TestServer } from '../support/cluster.js';
import { ProblemError, RawClient, rawRequest, type RawResponse } from '../support/http.js';

function assertProblem(res: RawResponse, status: number, pattern?: RegExp): void {
  assert.equal(res.status, status, res.text.slice(0, 300));
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  if (pattern) assert.match(String((res.json as { detail?: string }).detail), pattern);
}

describe('limits with small values, exceeded', { timeout: 60_000 }, () => {
  let cluster: Cluster;
  let s0: RunningServer;
  let s1: RunningServer;
  let client: RawClient;
  before(async () => {
    // Party 0 has the small limits; party 1 is an ordinary peer.
    cluster = await startCluster(2, {
      stageTimeoutMs: 3000,
      party: (i) => (i === 0
        ? {
          limits: { jsonBodyBytes: 4096, jsonDepth: 10, binaryBodyBytes: 2048, maxRepresentations: 12, representationTtlMs: 2500, sweepIntervalMs: 100 },
          peer: { limits: { maxSessions: 1, maxMessageBytes: 4096 } },
        }
        : {}),
    });
    [s0, s1] = cluster.servers as [RunningServer, RunningServer];
    client = new RawClient(s0.url);
  });
  after(async () => {
    await cluster.close();
  });

  const put = (body: string | Buffer, type: string) => rawRequest(s0.url, '/representations', { method: 'PUT', headers: { 'content-type': type }, body });

  test('a JSON body over --max-json-body is a 413', async () => {
    assertProblem(await put(JSON.stringify({ args: ['x'.repeat(5000)], kwargs: {} }), 'application/json'), 413, /larger than 4096 bytes/);
  });

  test('JSON nested deeper than --max-json-depth is a 400 naming the body', async () => {
    const res = await put(`{"args":[${'['.repeat(12)}${']'.repeat(12)}],"kwargs":{}}`, 'application/json');
    assertProblem(res, 400, /nested deeper than 10 levels/);
    assert.equal((res.json as { where?: string }).where, 'body');
  });

  test('a safetensors upload over --max-binary-body is a 413', async () => {
    const big = new TensorSet(new Map([['w', { dtype: 'F64' as const, shape: [400], data: new Float64Array(400) }]])).toSafetensors();
    assertProblem(await put(Buffer.from(big), 'application/octet-stream'), 413);
  });

  test('a peer envelope over --max-peer-message is a 413 before it is read in full', async () => {
    const res = await rawRequest(s0.url, '/peer/messages', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(4 * 1024 * 1024) });
    assertProblem(res, 413);
  });

  test('one representation beyond --max-representations is a 429; released ones make room; unused ones expire (404)', async () => {
    const made: string[] = [];
    for (;;) {
      const res = await client.request('PUT', '/representations', { args: [made.length], kwargs: {} });
      if (res.status === 429) {
        assertProblem(res, 429, /at most 12 representations/);
        break;
      }
      made.push(await client.uuidOf(res, 'upload'));
      assert.ok(made.length <= 12, 'the limit holds');
    }
    assert.equal(made.length, 12);
    assert.equal((await client.release(made[0]!)).status, 200);
    const again = await client.request('PUT', '/representations', { args: ['room'], kwargs: {} });
    assert.equal(again.status, 200);
    // --representation-ttl: unused for 2.5 s (long enough that a loaded machine does not expire them mid-test), every one of them is gone.
    await new Promise((r) => setTimeout(r, 3200));
    for (const uuid of made.slice(1)) assertProblem(await client.request('GET', `/representation/${uuid}`), 404, /unknown, released or expired/);
    assert.equal(s0.bus.size, 0);
  });

  test('a computation beyond --max-computations is a 429; the running one is unharmed', async () => {
    const nodes = [s0.url, s1.url];
    const uuid = randomUUID();
    const first = client.secureSum(1, { nodes, uuid, myself: 0 });
    const deadline = Date.now() + 5000;
    while (s0.peerStats().active === 0) {
      assert.ok(Date.now() < deadline);
      await new Promise((r) => setTimeout(r, 10));
    }
    await assert.rejects(client.secureSum(2, { nodes, uuid: randomUUID(), myself: 0 }), (err: ProblemError) => err.status === 429 && /computations/.test(err.message));
    const other = new RawClient(s1.url).secureSum(41, { nodes, uuid, myself: 1 });
    const results = await within(10_000, 'the running computation', Promise.all([first, other]));
    for (const r of results) assert.equal(r.result.sum, 42);
  });
});

describe('no proxying: only trusted node URLs are ever contacted', { timeout: 30_000 }, () => {
  let server: TestServer;
  let trap: Server;
  let trapUrl: string;
  const trapped: string[] = [];
  before(async () => {
    trap = createServer((req, res) => {
      trapped.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    trap.listen(0, '127.0.0.1');
    await once(trap, 'listening');
    trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    // Trust by network secret, with node URLs restricted to one other server's prefix.
    server = await startTestServer({ peer: { networkSecret: randomBytes(32), allowPeerUrls: ['https://partner.example'] } });
  });
  after(async () => {
    await server.close();
    trap.close();
  });

  const untrusted: [string, (self: string) => string[], string][] = [
    ['a loopback port outside the allowlist', (self) => [self, trapUrl], 'kwargs.network.nodes[0]'],
    ['a cloud metadata address', (self) => ['http://169.254.169.254/latest', self], 'kwargs.network.nodes[0]'],
    ['a look-alike of the allowed host', (self) => ['https://partner.example.evil.example', self], 'kwargs.network.nodes[0]'],
    ['a file URL', (self) => ['file:///etc/passwd', self], 'kwargs.network.nodes[0]'],
  ];
  for (const [name, nodes, where] of untrusted) {
    test(`${name}: a 400 naming the field, and nothing is sent anywhere`, async () => {
      const before = trapped.length;
      await assert.rejects(
        new RawClient(server.url).secureSum(1, { nodes: nodes(server.url), uuid: randomUUID(), myself: 1 }),
        (err: ProblemError) => err.status === 400 && err.problem.where === where,
      );
      assert.equal(trapped.length, before, `the server contacted ${trapped.slice(before).join(', ')}`);
    });
  }
});
