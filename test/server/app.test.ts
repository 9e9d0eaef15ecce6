// Every operation of openapi.yaml against createApp, success and failure, with response
// validation on (a response that strays from the spec fails the request with a 500).

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { TensorSet } from '../../services/common/tensors.js';
import { Registry } from '../../server/registry.js';
import { createDefaultRegistry } from '../../server/app.js';
import { SERVER_OBJECT, type Microservice, type ServerObject } from '../../services/microservice.js';
import { UnauthenticatedError } from '../../services/errors.js';
import { SIMON_DESCRIPTION } from '../../services/simon/index.js';
import { BARRIER_DESCRIPTION, BROADCAST_DESCRIPTION } from '../../services/sync/index.js';
import { KEY_VALUE_STORAGE_DESCRIPTION } from '../../services/util/index.js';
import { assertProblem, makeApp, UNKNOWN_UUID } from './helpers.js';
import { TestClient } from '../support/supertest-client.js';

/** A microservice for the tests: a prepared computation, a failing member, a bad return value. */
function testService(): Microservice {
  const prepared: ServerObject = {
    [SERVER_OBJECT]: true,
    members: Object.freeze({ run: (args: unknown[]) => ({ ran: args }) }),
  };
  return {
    [SERVER_OBJECT]: true,
    description: { namespace: 'test', plugin: 'Test', version: '1' },
    members: Object.freeze({
      prepare: () => prepared,
      explode: () => {
        throw new Error('database password is hunter2');
      },
      returnsFunction: () => () => 1,
      echo: (args: unknown[], kwargs: Record<string, unknown>) => ({ args, kwargs }),
      proto: (_args: unknown[], kwargs: Record<string, unknown>) => ({
        polluted: ({} as Record<string, unknown>).polluted === true,
        ownKeys: Object.keys(kwargs),
        prototypeIsObject: Object.getPrototypeOf(kwargs.value) === Object.prototype,
      }),
    }),
  };
}

function registryWithTestService(): Registry {
  const registry = createDefaultRegistry();
  registry.register(testService());
  return registry;
}

const tensors = TensorSet.from({
  bias: Float32Array.of(0.5, -1.25),
  weight: { dtype: 'F64', shape: [2, 2], data: Float64Array.of(1, 2, 3, 4.5) },
});

describe('client API: list and create', () => {
  const { app, close } = makeApp();
  after(close);
  const client = new TestClient(app);

  test('list answers every built-in microservice description', async () => {
    const res = await request(app).get('/representations');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      type: 'list',
      list: [SIMON_DESCRIPTION, BARRIER_DESCRIPTION, BROADCAST_DESCRIPTION, KEY_VALUE_STORAGE_DESCRIPTION],
    });
  });

  test('GET and DELETE accept the JSON body {} that v0.6 clients send', async () => {
    const list = await request(app).get('/representations').set('Content-Type', 'application/json').send('{}');
    assert.equal(list.status, 200);
    const uuid = await client.create({ protocol: 'Simon' });
    const attr = await request(app).get(`/representation/${uuid}/compute`).set('Content-Type', 'application/json').send('{}');
    assert.equal(attr.status, 200);
    const del = await request(app).delete(`/representation/${uuid}`).set('Content-Type', 'application/json').send('{}');
    assert.deepEqual(del.body, { type: 'none' });
  });

  test('a GET with a non-empty body is a 400 naming the body', async () => {
    const res = await request(app).get('/representations').set('Content-Type', 'application/json').send('{"args":[1]}');
    assertProblem(res, 400, /takes no body/, 'body');
  });

  for (const [name, kwargs] of [
    ['by protocol', { protocol: 'Simon' }],
    ['by full description', { ...SIMON_DESCRIPTION }],
    ['by plugin and microservice', { plugin: 'Sync', microservice: 'Barrier' }],
    ['with no requirement (first registered)', {}],
  ] as const) {
    test(`create matches ${name}`, async () => {
      const res = await request(app).post('/representations').send({ args: [], kwargs });
      assert.equal(res.status, 200);
      assert.equal(res.body.type, 'uuid');
      assert.match(res.body.uuid, /^[0-9a-f-]{36}$/);
    });
  }

  for (const [name, kwargs] of [
    ['an unknown protocol', { protocol: 'Nope' }],
    ['a requirement no description has', { protocol: 'Simon', colour: 'blue' }],
    ['a value of another type', { version: 0.6 }],
    ['an inherited name', { constructor: 'Object' }],
  ] as [string, Record<string, unknown>][]) {
    test(`create with ${name} is a 404`, async () => {
      const res = await request(app).post('/representations').send({ args: [], kwargs });
      assertProblem(res, 404, /no microservice matches/, 'kwargs');
    });
  }

  test('create with positional arguments is a 400 naming args', async () => {
    const res = await request(app).post('/representations').send({ args: ['Simon'], kwargs: {} });
    assertProblem(res, 400, /keyword arguments/, 'args');
  });

  test('each create answers a fresh uuid; releasing one keeps the microservice', async () => {
    const a = await client.create({ plugin: 'Util' });
    const b = await client.create({ plugin: 'Util' });
    assert.notEqual(a, b);
    const set = await client.attribute(a, 'set');
    await client.release(a);
    // The microservice is still there: the member bound before, and new aliases, work.
    assert.equal((await client.call(set, ['k', 1])).status, 200);
    assert.equal(await client.invoke(b, 'get', ['k']), 1);
    assert.equal(await client.invoke(await client.create({ plugin: 'Util' }), 'get', ['k']), 1);
  });
});

