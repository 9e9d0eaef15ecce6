// The persistent peer channel, receiver side: accepts WebSocket upgrades at /peer/channel on the
// server's own HTTP(S) listener and answers each request frame (channel-frames.ts) exactly as the
// HTTP routes would: an envelope goes to the same deliver() as POST /peer/messages, an identity
// request to the same identity() as GET /peer/identity, and an error becomes the same problem
// document (server/http/problem.ts). Nothing is trusted for having come over the channel.
//
// Bounds, since nothing on a channel is authentic before its envelope opens:
// - a request frame is at most MAX_CHANNEL_REQUEST_BYTES (ws closes the channel, code 1009, past
//   it), and at most `maxChannels` channels are open at once (further upgrades get 503; their
//   senders use POST): what partly received frames can hold is bounded by their product;
// - envelopes being delivered are bounded in count and bytes like POST /peer/messages' in-flight
//   guard (the same limits, counted for the channels): past them the answer is 429 with
//   `reason: "busy"`, on which a sender waits and resends (outbound.ts);
// - one channel with PAUSE_AT_INFLIGHT envelopes being delivered stops being read until one
//   finishes: TCP carries the backpressure back to the sender (whose own queue then waits);
// - a channel with nothing in flight and no traffic for IDLE_TIMEOUT_MS is closed.
// Browsers can open WebSockets to any origin without CORS, so an upgrade that carries an Origin
// header (every browser's does; a server's never) is refused: a web page gains nothing here.

import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { LimitError, PeerError } from '../../services/errors.js';
import type { Logger } from '../../services/microservice.js';
import type { PeerEndpoint } from '../../services/peer.js';
import { INFLIGHT_BUSY } from '../http/body.js';
import { toProblem } from '../http/problem.js';
import { CHANNEL_PATH, FRAME_IDENTITY, MAX_CHANNEL_REQUEST_BYTES, answerFrame, parseRequest } from './channel-frames.js';

/** A channel with this many envelopes being delivered is not read further until one finishes. */
export const PAUSE_AT_INFLIGHT = 32;
/** Longer than the sender's idle close (transport-channel.ts CHANNEL_IDLE_MS), so it closes first. */
export const IDLE_TIMEOUT_MS = 120_000;
/** How long close() lets answers in flight go out before cutting the channels. */
const CLOSE_GRACE_MS = 1000;

export interface ChannelServerOptions {
  /** The peer endpoint (the node's identity and deliver), read on every request. */
  readonly endpoint: () => PeerEndpoint | undefined;
  readonly log: Logger;
  /** Envelopes, and their bytes, being delivered at once over all channels (then 429 busy). */
  readonly inflightBodies: number;
  readonly inflightBytes: number;
  /** Channels open at once; further upgrades are answered 503 (their senders use POST). */
  readonly maxChannels: number;
}

export class PeerChannelServer {
  readonly #wss: WebSocketServer;
  readonly #options: ChannelServerOptions;
  #bodies = 0;
  #bytes = 0;
  #envelopes = 0;
  #envelopeBytes = 0;
  #closing = false;

