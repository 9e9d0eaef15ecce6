// bodyByOperation reads the common client bodies (none at all; UTF-8 JSON of a declared length)
// itself rather than through body-parser (server/http/body.ts, plainJsonBody). What a request's
// body becomes must not change: the same raw requests go through bodyByOperation and through
// body-parser's json({ strict: true }) as the server used it before, and the body each leaves on
// the request, or the error's type and status, must be the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import request from 'supertest';
import { binaryBody, bodyByOperation } from '../../server/http/body.js';
import { loadSpec } from '../../server/http/spec.js';

const LIMIT = 4096;

function appWith(parser: RequestHandler): express.Express {
  const app = express();
  app.use(parser);
  app.use(((req, res) => {
    const body: unknown = req.body;
    res.json({ body: Buffer.isBuffer(body) ? { buffer: body.toString('hex') } : body === undefined ? { undefined: true } : body });
  }) as RequestHandler);
  app.use(((err: { status?: number; type?: string }, _req, res, _next) => {
    res.status(err.status ?? 500).json({ type: err.type ?? null });
  }) as ErrorRequestHandler);
  return app;
}

const ours = appWith(bodyByOperation(loadSpec(), { json: LIMIT, binary: LIMIT, other: LIMIT }));
const json = express.json({ limit: LIMIT, strict: true });
const binary = binaryBody(LIMIT);
const bodyParser = appWith((req, res, next) => json(req, res, (err?: unknown) => (err === undefined ? binary(req, res, next) : next(err))));

const cases: [string, string, string | undefined, string | Buffer | undefined][] = [
  // name, method and path, Content-Type, body
  ['an object', 'POST /representations', 'application/json', '{"args":[],"kwargs":{"protocol":"Simon"}}'],
  ['{} on a GET (FSC client)', 'GET /representations', 'application/json', '{}'],
  ['an array', 'PUT /representations', 'application/json', '[1,2]'],
  ['an empty body of length 0', 'POST /representations', 'application/json', ''],
  ['leading whitespace', 'POST /representations', 'application/json', ' \r\n\t{"a":1}'],
  ['a byte order mark', 'POST /representations', 'application/json', '\ufeff{"a":1}'],
  ['non-ASCII text', 'PUT /representations', 'application/json', '{"args":["Zürich ✓ 😀"]}'],
  ['charset=utf-8', 'POST /representations', 'application/json; charset=utf-8', '{"a":1}'],
  ['charset=UTF-8 without a space', 'POST /representations', 'application/json;charset=UTF-8', '{"a":1}'],
  ['charset=latin1', 'POST /representations', 'application/json; charset=latin1', '{"a":1}'],
  ['charset=utf-16', 'POST /representations', 'application/json; charset=utf-16', '{"a":1}'],
  ['a string (not strict JSON)', 'POST /representations', 'application/json', '"x"'],
  ['a number', 'POST /representations', 'application/json', '1'],
  ['null', 'POST /representations', 'application/json', 'null'],
  ['whitespace only', 'POST /representations', 'application/json', '   '],
  ['cut short', 'POST /representations', 'application/json', '{"args": ['],
  ['invalid UTF-8', 'POST /representations', 'application/json', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
  ['no body, no Content-Type', 'GET /representations', undefined, undefined],
  ['no body, JSON Content-Type', 'DELETE /representations', 'application/json', undefined],
  ['text/plain', 'POST /representations', 'text/plain', 'hi'],
  ['application/merge-patch+json', 'PATCH /representations', 'application/merge-patch+json', '{"a":1}'],
  ['octet-stream', 'PUT /representations', 'application/octet-stream', Buffer.from([1, 2, 3])],
];

for (const [name, route, type, body] of cases) {
  test(`a body as body-parser left it: ${name}`, async () => {
    const [method, path] = route.split(' ') as [string, string];
    const send = (app: express.Express) => {
      let r = request(app)[method.toLowerCase() as 'get'](path);
      if (type !== undefined) r = r.set('Content-Type', type);
      return body === undefined ? r : r.send(body);
    };
    const [mine, theirs] = await Promise.all([send(ours), send(bodyParser)]);
    assert.equal(mine.status, theirs.status, `${mine.text} / ${theirs.text}`);
    assert.deepEqual(mine.body, theirs.body);
  });
}

test('the cases above include both outcomes: a parsed body and a 400 entity.parse.failed', async () => {
  const statuses = new Set<number>();
  for (const [, route, type, body] of cases.slice(0, 17)) {
    const [method, path] = route.split(' ') as [string, string];
    let r = request(ours)[method.toLowerCase() as 'get'](path);
    if (type !== undefined) r = r.set('Content-Type', type);
    statuses.add((await (body === undefined ? r : r.send(body))).status);
  }
  assert.deepEqual([...statuses].sort(), [200, 400, 415]);
});