describe('client API: upload and download', () => {
  const { app, close } = makeApp();
  after(close);
  const client = new TestClient(app);

  for (const [name, value] of [
    ['a number', 19],
    ['a string', 'secret'],
    ['null', null],
    ['a list', [1, 2.5, -3]],
    ['an object', { a: { b: [true, false] }, '': 0 }],
  ] as const) {
    test(`upload then download ${name}`, async () => {
      const uuid = await client.upload(value);
      assert.deepEqual(await client.download(uuid), value);
    });
  }

  test('upload needs exactly one positional argument', async () => {
    for (const args of [[], [1, 2]]) {
      const res = await request(app).put('/representations').send({ args, kwargs: {} });
      assertProblem(res, 400, /args/, 'body.args');
    }
  });

  test('a safetensors upload downloads as JSON tensors and as the same safetensors bytes', async () => {
    const file = tensors.toSafetensors();
    const up = await request(app).put('/representations').set('Content-Type', 'application/octet-stream').send(file);
    assert.equal(up.status, 200, up.text);
    const uuid = up.body.uuid as string;
    const json = await client.download(uuid);
    assert.deepEqual(json, {
      bias: { dtype: 'F32', shape: [2], data: [0.5, -1.25] },
      weight: { dtype: 'F64', shape: [2, 2], data: [1, 2, 3, 4.5] },
    });
    const bin = await request(app)
      .get(`/representation/${uuid}`)
      .set('Accept', 'application/octet-stream')
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    assert.equal(bin.status, 200);
    assert.match(String(bin.headers['content-type']), /^application\/octet-stream/);
    assert.ok(Buffer.compare(bin.body as Buffer, file) === 0, 'the same bytes come back');
  });

  test('a corrupt safetensors upload is a 400 that says what is wrong', async () => {
    const res = await request(app).put('/representations').set('Content-Type', 'application/octet-stream').send(Buffer.from('abc'));
    assertProblem(res, 400, /truncated|header/);
  });

  test('downloading a JSON value as octet-stream is a 406', async () => {
    const uuid = await client.upload({ a: 1 });
    const res = await request(app).get(`/representation/${uuid}`).set('Accept', 'application/octet-stream');
    assertProblem(res, 406, /named tensors/);
  });

  test('downloading a microservice or a member is a 400 "not downloadable"', async () => {
    const service = await client.create({ plugin: 'Util' });
    const member = await client.attribute(service, 'get');
    for (const uuid of [service, member]) {
      assertProblem(await request(app).get(`/representation/${uuid}`), 400, /not downloadable/);
    }
  });
});

