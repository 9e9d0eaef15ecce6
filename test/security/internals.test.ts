// Nothing internal is reachable through the client API (SECURITY.md "Clients"): for every
// microservice a server offers, only its explicit members are attributes; every prototype,
// private or implementation name is a 403/404 problem (never a 200, never a 500), on the service,
// on a bound member, on JSON values and tensors alike. Microservice roots survive any release,
// cannot be replaced, and no listing reveals another client's representations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDefaultRegistry } from '../../server/app.js';
import { TensorSet } from '../../services/common/tensors.js';
import { startTestServer, type TestServer } from '../support/cluster.js';
import { RawClient, rawRequest } from '../support/http.js';

/** Names that reach internals in JavaScript or in a typical implementation of a service. */
const INTERNAL_NAMES = [
  '__proto__', 'constructor', 'prototype', '__defineGetter__', '__lookupGetter__', 'hasOwnProperty', 'toString', 'valueOf',
  'toJSON', 'then', 'call', 'apply', 'bind', 'caller', 'arguments', 'length', 'name',
  'members', 'description', 'close', 'store', 'state', 'sessions', 'session', 'peers', 'log', 'registry', 'bus', 'slots',
  '_private', '_store', '__dict__', '__class__', 'globalThis', 'process', 'require', 'eval',
  '%5F%5Fproto%5F%5F', 'con%73tructor',
];

describe('no member, attribute or storage beyond the explicit member lists', () => {
  let server: TestServer;
  let client: RawClient;
  before(async () => {
    server = await startTestServer();
    client = new RawClient(server.url);
  });
  after(async () => {
    await server.close();
  });

  async function attributeStatus(uuid: string, name: string): Promise<number> {
    const res = await client.request('GET', `/representation/${uuid}/${name.includes('%') ? name : encodeURIComponent(name)}`);
    if (res.status !== 200) assert.match(String(res.headers['content-type']), /problem\+json/, `${name}: ${res.text}`);
    return res.status;
  }

  for (const service of createDefaultRegistry().all()) {
    const label = Object.values(service.description).join('/');
    test(`${label}: every listed member is reachable; every internal name is 403/404`, async () => {
      const root = await client.create({ ...service.description });
      for (const member of Object.keys(service.members)) {
        assert.equal(await attributeStatus(root, member), 200, member);
      }
      for (const name of INTERNAL_NAMES) {
        if (Object.hasOwn(service.members, name)) continue;
        const status = await attributeStatus(root, name);
        assert.ok(status === 403 || status === 404, `${label}.${name} answered ${status}`);
      }
      // A bound member exposes nothing of the function behind it.
      const first = Object.keys(service.members)[0]!;
      const bound = await client.attribute(root, first);
      for (const name of INTERNAL_NAMES) {
        const status = await attributeStatus(bound, name);
        assert.ok(status === 403 || status === 404, `${label}.${first}.${name} answered ${status}`);
      }
      // Neither the service nor its member is downloadable.
      for (const uuid of [root, bound]) {
        assert.equal((await client.request('GET', `/representation/${uuid}`)).status, 400);
      }
    });
  }

  test('JSON values: own properties only; inherited and prototype names are 403/404', async () => {
    const value = await client.uuidOf(await client.request('PUT', '/representations', { args: [{ a: 1, nested: { b: 2 } }], kwargs: {} }), 'upload');
    assert.equal(await attributeStatus(value, 'a'), 200);
    assert.equal(await attributeStatus(value, 'nested'), 200);
    for (const name of INTERNAL_NAMES) {
      const status = await attributeStatus(value, name);
      assert.ok(status === 403 || status === 404, `value.${name} answered ${status}`);
    }
  });

  test('tensors expose no attributes (their data, buffers or methods)', async () => {
    const body = new TensorSet(new Map([['w', { dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) }]])).toSafetensors();
    const res = await rawRequest(server.url, '/representations', { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body });
    const uuid = await client.uuidOf(res, 'upload tensors');
    for (const name of ['w', 'data', 'buffer', 'byteLength', 'get', 'toJson', 'names', 'manifest', ...INTERNAL_NAMES]) {
      const status = await attributeStatus(uuid, name);
      assert.ok(status === 403 || status === 404, `tensors.${name} answered ${status}`);
    }
  });

  test('a microservice root cannot be released or replaced: releasing an alias leaves the service to everyone else', async () => {
    const [mine, theirs] = [await client.create({ protocol: 'Simon' }), await client.create({ protocol: 'Simon' })];
    assert.notEqual(mine, theirs);
    assert.equal((await client.release(mine)).status, 200);
    assert.equal((await client.release(mine)).status, 404, 'a released uuid is a clean 404');
    assert.equal(await attributeStatus(theirs, 'compute'), 200);
    // An upload of a reference stores the JSON as it is: it never aliases, or overwrites, a root.
    const fake = await client.uuidOf(await client.request('PUT', '/representations', { args: [{ representation_uuid: theirs }], kwargs: {} }), 'upload');
    assert.deepEqual(await client.download(fake), { representation_uuid: theirs });
    // Storing the service object in KeyValueStorage and deleting it there does not touch the root.
    const kv = await client.create({ microservice: 'KeyValueStorage' });
    const set = await client.attribute(kv, 'set');
    assert.equal((await client.request('PATCH', `/representation/${set}`, { args: [], kwargs: { key: 'simon', value: { representation_uuid: theirs } } })).status, 200);
    const del = await client.attribute(kv, 'delete');
    assert.equal((await client.request('PATCH', `/representation/${del}`, { args: [], kwargs: { key: 'simon' } })).status, 200);
    assert.equal(await attributeStatus(theirs, 'compute'), 200);
    // The list still offers every microservice.
    const list = await client.request('GET', '/representations');
    assert.equal((list.json as { list: unknown[] }).list.length, createDefaultRegistry().all().length);
  });

  test('the list never reveals representations (anyone\'s uploads and results stay unnamed)', async () => {
    const uuids = await Promise.all([1, 2, 3].map(async (v) => client.uuidOf(await client.request('PUT', '/representations', { args: [v], kwargs: {} }), 'upload')));
    const list = await client.request('GET', '/representations');
    for (const uuid of uuids) assert.ok(!list.text.includes(uuid));
    const health = await client.request('GET', '/health');
    for (const uuid of uuids) assert.ok(!health.text.includes(uuid));
  });

  test('prototype-pollution keys in arguments stay data: no object of the server process changes', async () => {
    // As raw text: a JavaScript literal with __proto__ would set a prototype instead of a key.
    const payloads = [
      '{"args": [{"__proto__": {"polluted": "yes"}}], "kwargs": {}}',
      '{"args": [], "kwargs": {"constructor": {"prototype": {"polluted": "yes"}}}}',
      '{"args": [{"key": "k", "value": {"__proto__": {"polluted": "yes"}}}], "kwargs": {"__proto__": {"polluted": "yes"}}}',
      '{"__proto__": {"args": [], "kwargs": {}}, "args": [1], "kwargs": {}}',
    ];
    const kv = await client.create({ microservice: 'KeyValueStorage' });
    const set = await client.attribute(kv, 'set');
    for (const text of payloads) {
      for (const [method, path] of [['PUT', '/representations'], ['PATCH', `/representation/${set}`], ['POST', '/representations']] as const) {
        const res = await rawRequest(server.url, path, { method, headers: { 'content-type': 'application/json' }, body: text });
        assert.ok(res.status < 500, `${method} ${path}: ${res.status} ${res.text}`);
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    assert.equal((Object as unknown as Record<string, unknown>).polluted, undefined);
  });
});
