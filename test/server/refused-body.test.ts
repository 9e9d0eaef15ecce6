// A body refused before it is read (past --max-json-body or --max-binary-body) on a server in its
// own process, as a user runs it: the client that sent it reads the 413 and its reason, not a
// reset connection. The server answers at once and reads the rest off (server/http/body.ts
// refuseBody); only a body declared longer than REFUSED_BODY_READ_BYTES, or sent to a path that
// takes no body, makes it close instead.
// On the code before, the TypeScript client got "cannot reach the Tessera server …: write EPIPE"
// for most JSON bodies of 8 MiB and more past a 1 MiB limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, TesseraApiError } from '../../clients/typescript/index.js';
import { TensorSet } from '../../services/common/tensors.js';
import { REFUSED_BODY_READ_BYTES } from '../../server/http/body.js';
import { spawnServe, type ServeProcess } from '../support/process.js';

const LIMIT = 1024 * 1024;

describe('refused bodies on a server process', { timeout: 120_000 }, () => {
  let dir: string;
  let server: ServeProcess;
  let url: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-refused-'));
    server = spawnServe(['--port', '0', '--data-dir', dir, '--log-level', 'warn', '--max-json-body', String(LIMIT), '--max-binary-body', String(LIMIT)]);
    url = await server.ready;
  });
  after(async () => {
    await server.kill();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `send` and returns its 413's detail; anything else fails the test with what it was. */
  async function refused(send: () => Promise<unknown>): Promise<string> {
    try {
      await send();
    } catch (err) {
      assert.ok(err instanceof TesseraApiError, `expected the server's answer, got: ${(err as Error).message}`);
      assert.equal(err.status, 413);
      return err.problem.detail ?? '';
    }
    assert.fail('the body was accepted');
  }

  test('JSON bodies of 4 and 24 MiB past a 1 MiB limit: every upload and call reads the 413, and the client goes on', async () => {
    const api = new Api(url);
    const member = await (await api.create({ protocol: 'Simon' })).attribute('compute');
    for (const mib of [4, 24]) {
      const data = 'x'.repeat(mib * 1024 * 1024);
      for (let i = 0; i < 2; i++) {
        assert.match(await refused(() => api.upload(data)), /larger than 1048576 bytes, the limit of PUT \/representations/);
        assert.match(await refused(() => member.call({ data })), /larger than 1048576 bytes/);
      }
    }
    // The connections the refused bodies went over are fine to use again.
    const value = await api.upload({ a: 1 });
    assert.deepEqual(await api.download(value), { a: 1 });
  });

  test('a safetensors upload past --max-binary-body reads the 413', async () => {
    const api = new Api(url);
    const big = TensorSet.from({ w: new Float32Array((4 * LIMIT) / 4) });
    for (let i = 0; i < 3; i++) assert.match(await refused(() => api.uploadTensors(big)), /larger than 1048576 bytes/);
  });

  /** Sends PUT `path` with headers declaring `length` bytes and `body`; resolves with all the server sent until it closed or `idleMs` passed. */
  function raw(length: number, body: Buffer, idleMs: number, path = '/representations'): Promise<{ text: string; closed: boolean }> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(target.port), target.hostname, () => {
        socket.write(`PUT ${path} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`);
        socket.write(body);
      });
      let text = '';
      let idle: NodeJS.Timeout | undefined;
      const settle = (closed: boolean): void => {
        clearTimeout(idle);
        socket.destroy();
        resolve({ text, closed });
      };
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        clearTimeout(idle);
        idle = setTimeout(() => settle(false), idleMs);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => settle(true));
      setTimeout(() => reject(new Error(`no answer within 30 s; got: ${text.slice(0, 200)}`)), 30_000).unref();
    });
  }

  test('a body declared within the read bound is read off: the 413 keeps the connection, and the next request on it is answered', async () => {
    const body = Buffer.alloc(2 * LIMIT, 0x20);
    const next = `GET /health HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`;
    const { text, closed } = await raw(body.length, Buffer.concat([body, Buffer.from(next)]), 1000);
    assert.match(text, /^HTTP\/1\.1 413/);
    assert.doesNotMatch(text.split('\r\n\r\n')[0]!, /connection: close/i);
    assert.match(text, /\}HTTP\/1\.1 200 /, 'the request after the refused body was answered on the same connection');
    assert.equal(closed, false);
  });

  test('a body declared past the read bound is not read: the 413 comes at once and the connection closes', async () => {
    const { text, closed } = await raw(REFUSED_BODY_READ_BYTES + 1, Buffer.alloc(1000), 5000);
    assert.match(text, /^HTTP\/1\.1 413/);
    assert.match(text.split('\r\n\r\n')[0]!, /connection: close/i);
    assert.equal(closed, true);
  });

  test('a body sent to a path that takes none is not read, however short: the answer comes at once and the connection closes', async () => {
    const { text, closed } = await raw(2 * LIMIT, Buffer.alloc(1000), 5000, '/health');
    assert.match(text, /^HTTP\/1\.1 413/);
    assert.match(text.split('\r\n\r\n')[0]!, /connection: close/i);
    assert.equal(closed, true);
  });
});