describe('client API: attributes', () => {
  const { app, close } = makeApp();
  after(close);
  const client = new TestClient(app);

  test('a member of a microservice is a new representation', async () => {
    const service = await client.create({ plugin: 'Util' });
    const res = await request(app).get(`/representation/${service}/keys`);
    assert.equal(res.status, 200);
    assert.equal(res.body.type, 'uuid');
  });

  for (const name of ['__proto__', 'constructor', 'prototype', '_private', '__defineGetter__']) {
    test(`attribute '${name}' of a microservice is a 403, never a call`, async () => {
      const service = await client.create({ plugin: 'Util' });
      assertProblem(await request(app).get(`/representation/${service}/${name}`), 403, /not accessible/, name);
    });
  }

  for (const name of ['toString', 'hasOwnProperty', 'valueOf', 'members', 'description', 'nope']) {
    test(`attribute '${name}' (inherited, internal or unknown) of a microservice is a 404`, async () => {
      const service = await client.create({ plugin: 'Util' });
      assertProblem(await request(app).get(`/representation/${service}/${name}`), 404, /no member/, name);
    });
  }

  test('own properties of a JSON object are attributes; others are 403/404', async () => {
    const uuid = await client.upload({ sum: 85, nested: { x: [1] } });
    assert.equal(await client.download(await client.attribute(uuid, 'sum')), 85);
    assert.deepEqual(await client.download(await client.attribute(uuid, 'nested')), { x: [1] });
    assertProblem(await request(app).get(`/representation/${uuid}/constructor`), 403);
    assertProblem(await request(app).get(`/representation/${uuid}/_sum`), 403);
    assertProblem(await request(app).get(`/representation/${uuid}/toString`), 404);
    assertProblem(await request(app).get(`/representation/${uuid}/missing`), 404);
  });

  test('a list or a number has no attributes (404)', async () => {
    for (const value of [[1, 2], 7]) {
      const uuid = await client.upload(value);
      assertProblem(await request(app).get(`/representation/${uuid}/length`), 404, /no attribute/);
    }
  });

  test('an attribute of an unknown uuid is a 404 naming representation_uuid', async () => {
    assertProblem(await request(app).get(`/representation/${UNKNOWN_UUID}/get`), 404, /no representation/, 'representation_uuid');
  });

  // Handlers are dispatched on the operation the validator matched (server/app.ts,
  // operationDispatch): they must see the path parameters decoded, as Express's router gave them.
  test('a percent-encoded attribute name reaches the handler decoded', async () => {
    const uuid = await client.upload({ 'a b': 5, sum: 85 });
    assert.equal(await client.download((await request(app).get(`/representation/${uuid}/%73um`).expect(200)).body.uuid), 85);
    assert.equal(await client.download((await request(app).get(`/representation/${uuid}/a%20b`).expect(200)).body.uuid), 5);
    assertProblem(await request(app).get(`/representation/${uuid}/%5Fsum`), 403, /not accessible/, '_sum');
  });
});

