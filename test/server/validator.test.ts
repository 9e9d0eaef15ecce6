// The request validator (server/http/validator.ts) builds express-openapi-validator's middlewares
// once and matches routes with patterns compiled once; what it checks must be exactly what the
// stock `middleware()` checks. The same requests go to two apps that differ only in the
// validator, and every answer (status, the operation matched, the decoded path parameters, the
// error's message, its violations, the Allow header) must be the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import request from 'supertest';
import { requestValidator } from '../../server/http/validator.js';
import { loadSpec } from '../../server/http/spec.js';

const UUID = '0b7d1c2e-1f1a-4a5e-9c3b-2d7e8f9a0b1c';

function appWith(validator: RequestHandler | RequestHandler[]): express.Express {
  const app = express();
  app.set('case sensitive routing', true);
  app.set('query parser', 'simple');
  app.use(express.json({ strict: true }));
  app.use(validator);
  app.use(((req, res) => {
    const openapi = (req as { openapi?: { schema?: { operationId?: string }; pathParams?: unknown } }).openapi;
    res.json({ matched: openapi?.schema?.operationId ?? null, params: openapi?.pathParams ?? null, reqParams: req.params });
  }) as RequestHandler);
  app.use(((err: { status?: number; message?: string; errors?: unknown; headers?: Record<string, string> }, _req, res, _next) => {
    res.status(err.status ?? 500).json({ message: err.message, errors: err.errors ?? null, allow: err.headers?.Allow ?? null });
  }) as ErrorRequestHandler);
  return app;
}

const spec = loadSpec();
const ours = appWith(requestValidator(spec, { caseSensitive: true, strict: false }));
const stock = appWith(
  OpenApiValidator.middleware({
    apiSpec: structuredClone(spec.document) as never,
    validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false },
    validateResponses: false,
    validateSecurity: false,
    validateFormats: true,
  }) as RequestHandler[],
);

type Send = (agent: ReturnType<typeof request>) => request.Test;
const cases: [string, Send][] = [
  ['list', (a) => a.get('/representations')],
  ['list with a trailing slash', (a) => a.get('/representations/')],
  ['list with {} (FSC client)', (a) => a.get('/representations').set('Content-Type', 'application/json').send('{}')],
  ['list, upper case', (a) => a.get('/REPRESENTATIONS')],
  ['create', (a) => a.post('/representations').send({ args: [], kwargs: { protocol: 'Simon' } })],
  ['create, args not a list', (a) => a.post('/representations').send({ args: 3, kwargs: {} })],
  ['create, text/plain', (a) => a.post('/representations').set('Content-Type', 'text/plain').send('hi')],
  ['upload', (a) => a.put('/representations').send({ args: [1] })],
  ['download', (a) => a.get(`/representation/${UUID}`)],
  ['download, not a uuid', (a) => a.get('/representation/not-a-uuid')],
  ['download, an escaped uuid', (a) => a.get(`/representation/${encodeURIComponent(UUID).replace('0', '%30')}`)],
  ['download, a malformed escape', (a) => a.get('/representation/%E0%A4%A')],
  ['attribute', (a) => a.get(`/representation/${UUID}/compute`)],
  ['attribute, a name too long', (a) => a.get(`/representation/${UUID}/${'a'.repeat(300)}`)],
  ['attribute, an escaped slash', (a) => a.get(`/representation/${UUID}/a%2Fb`)],
  ['call', (a) => a.patch(`/representation/${UUID}`).send({ args: [], kwargs: { microprotocol: 'SecureSum' } })],
  ['call, kwargs a list', (a) => a.patch(`/representation/${UUID}`).send({ args: [], kwargs: [] })],
  ['call, no body', (a) => a.patch(`/representation/${UUID}`)],
  ['release', (a) => a.delete(`/representation/${UUID}`)],
  ['a method the path lacks', (a) => a.post('/health')],
  ['a method no path has', (a) => a.put(`/representation/${UUID}`)],
  ['an unknown path', (a) => a.get('/nothing/here')],
  ['an unknown query parameter', (a) => a.get('/representations?debug=1')],
  ['the peer identity with a challenge', (a) => a.get('/peer/identity?challenge=abc')],
  ['the peer identity with two challenges', (a) => a.get('/peer/identity?challenge=a&challenge=b')],
  ['health', (a) => a.get('/health')],
  ['docs', (a) => a.get('/docs')],
  ['a docs asset', (a) => a.get('/docs/swagger-ui.css')],
];

for (const [name, send] of cases) {
  test(`the same answer as the stock validator: ${name}`, async () => {
    const [mine, theirs] = await Promise.all([send(request(ours)), send(request(stock))]);
    assert.equal(mine.status, theirs.status, `${mine.text} / ${theirs.text}`);
    assert.deepEqual(mine.body, theirs.body);
  });
}

test('every operation is reachable, and the answers above cover success and refusal', async () => {
  const statuses = new Set<number>();
  for (const [, send] of cases) statuses.add((await send(request(ours))).status);
  for (const status of [200, 400, 404, 405, 415]) assert.ok(statuses.has(status), `some case answers ${status}`);
});
