// Claims of SECURITY.md that no test checked: bugs planted in a copy of the source (tokens
// compared case-insensitively, the open-path pattern without its `^`, the replay window without
// Math.abs, --max-parties never exceeded) passed every test. Each test here fails under its bug.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RunningServer } from '../../server/main.js';
import { startCluster, startTestServer, type Cluster } from '../support/cluster.js';
import { ChannelKeys, type EnvelopeHeader } from '../../server/peer/envelope.js';
import { loadOrCreateIdentity } from '../../server/peer/identity.js';
import { Trust } from '../../server/peer/trust.js';
import { ProblemError, RawClient, rawRequest } from '../support/http.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const TOKEN = 'Tessera-Token-' + randomBytes(16).toString('hex').toUpperCase();

describe('claims without a test until now', { timeout: 60_000 }, () => {
  const secret = randomBytes(32);
  let pair: Cluster;
  let guarded: RunningServer;
  let a: RunningServer;
  let b: RunningServer;
  before(async () => {
    [guarded, pair] = await Promise.all([
      startTestServer({ security: { clientToken: TOKEN } }),
      startCluster(2, { networkSecret: secret, stageTimeoutMs: 5000, party: (i) => (i === 0 ? { peer: { limits: { maxParties: 2 } } } : {}) }),
    ]);
    [a, b] = pair.servers as [RunningServer, RunningServer];
  });
  after(async () => {
    await Promise.all([guarded.close(), pair.close()]);
  });

  test('the client token is compared exactly: another case of the same token is a 401', async () => {
    const bearer = (token: string) => rawRequest(guarded.url, '/representations', { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await bearer(TOKEN)).status, 200);
    for (const variant of [TOKEN.toLowerCase(), TOKEN.toUpperCase(), `${TOKEN} `.trimEnd() + 'x', TOKEN.slice(0, -1)]) {
      const res = await bearer(variant);
      assert.equal(res.status, 401, `${variant}: ${res.status}`);
    }
  });

  test('the open paths are matched whole: /representation/<uuid>/health and /x/health need the token', async () => {
    for (const path of [`/representation/${randomUUID()}/health`, '/x/health', '/health/x', `/representation/${randomUUID()}/openapi.json`]) {
      const res = await rawRequest(guarded.url, path);
      assert.equal(res.status, 401, `${path}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    assert.equal((await rawRequest(guarded.url, '/health')).status, 200);
    // Swagger UI's assets are open, one path segment under /docs/ only.
    assert.equal((await rawRequest(guarded.url, '/docs/swagger-ui.css')).status, 200);
    for (const path of ['/x/docs/swagger-ui.css', '/docs/a/b', '/docs/swagger-ui.css/x']) {
      assert.equal((await rawRequest(guarded.url, path)).status, 401, path);
    }
  });

  test('the Authorization header is "Bearer <token>" exactly: nothing before, nothing after', async () => {
    for (const header of [`xBearer ${TOKEN}`, `Bearer ${TOKEN} extra`, `Bearer  ${TOKEN}`, `Basic ${TOKEN}`]) {
      const res = await rawRequest(guarded.url, '/representations', { headers: { authorization: header } });
      assert.equal(res.status, 401, header);
    }
    assert.equal((await rawRequest(guarded.url, '/representations', { headers: { authorization: `bearer ${TOKEN}` } })).status, 200, 'the scheme is case-insensitive');
  });

  test('the replay window refuses envelopes from the future as well as the past', async () => {
    const sender = await loadOrCreateIdentity(join(pair.root, 'p1'), silent);
    const senderBoot = ((await rawRequest(b.url, '/peer/identity')).json as { bootId: string }).bootId;
    const target = (await rawRequest(a.url, '/peer/identity')).json as { publicKey: string; bootId: string };
    const keys = new ChannelKeys({ ...sender, bootId: senderBoot, bootIdBytes: Buffer.from(senderBoot, 'base64url') }, new Trust({ secret }));
    const envelope = (ts: number) => {
      const header: EnvelopeHeader = {
        v: 1, uuid: randomUUID(), instance: randomBytes(16).toString('base64url'), stage: 'shares', seq: 0, from: 1, to: 0, ts,
        senderKey: sender.publicKey, senderBoot, receiverKey: target.publicKey, receiverBoot: target.bootId,
        terms: { microprotocol: 'SecureSum', nodes: [a.url, b.url] },
      };
      return keys.seal(header, randomBytes(64));
    };
    const post = (body: Buffer) => rawRequest(a.url, '/peer/messages', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
    assert.equal((await post(envelope(Date.now()))).status, 204, 'a current envelope is taken');
    for (const ts of [Date.now() - 6 * 60_000, Date.now() + 6 * 60_000]) {
      const res = await post(envelope(ts));
      assert.equal(res.status, 401, res.text);
      assert.equal((res.json as { where?: string }).where, 'envelope.header.ts');
    }
  });

  test('--max-parties exceeded: a 400 naming the node list and the limit', async () => {
    const nodes = [a.url, b.url, 'http://127.0.0.1:9'];
    await assert.rejects(new RawClient(a.url).secureSum(1, { nodes, uuid: randomUUID(), myself: 0 }), (err: ProblemError) => {
      assert.equal(err.status, 400);
      assert.equal(err.problem.where, 'kwargs.network.nodes');
      assert.match(String(err.problem.detail), /2 to 2 server URLs/);
      return true;
    });
  });
});