describe('client API: calls and release', () => {
  const { app, close, log } = makeApp({ registry: registryWithTestService() });
  after(close);
  const client = new TestClient(app);

  test('KeyValueStorage set/get/keys/delete through calls', async () => {
    const kv = await client.create({ plugin: 'Util', microservice: 'KeyValueStorage' });
    const set = await client.attribute(kv, 'set');
    const res = await client.call(set, ['round'], { value: 3 });
    assert.deepEqual(res.body, { type: 'none' });
    assert.equal(await client.invoke(kv, 'get', [], { key: 'round' }), 3);
    assert.deepEqual(await client.invoke(kv, 'keys'), ['round']);
    assert.equal(await client.invoke(kv, 'delete', ['round']), undefined);
    const get = await client.attribute(kv, 'get');
    assertProblem(await client.call(get, ['round']), 404, /no key/, 'key');
    assertProblem(await client.call(get, [], { kee: 'round' }), 400, /no parameter 'kee'/, 'kwargs.kee');
  });

  test('{"representation_uuid"} arguments are resolved before the call, at any depth', async () => {
    const value = await client.upload({ secret: 19 });
    const svc = await client.create({ plugin: 'Test' });
    const echoed = await client.invoke(svc, 'echo', [{ representation_uuid: value }], { deep: [{ x: { representation_uuid: value } }] });
    assert.deepEqual(echoed, { args: [{ secret: 19 }], kwargs: { deep: [{ x: { secret: 19 } }] } });
  });

  test('an unknown uuid in an argument is a 404 naming the field path', async () => {
    const svc = await client.create({ plugin: 'Test' });
    const echo = await client.attribute(svc, 'echo');
    assertProblem(await client.call(echo, [1, { representation_uuid: UNKNOWN_UUID }]), 404, /no representation/, 'args[1]');
    assertProblem(
      await client.call(echo, [], { data: { tensors: { representation_uuid: UNKNOWN_UUID } } }),
      404,
      /no representation/,
      'kwargs.data.tensors',
    );
  });

  test('a "__proto__" key in the arguments stays a plain own property', async () => {
    const svc = await client.create({ plugin: 'Test' });
    const proto = await client.attribute(svc, 'proto');
    const res = await request(app)
      .patch(`/representation/${proto}`)
      .set('Content-Type', 'application/json')
      .send('{"args":[],"kwargs":{"value":{"__proto__":{"polluted":true}}}}');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(await client.download(res.body.uuid), { polluted: false, ownKeys: ['value'], prototypeIsObject: true });
  });

  test('a returned server object is callable through its members only, and not downloadable', async () => {
    const svc = await client.create({ plugin: 'Test' });
    const prepared = (await client.call(await client.attribute(svc, 'prepare'))).body.uuid as string;
    assert.deepEqual(await client.invoke(prepared, 'run', [7]), { ran: [7] });
    assertProblem(await request(app).get(`/representation/${prepared}/constructor`), 403);
    assertProblem(await request(app).get(`/representation/${prepared}/other`), 404);
    assertProblem(await request(app).get(`/representation/${prepared}`), 400, /not downloadable/);
  });

  test('calling a microservice or a value is a 400 "not callable"', async () => {
    const svc = await client.create({ plugin: 'Util' });
    const value = await client.upload(1);
    for (const uuid of [svc, value]) assertProblem(await client.call(uuid), 400, /not callable/, 'representation_uuid');
  });

  test('Simon compute is reachable; a call without a usable network is a clear 4xx problem, never a 500', async () => {
    // The stub answers 501; SecureSum (services/simon) answers 400 naming the field. Either way
    // the server maps it to a problem and does not crash.
    const simon = await client.create({ protocol: 'Simon' });
    const compute = await client.attribute(simon, 'compute');
    const res = await client.call(compute, [], { microprotocol: 'SecureSum', data: 1, network: {} });
    assert.ok(res.status === 400 || res.status === 501, res.text);
    assertProblem(res, res.status);
  });

  test('an unexpected error is a generic 500; its details only reach the log', async () => {
    const svc = await client.create({ plugin: 'Test' });
    const res = await client.call(await client.attribute(svc, 'explode'));
    assertProblem(res, 500, /internal error/);
    assert.doesNotMatch(res.text, /hunter2/);
    assert.ok(log.lines.some((l) => l.level === 'error' && String((l.obj as { err?: Error }).err?.message).includes('hunter2')));
  });

  test('a member returning a non-JSON value is a 500, not a broken representation', async () => {
    const svc = await client.create({ plugin: 'Test' });
    assertProblem(await client.call(await client.attribute(svc, 'returnsFunction')), 500);
  });

  test('release frees the representation: download, call, attribute and release are 404 after', async () => {
    const value = await client.upload(5);
    await client.release(value);
    assertProblem(await request(app).get(`/representation/${value}`), 404, /no representation/);
    assertProblem(await request(app).delete(`/representation/${value}`), 404);
    assertProblem(await client.call(value), 404);
    assertProblem(await request(app).get(`/representation/${value}/x`), 404);
  });
});

