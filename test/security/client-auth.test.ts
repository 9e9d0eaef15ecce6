// Client authentication (SECURITY.md "Clients"): a server started with a token demands it on
// every client API operation, compares it in constant time, answers 401 problems with
// WWW-Authenticate: Bearer, logs every failure without the token, and never lets a client
// credential count on the peer API nor a peer credential on the client API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { checkClientToken, protectedOperations } from '../../server/http/security.js';
import { loadSpec } from '../../server/http/spec.js';
import { memoryLog } from '../server/helpers.js';
import { startTestServer, type TestServer } from '../support/cluster.js';
import { rawRequest, type RawResponse } from '../support/http.js';

const TOKEN = randomBytes(24).toString('base64url');
const NETWORK_SECRET = randomBytes(32);

function assertProblem(res: RawResponse, status: number, pattern?: RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json as Record<string, unknown>;
  assert.equal(body.status, status);
  if (pattern) assert.match(String(body.detail), pattern);
}

describe('a server started with a client token', () => {
  let server: TestServer;
  const log = memoryLog();
  before(async () => {
    server = await startTestServer({ log, security: { clientToken: TOKEN }, peer: { networkSecret: NETWORK_SECRET } });
  });
  after(async () => {
    await server.close();
  });

  const UNKNOWN = '00000000-0000-4000-8000-000000000000';
  // Every client API operation of the spec: [method, path, body].
  const clientOperations: [string, string, unknown][] = [
    ['GET', '/representations', undefined],
    ['POST', '/representations', { args: [], kwargs: { protocol: 'Simon' } }],
    ['PUT', '/representations', { args: [1], kwargs: {} }],
    ['GET', `/representation/${UNKNOWN}`, undefined],
    ['PATCH', `/representation/${UNKNOWN}`, { args: [], kwargs: {} }],
    ['DELETE', `/representation/${UNKNOWN}`, undefined],
    ['GET', `/representation/${UNKNOWN}/compute`, undefined],
    // Operations, but behind the client token like the client API: who computes how much is not public.
    ['GET', '/metrics', undefined],
  ];

  test('the table covers every operation the spec marks with bearerAuth', () => {
    const guarded = protectedOperations(loadSpec()).map((o) => `${o.method.toUpperCase()} ${o.path}`).sort();
    const tested = clientOperations.map(([m, p]) => `${m} ${p.replace(UNKNOWN, '{representation_uuid}').replace('/compute', '/{attribute_name}')}`).sort();
    assert.deepEqual(tested, guarded);
  });

  const wrongCredentials: [string, Record<string, string>, RegExp, string][] = [
    ['no Authorization header', {}, /requires a client token/, 'Bearer realm="tessera"'],
    ['a wrong token', { authorization: `Bearer ${TOKEN}x` }, /not valid/, 'Bearer realm="tessera", error="invalid_token"'],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, 10)}` }, /not valid/, 'Bearer realm="tessera", error="invalid_token"'],
    ['an empty bearer token', { authorization: 'Bearer ' }, /must be "Bearer <token>"/, 'Bearer realm="tessera", error="invalid_token"'],
    ['Basic credentials', { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` }, /must be "Bearer <token>"/, 'Bearer realm="tessera", error="invalid_token"'],
    ['the token without a scheme', { authorization: TOKEN }, /must be "Bearer <token>"/, 'Bearer realm="tessera", error="invalid_token"'],
    ['a peer credential: the network secret as a bearer token', { authorization: `Bearer ${NETWORK_SECRET.toString('base64url')}` }, /not valid/, 'Bearer realm="tessera", error="invalid_token"'],
  ];
  for (const [method, path, body] of clientOperations) {
    for (const [name, headers, pattern, challenge] of wrongCredentials) {
      test(`${method} ${path.replace(UNKNOWN, '{uuid}')} with ${name}: 401 problem, WWW-Authenticate`, async () => {
        const res = await rawRequest(server.url, path, { method, headers, ...(body !== undefined ? { jsonBody: body } : {}) });
        assertProblem(res, 401, pattern);
        assert.equal(res.headers['www-authenticate'], challenge);
        assert.equal((res.json as { where?: string }).where, 'Authorization');
      });
    }
  }

  // Deny by default: every spelling of a client path that routing, decoding or normalisation could
  // map to an operation needs the token (POST /REPRESENTATIONS once reached createRepresentation).
  const spellings = [
    '/REPRESENTATIONS', '/Representations', '/representations/', '/representations//', '//representations', '/representations%2F',
    '/./representations', '/representation/x/../../representations', '/%72epresentations', '/representations;x', '/representations?x=1',
    `/representation/${UNKNOWN}/%63ompute`, `/REPRESENTATION/${UNKNOWN}`, '/HEALTH/../representations', '/docs/../representations', '/peer/../representations',
  ];
  for (const path of spellings) {
    test(`no spelling of a client path passes without the token: ${path}`, async () => {
      const before = server.bus.size;
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
        const res = await rawRequest(server.url, path, { method, exactPath: true, jsonBody: { args: [1], kwargs: { protocol: 'Simon' } } });
        assertProblem(res, 401);
      }
      assert.equal(server.bus.size, before, 'nothing was created');
    });
  }

  test('with the token, only the spec\'s own spelling of a path is an operation (routing is case-sensitive)', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const res = await rawRequest(server.url, '/REPRESENTATIONS', { method: 'POST', headers, exactPath: true, jsonBody: { args: [], kwargs: { protocol: 'Simon' } } });
    assertProblem(res, 404);
  });

  test('with the token every client operation works (the scheme is case-insensitive)', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const headers = { authorization: `${scheme} ${TOKEN}` };
      const created = await rawRequest(server.url, '/representations', { method: 'POST', headers, jsonBody: { args: [], kwargs: { protocol: 'Simon' } } });
      assert.equal(created.status, 200, created.text);
      const uuid = (created.json as { uuid: string }).uuid;
      const member = await rawRequest(server.url, `/representation/${uuid}/compute`, { headers });
      assert.equal(member.status, 200, member.text);
      const uploaded = await rawRequest(server.url, '/representations', { method: 'PUT', headers, jsonBody: { args: [[1, 2]], kwargs: {} } });
      const value = (uploaded.json as { uuid: string }).uuid;
      const down = await rawRequest(server.url, `/representation/${value}`, { headers });
      assert.deepEqual(down.json, { type: 'object', object: [1, 2] });
      for (const u of [value, (member.json as { uuid: string }).uuid, uuid]) {
        assert.equal((await rawRequest(server.url, `/representation/${u}`, { method: 'DELETE', headers })).status, 200);
      }
    }
  });

  test('health, the spec and Swagger UI stay open (they hold nothing of a party)', async () => {
    for (const path of ['/health', '/openapi.yaml', '/openapi.json', '/docs', '/docs/swagger-ui.css', '/docs/swagger-ui-init.js', '/peer/identity']) {
      const res = await rawRequest(server.url, path);
      assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 200)}`);
    }
  });

  test('an unauthenticated caller cannot make the server read a large body: 401 before 413', async () => {
    const big = `{"args":[${'1,'.repeat(9_000_000)}1],"kwargs":{}}`;
    const res = await rawRequest(server.url, '/representations', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: big });
    assertProblem(res, 401);
  });

  test('a client token is no authentication on the peer API: a forged envelope with it is still refused', async () => {
    const forged = Buffer.concat([Buffer.from('TSPM\x01'), Buffer.alloc(4), randomBytes(64)]);
    const withToken = await rawRequest(server.url, '/peer/messages', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' },
      body: forged,
    });
    assert.ok(withToken.status === 400 || withToken.status === 401, withToken.text);
    assert.match(String(withToken.headers['content-type']), /problem\+json/);
    assert.equal(withToken.headers['www-authenticate'], undefined, 'the peer API never asks for a bearer token');
    // The peer identity is public (peers need it before they can seal anything).
    const identity = await rawRequest(server.url, '/peer/identity');
    assert.equal(identity.status, 200);
    assert.equal((identity.json as { publicKey: string }).publicKey, server.publicKey);
  });

  test('a peer envelope is no authentication on the client API', async () => {
    const res = await rawRequest(server.url, '/representations', {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.concat([Buffer.from('TSPM\x01'), randomBytes(200)]),
    });
    assertProblem(res, 401);
  });

  test('every failure is logged, and the token never reaches the log', async () => {
    await rawRequest(server.url, '/representations', { headers: { authorization: 'Bearer wrong-token-of-some-length' } });
    const failures = log.lines.filter((l) => l.msg === 'client authentication failed');
    assert.ok(failures.length >= clientOperations.length * wrongCredentials.length, `${failures.length} failures logged`);
    assert.ok(failures.some((l) => (l.obj as { reason?: string }).reason === 'invalid'));
    assert.ok(failures.some((l) => (l.obj as { reason?: string }).reason === 'missing'));
    const everything = JSON.stringify(log.lines);
    assert.ok(!everything.includes(TOKEN), 'the token is not in the log');
    assert.ok(!everything.includes(NETWORK_SECRET.toString('base64url')), 'the secret is not in the log');
  });
});

describe('binding beyond loopback', () => {
  test('without a token the server refuses to listen on 0.0.0.0, naming what to do', async () => {
    await assert.rejects(
      startTestServer({ host: '0.0.0.0' }),
      (err: Error & { where?: string }) => /without a client token/.test(err.message) && /--unauthenticated-clients/.test(err.message) && err.where === 'host',
    );
  });

  for (const [name, security] of [
    ['with a token', { clientToken: TOKEN }],
    ['with unauthenticatedClients (and a loud warning)', { unauthenticatedClients: true }],
  ] as const) {
    test(`${name} it listens on 0.0.0.0`, async () => {
      const log = memoryLog();
      const server = await startTestServer({ host: '0.0.0.0', log, security });
      try {
        const res = await rawRequest(`http://127.0.0.1:${server.port}`, '/health');
        assert.equal(res.status, 200);
        const warned = log.lines.some((l) => l.level === 'warn' && /CLIENTS ARE NOT AUTHENTICATED/.test(l.msg ?? ''));
        assert.equal(warned, 'unauthenticatedClients' in security);
      } finally {
        await server.close();
      }
    });
  }

  for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost']) {
    test(`loopback ${host} needs no token`, async () => {
      const { isLoopback } = await import('../../server/loopback.js');
      assert.equal(isLoopback(host), true);
    });
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.org', '192.168.1.1']) {
    test(`${host} is not loopback`, async () => {
      const { isLoopback } = await import('../../server/loopback.js');
      assert.equal(isLoopback(host), false);
    });
  }

  for (const [token, pattern] of [
    ['short', /at least 16 characters/],
    ['with a space in it, long enough', /visible ASCII/],
    ['tab\tseparated-long-token', /visible ASCII/],
  ] as const) {
    test(`a weak or unsendable token is refused: ${JSON.stringify(token)}`, () => {
      assert.throws(() => checkClientToken(token), pattern);
    });
  }
});
