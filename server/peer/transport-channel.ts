// The persistent peer channel, sender side: one WebSocket (RFC 6455, the `ws` package) per peer
// server, upgraded on that server's existing HTTP(S) port at /peer/channel (wss: for an https:
// peer, RFC 6455 section 11.1.2, with the POSTs' TLS checks, see below), carrying the same
// sealed envelopes and identity requests as the HTTP routes, as request/answer pairs with ids
// (channel-frames.ts). Many requests share it at once, so a peer round costs one frame each way
// instead of an HTTP request/response with its headers, parsing and middleware.
//
// It is a carrier only (transport.ts, PeerTransport): it adds no trust. Envelopes authenticate
// themselves end to end and identity answers are checked by the directory, whatever carried them.
// Its failure semantics are those of the keep-alive POSTs it replaces:
// - the first request to a peer goes by POST, and once it is answered the channel is opened;
// - an https peer's channel is a wss connection with exactly the POSTs' TLS settings (transport.ts
//   peerTlsOptions: one shared SecureContext of Node's roots plus --tls-ca, rejectUnauthorized,
//   the URL's host as the name the certificate must carry); a certificate that does not verify
//   ends the connection in the TLS handshake, before the upgrade request is written, and the
//   peer is then reached by POST, which checks it again and fails naming the peer if it fails
//   there too (the refusal is logged as a warning: a gateway that shows the channel another
//   certificate than the POSTs is worth knowing about);
// - a peer that does not offer the channel (any answer but 101 to the upgrade: an older server, a
//   server with the channel off, an HTTP proxy in between; or no answer within the handshake
//   timeout) is reached by POST (HttpTransport), and not asked again for REFUSED_RETRY_MS; so is a
//   peer that cannot be connected to at all, where the POST then fails exactly as it would have;
//   while a channel is opening, requests go by POST (the first requests to a peer, typically its
//   identity request, open it);
// - a channel that breaks with requests in flight fails them like a reset socket (ECONNRESET),
//   and an idempotent one (every envelope and identity request) is retried once on a fresh
//   connection (a POST, while a new channel opens): the race with a peer that restarted or closed
//   an idle channel, as for keep-alive sockets (Node's reusedSocket pattern);
// - every request ends when its signal fires (the stage timeout), whatever the channel does.
// Envelopes above CHANNEL_BULK_BYTES go by POST; FedAvg's 1 MiB messages go on the channel, one
// frame each, built from the sealed parts with one copy and sent unmasked (zeroMask below).
// It is bounded: request frames up to MAX_CHANNEL_REQUEST_BYTES (larger envelopes go by POST),
// answers up to MAX_CHANNEL_ANSWER_BYTES, and at most MAX_UNFLUSHED_BYTES handed to the socket but
// not yet written: past that, senders wait (backpressure for FedAvg's 2 MiB chunks), each until
// its own signal fires.

import { Socket } from 'node:net';
import WebSocket from 'ws';
import {
  CHANNEL_PATH,
  FRAME_DELIVER,
  FRAME_IDENTITY,
  MAX_CHANNEL_ANSWER_BYTES,
  MAX_CHANNEL_REQUEST_BYTES,
  REQUEST_HEADER_BYTES,
  maskedRequestHead,
  parseAnswer,
  requestFrame,
  type RequestKind,
} from './channel-frames.js';
import type { Logger } from '../../services/microservice.js';
import {
  bodyLength,
  describeTransportError,
  HttpTransport,
  isCertificateError,
  peerTlsOptions,
  timeLimitReason,
  withTimeLimit,
  type PeerRequest,
  type PeerResponse,
  type PeerTlsOptions,
  type PeerTransport,
  type TransportOptions,
} from './transport.js';