describe('bad input: each a 4xx problem, and the server keeps serving', () => {
  const { app, close } = makeApp({ limits: { jsonBodyBytes: 2048, binaryBodyBytes: 4096 } });
  after(close);
  const client = new TestClient(app);

  const cases: [string, () => request.Test, number, RegExp, string?][] = [
    ['malformed JSON', () => request(app).post('/representations').set('Content-Type', 'application/json').send('{"args": ['), 400, /malformed JSON/, 'body'],
    ['a JSON string body', () => request(app).post('/representations').set('Content-Type', 'application/json').send('"x"'), 400, /malformed JSON/],
    ['args not a list', () => request(app).post('/representations').send({ args: 3, kwargs: {} }), 400, /args must be array/, 'body.args'],
    ['kwargs not an object', () => request(app).patch(`/representation/${UNKNOWN_UUID}`).send({ args: [], kwargs: [] }), 400, /kwargs/],
    ['a non-uuid path', () => request(app).get('/representation/not-a-uuid'), 400, /format "uuid"/, 'params.representation_uuid'],
    ['an unknown uuid', () => request(app).get(`/representation/${UNKNOWN_UUID}`), 404, /no representation/, 'representation_uuid'],
    ['an oversized JSON body', () => request(app).put('/representations').send({ args: ['x'.repeat(4096)], kwargs: {} }), 413, /larger than 2048/, 'body'],
    ['an oversized binary body', () => request(app).put('/representations').set('Content-Type', 'application/octet-stream').send(Buffer.alloc(8192)), 413, /larger than 4096/],
    ['a wrong content type', () => request(app).post('/representations').set('Content-Type', 'text/plain').send('hi'), 415, /text\/plain/, 'Content-Type'],
    ['no body at all', () => request(app).patch(`/representation/${UNKNOWN_UUID}`), 415, /Content-Type/, 'Content-Type'],
    ['a JSON body that says gzip but is not', () => request(app).post('/representations').set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('{}'), 400, /could not be read/, 'body'],
    ['binary where only JSON is taken', () => request(app).post('/representations').set('Content-Type', 'application/octet-stream').send(Buffer.from('{}')), 415, /octet-stream/],
    ['an unknown path', () => request(app).get('/nothing/here'), 404, /not found/],
    ['a method the path lacks', () => request(app).post('/health'), 405, /not allowed/],
    ['an unknown query parameter', () => request(app).get('/representations?debug=1'), 400, /Unknown query parameter/, 'query.debug'],
    ['an attribute name too long', () => request(app).get(`/representation/${UNKNOWN_UUID}/${'a'.repeat(300)}`), 400, /256/],
  ];
  for (const [name, send, status, detail, where] of cases) {
    test(`${name} -> ${status}`, async () => {
      assertProblem(await send(), status, detail, where);
      // The server keeps serving.
      assert.equal((await request(app).get('/representations')).status, 200);
      assert.equal(await client.download(await client.upload(1)), 1);
    });
  }
});

describe('limits: count and lifetime of representations', () => {
  test('one representation beyond the limit is a 429; releasing one makes room', async () => {
    const { app, close } = makeApp({ limits: { maxRepresentations: 3 } });
    try {
      const client = new TestClient(app);
      const uuids = [await client.upload(1), await client.upload(2), await client.upload(3)];
      const res = await request(app).put('/representations').send({ args: [4], kwargs: {} });
      assertProblem(res, 429, /at most 3 representations/);
      assertProblem(await request(app).post('/representations').send({ args: [], kwargs: {} }), 429);
      await client.release(uuids[0]!);
      assert.equal(await client.download(await client.upload(4)), 4);
    } finally {
      await close();
    }
  });

  test('a representation unused for the TTL expires (404); use keeps it alive', async () => {
    let now = 1_000_000;
    const { app, bus, close } = makeApp({ limits: { representationTtlMs: 1000 }, now: () => now });
    try {
      const client = new TestClient(app);
      const idle = await client.upload('idle');
      const busy = await client.upload('busy');
      now += 600;
      assert.equal(await client.download(busy), 'busy');
      now += 600;
      assertProblem(await request(app).get(`/representation/${idle}`), 404, /expired/);
      assert.equal(await client.download(busy), 'busy');
      now += 1001;
      assert.equal(bus.sweep(), 1, 'the sweep drops the expired entry');
      assertProblem(await request(app).get(`/representation/${busy}`), 404);
      assert.equal(bus.size, 0);
    } finally {
      await close();
    }
  });
});

