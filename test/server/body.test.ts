// Binary bodies read into one buffer (server/http/body.ts): declared and chunked bodies, the
// limit enforced for both, encodings refused, and a client that goes away mid-body harms nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/main.js';
import { TensorSet } from '../../services/common/tensors.js';

let server: RunningServer;
let dir: string;
const LIMIT = 64 * 1024;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-body-'));
  server = await startServer({ dataDir: dir, port: 0, logLevel: 'silent', limits: { binaryBodyBytes: LIMIT } });
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** PUT /representations with the body written in pieces and no Content-Length (chunked). */
function putChunked(pieces: Buffer[], headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL('/representations', server.url);
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers: { 'content-type': 'application/octet-stream', ...headers } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    for (const piece of pieces) req.write(piece);
    req.end();
  });
}

const model = TensorSet.from({ w: new Float32Array(1000).map((_, i) => i / 7) }).toSafetensors();

test('a chunked upload (no Content-Length) is read whole', async () => {
  const pieces = [model.subarray(0, 100), model.subarray(100, 2000), model.subarray(2000)];
  const { status, body } = await putChunked(pieces);
  assert.equal(status, 200, body);
  const { uuid } = JSON.parse(body) as { uuid: string };
  const download = await fetch(`${server.url}/representation/${uuid}`, { headers: { accept: 'application/octet-stream' } });
  assert.ok(Buffer.from(await download.arrayBuffer()).equals(model));
});

test('a chunked upload past the limit is a 413 problem, as soon as the limit is passed', async () => {
  const { status, body } = await putChunked(Array.from({ length: 20 }, () => Buffer.alloc(8192)));
  assert.equal(status, 413);
  assert.match(JSON.parse(body).detail, new RegExp(`larger than ${LIMIT}`));
});

test('a compressed body is refused (415) rather than inflated', async () => {
  const { status, body } = await putChunked([model], { 'content-encoding': 'gzip' });
  assert.equal(status, 415);
  assert.equal(JSON.parse(body).where, 'Content-Encoding');
});

test('a client that goes away mid-body leaves the server serving', async () => {
  const url = new URL(server.url);
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`PUT /representations HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 5000\r\n\r\n`);
      socket.write(Buffer.alloc(100));
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 50);
    });
    socket.on('error', reject);
  });
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
  const { status } = await putChunked([model]);
  assert.equal(status, 200);
});
