// The TypeScript client wrapper against a real Tessera server on an ephemeral port.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../../support/cluster.js';
import {
  Api,
  Representation,
  TensorSet,
  TesseraApiError,
  TesseraRequestError,
  TesseraTimeoutError,
} from '../../../clients/typescript/index.js';

const KEY_VALUE_STORAGE = { namespace: 'federatedsecure', plugin: 'Util', version: '0.6.0', microservice: 'KeyValueStorage' };
const SIMON = { namespace: 'federatedsecure', protocol: 'Simon', version: '0.6.0' };

/** Asserts that `promise` rejects with a TesseraApiError of `status` whose problem matches. */
async function rejectsWithProblem(promise: Promise<unknown>, status: number, detail: RegExp, where?: string): Promise<TesseraApiError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected a ${status} problem`),
    (err: unknown) => {
      caught = err;
    },
  );
  assert.ok(caught instanceof TesseraApiError, `TesseraApiError, got ${String(caught)}`);
  assert.equal(caught.status, status);
  assert.equal(caught.problem.status, status);
  assert.equal(caught.problem.code, status, 'v0.6 clients read `code`');
  assert.match(caught.problem.type, /\S/);
  assert.match(caught.problem.title, /\S/);
  assert.match(caught.problem.detail, detail);
  if (where !== undefined) assert.equal(caught.where, where);
  return caught;
}

describe('TypeScript client against a real server', () => {
  let server: TestServer;
  let api: Api;

  /** Live representations on the bus, from GET /health through the raw typed client. */
  async function liveRepresentations(): Promise<number> {
    const { data, error } = await api.client.GET('/health', { signal: AbortSignal.timeout(5000) });
    assert.equal(error, undefined);
    return data!.representations;
  }

  before(async () => {
    server = await startTestServer();
    api = new Api(server.url, { timeoutMs: 10_000 });
  });

  after(async () => {
    await server.close();
  });

  test('list gives the registered microservice descriptions', async () => {
    const list = await api.list();
    assert.ok(list.some((d) => d.protocol === SIMON.protocol && d.namespace === SIMON.namespace), JSON.stringify(list));
    assert.ok(list.some((d) => d.microservice === 'KeyValueStorage' && d.plugin === 'Util'), JSON.stringify(list));
  });

  test('create, member access and calls on KeyValueStorage (set/get)', async () => {
    const kv = await api.create<'set' | 'get' | 'keys'>({ plugin: 'Util', microservice: 'KeyValueStorage' });
    assert.ok(kv instanceof Representation);
    assert.match(kv.uuid, /^[0-9a-f-]{36}$/);

    // Member access through the proxy, keyword arguments: set answers none.
    assert.equal(await kv.set({ key: 'round', value: 3 }), undefined);
    const got = await kv.get({ key: 'round' });
    assert.ok(got instanceof Representation);
    assert.equal(await api.download(got), 3);

    // The explicit form: attribute, then call with positional arguments.
    const set = await kv.attribute('set');
    assert.equal(await set.call({}, 'model', { layers: [4, 2], name: 'mlp' }), undefined);
    const get = await kv.attribute('get');
    const model = await get.call({}, 'model');
    assert.deepEqual(await model!.download(), { layers: [4, 2], name: 'mlp' });

    // rep.member(name) works for any name, without a type parameter.
    const keys = await kv.member('keys')();
    assert.deepEqual(await api.download(keys), ['model', 'round']);

    for (const rep of [got, set, get, model, keys, kv]) await api.release(rep);
  });

  test('member access releases the bound member it creates', async () => {
    const kv = await api.create<'set'>(KEY_VALUE_STORAGE);
    const before = await liveRepresentations();
    for (let i = 0; i < 3; i++) await kv.set({ key: `k${i}`, value: i });
    assert.equal(await liveRepresentations(), before);
    await kv.release();
  });

  test('upload and download JSON; a representation inside an argument stands for its object', async () => {
    const values: unknown[] = [19, -2.5, 'text', null, true, [1, [2, 3]], { nested: { list: [1, 2], flag: false } }];
    for (const value of values) {
      const rep = await api.upload(value);
      assert.deepEqual(await api.download(rep), value, JSON.stringify(value));
      await api.release(rep);
    }
    const uploaded = await api.upload({ secret: 42 });
    const kv = await api.create<'set' | 'get'>(KEY_VALUE_STORAGE);
    await kv.set({ key: 'ref', value: uploaded }); // sent as {"representation_uuid": ...}
    const fetched = await kv.get({ key: 'ref' });
    assert.deepEqual(await api.download(fetched), { secret: 42 });
    for (const rep of [uploaded, kv, fetched]) await api.release(rep);
  });

  test('tensors round-trip in binary with byte equality, and download as JSON too', async () => {
    const set = new TensorSet(
      new Map([
        ['dense.bias', { dtype: 'F32' as const, shape: [3], data: Float32Array.of(0.5, -1, 3e-38) }],
        ['dense.kernel', { dtype: 'F64' as const, shape: [2, 3], data: Float64Array.of(1, -2, 0.1, 1e300, -0, 5e-324) }],
        ['empty', { dtype: 'F32' as const, shape: [0], data: new Float32Array(0) }],
        ['scalar', { dtype: 'F64' as const, shape: [], data: Float64Array.of(7) }],
      ]),
    );
    const rep = await api.uploadTensors(set);
    const back = await api.downloadTensors(rep);
    assert.deepEqual(back.manifest(), set.manifest());
    assert.deepEqual(back.toSafetensors(), set.toSafetensors());
    // JSON has no -0: compare with the JSON form as it travels.
    assert.deepEqual(await api.download(rep), JSON.parse(JSON.stringify(set.toJson())));
    await api.release(rep);

    // Named typed arrays are 1-D tensors.
    const weights = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
    const plain = await api.uploadTensors({ w: weights });
    const w = (await api.downloadTensors(plain)).get('w')!;
    assert.deepEqual(w.shape, [1000]);
    assert.deepEqual(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength), Buffer.from(weights.buffer));
    await api.release(plain);
  });

  test('a JSON value downloaded as tensors is a 406 problem', async () => {
    const rep = await api.upload(19);
    await rejectsWithProblem(api.downloadTensors(rep), 406, /tensors|octet-stream/);
    await api.release(rep);
  });

  test('released: download afterwards is a 404 problem naming the representation', async () => {
    const rep = await api.upload([1, 2, 3]);
    await rep.release();
    const err = await rejectsWithProblem(api.download(rep), 404, new RegExp(rep.uuid));
    assert.equal(err.operation, 'downloadRepresentation');
    await rejectsWithProblem(api.release(rep.uuid), 404, /./);
  });

  test('create with no matching microservice is a 404 problem', async () => {
    await rejectsWithProblem(api.create({ protocol: 'NoSuchProtocol' }), 404, /./);
  });

  const forbidden: [string, string][] = [
    ['prototype name', '__proto__'],
    ['constructor', 'constructor'],
    ['private member', '_store'],
  ];
  for (const [name, attribute] of forbidden) {
    test(`a forbidden attribute (${name}) is a 403 problem`, async () => {
      const kv = await api.create(KEY_VALUE_STORAGE);
      await rejectsWithProblem(kv.attribute(attribute), 403, /./);
      await kv.release();
    });
  }

  test('an unknown attribute is a 404 problem', async () => {
    const kv = await api.create(KEY_VALUE_STORAGE);
    await rejectsWithProblem(kv.attribute('noSuchMember'), 404, /noSuchMember/);
    await kv.release();
  });

  test('a bad call argument surfaces the problem and where it is', async () => {
    const kv = await api.create<'get'>(KEY_VALUE_STORAGE);
    await rejectsWithProblem(kv.get({ key: 'absent-key' }), 404, /absent-key/, 'key');
    await kv.release();
  });

  test('downloading nothing is refused locally, releasing nothing is a no-op', async () => {
    await assert.rejects(api.download(undefined), TypeError);
    await api.release(undefined);
  });

  test('the bearer token is sent on every request', async () => {
    const seen: (string | null)[] = [];
    const withToken = new Api(server.url, {
      token: 's3cret-token',
      timeoutMs: 5000,
      fetch: (request) => {
        seen.push(request.headers.get('authorization'));
        return fetch(request);
      },
    });
    await withToken.list();
    const rep = await withToken.upload(1);
    await withToken.release(rep);
    assert.deepEqual(seen, ['Bearer s3cret-token', 'Bearer s3cret-token', 'Bearer s3cret-token']);
  });
});

// Not Tessera servers on purpose: a plain socket that never answers, and a port nobody listens on.
describe('TypeScript client without a working server', () => {
  let silent: Server;
  let silentUrl: string;

  before(async () => {
    // Accepts connections and never answers: only the client's timeout ends a request.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });

  after(async () => {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  test('a server that never answers is a TesseraTimeoutError after timeoutMs', async () => {
    const api = new Api(silentUrl, { timeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(api.list(), (err: unknown) => err instanceof TesseraTimeoutError && err.timeoutMs === 200 && err.operation === 'listRepresentations' && err.message.includes(silentUrl));
    assert.ok(Date.now() - started < 5000);
    // A per-call timeout overrides the default.
    await assert.rejects(api.list({ timeoutMs: 50 }), (err: unknown) => err instanceof TesseraTimeoutError && err.timeoutMs === 50);
  });

  test('no server at all is a TesseraRequestError, not an API error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const api = new Api(`http://127.0.0.1:${port}`, { timeoutMs: 5000 });
    await assert.rejects(api.list(), (err: unknown) => err instanceof TesseraRequestError && !(err instanceof TesseraTimeoutError));
    // It names the server it could not reach and why, not just "fetch failed".
    await assert.rejects(api.list(), (err: unknown) => {
      assert.ok(err instanceof TesseraRequestError);
      assert.equal(err.url, `http://127.0.0.1:${port}`);
      assert.match(err.message, new RegExp(`^listRepresentations: cannot reach the Tessera server at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
      return true;
    });
  });
});