describe('operations', () => {
  const { app, close } = makeApp();
  after(close);

  test('health reports status, version, uptime and the representation count', async () => {
    await new TestClient(app).upload(1);
    const res = await request(app).get('/health');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.body.version, '0.1.0');
    assert.ok(res.body.uptimeSeconds >= 0);
    assert.equal(res.body.representations, 1);
  });

  test('the spec is served as YAML and as JSON, and they agree', async () => {
    const yamlRes = await request(app).get('/openapi.yaml');
    assert.equal(yamlRes.status, 200);
    assert.match(String(yamlRes.headers['content-type']), /^application\/yaml/);
    assert.match(yamlRes.text, /^openapi: 3\.0\.3/);
    const jsonRes = await request(app).get('/openapi.json');
    assert.equal(jsonRes.status, 200);
    assert.equal(jsonRes.body.openapi, '3.0.3');
    // Swagger UI's "Try it out" must call the server that served it, whatever its port.
    assert.deepEqual(jsonRes.body.servers[0], { url: '/', description: 'This server' });
    assert.ok(jsonRes.body.paths['/representations']);
  });

  test('Swagger UI: the page at /docs and its assets, pointing at /openapi.json', async () => {
    const page = await request(app).get('/docs');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /swagger-ui/);
    assert.match(page.text, /src="\/docs\/swagger-ui-bundle\.js"/);
    const css = await request(app).get('/docs/swagger-ui.css');
    assert.equal(css.status, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    const init = await request(app).get('/docs/swagger-ui-init.js');
    assert.equal(init.status, 200);
    assert.match(init.text, /\/openapi\.json/);
  });
});

describe('response validation', () => {
  test('a response that strays from the spec is caught as a 500 (validation is really on)', async () => {
    // PeerIdentity requires publicKey; this endpoint forgets it.
    const { app, close, log } = makeApp({ peerEndpoint: { identity: () => ({ bootId: 'b' }), deliver: async () => {} } });
    try {
      assertProblem(await request(app).get('/peer/identity'), 500, /internal error/);
      assert.ok(log.lines.some((l) => l.level === 'error' && /publicKey/.test(String((l.obj as { err?: Error }).err?.message))));
    } finally {
      await close();
    }
  });
});

describe('peer API routes', () => {
  test('without a peer layer both routes answer 501 problems', async () => {
    const { app, close } = makeApp();
    try {
      assertProblem(await request(app).get('/peer/identity'), 501, /peer layer/);
      assertProblem(await request(app).post('/peer/messages').set('Content-Type', 'application/octet-stream').send(Buffer.from('x')), 501);
    } finally {
      await close();
    }
  });

  test('they hand the challenge and the raw envelope to the PeerEndpoint', async () => {
    const seen: { challenges: (string | undefined)[]; envelopes: Buffer[] } = { challenges: [], envelopes: [] };
    const { app, close } = makeApp({
      peerEndpoint: {
        identity: (challenge) => {
          seen.challenges.push(challenge);
          return { publicKey: 'pk', bootId: 'boot', ...(challenge !== undefined ? { proof: `p-${challenge}` } : {}) };
        },
        deliver: async (envelope) => {
          seen.envelopes.push(envelope);
          if (envelope[0] === 0xff) throw new UnauthenticatedError('envelope authentication failed', { where: 'party 1' });
        },
      },
    });
    try {
      const id = await request(app).get('/peer/identity?challenge=q1Vq2uN0h9r3kQ6x');
      assert.equal(id.status, 200);
      assert.deepEqual(id.body, { publicKey: 'pk', bootId: 'boot', proof: 'p-q1Vq2uN0h9r3kQ6x' });
      assert.deepEqual((await request(app).get('/peer/identity')).body, { publicKey: 'pk', bootId: 'boot' });
      assertProblem(await request(app).get('/peer/identity?challenge=not%20base64url'), 400, /pattern/);

      const ok = await request(app).post('/peer/messages').set('Content-Type', 'application/octet-stream').send(Buffer.from([1, 2, 3]));
      assert.equal(ok.status, 204);
      assert.deepEqual([...seen.envelopes[0]!], [1, 2, 3]);
      const forged = await request(app).post('/peer/messages').set('Content-Type', 'application/octet-stream').send(Buffer.from([0xff]));
      assertProblem(forged, 401, /authentication failed/, 'party 1');
      assertProblem(await request(app).post('/peer/messages').send({ a: 1 }), 415);
      assert.deepEqual(seen.challenges, ['q1Vq2uN0h9r3kQ6x', undefined]);
    } finally {
      await close();
    }
  });
});
