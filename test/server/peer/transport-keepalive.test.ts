// A pooled keep-alive connection that the peer resets just as it is reused (its idle timeout
// racing our next message, common when a party computes for seconds between two messages to the
// same peer) must not fail the computation: the transport sends once more on a fresh connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { HttpTransport } from '../../../server/peer/transport.js';
import { within } from '../../within.js';

test('a request on a reused connection that the peer resets is sent again on a fresh one', async () => {
  let connections = 0;
  const sockets = new Set<Socket>();
  // Answers the first request on each connection (keep-alive), resets the connection on the second.
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    let requests = 0;
    socket.on('data', () => {
      requests += 1;
      if (requests === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      else socket.resetAndDestroy();
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const transport = new HttpTransport();
  try {
    const url = `http://127.0.0.1:${port}/peer/messages`;
    const send = () => within(10_000, 'request', transport.request(url, { method: 'POST', body: new Uint8Array([1, 2, 3]), idempotent: true, signal: AbortSignal.timeout(5_000) }));
    assert.equal((await send()).text, 'ok');
    assert.equal((await send()).text, 'ok', 'the second request succeeds after the reused connection is reset');
    assert.equal(connections, 2);
  } finally {
    transport.close();
    for (const s of sockets) s.destroy();
    server.close();
  }
});
