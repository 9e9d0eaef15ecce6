// startServer: a real party server on an ephemeral port with its peer node, stopped cleanly.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/main.js';
import { memoryLog } from './helpers.js';

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('startServer', () => {
  let dir: string;
  let server: RunningServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-main-'));
    server = await startServer({ dataDir: join(dir, 'a'), port: 0, log: memoryLog(), validateResponses: true });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('listens on loopback at an ephemeral port and answers health', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(server.port > 0);
    const res = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.equal((await json(res)).status, 'ok');
  });

  test('the peer identity comes from the peer node', async () => {
    const res = await fetch(`${server.url}/peer/identity`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(typeof body.publicKey, 'string');
    assert.equal(typeof body.bootId, 'string');
  });

  for (const [name, bytes] of [
    ['an empty envelope', Buffer.alloc(0)],
    ['garbage bytes', Buffer.from('this is not an envelope at all')],
    ['random bytes', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256))],
  ] as const) {
    test(`${name} to /peer/messages is a 4xx problem`, async () => {
      const res = await fetch(`${server.url}/peer/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: bytes,
        signal: AbortSignal.timeout(5000),
      });
      assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const body = await json(res);
      assert.equal(body.code, res.status);
      // Still serving.
      assert.equal((await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(5000) })).status, 200);
    });
  }
});

test('close() ends a waiting call promptly, and is idempotent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-close-'));
  const server = await startServer({ dataDir: dir, port: 0, log: memoryLog(), shutdownGraceMs: 2000 });
  try {
    const post = (path: string, method: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      }).then(json);
    const barrier = (await post('/representations', 'POST', { args: [], kwargs: { microservice: 'Barrier' } })).uuid as string;
    const wait = (await fetch(`${server.url}/representation/${barrier}/wait`).then(json)).uuid as string;
    // A barrier nobody else joins, with a long timeout: only shutdown can end it.
    const pending = fetch(`${server.url}/representation/${wait}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ args: ['forever', 2, 600], kwargs: {} }),
      signal: AbortSignal.timeout(10_000),
    }).then(
      (res) => res.status,
      () => 'connection closed',
    );
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await Promise.all([server.close(), server.close()]);
    assert.ok(Date.now() - started < 5000, 'shutdown did not wait for the barrier timeout');
    const outcome = await pending;
    assert.ok(outcome === 'connection closed' || (typeof outcome === 'number' && outcome >= 500), String(outcome));
    await assert.rejects(fetch(`${server.url}/health`, { signal: AbortSignal.timeout(2000) }));
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
