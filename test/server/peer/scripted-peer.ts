// A peer speaking the channel protocol (server/peer/channel-frames.ts) under a test's control, for
// the channel transport's failure tests: each request frame is answered with the status the test
// chooses, or the connection is cut with the request in flight, or the request is left unanswered.
// Plain HTTP requests (the POST fallback) are counted in `posts` as "METHOD /path" and answered
// 204, or 200 with `{}` for a GET when `getAnswersJson` is set.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { answerFrame, parseRequest } from '../../../server/peer/channel-frames.js';
import type { PeerChannelServer } from '../../../server/peer/channel-server.js';

/** What to do with a channel's request number `request` on connection number `connection` (both from 1). */
export type ScriptedAction = number | 'cut' | 'silent';

export interface ScriptedPeerOptions {
  /** ws's largest message (ws's own default when unset). */
  readonly maxPayload?: number;
  /** Answer a plain GET with 200 and `{}` (an identity or health probe) instead of 204. */
  readonly getAnswersJson?: boolean;
}

export async function scriptedPeer(onRequest: (connection: number, request: number) => ScriptedAction, options: ScriptedPeerOptions = {}) {
  const posts: string[] = [];
  const server = createServer((req, res) => {
    posts.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      if (req.method === 'GET' && options.getAnswersJson === true) res.writeHead(200).end('{}');
      else res.writeHead(204).end();
    });
  });
  const wss = new WebSocketServer(options.maxPayload === undefined ? { server } : { server, maxPayload: options.maxPayload });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  let connections = 0;
  wss.on('connection', (ws) => {
    connections += 1;
    const connection = connections;
    let requests = 0;
    ws.on('message', (data: Buffer) => {
      requests += 1;
      const request = parseRequest(data)!;
      const action = onRequest(connection, requests);
      if (action === 'cut') ws.terminate();
      else if (action !== 'silent') ws.send(answerFrame(request.id, action, ''));
    });
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * `server` (node:http, or node:https with `scheme` 'https') with the channel server `channels`
 * attached, listening on an ephemeral port; `posts` is what the test's HTTP handler records. Closing it closes the channels, then the server.
 */
export async function listeningWithChannels<P>(server: Server | HttpsServer, channels: PeerChannelServer, posts: P, scheme: 'http' | 'https' = 'http') {
  channels.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    channels,
    async close() {
      await channels.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
