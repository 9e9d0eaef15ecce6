// Finding 1 of the hardening issue: request bodies were parsed before anything looked at the
// route. With --token-file set, an anonymous PUT /health with a 16 MiB JSON body was parsed in
// full before its 405 (seconds of blocked event loop, ~0.9 GB RSS each), and three anonymous
// senders made most legitimate sums fail. Now every operation has its own body limit from the
// spec (server/http/body.ts bodyByOperation): open and unknown paths read at most 16 KiB, and a
// larger declared body is refused before one byte of it is read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { startCluster, type Cluster } from '../support/cluster.js';
import { RawClient } from '../support/http.js';
import { within } from '../within.js';

const TOKEN = randomBytes(24).toString('base64url');
// Just under the 16 MiB JSON limit: small objects, the shape that costs a parser most memory.
const BODY = Buffer.from(`[${'{"a":0.5},'.repeat(Math.floor((16 * 1024 * 1024 - 64) / 10) - 1)}{"a":0.5}]`);
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** One anonymous request with a large body; resolves with the status, or 0 when the server cut it off. */
function anonymous(base: string, method: string, path: string, chunked: boolean): Promise<number> {
  return new Promise((resolve) => {
    const url = new URL(path, base);
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = BODY.length;
    const req = httpRequest(url, { method, headers, signal: AbortSignal.timeout(30_000) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    if (chunked) for (let at = 0; at < BODY.length; at += 1 << 20) req.write(BODY.subarray(at, at + (1 << 20)));
    else req.write(BODY);
    req.end();
  });
}

describe('finding 1: no body is read before authentication, and open paths take small bodies only', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(2, { config: { security: { clientToken: TOKEN } } });
  });
  after(async () => {
    await cluster.close();
  });

  test('an anonymous flood of 16 MiB bodies on open, protected and unknown paths: every legitimate sum succeeds and RSS stays bounded', async () => {
    const rssBefore = process.memoryUsage().rss;
    const targets: [string, string, boolean][] = [
      ['PUT', '/health', false],
      ['PUT', '/health', true],
      ['POST', '/openapi.json', false],
      ['PUT', '/no/such/path', false],
      ['PATCH', `/representation/${randomUUID()}`, false],
      ['PATCH', `/representation/${randomUUID()}/health`, true],
    ];
    let flooding = true;
    const statuses: number[] = [];
    const sender = async (k: number) => {
      for (let i = 0; flooding || i < targets.length; i++) {
        const [method, path, chunked] = targets[(i + k) % targets.length]!;
        statuses.push(await anonymous(cluster.nodes[k % 2]!, method, path, chunked));
      }
    };
    const flood = Promise.all([0, 1, 2].map(sender));
    const clients = cluster.nodes.map((url) => new RawClient(url, { token: TOKEN }));
    for (let round = 0; round < 4; round++) {
      const uuid = randomUUID();
      const results = await within(30_000, `sum ${round} during the flood`, Promise.all(clients.map((c, myself) => c.secureSum(round + myself, { nodes: cluster.nodes, uuid, myself }))));
      for (const r of results) assert.equal(r.result.sum, 2 * round + 1);
    }
    flooding = false;
    await within(60_000, 'the flood', flood);
    const rssAfter = process.memoryUsage().rss;
    // Refused, or cut off before the body was read; never accepted, never a 500.
    assert.ok(statuses.length >= 3 * targets.length);
    for (const status of statuses) assert.ok(status === 0 || status === 401 || status === 413, `status ${status}`);
    assert.ok(statuses.some((s) => s === 413), 'open paths answer 413');
    assert.ok(statuses.some((s) => s === 401), 'protected paths answer 401');
    // Parsing even one of these bodies took ~0.9 GB; refusing them takes nothing.
    assert.ok(rssAfter - rssBefore < 256 * 1024 * 1024, `RSS grew from ${mib(rssBefore)} to ${mib(rssAfter)} MiB`);
    for (const server of cluster.servers) assert.equal(server.bus.size, 0);
  });

  test('a small body on an open path is still answered as before (405 for PUT /health), and a GET with `{}` works', async () => {
    const client = new RawClient(cluster.nodes[0]!);
    assert.equal((await client.request('PUT', '/health', { a: 1 })).status, 405);
    assert.equal((await client.request('GET', '/health', {})).status, 200);
  });
});