/** A peer whose channel could not be opened (any answer but 101, no answer, no connection) is reached by POST for this long. */
export const REFUSED_RETRY_MS = 60_000;
/** An idle channel is closed after this (like an idle keep-alive socket); the next request opens one. */
export const CHANNEL_IDLE_MS = 30_000;
/** How long opening a channel may take before the request goes by POST instead. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Bytes handed to one channel's socket and not yet written before further sends wait. */
export const MAX_UNFLUSHED_BYTES = 8 * 1024 * 1024;

const MESSAGES_PATH = '/peer/messages';
const IDENTITY_PATH = '/peer/identity';

/**
 * Envelopes larger than this go by POST even with a channel open. It was 256 KiB while a bulk
 * envelope on the channel was joined, copied into its frame, copied and masked again by `ws` and
 * opened with a copy (25M PlainFedAvg online 6.23 s over the channel, 4.07 s by POST); now the
 * frame is built from the sealed parts in one copy, sent unmasked (zeroMask) and opened in place,
 * so FedAvg's 1 MiB messages save a POST each: an HTTP request and response with their objects,
 * headers and parsers on both sides (docs/performance.md, "SecureFedAvg's chunks on the peer channel").
 * Larger envelopes (a round configured with bigger chunks) still go by POST, which holds no other
 * request behind them.
 */
export const CHANNEL_BULK_BYTES = 2 * 1024 * 1024;

/**
 * The channel's masking key: zero, so `ws` sends a frame's payload as it is (no masking pass over
 * it and no masked copy; a receiver skips unmasking for a zero key). Masking (RFC 6455 §5.3,
 * §10.3) keeps a hostile script in a browser from choosing the bytes a proxy on the path sees;
 * the channel's client is this server, sending its own sealed envelopes (AES-GCM ciphertext
 * behind a header it wrote), and the channel refuses browsers (channel-server.ts, Origin). The
 * frames stay valid RFC 6455 client frames (the mask bit is set), which any server accepts.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0, 0, 4);
}

/**
 * Envelopes given as parts from this size on are written to the socket part by part behind their
 * message head (Channel.call); smaller ones are copied into one frame, which costs less than the
 * writes of their parts (a sealed envelope's header, ciphertext and tag are parts of their own).
 */
const WRITE_PARTS_FROM_BYTES = 64 * 1024;

/** What a peer URL becomes on the channel: the server's base URL and the frame to send. */
interface ChannelRoute {
  readonly base: string;
  readonly kind: RequestKind;
  /** Whole, or the parts it was sealed in: the frame is built from them (requestFrame). */
  readonly body: Uint8Array | readonly Uint8Array[];
}

/**
 * Per envelope URL (a node URL + /peer/messages), the base its channel is keyed by, or null when
 * it cannot go on a channel: parsed once per peer, not per message. Bounded like the other caches
 * of the peer layer; a URL evicted is parsed again.
 */
const messageBases = new Map<string, string | null>();
const MAX_MESSAGE_BASES = 4096;

function messageBase(url: string): string | null {
  let base = messageBases.get(url);
  if (base !== undefined) return base;
  const target = new URL(url);
  // http: peers over ws:, https: peers over wss: (the POSTs' certificate checks, Channel).
  base = isDirect(target) && target.pathname.endsWith(MESSAGES_PATH) && target.search === '' ? baseOf(target, MESSAGES_PATH) : null;
  if (messageBases.size >= MAX_MESSAGE_BASES) messageBases.delete(messageBases.keys().next().value!);
  messageBases.set(url, base);
  return base;
}