  constructor(options: ChannelServerOptions) {
    this.#options = options;
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_CHANNEL_REQUEST_BYTES,
      clientTracking: true,
    });
  }

  /** Channels open now, and envelopes (and their bytes) taken in over channels since start (for tests and benches). */
  stats(): { readonly open: number; readonly envelopes: number; readonly bytes: number } {
    return { open: this.#wss.clients.size, envelopes: this.#envelopes, bytes: this.#envelopeBytes };
  }

  /**
   * Takes over the server's upgrade requests. Node hands a request with an Upgrade header to this
   * listener instead of the app; the only upgrade offered is the channel. Any other (Java's
   * HttpClient asks every http:// server for h2c on its first request, RFC 9113 §3.1 of RFC 7540's
   * h2c) is served as the plain HTTP/1.1 request it also is (RFC 9110 §7.8: a server may ignore Upgrade).
   */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(server, req, socket, head));
  }

  private upgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    const websocket = /(^|,)\s*websocket\s*(,|$)/i.test(req.headers.upgrade ?? '');
    if (path !== CHANNEL_PATH || req.method !== 'GET' || !websocket) return serveAsHttp(server, req, socket, head);
    socket.on('error', () => socket.destroy());
    if (req.headers.origin !== undefined) return refuse(socket, 403, 'the peer channel is for servers, not browsers (Origin header present)');
    if (this.#closing) return refuse(socket, 503, 'the server is shutting down');
    if (this.#wss.clients.size >= this.#options.maxChannels) return refuse(socket, 503, `${this.#options.maxChannels} peer channels are open already; use POST /peer/messages`);
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, socket));
  }

  private serve(ws: WebSocket, socket: Duplex): void {
    let inflight = 0;
    let paused = false;
    const { log } = this.#options;
    if ('setTimeout' in socket && typeof socket.setTimeout === 'function') {
      (socket as Duplex & { setTimeout(ms: number, cb: () => void): void }).setTimeout(IDLE_TIMEOUT_MS, () => {
        if (inflight === 0) ws.terminate();
      });
    }
    ws.on('error', (err) => {
      log.debug({ err: err.message }, 'peer channel error');
      ws.terminate();
    });
    ws.on('message', (data: Buffer, isBinary) => {
      const request = isBinary ? parseRequest(data) : undefined;
      if (request === undefined) {
        // Not a frame of this protocol: the other side is broken; 1003 is "cannot accept this data".
        ws.close(1003);
        return;
      }
      const { id, body } = request;
      const answer = (status: number, text: string): void => {
        if (ws.readyState === ws.OPEN) ws.send(answerFrame(id, status, text), { binary: true });
      };
      const fail = (err: unknown, instance: string): void => {
        const problem = toProblem(err, instance, log);
        answer(problem.status, JSON.stringify(problem));
      };
      const endpoint = this.#options.endpoint();
      if (endpoint === undefined) return fail(new PeerError('this server runs without a peer layer', { where: 'peer' }), CHANNEL_PATH);
      if (request.kind === FRAME_IDENTITY) {
        // The challenge, then `.` and the asker's key when the request names one (channel-frames.ts).
        const text = body.toString('utf8');
        const dot = text.indexOf('.');
        const [challenge, asker] = dot < 0 ? [text, undefined] : [text.slice(0, dot), text.slice(dot + 1)];
        Promise.resolve()
          .then(() => endpoint.identity(challenge === '' ? undefined : challenge, asker))
          .then((identity) => answer(200, JSON.stringify(identity)), (err: unknown) => fail(err, '/peer/identity'));
        return;
      }
      if (this.#bodies + 1 > this.#options.inflightBodies || this.#bytes + body.length > this.#options.inflightBytes) {
        fail(new LimitError(`this server is receiving ${this.#bodies} peer messages (${this.#bytes} bytes) already; retry shortly`, {
          where: 'envelope',
          extra: { reason: INFLIGHT_BUSY },
        }), '/peer/messages');
        return;
      }
      const size = body.length;
      this.#envelopes += 1;
      this.#envelopeBytes += size;
      this.#bodies += 1;
      this.#bytes += size;
      inflight += 1;
      if (inflight >= PAUSE_AT_INFLIGHT && !paused) {
        paused = true;
        ws.pause();
      }
      // A frame with a buffer of its own (ws joined it from several socket reads, as it does for
      // every large envelope) is this channel's alone: a large envelope opens in place, as a POST's
      // body does, and its consumer may free the buffer (release.ts). A frame that arrived within
      // one socket read is a view of that read, which may also hold the start of the next frame:
      // it is opened by copy, so nothing frees bytes ws has yet to parse.
      const owned = data.byteOffset === 0 && data.buffer.byteLength === data.byteLength;
      endpoint
        .deliver(body, { owned })
        .then((receipt) => answer(204, receipt ?? ''), (err: unknown) => fail(err, '/peer/messages'))
        .finally(() => {
          this.#bodies -= 1;
          this.#bytes -= size;
          inflight -= 1;
          if (paused && inflight < PAUSE_AT_INFLIGHT) {
            paused = false;
            ws.resume();
          }
        });
    });
  }

  /** Refuses new channels and closes the open ones (going away), cutting them after a short grace. */
  async close(): Promise<void> {
    this.#closing = true;
    const open = [...this.#wss.clients];
    await Promise.all(open.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) return resolve();
      const cut = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      ws.once('close', () => {
        clearTimeout(cut);
        resolve();
      });
      ws.close(1001);
    })));
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

/**
 * Hands an upgrade request this server does not offer back to the HTTP server as an ordinary
 * request on the same connection: Node has already detached its parser from the socket, so the
 * request head is rebuilt without Upgrade (and the Connection tokens naming it), put back in front
 * of the bytes read after it, and the socket is given to the server as a new connection.
 */
function serveAsHttp(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'upgrade' || lower === 'http2-settings') continue;
    if (lower === 'connection') {
      const tokens = value.split(',').map((t) => t.trim()).filter((t) => t !== '' && !/^(upgrade|http2-settings)$/i.test(t));
      if (tokens.length > 0) lines.push(`${name}: ${tokens.join(', ')}`);
      continue;
    }
    lines.push(`${name}: ${value}`);
  }
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  // An https server parses HTTP on its 'secureConnection' sockets, a plain one on 'connection'.
  server.emit(socket instanceof TLSSocket ? 'secureConnection' : 'connection', socket);
}

/** An HTTP answer on a socket whose upgrade is refused, then the socket is closed. */
function refuse(socket: Duplex, status: number, detail: string): void {
  const body = JSON.stringify({ status, detail });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Service Unavailable'}\r\n` +
      `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
