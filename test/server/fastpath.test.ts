// The representation operations of a computation skip Express's router (server/http/fastpath.ts);
// nothing else about a request may change. The same good and bad requests go, over real HTTP, to
// two servers that differ only in that (`fastPath: false` on one): every answer's status,
// headers and body, and every line each server logs, must be the same, uuids aside (each server
// makes its own).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, createBus, createDefaultRegistry, type AppLimits } from '../../server/app.js';
import type { SecurityOptions } from '../../server/http/security.js';
import { SERVER_OBJECT, type Microservice } from '../../services/microservice.js';
import { memoryLog, UNKNOWN_UUID } from './helpers.js';

const TOKEN = 'fastpath-test-token-0123456789';
const ALLOWED_ORIGIN = 'https://app.example.org';

/** A local microservice: a member that echoes its arguments and one that fails unexpectedly. */
function testService(): Microservice {
  return {
    [SERVER_OBJECT]: true,
    description: { namespace: 'test', plugin: 'Test', version: '1' },
    members: Object.freeze({
      echo: (args: unknown[], kwargs: Record<string, unknown>) => ({ args, kwargs }),
      explode: () => {
        throw new Error('an internal error');
      },
    }),
  };
}

interface Party {
  readonly url: string;
  readonly log: ReturnType<typeof memoryLog>;
  /** Named uuids this party's server made, for the requests that follow. */
  readonly names: Map<string, string>;
  close(): Promise<void>;
}

async function startParty(fastPath: boolean, security: SecurityOptions, limits: AppLimits): Promise<Party> {
  const log = memoryLog();
  const registry = createDefaultRegistry();
  registry.register(testService());
  const bus = createBus({ log, registry, limits });
  return listening(createServer(createApp({ bus, log, limits, security, fastPath })), log, bus);
}

/** A party on `server`, listening on an ephemeral port; closing it closes the server and its bus. */
async function listening(server: Server, log: Party['log'], bus: { close(): Promise<void> }): Promise<Party> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    names: new Map(),
    async close() {
      server.closeAllConnections();
      server.close();
      await bus.close();
    },
  };
}