function channelRoute(url: string, req: PeerRequest): ChannelRoute | undefined {
  if (req.method === 'POST' && req.body !== undefined && url.endsWith(MESSAGES_PATH)) {
    const base = messageBase(url);
    if (base === null) return undefined;
    const length = bodyLength(req.body);
    if (length + REQUEST_HEADER_BYTES > MAX_CHANNEL_REQUEST_BYTES || length > CHANNEL_BULK_BYTES) return undefined;
    return { base, kind: FRAME_DELIVER, body: req.body };
  }
  const target = new URL(url);
  if (!isDirect(target)) return undefined;
  if (req.method === 'GET' && target.pathname.endsWith(IDENTITY_PATH) && req.body === undefined) {
    const challenge = target.searchParams.get('challenge') ?? '';
    const asker = target.searchParams.get('asker');
    // `.` is no base64url character: it separates the two (channel-frames.ts).
    return { base: baseOf(target, IDENTITY_PATH), kind: FRAME_IDENTITY, body: Buffer.from(asker === null ? challenge : `${challenge}.${asker}`, 'utf8') };
  }
  return undefined;
}

/** A peer this carrier reaches itself (http: or https:), not through a relay. */
function isDirect(target: URL): boolean {
  return target.protocol === 'http:' || target.protocol === 'https:';
}

function baseOf(target: URL, suffix: string): string {
  return `${target.protocol}//${target.host}${target.pathname.slice(0, -suffix.length)}`;
}

/** The error a request in flight gets when its channel breaks: what a reset socket gives. */
function channelBroken(reason: string): Error {
  return Object.assign(new Error(`the peer channel closed (${reason})`), { code: 'ECONNRESET', channelBroken: true });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error || (typeof reason === 'object' && reason !== null && 'name' in reason)) return reason as Error;
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError' });
}

/**
 * One request in flight on a channel: settled once, by its answer, its signal (the channel's one
 * listener on that signal, Channel.watch), its deadline (the channel's sweep), or the channel's end.
 */
interface Call {
  readonly signal: AbortSignal;
  /** performance.now() past which it fails with a "TimeoutError"; Infinity without a limit. */
  readonly deadline: number;
  readonly resolve: (answer: PeerResponse) => void;
  readonly reject: (err: Error) => void;
}

/** One WebSocket to one peer server, and the requests in flight on it. */
class Channel {
  readonly opened: Promise<void>;
  isOpen = false;
  private readonly ws: WebSocket;
  private readonly pending = new Map<number, Call>();
  /**
   * The signals this channel listens on, one listener each: the requests of a computation share
   * its session's signal, so a channel adds one listener per session instead of adding and
   * removing one per request (EventTarget's add and remove cost 3-5 µs a pair). Weak: a signal
   * that never fires (an identity request's, disposed) is not kept for it.
   */
  private readonly watched = new WeakSet<AbortSignal>();
  private nextId = 0;
  private unflushed = 0;
  private readonly drainWaiters: (() => void)[] = [];
  /**
   * One timer per channel for the time limits of its requests, armed for the earliest deadline
   * (sweepAt): requests of a round share a stage timeout, so it is rarely re-armed.
   */
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Infinity;
  /** One idle timer, re-armed only when it fires: a request only records when the channel was last used. */
  private idleTimer: NodeJS.Timeout | undefined;
  private lastUsed = 0;
  private readonly afterSend = (err?: Error | null, length = 0): void => {
    void err; // a failed write closes the socket, which fails the requests in flight (end)
    this.unflushed -= length;
    if (this.unflushed <= MAX_UNFLUSHED_BYTES && this.drainWaiters.length > 0) for (const wake of this.drainWaiters.splice(0)) wake();
  };
  private gone = false;

