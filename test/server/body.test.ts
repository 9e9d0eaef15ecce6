// Binary bodies read into one buffer (server/http/body.ts): declared and chunked bodies, the
// limit enforced for both, encodings refused, and a client that goes away mid-body harms nothing;
// and the in-flight guard of peer bodies (inflightGuard), which cuts a body that stops moving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { once } from 'node:events';
import express from 'express';
import { TensorSet } from '../../services/common/tensors.js';
import { binaryBody, inflightGuard } from '../../server/http/body.js';
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

// The in-flight guard of unauthenticated peer bodies (inflightGuard): a body is cut when it stops
// making progress, never for its length or for time this server itself did not run. Mounted alone
// in front of binaryBody on its own server, with a short window so the tests take seconds.
describe('inflightGuard: progress, not a total deadline', () => {
  const WINDOW_MS = 400;
  const MIN_WINDOW_BYTES = 8 * 1024;
  let guarded: Server;
  let port: number;
  const cuts: { received: number; stalledMs: number }[] = [];
  /** The next request's handler blocks this process for so long before reading its body (a starved server). */
  let blockMs = 0;

  before(async () => {
    const app = express();
    app.post(
      '/in',
      inflightGuard({ bodies: 8, bytes: 64 * 1024 * 1024, maxBody: 16 * 1024 * 1024, windowMs: WINDOW_MS, minWindowBytes: MIN_WINDOW_BYTES, onCut: (info) => cuts.push(info) }),
      (_req, _res, next) => {
        const until = Date.now() + blockMs;
        blockMs = 0;
        while (Date.now() < until) {
          // busy: no timer, no read runs meanwhile
        }
        next();
      },
      binaryBody(16 * 1024 * 1024, { required: true }),
      (req, res) => {
        res.json({ bytes: (req.body as Buffer).length });
      },
    );
    guarded = app.listen(0, '127.0.0.1');
    await once(guarded, 'listening');
    port = (guarded.address() as AddressInfo).port;
  });
  after(() => {
    guarded.close();
  });

  /** Sends headers declaring `length` bytes, then `write(socket)`; resolves with what came back ("" when cut). */
  function upload(length: number, write: (socket: Socket) => Promise<void>): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`POST /in HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`);
        write(socket).catch(() => undefined);
      });
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(text));
      setTimeout(() => reject(new Error('the upload neither finished nor was cut within 30 s')), 30_000).unref();
    });
  }
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test('an upload that keeps moving is not cut, though it takes many windows', async () => {
    cuts.length = 0;
    const piece = 16 * 1024;
    const pieces = 30; // one piece per 100 ms: 3 s, over seven windows (the old deadline cut at 400 ms + 0.5 s)
    const answer = await upload(piece * pieces, async (socket) => {
      for (let i = 0; i < pieces; i++) {
        socket.write(Buffer.alloc(piece, i));
        await pause(100);
      }
    });
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.match(answer, new RegExp(`"bytes":${piece * pieces}`));
    assert.equal(cuts.length, 0);
  });

  test('a slowloris (a few bytes now and then) is cut after about one window, and the server logs what had come', async () => {
    cuts.length = 0;
    const started = Date.now();
    const answer = await upload(1024 * 1024, async (socket) => {
      for (let i = 0; i < 100 && !socket.destroyed; i++) {
        socket.write(Buffer.alloc(16, 1));
        await pause(50);
      }
    });
    assert.equal(answer, '', 'cut without an answer');
    assert.ok(Date.now() - started < 5 * WINDOW_MS, `cut after ${Date.now() - started} ms`);
    assert.equal(cuts.length, 1);
    assert.ok(cuts[0]!.received < MIN_WINDOW_BYTES);
  });

  test('a stalled body is cut', async () => {
    cuts.length = 0;
    const answer = await upload(1024 * 1024, async (socket) => {
      socket.write(Buffer.alloc(1024));
    });
    assert.equal(answer, '');
    assert.equal(cuts.length, 1);
    assert.ok(cuts[0]!.stalledMs >= WINDOW_MS / 2, JSON.stringify(cuts[0]));
  });

  test('a server that did not run for several windows (blocked) does not cut the body waiting in its socket', async () => {
    cuts.length = 0;
    blockMs = 4 * WINDOW_MS;
    const length = 256 * 1024;
    const answer = await upload(length, async (socket) => {
      socket.write(Buffer.alloc(1024));
      // The rest once the server has run again (this client shares its process, so it waits too).
      await pause(50);
      socket.write(Buffer.alloc(length - 1024, 2));
    });
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.equal(cuts.length, 0);
  });
});