interface Sent {
  readonly method: string;
  /** `{name}` is replaced by the uuid this party's server gave that name. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length). */
  readonly chunked?: boolean;
  /** Name the uuid of the answer, for later requests. */
  readonly name?: string;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(party: Party, sent: Sent): Promise<Answer> {
  const path = sent.path.replace(/\{(\w+)\}/g, (_m, name: string) => party.names.get(name) ?? UNKNOWN_UUID);
  const headers: Record<string, string | number> = { ...sent.headers };
  if (sent.body !== undefined && !sent.chunked) headers['Content-Length'] = Buffer.byteLength(sent.body);
  return new Promise<Answer>((resolve, reject) => {
    const req = request(`${party.url}${path}`, { method: sent.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // A server that refuses a body before reading it may close the connection while it is sent.
    req.on('error', reject);
    if (sent.chunked && sent.body !== undefined) req.write(sent.body);
    req.end(sent.chunked ? undefined : sent.body);
  });
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const sameUuids = (text: string): string => text.replace(UUID, '<uuid>');

/** What must be the same both ways: everything but the Date header and the uuids. */
function comparable(answer: Answer): unknown {
  const { date: _date, ...headers } = answer.headers;
  return { status: answer.status, headers: JSON.parse(sameUuids(JSON.stringify(headers))) as unknown, body: sameUuids(answer.body) };
}

/** A log line as it must be the same both ways: a request's duration and an error's stack aside. */
function comparableLog(party: Party): unknown[] {
  return party.log.lines.map(({ level, obj, msg }) => {
    const { ms: _ms, err, ...rest } = obj;
    return { level, msg, obj: JSON.parse(sameUuids(JSON.stringify({ ...rest, ...(err instanceof Error ? { err: err.message } : {}) }))) as unknown };
  });
}

const json = { 'Content-Type': 'application/json' };
/** How FSC's Python client sends its requests: its headers and a `{}` body on GET and DELETE. */
const fsc = { 'User-Agent': 'python-requests/2.28.1', 'Accept-Encoding': 'gzip, deflate', Accept: '*/*', Connection: 'keep-alive', ...json };
const deep = `{"args":[${'['.repeat(20)}${']'.repeat(20)}]}`;

/** A computation's requests, good and bad, in order; for a server without client tokens. */
const open: [string, Sent][] = [
  ['create', { method: 'POST', path: '/representations', headers: json, body: '{"args":[],"kwargs":{"plugin":"Test"}}', name: 'svc' }],
  ['create, FSC client', { method: 'POST', path: '/representations', headers: fsc, body: '{"args": [], "kwargs": {"protocol": "Simon"}}', name: 'simon' }],
  ['attribute', { method: 'GET', path: '/representation/{svc}/echo', name: 'echo' }],
  ['attribute, FSC client', { method: 'GET', path: '/representation/{simon}/compute', headers: fsc, body: '{}' }],
  ['attribute, unknown member', { method: 'GET', path: '/representation/{svc}/nothing' }],
  ['attribute, a name too long', { method: 'GET', path: `/representation/{svc}/${'a'.repeat(300)}` }],
  ['call', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: '{"args":[918273,"x"],"kwargs":{"data":[2.5]}}', name: 'result' }],
  ['call, charset=utf-8', { method: 'PATCH', path: '/representation/{echo}', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: '{"args":[],"kwargs":{}}' }],
  ['call, chunked', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: '{"args":[3],"kwargs":{}}', chunked: true }],
  ['call, args not a list', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: '{"args":3,"kwargs":{}}' }],
  ['call, kwargs a list', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: '{"args":[],"kwargs":[]}' }],
  ['call, an unknown member', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: '{"args":[],"kwargs":{},"extra":1}' }],
  ['call, malformed JSON', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: '{"args": [' }],
  ['call, not an object', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: '"x"' }],
  ['call, text/plain', { method: 'PATCH', path: '/representation/{echo}', headers: { 'Content-Type': 'text/plain' }, body: 'hi' }],
  ['call, no Content-Type', { method: 'PATCH', path: '/representation/{echo}' }],
  ['call, gzip', { method: 'PATCH', path: '/representation/{echo}', headers: { ...json, 'Content-Encoding': 'gzip' }, body: '{}' }],
  ['call, too large', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: `{"args":["${'x'.repeat(3000)}"]}` }],
  ['call, too large and chunked', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: `{"args":["${'x'.repeat(3000)}"]}`, chunked: true }],
  ['call, nested too deep', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: deep }],
  ['call, an unknown uuid in the arguments', { method: 'PATCH', path: '/representation/{echo}', headers: json, body: `{"args":[{"representation_uuid":"${UNKNOWN_UUID}"}]}` }],
  ['call, a value (not callable)', { method: 'PATCH', path: '/representation/{result}', headers: json, body: '{}' }],
  ['attribute, a member that fails', { method: 'GET', path: '/representation/{svc}/explode', name: 'explode' }],
  ['call, a member that fails (500)', { method: 'PATCH', path: '/representation/{explode}', headers: json, body: '{}' }],
  ['call, a microservice (not callable)', { method: 'PATCH', path: '/representation/{svc}', headers: json, body: '{}' }],
  ['call, an unknown query parameter', { method: 'PATCH', path: '/representation/{echo}?x=1', headers: json, body: '{}' }],
  ['download', { method: 'GET', path: '/representation/{result}' }],
  ['download, FSC client', { method: 'GET', path: '/representation/{result}', headers: fsc, body: '{}' }],
  ['download, a body on a GET', { method: 'GET', path: '/representation/{result}', headers: json, body: '{"a":1}' }],
  ['download as safetensors, not tensors', { method: 'GET', path: '/representation/{result}', headers: { Accept: 'application/octet-stream' } }],
  ['download, a microservice', { method: 'GET', path: '/representation/{svc}' }],
  ['download, not a uuid', { method: 'GET', path: '/representation/not-a-uuid' }],
  ['download, a malformed escape', { method: 'GET', path: '/representation/%E0%A4%A' }],
  ['download, unknown', { method: 'GET', path: `/representation/${UNKNOWN_UUID}` }],
  ['download, from a foreign origin', { method: 'GET', path: '/representation/{result}', headers: { Origin: 'https://evil.example' } }],
  ['download, from this server\'s own origin', { method: 'GET', path: '/representation/{result}', headers: { Origin: 'http://{host}' } }],
  ['download, for another host', { method: 'GET', path: '/representation/{result}', headers: { Host: 'rebound.example' } }],
  ['release, FSC client', { method: 'DELETE', path: '/representation/{result}', headers: fsc, body: '{}' }],
  ['release, again', { method: 'DELETE', path: '/representation/{result}' }],
  ['release', { method: 'DELETE', path: '/representation/{echo}' }],
  ['create, HEAD (not an operation)', { method: 'HEAD', path: '/representations' }],
  ['list (through Express both ways)', { method: 'GET', path: '/representations' }],
];