  constructor(
    base: string,
    tls: PeerTlsOptions,
    private readonly onGone: (channel: Channel) => void,
  ) {
    const url = `${base.replace(/^http/, 'ws')}${CHANNEL_PATH}`;
    this.ws = new WebSocket(url, {
      // Envelopes are ciphertext: compression would gain nothing and costs CPU (and compressing
      // secrets next to attacker-chosen data is how CRIME-style attacks start).
      perMessageDeflate: false,
      maxPayload: MAX_CHANNEL_ANSWER_BYTES,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      followRedirects: false,
      // Every frame of the channel is binary (channel-frames.ts): nothing to validate as UTF-8.
      skipUTF8Validation: true,
      generateMask: zeroMask,
      // For wss: the POSTs' SecureContext and rejectUnauthorized; ws hands them to tls.connect
      // with the URL's host (SNI for a name; an IP address is checked against the certificate's
      // IP entries), so the chain and the host name are checked exactly as for a POST. Unused
      // for ws:.
      ...tls,
    });
    this.ws.binaryType = 'nodebuffer';
    this.opened = new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => {
        this.isOpen = true;
        this.lastUsed = performance.now();
        this.armIdle(CHANNEL_IDLE_MS);
        resolve();
      });
      this.ws.on('error', (err) => {
        if (!this.isOpen) reject(err);
        this.end(channelBroken((err as { code?: string }).code ?? err.message));
      });
    });
    // Nobody may be waiting when the connection fails (every caller gave up): not unhandled.
    this.opened.catch(() => undefined);
    this.ws.on('close', (code) => this.end(channelBroken(`code ${code}`)));
    this.ws.on('message', (data: Buffer, isBinary) => {
      const answer = isBinary ? parseAnswer(data) : undefined;
      if (answer === undefined) {
        this.ws.terminate();
        return;
      }
      const call = this.pending.get(answer.id);
      if (call === undefined) return; // its request gave up (signal, deadline) before the answer came
      this.pending.delete(answer.id);
      this.lastUsed = performance.now();
      call.resolve({ status: answer.status, text: answer.text });
    });
  }

  /**
   * Sends one request frame and waits for its answer, its signal, its deadline (performance.now()
   * ms, Infinity for none) or the channel's end.
   */
  call(kind: RequestKind, body: Uint8Array | readonly Uint8Array[], signal: AbortSignal, deadline: number): Promise<PeerResponse> {
    if (this.unflushed > MAX_UNFLUSHED_BYTES && !this.gone) return this.callWhenDrained(kind, body, signal, deadline);
    if (this.gone) return Promise.reject(channelBroken('closed before sending'));
    if (signal.aborted) return Promise.reject(abortReason(signal));
    if (deadline <= performance.now()) return Promise.reject(timeLimitReason());
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    this.watch(signal);
    return new Promise<PeerResponse>((resolve, reject) => {
      this.pending.set(id, { signal, deadline, resolve, reject });
      if (deadline < this.sweepAt) this.armSweep(deadline);
      this.lastUsed = performance.now();
      const length = Array.isArray(body) ? bodyLength(body) : 0;
      const socket = length >= WRITE_PARTS_FROM_BYTES ? this.socket() : undefined;
      if (socket !== undefined) {
        // A sealed envelope's parts go to the socket as they are, behind the message head, in one
        // writev: no frame is built from them (what POST does with them, transport.ts).
        const parts = body as readonly Uint8Array[];
        const head = maskedRequestHead(kind, id, length);
        const bytes = head.length + length;
        this.unflushed += bytes;
        socket.cork();
        socket.write(head);
        for (let i = 0; i < parts.length - 1; i++) socket.write(parts[i]!);
        socket.write(parts[parts.length - 1]!, (err) => this.afterSend(err, bytes));
        socket.uncork();
        return;
      }
      const frame = requestFrame(kind, id, body);
      this.unflushed += frame.length;
      this.ws.send(frame, { binary: true }, (err) => this.afterSend(err, frame.length));
    });
  }

  /**
   * The channel's socket, to write a message of parts to it directly (call), or undefined to send
   * through ws: when the channel is not open, or ws keeps its socket elsewhere than it does in
   * the version this was written against (ws 8: `_socket`). Writing beside ws is sound because
   * ws writes every message of this channel to the socket synchronously (no per-message
   * compression, no Blobs: its Sender never queues), so messages cannot interleave.
   */
  private socket(): Socket | undefined {
    if (this.ws.readyState !== WebSocket.OPEN) return undefined;
    const socket = (this.ws as unknown as { _socket?: unknown })._socket;
    return socket instanceof Socket && !socket.destroyed && socket.writable ? socket : undefined;
  }

  /** call() once the socket has taken what it holds below MAX_UNFLUSHED_BYTES (backpressure). */
  private async callWhenDrained(kind: RequestKind, body: Uint8Array | readonly Uint8Array[], signal: AbortSignal, deadline: number): Promise<PeerResponse> {
    while (this.unflushed > MAX_UNFLUSHED_BYTES && !this.gone) await this.drained(signal, deadline);
    return this.call(kind, body, signal, deadline);
  }

  /** Listens on `signal` once for this channel: when it fires, its requests in flight fail with its reason. */
  private watch(signal: AbortSignal): void {
    if (this.watched.has(signal)) return;
    this.watched.add(signal);
    signal.addEventListener('abort', () => {
      const reason = abortReason(signal);
      for (const [id, call] of this.pending) {
        if (call.signal !== signal) continue;
        this.pending.delete(id);
        call.reject(reason);
      }
    }, { once: true });
  }

  private armSweep(deadline: number): void {
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepAt = deadline;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(0, Math.ceil(deadline - performance.now()))).unref();
  }

  /** Fails the requests past their deadline ("TimeoutError", as a timeout signal would) and re-arms for the next. */
  private sweep(): void {
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [id, call] of this.pending) {
      if (call.deadline <= now) {
        this.pending.delete(id);
        call.reject(timeLimitReason());
      } else if (call.deadline < next) {
        next = call.deadline;
      }
    }
    if (next !== Infinity && !this.gone) this.armSweep(next);
  }

  private drained(signal: AbortSignal, deadline: number): Promise<void> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal));
      };
      // Waiting for the socket to drain counts against the request's time limit too.
      const timer = deadline === Infinity ? undefined : setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        reject(timeLimitReason());
      }, Math.max(0, Math.ceil(deadline - performance.now())));
      signal.addEventListener('abort', onAbort, { once: true });
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /**
   * An open channel unused for CHANNEL_IDLE_MS closes itself; any request in flight keeps it. The
   * timer is not moved per request: when it fires early it waits out the rest.
   */
  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.gone) return;
      const idleFor = performance.now() - this.lastUsed;
      if (this.pending.size === 0 && idleFor >= CHANNEL_IDLE_MS) this.close();
      else this.armIdle(this.pending.size === 0 ? CHANNEL_IDLE_MS - idleFor : CHANNEL_IDLE_MS);
    }, Math.max(1, Math.ceil(ms))).unref();
  }

  /** Fails every request in flight with `err` (once) and forgets the channel. */
  private end(err: Error): void {
    if (this.gone) return;
    this.gone = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.onGone(this);
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  close(): void {
    this.end(channelBroken('closed by this server'));
    // A closing handshake when open (the peer sees code 1001, going away); otherwise just cut.
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1001);
    else this.ws.terminate();
  }
}

