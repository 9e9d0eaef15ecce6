// Browsers (SECURITY.md "Browsers"): no page on another origin can drive a server unless that
// origin was configured with --cors-origin; never `Access-Control-Allow-Origin: *`; and a loopback
// server without a token refuses requests for another host name (DNS rebinding).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseOrigin } from '../../server/http/security.js';
import { startTestServer, type TestServer } from '../support/cluster.js';
import { rawRequest } from '../support/http.js';

const APP = 'https://analytics.hospital.example';

describe('CORS and Origin', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ security: { corsOrigins: [APP, 'http://localhost:3000/'] } });
  });
  after(async () => {
    await server.close();
  });

  const ROUTES: [string, string, unknown][] = [
    ['GET', '/representations', undefined],
    ['POST', '/representations', { args: [], kwargs: { protocol: 'Simon' } }],
    ['PUT', '/representations', { args: [1], kwargs: {} }],
    ['GET', '/health', undefined],
    ['GET', '/openapi.json', undefined],
  ];

  for (const [method, path, body] of ROUTES) {
    test(`${method} ${path} from a foreign origin is a 403 problem without CORS headers`, async () => {
      const res = await rawRequest(server.url, path, { method, headers: { origin: 'https://evil.example' }, ...(body !== undefined ? { jsonBody: body } : {}) });
      assert.equal(res.status, 403, res.text);
      assert.match(String(res.headers['content-type']), /problem\+json/);
      assert.equal((res.json as { where?: string }).where, 'Origin');
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    });

    test(`${method} ${path} from a configured origin carries that origin (never *) and Vary: Origin`, async () => {
      const res = await rawRequest(server.url, path, { method, headers: { origin: APP }, ...(body !== undefined ? { jsonBody: body } : {}) });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['access-control-allow-origin'], APP);
      assert.match(String(res.headers.vary), /Origin/);
    });
  }

  test('"Origin: null" (sandboxed frames, file://) is refused', async () => {
    const res = await rawRequest(server.url, '/representations', { headers: { origin: 'null' } });
    assert.equal(res.status, 403);
  });

  test('a preflight from a configured origin is answered 204 with the methods and headers a client needs', async () => {
    const res = await rawRequest(server.url, '/representation/00000000-0000-4000-8000-000000000000', {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], 'http://localhost:3000');
    assert.match(String(res.headers['access-control-allow-methods']), /PATCH/);
    assert.match(String(res.headers['access-control-allow-headers']), /Authorization/);
  });

  test('a preflight from a foreign origin is refused', async () => {
    const res = await rawRequest(server.url, '/representations', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  test('the server\'s own pages (Swagger UI at /docs) are same-origin and work', async () => {
    const origin = server.url;
    const res = await rawRequest(server.url, '/representations', { method: 'POST', headers: { origin }, jsonBody: { args: [], kwargs: { protocol: 'Simon' } } });
    assert.equal(res.status, 200, res.text);
  });

  test('the peer API is not a browser surface: no CORS headers even for a configured origin', async () => {
    const res = await rawRequest(server.url, '/peer/identity', { headers: { origin: APP } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  for (const bad of ['*', 'https://app.example/path', 'ftp://x.example', 'not a url']) {
    test(`--cors-origin ${bad} is refused`, () => {
      assert.throws(() => normaliseOrigin(bad), /origin|every web page/);
    });
  }
});

describe('DNS rebinding: a loopback server without a token answers loopback names only', () => {
  let open: TestServer;
  let withToken: TestServer;
  before(async () => {
    [open, withToken] = await Promise.all([
      startTestServer(),
      startTestServer({ security: { clientToken: 'a-token-of-enough-length' } }),
    ]);
  });
  after(async () => {
    await Promise.all([open.close(), withToken.close()]);
  });

  for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.0.0.2']) {
    test(`Host: ${host} is served`, async () => {
      const res = await rawRequest(open.url, '/representations', { headers: { host: `${host}:${open.port}` } });
      assert.equal(res.status, 200, res.text);
    });
  }
  for (const host of ['attacker.example', 'localhost.attacker.example', '127.0.0.1.nip.io']) {
    test(`Host: ${host} is refused (403 naming Host)`, async () => {
      const res = await rawRequest(open.url, '/representations', { headers: { host: `${host}:${open.port}` } });
      assert.equal(res.status, 403, res.text);
      assert.equal((res.json as { where?: string }).where, 'Host');
    });
  }

  test('peers may use any name for the peer API (their envelopes authenticate them)', async () => {
    const res = await rawRequest(open.url, '/peer/identity', { headers: { host: `peer.example:${open.port}` } });
    assert.equal(res.status, 200);
  });

  test('with a client token the token decides, whatever the Host', async () => {
    const res = await rawRequest(withToken.url, '/representations', { headers: { host: 'tessera.example', authorization: 'Bearer a-token-of-enough-length' } });
    assert.equal(res.status, 200, res.text);
  });
});