/** The same with a client token and an allowed origin. */
const guarded: [string, Sent][] = [
  ['create, no token', { method: 'POST', path: '/representations', headers: json, body: '{"args":[],"kwargs":{"plugin":"Test"}}' }],
  ['create, a malformed Authorization', { method: 'POST', path: '/representations', headers: { ...json, Authorization: 'Basic abc' }, body: '{}' }],
  ['create, a wrong token', { method: 'POST', path: '/representations', headers: { ...json, Authorization: 'Bearer wrong-token-0123456789' }, body: '{}' }],
  ['create, a wrong token and too large', { method: 'POST', path: '/representations', headers: { ...json, Authorization: 'Bearer x' }, body: 'x'.repeat(5000) }],
  ['create', { method: 'POST', path: '/representations', headers: { ...json, Authorization: `Bearer ${TOKEN}` }, body: '{"args":[],"kwargs":{"plugin":"Test"}}', name: 'svc' }],
  ['attribute, allowed origin', { method: 'GET', path: '/representation/{svc}/echo', headers: { Authorization: `bearer ${TOKEN}`, Origin: ALLOWED_ORIGIN }, name: 'echo' }],
  ['call, allowed origin', { method: 'PATCH', path: '/representation/{echo}', headers: { ...json, Authorization: `Bearer ${TOKEN}`, Origin: ALLOWED_ORIGIN }, body: '{"args":[1]}' }],
  ['call, allowed origin, no token', { method: 'PATCH', path: '/representation/{echo}', headers: { ...json, Origin: ALLOWED_ORIGIN }, body: '{"args":[1]}' }],
  ['release, no token', { method: 'DELETE', path: '/representation/{echo}' }],
  ['release', { method: 'DELETE', path: '/representation/{echo}', headers: { Authorization: `Bearer ${TOKEN}` } }],
];

const limits: AppLimits = { jsonBodyBytes: 2048, jsonDepth: 10 };
const configurations: [string, SecurityOptions, [string, Sent][]][] = [
  ['without client tokens, loopback names only', { allowedHosts: ['127.0.0.1'] }, open],
  ['with a client token and an allowed origin', { clientToken: TOKEN, corsOrigins: [ALLOWED_ORIGIN] }, guarded],
];

const parties: Party[] = [];
after(() => Promise.all(parties.map((p) => p.close())));

for (const [configuration, security, requests] of configurations) {
  test(`the same answers and log lines with and without the fast path, ${configuration}`, async (t) => {
    const fast = await startParty(true, security, limits);
    const stock = await startParty(false, security, limits);
    parties.push(fast, stock);
    for (const [name, sent] of requests) {
      await t.test(name, async () => {
        const answers: Answer[] = [];
        for (const party of [fast, stock]) {
          const withHost = sent.headers?.Origin === 'http://{host}' ? { ...sent, headers: { ...sent.headers, Origin: party.url } } : sent;
          const answer = await send(party, withHost);
          if (sent.name !== undefined) {
            const uuid = (JSON.parse(answer.body) as { uuid?: unknown }).uuid;
            assert.equal(typeof uuid, 'string', `${name}: ${answer.status} ${answer.body}`);
            party.names.set(sent.name, uuid as string);
          }
          answers.push(answer);
        }
        assert.deepEqual(comparable(answers[0]!), comparable(answers[1]!));
      });
    }
    assert.deepEqual(comparableLog(fast), comparableLog(stock));
    // No input value reaches a log line either way.
    assert.doesNotMatch(JSON.stringify(comparableLog(fast)), /918273/);
  });
}

test("a computation's requests skip Express's router; every other request goes through it", async () => {
  const log = memoryLog();
  const registry = createDefaultRegistry();
  registry.register(testService());
  const bus = createBus({ log, registry, limits });
  const app = createApp({ bus, log, limits, security: { allowedHosts: ['127.0.0.1'] } });
  // Express 4 keeps its router on the app; count the requests it is asked to route.
  const router = (app as unknown as { _router: { handle: (...args: unknown[]) => unknown } })._router;
  const routed: string[] = [];
  const handle = router.handle.bind(router);
  router.handle = (...args: unknown[]) => {
    const req = args[0] as { method: string; url: string };
    routed.push(`${req.method} ${req.url}`);
    return handle(...args);
  };
  const party = await listening(createServer(app), log, bus);
  parties.push(party);
  const computation: Sent[] = [
    { method: 'POST', path: '/representations', headers: json, body: '{"args":[],"kwargs":{"plugin":"Test"}}', name: 'svc' },
    { method: 'GET', path: '/representation/{svc}/echo', name: 'echo' },
    { method: 'PATCH', path: '/representation/{echo}', headers: json, body: '{"args":[1],"kwargs":{}}', name: 'result' },
    { method: 'GET', path: '/representation/{result}' },
    { method: 'DELETE', path: '/representation/{result}' },
  ];
  for (const sent of computation) {
    const answer = await send(party, sent);
    assert.equal(answer.status, 200, `${sent.method} ${sent.path}: ${answer.body}`);
    if (sent.name !== undefined) party.names.set(sent.name, (JSON.parse(answer.body) as { uuid: string }).uuid);
  }
  assert.deepEqual(routed, []);
  for (const path of ['/representations', '/health', '/openapi.json']) {
    assert.equal((await send(party, { method: 'GET', path })).status, 200, path);
  }
  assert.deepEqual(routed, ['GET /representations', 'GET /health', 'GET /openapi.json']);
});