/**
 * Peers reached over a persistent channel where they offer one, by HTTP(S) requests where not:
 * the default carrier unless the channel is turned off (--no-peer-channel).
 */
export class ChannelTransport implements PeerTransport {
  readonly #fallback: PeerTransport;
  /** The POSTs' TLS settings, for the wss channels to https peers. */
  readonly #tls: PeerTlsOptions;
  readonly #log: Logger | undefined;
  readonly #channels = new Map<string, Channel>();
  /** Per base URL, until when it is reached by POST because it refused the upgrade. */
  readonly #refused = new Map<string, number>();
  #closed = false;

  /**
   * `ca`: private CAs for the https peers, trusted by the channel (wss) and the fallback (an
   * HttpTransport unless given) alike; `log`: where a refused channel is told (a warning when
   * its certificate did not verify, debug otherwise).
   */
  constructor(options: TransportOptions & { readonly fallback?: PeerTransport; readonly log?: Logger } = {}) {
    const tls = options.ca !== undefined ? { ca: options.ca } : {};
    this.#fallback = options.fallback ?? new HttpTransport(tls);
    this.#tls = peerTlsOptions(tls);
    this.#log = options.log;
  }

  /** Channels open now (for tests and metrics). */
  get openChannels(): number {
    return [...this.#channels.values()].filter((c) => c.isOpen).length;
  }

  async request(url: string, req: PeerRequest): Promise<PeerResponse> {
    const route = channelRoute(url, req);
    if (route === undefined) return this.viaFallback(url, req, Infinity);
    const refusedUntil = this.#refused.get(route.base);
    if (refusedUntil !== undefined) {
      if (refusedUntil > Date.now()) return this.viaFallback(url, req, Infinity);
      this.#refused.delete(route.base);
    }
    // One deadline for the request, whichever way and however often it is sent.
    const deadline = req.timeoutMs === undefined ? Infinity : performance.now() + req.timeoutMs;
    return this.send(url, req, route, true, deadline);
  }

  /** The request by POST (HttpTransport), with what is left of its time limit. */
  private viaFallback(url: string, req: PeerRequest, deadline: number): Promise<PeerResponse> {
    const fallback = this.#fallback;
    if (deadline === Infinity) return withTimeLimit(req, (bounded) => fallback.request(url, bounded));
    return withTimeLimit({ ...req, timeoutMs: Math.max(1, deadline - performance.now()) }, (bounded) => fallback.request(url, bounded));
  }

  private openChannel(base: string): void {
    const channel = new Channel(base, this.#tls, (gone) => {
      if (this.#channels.get(base) === gone) this.#channels.delete(base);
    });
    this.#channels.set(base, channel);
    channel.opened.catch((err: unknown) => {
      // The peer URL and an error code only: nothing of any computation is in either.
      const reason = describeTransportError(err);
      if (isCertificateError(err)) this.#log?.warn({ peer: base }, `peer channel to ${base} refused: ${reason}; reached by POST`);
      else this.#log?.debug({ peer: base, reason }, 'peer channel not offered; reached by POST');
      this.#refused.set(base, Date.now() + REFUSED_RETRY_MS);
      if (this.#refused.size > 10_000) this.#refused.delete(this.#refused.keys().next().value!);
    });
  }

  private async send(url: string, req: PeerRequest, route: ChannelRoute, mayRetry: boolean, deadline: number): Promise<PeerResponse> {
    const channel = this.#channels.get(route.base);
    if (channel === undefined) {
      // The first request to a peer goes by POST; once it is answered, the channel is opened for
      // the requests after it. Opening it alongside the first request doubled the connections a
      // computation's start makes to every peer at once (with TLS, and with 50 parties in one
      // process, those first requests then missed their timeouts).
      const answer = await this.viaFallback(url, req, deadline);
      if (!this.#channels.has(route.base) && !this.#closed) this.openChannel(route.base);
      return answer;
    }
    // A channel still opening is not waited for: this request goes by POST now, later ones use
    // the channel once it is open. So a peer whose upgrade hangs (an HTTP proxy that forwards the
    // Upgrade header but not the switched connection) costs no request any time.
    if (!channel.isOpen) return this.viaFallback(url, req, deadline);
    try {
      return await channel.call(route.kind, route.body, req.signal, deadline);
    } catch (err) {
      const broken = (err as { channelBroken?: boolean }).channelBroken === true;
      if (broken && mayRetry && req.idempotent === true && !req.signal.aborted && deadline > performance.now()) {
        return this.send(url, req, route, false, deadline);
      }
      throw err;
    }
  }

  close(): void {
    this.#closed = true;
    for (const channel of [...this.#channels.values()]) channel.close();
    this.#channels.clear();
    this.#fallback.close();
  }
}
