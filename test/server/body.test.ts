// Binary bodies read into one buffer (server/http/body.ts): declared and chunked bodies, the
// limit enforced for both, encodings refused, and a client that goes away mid-body harms nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { TensorSet } from '../../services/common/tensors.js';
import { startTestServer, type TestServer } from '../support/cluster.js';
import { rawRequest } from '../support/http.js';

let server: TestServer;
const LIMIT = 64 * 1024;
before(async () => {
  server = await startTestServer({ limits: { binaryBodyBytes: LIMIT } });
});
after(async () => {
  await server.close();
});

/** PUT /representations with the body written in pieces and no Content-Length (chunked). */
async function putChunked(pieces: Buffer[], headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await rawRequest(server.url, '/representations', { method: 'PUT', headers: { 'content-type': 'application/octet-stream', ...headers }, chunks: pieces });
  return { status: res.status, body: res.text };
}

const model = TensorSet.from({ w: new Float32Array(1000).map((_, i) => i / 7) }).toSafetensors();

test('a chunked upload (no Content-Length) is read whole', async () => {
  const pieces = [model.subarray(0, 100), model.subarray(100, 2000), model.subarray(2000)];
  const { status, body } = await putChunked(pieces);
  assert.equal(status, 200, body);
  const { uuid } = JSON.parse(body) as { uuid: string };
  const download = await rawRequest(server.url, `/representation/${uuid}`, { headers: { accept: 'application/octet-stream' } });
  assert.ok(download.body.equals(model));
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
  const health = await rawRequest(server.url, '/health');
  assert.equal(health.status, 200);
  const { status } = await putChunked([model]);
  assert.equal(status, 200);
});
