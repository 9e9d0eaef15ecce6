// The client's Node transport (clients/typescript/transport.ts): in Node, without a fetch of the
// caller's, JSON requests go through node:http on one kept-alive connection, not through fetch;
// answers and errors read exactly as through fetch.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../../support/cluster.js';
import { Api, TesseraApiError, TesseraRequestError, TesseraTimeoutError } from '../../../clients/typescript/index.js';

const KEY_VALUE_STORAGE = { namespace: 'federatedsecure', plugin: 'Util', version: '0.6.0', microservice: 'KeyValueStorage' };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('the Node transport of the TypeScript client', () => {
  let tessera: TestServer;
  // The same Express app behind an http.Server of the test's own, which counts connections.
  let counted: Server;
  let url: string;
  let connections = 0;

  before(async () => {
    tessera = await startTestServer();
    counted = createServer(tessera.app);
    counted.on('connection', () => (connections += 1));
    url = await listen(counted);
  });

  after(async () => {
    await stop(counted);
    await tessera.close();
  });

  test('JSON requests bypass fetch and reuse one connection', async () => {
    const original = globalThis.fetch;
    let fetched = 0;
    globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
      fetched += 1;
      return original(...args);
    }) as typeof fetch;
    try {
      const api = new Api(url, { timeoutMs: 10_000 });
      connections = 0;
      const list = await api.list();
      assert.ok(list.some((d) => d.microservice === 'KeyValueStorage'));
      const kv = await api.create<'set' | 'get'>(KEY_VALUE_STORAGE);
      await kv.set({ key: 'k', value: { nested: [1, 2.5, 'é'] } });
      const got = await kv.get({ key: 'k' });
      assert.deepEqual(await api.download(got), { nested: [1, 2.5, 'é'] });
      await api.release(got);
      const uploaded = await api.upload([3, 4]);
      assert.deepEqual(await uploaded.download(), [3, 4]);
      await uploaded.release();
      await kv.release();
      // A released representation is gone: the server's 404 problem, read through the same path.
      await assert.rejects(api.download(uploaded), (err: unknown) => err instanceof TesseraApiError && err.status === 404);
      assert.equal(fetched, 0, 'no request went through fetch');
      assert.equal(connections, 1, 'every request, one after the other, used the same kept-alive connection');
    } finally {
      globalThis.fetch = original;
    }
  });

  test('with a fetch of the caller, every request goes through it', async () => {
    let fetched = 0;
    const api = new Api(url, {
      timeoutMs: 10_000,
      fetch: (request) => {
        fetched += 1;
        return fetch(request);
      },
    });
    const rep = await api.upload(7);
    assert.equal(await api.download(rep), 7);
    await api.release(rep);
    assert.equal(fetched, 3);
  });
});

describe('the Node transport against servers that are not Tessera', () => {
  test('a success answer that is not JSON is a TesseraRequestError, not data', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a proxy page</html>');
    });
    const url = await listen(server);
    try {
      await assert.rejects(new Api(url, { timeoutMs: 5000 }).list(), (err: unknown) =>
        err instanceof TesseraRequestError && !(err instanceof TesseraApiError) && /not JSON/.test(err.message));
    } finally {
      await stop(server);
    }
  });

  test('an error answer that is not a problem document is wrapped in one', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/plain' }).end('upstream down');
    });
    const url = await listen(server);
    try {
      await assert.rejects(new Api(url, { timeoutMs: 5000 }).list(), (err: unknown) =>
        err instanceof TesseraApiError && err.status === 502 && err.problem.detail === 'upstream down' && err.problem.title === 'Bad Gateway');
    } finally {
      await stop(server);
    }
  });

  test('a character split across two chunks of the answer reads whole', async () => {
    const body = Buffer.from(JSON.stringify({ list: [{ name: 'é€😀' }] }), 'utf8');
    const cut = body.indexOf(Buffer.from('€', 'utf8')) + 1;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.write(body.subarray(0, cut));
      // The rest in a later write, so the client reads the answer in two chunks.
      setTimeout(() => res.end(body.subarray(cut)), 20);
    });
    const url = await listen(server);
    try {
      assert.deepEqual(await new Api(url, { timeoutMs: 5000 }).list(), [{ name: 'é€😀' }]);
    } finally {
      await stop(server);
    }
  });

  test('the time limit covers the answer\'s body: headers and then nothing is a TesseraTimeoutError', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
      res.write('{"list": [');
    });
    const url = await listen(server);
    try {
      await assert.rejects(new Api(url, { timeoutMs: 200 }).list(), (err: unknown) =>
        err instanceof TesseraTimeoutError && err.timeoutMs === 200 && err.operation === 'listRepresentations');
    } finally {
      await stop(server);
    }
  });

  test('the caller\'s signal ends a request at once: a TesseraRequestError, not a timeout, and the connection closed', async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = createServer((req) => req.socket.on('close', () => closed()));
    const url = await listen(server);
    try {
      const controller = new AbortController();
      const started = Date.now();
      const pending = new Api(url, { timeoutMs: 60_000 }).list({ signal: controller.signal });
      setTimeout(() => controller.abort(new Error('the caller gave up')), 50);
      await assert.rejects(pending, (err: unknown) =>
        err instanceof TesseraRequestError && !(err instanceof TesseraTimeoutError) && /the caller gave up/.test(err.message));
      await connectionClosed;
      assert.ok(Date.now() - started < 5000);
      // A signal that has already fired sends nothing.
      await assert.rejects(new Api(url, { timeoutMs: 60_000 }).list({ signal: AbortSignal.abort(new Error('too late')) }), /too late/);
    } finally {
      await stop(server);
    }
  });
});
