// The NATS relay carrier (docs/relay.md): peer requests travel as NATS request/reply messages
// through a relay (a nats-server or a NATS cluster) that every party reaches by an OUTBOUND
// connection, so a party behind a firewall needs no inbound port for its peers.
//
// Naming: a party on the relay is the node URL `relay://<name>`; it listens on the subject
// `tessera.peer.<name>`. A request to `relay://<name>/peer/messages` (or `/peer/identity?…`) is a
// NATS request on that subject whose headers carry the method and the path; the answer carries
// the HTTP status the same handler gives over HTTP and the same body (an identity, nothing, or a
// problem document). The relay carries the bytes of sealed envelopes and nothing else: what the
// envelope layer authenticates and encrypts end to end (server/peer/envelope.ts) is untouched.
//
// Size: a NATS message is at most the server's max_payload (1 MiB by default, NATS "Protocol
// Limits"), headers included. Larger bodies (SecureFedAvg sends 2 MiB chunks) are cut into
// fragments, each a request of its own that the receiver acknowledges once it holds it (status
// 100). The sender keeps at most FRAGMENT_WINDOW fragments unacknowledged, so a slow receiver
// stalls its sender instead of filling the relay or the sender's memory: the relay holds at most
// a window per transfer (NATS core keeps no backlog; a slow consumer is cut off by the server).
// Fragments go out in order, the last one within the window like the others (NATS keeps one
// connection's order, so it arrives last); its answer is the answer.
//
// Sending: a payload of 64 KiB or more is written to the socket from the sealed envelope's parts
// (relay-framing.ts publishParts), a fragment as views of them: no copy of the payload before
// the kernel's. Smaller ones go through the client's publish.
//
// Receiving: the NATS connection feeds its parser through a framer (relay-framing.ts) that hands
// it every large message in one exactly sized buffer, so the client's own gathering of messages
// that span socket reads (a buffer grown by doubling) never runs for SecureFedAvg's chunks. Every
// envelope then goes to the peer layer owned (a transfer's buffer, or the client's bytes of that
// one message), so a large one is decrypted in place, as on the HTTP route.

import { randomBytes } from 'node:crypto';
import {
  createInbox,
  credsAuthenticator,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { BadInputError, LimitError, PeerError, TesseraError, TooLargeError, UnauthenticatedError } from '../../services/errors.js';
import type { Logger } from '../../services/microservice.js';
import type { PeerEndpoint } from '../../services/peer.js';
import { toProblem } from '../http/problem.js';
import { connectFramed, publishParts } from './relay-framing.js';
import { checkRelayName, checkRelayUrl, RELAY_NAME, RELAY_SCHEME, SUBJECT_PREFIX } from './relay-names.js';
import { bodyLength, joinBody, type PeerRequest, type PeerResponse, type PeerTransport } from './transport.js';

/**
 * Payloads at least this long are written to the socket from their parts (publishParts: no join,
 * no pack); smaller ones go through the client's publish, whose copies are small for them and
 * which gathers the messages of one microtask turn into one socket write.
 */
const WRITE_PIECES_FROM_BYTES = 64 * 1024;
/** Fragments of one body unacknowledged at once: the most the relay holds for one transfer. */
export const FRAGMENT_WINDOW = 4;
/** Room kept in each NATS message for the headers (NATS counts them against max_payload). */
const HEADER_ROOM = 4096;
/** Status of an acknowledged fragment that is not the last (RFC 9110 section 15.2.1, "continue"). */
const CONTINUE = 100;

const H_METHOD = 'Tessera-Method';
const H_PATH = 'Tessera-Path';
const H_STATUS = 'Tessera-Status';
const H_TRANSFER = 'Tessera-Transfer';
const H_INDEX = 'Tessera-Fragment';
const H_COUNT = 'Tessera-Fragments';
const H_SIZE = 'Tessera-Fragment-Size';
const H_LENGTH = 'Tessera-Length';

export interface RelayOptions {
  /** One or more NATS URLs (nats://host:port, tls://host:port): one relay, or the servers of a NATS cluster. */
  readonly servers: readonly string[];
  /** This party's name on the relay: its node URL is relay://<name>. */
  readonly name: string;
  /** A NATS credentials file's contents (user JWT and nkey seed; decentralised NATS auth). */
  readonly creds?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** TLS to the relay: PEM CA(s) to trust, and a client certificate and key for mutual TLS. */
  readonly tlsCa?: string | readonly string[];
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** How long startup keeps retrying an unreachable relay (backoff 0.25 s doubling to 5 s). Default 30 s. */
  readonly connectTimeoutMs?: number;
}

/** The relay URL named in errors and logs: the first server, without credentials. */
function relayLabel(servers: readonly string[]): string {
  const first = servers[0] ?? 'nats://?';
  try {
    const url = new URL(first);
    return `${url.protocol}//${url.host}${servers.length > 1 ? ` (+${servers.length - 1} more)` : ''}`;
  } catch {
    return first;
  }
}

const RELAY_PREFIX = `${RELAY_SCHEME}//`;

/**
 * Splits relay://<name>/<path>?<query> into the subject and the path the handler sees. By hand,
 * not with `new URL`: the peer layer builds these URLs itself (a trusted node URL and a path of its
 * own), and a first 100-party computation sends 9,900 identity requests through one process,
 * where URL parsing was a measurable share of the carrier's time. Stricter than URL: a port, user
 * information or anything but a relay name between `//` and the path is refused.
 */
function target(url: string): { name: string; subject: string; path: string } {
  const slash = url.indexOf('/', RELAY_PREFIX.length);
  const name = (slash < 0 ? url.slice(RELAY_PREFIX.length) : url.slice(RELAY_PREFIX.length, slash)).toLowerCase();
  if (!url.startsWith(RELAY_PREFIX) || !RELAY_NAME.test(name)) throw new BadInputError(`${url.slice(0, 200)} is not a relay node URL`, { where: 'url' });
  return { name, subject: SUBJECT_PREFIX + name, path: slash < 0 ? '/' : url.slice(slash) };
}

/**
 * The challenge and the asker's key of GET /peer/identity?challenge=<base64url>&asker=<base64url>,
 * as URLSearchParams would give them; the common form (the peer layer's own, nothing to decode)
 * without building a URLSearchParams.
 */
function identityQuery(path: string): { challenge: string | undefined; asker: string | undefined } {
  const query = path.slice(IDENTITY_PATH.length + 1);
  const common = COMMON_IDENTITY_QUERY.exec(query);
  if (common !== null) return { challenge: common[1], asker: common[2] };
  const params = new URLSearchParams(query);
  return { challenge: params.get('challenge') ?? undefined, asker: params.get('asker') ?? undefined };
}
const IDENTITY_PATH = '/peer/identity';
const COMMON_IDENTITY_QUERY = /^challenge=([A-Za-z0-9_-]*)(?:&asker=([A-Za-z0-9_-]*))?$/;

/**
 * Headers that never change, built once: a header object is only read when a message is published
 * (MsgHdrs.encode), so one object serves every message with the same fields.
 */
const fixedHeaders = new Map<string, MsgHdrs>();
function fixed(fields: readonly (readonly [string, string])[]): MsgHdrs {
  const key = fields.map(([k, v]) => `${k}:${v}`).join('\n');
  let h = fixedHeaders.get(key);
  if (h === undefined) {
    h = natsHeaders();
    for (const [k, v] of fields) h.set(k, v);
    if (fixedHeaders.size < 64) fixedHeaders.set(key, h);
  }
  return h;
}

/** Views of the bytes [start, end) of the body made of `parts`, in order; nothing copied. */
function sliceParts(parts: readonly Uint8Array[], start: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const part of parts) {
    const next = at + part.byteLength;
    if (next > start && at < end) out.push(part.subarray(Math.max(0, start - at), Math.min(part.byteLength, end - at)));
    if (next >= end) break;
    at = next;
  }
  return out;
}

/** An error whose message is log-safe and names the relay (transportFailure puts it after "cannot reach <party>: "). */
function relayError(message: string): Error {
  return new Error(message);
}

/**
 * One request waiting for its answer: an object, not a set of closures per request (a first
 * 100-party computation makes 9,900 of them in one process). It expires by a timer that gets it
 * as the argument; its signal's abort reaches it through the carrier's one listener on that
 * signal (RelayCarrier.followSignal).
 */
class Waiting {
  #settled = false;
  timer: NodeJS.Timeout | undefined;
  constructor(
    readonly answers: Map<string, Waiting>,
    readonly label: string,
    readonly token: string,
    readonly name: string,
    readonly limit: number,
    readonly signal: AbortSignal,
    readonly resolve: (value: PeerResponse) => void,
    readonly reject: (err: Error) => void,
  ) {}

  finish(err: Error | undefined, value?: PeerResponse): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.timer);
    this.answers.delete(this.token);
    if (err === undefined) this.resolve(value!);
    else this.reject(err);
  }

  answer(msg: Msg): void {
    // The relay's own status 503 with no body: nobody subscribes to the subject (NATS "no responders").
    if (msg.data.byteLength === 0 && msg.headers?.code === 503) {
      this.finish(relayError(`no server named "${this.name}" is connected to the relay ${this.label}`));
      return;
    }
    const status = Number(msg.headers?.get(H_STATUS));
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      this.finish(relayError(`an answer without a status came through the relay ${this.label}`));
    } else if (msg.data.byteLength > this.limit) {
      this.finish(Object.assign(new Error(`answer larger than ${this.limit} bytes`), { code: 'ERESPONSETOOLARGE' }));
    } else {
      this.finish(undefined, { status, text: Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('utf8') });
    }
  }
}

function expire(waiting: Waiting): void {
  waiting.finish(Object.assign(new Error(`no answer through the relay ${waiting.label}`), { name: 'TimeoutError' }));
}

/**
 * One NATS connection of this server: the carrier for relay:// peers (request) and, once
 * `serve` is called, the receiver of this party's subject.
 */
export class RelayCarrier implements PeerTransport {
  readonly label: string;
  readonly name: string;
  readonly url: string;
  /** Data bytes per fragment: max_payload less the header room. */
  readonly fragmentBytes: number;
  #connected = true;
  #closing: Promise<void> | undefined;
  #endpoint: RelayEndpoint | undefined;
  readonly #lostListeners = new Set<(reason: string) => void>();
  /**
   * Answers to this carrier's requests arrive on <inbox>.<token>, through one subscription (as in
   * the NATS client's own request muxer); `#answers` holds each waiting request by token.
   */
  readonly #inbox = createInbox();
  readonly #answers = new Map<string, Waiting>();
  #nextToken = 0;
  /**
   * The signals this carrier listens on, one listener each (followSignal): the requests of a computation
   * share its session's signal, and a directory's identity requests their directory's, so a
   * request costs no AbortController, listener or timer of its own besides its expiry timer.
   */
  readonly #watched = new WeakSet<AbortSignal>();

  private constructor(
    private readonly nc: NatsConnection,
    options: RelayOptions,
    private readonly log: Logger,
    private readonly requestTimeoutMs: number,
  ) {
    this.label = relayLabel(options.servers);
    this.name = options.name;
    this.url = `relay://${options.name}`;
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.fragmentBytes = Math.max(1024, maxPayload - HEADER_ROOM);
    // Subscribed before the first request is published on this connection, so the relay knows
    // the inbox before any answer can come (the client sends in order).
    nc.subscribe(`${this.#inbox}.*`, {
      callback: (err, msg) => {
        if (err === null) this.#answers.get(msg.subject.slice(this.#inbox.length + 1))?.answer(msg);
      },
    });
    void this.watch();
  }

  /**
   * Connects to the relay, retrying with backoff while it is unreachable (not when it refuses
   * the credentials: retrying cannot fix those), for at most connectTimeoutMs.
   */
  static async connect(options: RelayOptions, log: Logger, requestTimeoutMs: number): Promise<RelayCarrier> {
    // The options come from flags that can be given apart: say which one is missing.
    if (options.servers === undefined || options.servers.length === 0) throw new BadInputError('--relay-name needs --relay nats://HOST:PORT', { where: 'relay' });
    if (typeof options.name !== 'string') throw new BadInputError('--relay needs --relay-name (this party\'s name on the relay)', { where: 'relayName' });
    if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new BadInputError('a relay client certificate needs its key, and a key its certificate', { where: 'relayTlsCert' });
    if (options.password !== undefined && options.user === undefined) throw new BadInputError('--relay-password needs --relay-user', { where: 'relayUser' });
    options.servers.forEach((s, i) => checkRelayUrl(s, `relay[${i}]`));
    checkRelayName(options.name, 'relayName');
    const label = relayLabel(options.servers);
    const natsOptions = connectionOptions(options);
    const deadline = Date.now() + (options.connectTimeoutMs ?? 30_000);
    for (let attempt = 1, waitMs = 250; ; attempt += 1) {
      try {
        const nc = await connectFramed(natsOptions);
        const carrier = new RelayCarrier(nc, options, log, requestTimeoutMs);
        log.info({ relay: label, name: options.name, server: nc.getServer(), maxPayload: nc.info?.max_payload }, `connected to the relay as ${carrier.url}`);
        return carrier;
      } catch (err) {
        const reason = describeNatsError(err);
        if (isAuthError(err)) {
          throw new UnauthenticatedError(`the relay ${label} refused this server's credentials (${reason}); check --relay-creds, --relay-user/--relay-password or --relay-token`, { where: 'relay' });
        }
        if (isTlsError(err)) {
          throw new PeerError(`cannot reach the relay ${label}: TLS failed (${reason}); check --relay-tls-ca and the relay's certificate`, { where: 'relay' });
        }
        if (Date.now() + waitMs > deadline) {
          throw new PeerError(`cannot reach the relay ${label} after ${attempt} attempts: ${reason}`, { where: 'relay' });
        }
        log.warn({ relay: label, attempt, retryInMs: waitMs, reason }, `the relay ${label} is unreachable; retrying`);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(waitMs * 2, 5000);
      }
    }
  }

  /** Follows the connection's state: while the relay is away, requests fail at once naming it. */
  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.#connected = false;
        this.log.warn({ relay: this.label }, `lost the connection to the relay ${this.label}; reconnecting`);
        const err = relayError(`the connection to the relay ${this.label} was lost`);
        for (const waiting of [...this.#answers.values()]) waiting.finish(err);
        // Parties waiting for a message carried by the relay would otherwise wait for their stage
        // timeout and then blame the party that did not arrive: tell them now (server/peer/node.ts).
        for (const listener of this.#lostListeners) listener(err.message);
      } else if (status.type === 'reconnect') {
        this.#connected = true;
        this.log.info({ relay: this.label, server: this.nc.getServer() }, `reconnected to the relay ${this.label}`);
      } else if (status.type === 'error') {
        this.log.warn({ relay: this.label, reason: describeNatsError((status as { error?: unknown }).error) }, 'relay connection error');
      }
    }
  }

  /**
   * Calls `listener` with the reason each time the connection to the relay is lost (not when this
   * carrier is closed on purpose). Returns a function that removes it.
   */
  onLost(listener: (reason: string) => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** For /health: the relay connection is up. */
  async check(): Promise<void> {
    if (!this.#connected || this.nc.isClosed()) throw new PeerError(`not connected to the relay ${this.label}`, { where: 'relay' });
    await this.nc.flush();
  }

  // ---------------------------------------------------------------- sending (PeerTransport)

  /**
   * Honours the request's own time limit (timeoutMs) itself, as its expiry timer, rather than
   * through a signal of its own per request (withTimeLimit): one first 100-party contact sends
   * 9,900 identity requests through one process. A fragmented body shares one deadline.
   */
  async request(url: string, req: PeerRequest): Promise<PeerResponse> {
    const { subject, path, name } = target(url);
    const deadline = req.timeoutMs === undefined ? Infinity : performance.now() + req.timeoutMs;
    this.followSignal(req.signal);
    // The envelope's parts as sealed (envelope.ts sealParts), never joined here: a large payload
    // is written to the socket from them (publishParts), a fragment as views of them.
    const parts: readonly Uint8Array[] = req.body === undefined ? [] : Array.isArray(req.body) ? req.body : [req.body as Uint8Array];
    const length = bodyLength(parts);
    const head = { method: req.method, path };
    if (length <= this.fragmentBytes) return this.exchange(subject, name, head, undefined, parts, length, req, deadline);
    return this.sendFragmented(subject, name, head, parts, length, req, deadline);
  }

  /** Fails the requests waiting with `signal` when it fires: one listener per signal, not per request. */
  private followSignal(signal: AbortSignal): void {
    if (this.#watched.has(signal)) return;
    this.#watched.add(signal);
    signal.addEventListener('abort', () => {
      const reason = abortReason(signal);
      for (const waiting of [...this.#answers.values()]) if (waiting.signal === signal) waiting.finish(reason);
    }, { once: true });
  }

  private async sendFragmented(subject: string, name: string, head: { method: string; path: string }, parts: readonly Uint8Array[], length: number, req: PeerRequest, deadline: number): Promise<PeerResponse> {
    // Fragments of equal size (the last at most one byte shorter per fragment): a body a little
    // over a multiple of fragmentBytes (a 2 MiB chunk and its envelope header) would otherwise end
    // in a fragment of a few KiB that costs a message and an answer like a full one.
    const count = Math.ceil(length / this.fragmentBytes);
    const even = Math.ceil(length / count);
    const size = (count - 1) * even < length ? even : this.fragmentBytes;
    const transfer = { id: randomBytes(16).toString('base64url'), count, size, length };
    const fragment = (i: number): { parts: Uint8Array[]; length: number } => {
      const start = i * size;
      const end = Math.min(length, start + size);
      return { parts: sliceParts(parts, start, end), length: end - start };
    };
    // Answers by fragment index: the first refusal (lowest index) is the answer of the request,
    // otherwise the last fragment's answer is (the receiver delivers the body when it arrives).
    const answers: (PeerResponse | undefined)[] = new Array<PeerResponse | undefined>(count);
    let refused = false;
    let next = 0;
    // FRAGMENT_WINDOW senders pull the next fragment when theirs is answered: at most that many
    // are unacknowledged at any time (the flow control described at the top). Each publishes in
    // index order (`next` is taken synchronously), and NATS delivers one connection's messages to
    // a subscriber in the order they were published, so the last fragment, sent without waiting
    // for the others' acknowledgements, still arrives after them: a whole transfer within the
    // window costs one round trip through the relay, not two. Should it ever arrive early, the
    // receiver refuses the transfer (400): a failed request, never a wrong body.
    const sender = async (): Promise<void> => {
      while (!refused && next < count) {
        const i = next++;
        const piece = fragment(i);
        const answer = await this.exchange(subject, name, head, { ...transfer, index: i }, piece.parts, piece.length, req, deadline);
        answers[i] = answer;
        if (i < count - 1 && answer.status !== CONTINUE) refused = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(FRAGMENT_WINDOW, count) }, sender));
    const refusal = answers.find((a, i) => a !== undefined && i < count - 1 && a.status !== CONTINUE);
    return refusal ?? answers[count - 1]!;
  }

  /** One NATS request and its answer, bounded by the caller's signal, its deadline (performance.now()) and the relay's state. */
  private exchange(
    subject: string,
    name: string,
    head: { method: string; path: string },
    part: { id: string; count: number; size: number; length: number; index: number } | undefined,
    data: readonly Uint8Array[],
    length: number,
    req: PeerRequest,
    deadline: number,
  ): Promise<PeerResponse> {
    const { signal } = req;
    if (signal.aborted) return Promise.reject(abortReason(signal));
    if (!this.#connected || this.nc.isClosed()) return Promise.reject(relayError(`the relay ${this.label} is not connected (reconnecting)`));
    // An unfragmented request's headers are the same for every message to that path (a POST of an
    // envelope): built once. A fragment's carry its transfer and index, an identity request's its
    // challenge.
    let h: MsgHdrs;
    if (part === undefined && head.method === 'POST') h = fixed([[H_METHOD, head.method], [H_PATH, head.path]]);
    else {
      h = natsHeaders();
      h.set(H_METHOD, head.method);
      h.set(H_PATH, head.path);
      if (part !== undefined) {
        h.set(H_TRANSFER, part.id);
        h.set(H_INDEX, String(part.index));
        h.set(H_COUNT, String(part.count));
        h.set(H_SIZE, String(part.size));
        h.set(H_LENGTH, String(part.length));
      }
    }
    const limit = req.maxResponseBytes ?? 1024 * 1024;
    return new Promise<PeerResponse>((resolve, reject) => {
      // Published with a reply subject on the carrier's own inbox rather than through
      // nc.request: the client's request builds two Error objects (stack traces) and a timer
      // promise per request, which a CPU profile of a 100-party round through the relay showed
      // as a tenth of all CPU time (docs/relay.md "Limits and what was measured").
      const token = (this.#nextToken++).toString(36);
      const waiting = new Waiting(this.#answers, this.label, token, name, limit, signal, resolve, reject);
      this.#answers.set(token, waiting);
      waiting.timer = setTimeout(expire, Math.max(1, Math.min(this.requestTimeoutMs, deadline - performance.now())), waiting);
      const reply = `${this.#inbox}.${token}`;
      try {
        if (length < WRITE_PIECES_FROM_BYTES || !publishParts(this.nc, subject, reply, h, data)) this.nc.publish(subject, joinBody(data), { reply, headers: h });
      } catch (err) {
        waiting.finish(relayError(`the relay ${this.label} failed the request: ${describeNatsError(err)}`));
      }
    });
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Takes the requests sent to this party's subject and answers each with what the HTTP route
   * would (server/app.ts: getPeerIdentity, deliverPeerMessage). Refuses to start when another
   * server already answers on the name: two servers on one subject would each get every message.
   */
  async serve(peer: PeerEndpoint, limits: RelayInboundLimits): Promise<void> {
    const subject = SUBJECT_PREFIX + this.name;
    try {
      const h = natsHeaders();
      h.set(H_METHOD, 'GET');
      h.set(H_PATH, '/peer/identity');
      await this.nc.request(subject, new Uint8Array(0), { timeout: 2000, headers: h });
      throw new BadInputError(`another server already listens on the relay ${this.label} as ${this.url}; give this one another --relay-name`, { where: 'relayName' });
    } catch (err) {
      if (err instanceof TesseraError) throw err;
      // No responders (or no answer at all): the name is free.
    }
    this.#endpoint = new RelayEndpoint(peer, limits, this.log);
    const endpoint = this.#endpoint;
    this.nc.subscribe(subject, { callback: (err, msg) => (err ? undefined : endpoint.take(msg)) });
    await this.nc.flush();
  }

  /** Stops taking requests and sending; pending requests fail. Idempotent. */
  close(): void {
    void this.closed();
  }

  closed(): Promise<void> {
    this.#closing ??= (async () => {
      this.#connected = false;
      const err = relayError(`the connection to the relay ${this.label} was closed`);
      for (const waiting of [...this.#answers.values()]) waiting.finish(err);
      this.#endpoint?.close();
      await this.nc.close().catch(() => undefined);
    })();
    return this.#closing;
  }
}

function connectionOptions(options: RelayOptions): NodeConnectionOptions {
  const tlsCa = options.tlsCa === undefined ? [] : typeof options.tlsCa === 'string' ? [options.tlsCa] : [...options.tlsCa];
  const tls = tlsCa.length > 0 || options.tlsCert !== undefined || options.servers.some((s) => s.startsWith('tls:'))
    ? {
        ...(tlsCa.length > 0 ? { ca: tlsCa.join('\n') } : {}),
        ...(options.tlsCert !== undefined ? { cert: options.tlsCert } : {}),
        ...(options.tlsKey !== undefined ? { key: options.tlsKey } : {}),
      }
    : undefined;
  return {
    servers: [...options.servers],
    name: `tessera ${options.name}`,
    // Each attempt of the startup loop is one try; afterwards the client reconnects forever (a
    // relay restart must not leave a long-running server disconnected), 2 s apart with jitter.
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 2000,
    timeout: 5000,
    ...(options.creds !== undefined ? { authenticator: credsAuthenticator(new TextEncoder().encode(options.creds)) } : {}),
    ...(options.user !== undefined ? { user: options.user, pass: options.password ?? '' } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(tls !== undefined ? { tls } : {}),
  };
}

function describeNatsError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  if (typeof e?.code === 'string' && !/^\d+$/.test(e.code)) return e.code;
  const message = typeof e?.message === 'string' ? e.message : typeof e?.cause?.message === 'string' ? e.cause.message : 'failed';
  return message.slice(0, 200);
}

function isAuthError(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown };
  return e?.name === 'AuthorizationError' || (typeof e?.message === 'string' && /authoriz|authentic/i.test(e.message));
}

function isTlsError(err: unknown): boolean {
  const text = `${(err as { message?: unknown })?.message ?? ''} ${((err as { cause?: { code?: unknown } })?.cause?.code as string | undefined) ?? ''}`;
  return /tls|certificate|CERT_|SELF_SIGNED/i.test(text);
}

/** The signal's reason as an Error (a DOMException "TimeoutError" for AbortSignal.timeout). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error || (typeof reason === 'object' && reason !== null && 'name' in reason)) return reason as Error;
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError' });
}

// -------------------------------------------------------------------- the receiving side

export interface RelayInboundLimits {
  /** Largest envelope (the HTTP route's body limit). */
  readonly maxBody: number;
  /** Envelopes being received or delivered at once, and their bytes (the HTTP route's in-flight guard). */
  readonly bodies: number;
  readonly bytes: number;
}

interface Transfer {
  readonly buffer: Buffer;
  readonly count: number;
  readonly size: number;
  readonly have: boolean[];
  received: number;
  /** A fragment arrived since the idle timer last looked. */
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * How long a transfer may wait for its next fragment: a grace period plus one fragment at 1 MiB/s.
 * Counted from the last fragment, not from the first: a large body on a busy machine may take
 * longer in all than any fixed bound, and only a sender that stopped should lose its transfer.
 */
function idleMs(fragmentBytes: number): number {
  return 5000 + (1000 * fragmentBytes) / (1024 * 1024);
}

/**
 * Dispatches requests from the relay to the peer endpoint and reassembles fragmented bodies.
 * Before an envelope is whole nothing about it is authentic, so, as on the HTTP route (server/
 * http/body.ts inflightGuard), the number and bytes of bodies held at once are bounded and an
 * unfinished transfer is dropped after a grace period plus its length at 1 MiB/s.
 */
class RelayEndpoint {
  readonly #transfers = new Map<string, Transfer>();
  #bodies = 0;
  #bytes = 0;

  constructor(
    private readonly peer: PeerEndpoint,
    private readonly limits: RelayInboundLimits,
    private readonly log: Logger,
  ) {}

  take(msg: Msg): void {
    if (msg.reply === undefined) return; // not a request: nobody to answer
    const h = msg.headers;
    const method = h?.get(H_METHOD) ?? '';
    const path = h?.get(H_PATH) ?? '';
    try {
      if (method === 'GET' && (path === IDENTITY_PATH || path.startsWith(`${IDENTITY_PATH}?`))) {
        const { challenge, asker } = identityQuery(path);
        Promise.resolve()
          .then(() => this.peer.identity(challenge, asker))
          .then((identity) => respond(msg, 200, JSON.stringify(identity)), (err: unknown) => respondProblem(msg, err, path, this.log));
        return;
      }
      if (method !== 'POST' || path !== '/peer/messages') throw new BadInputError(`no peer operation ${method} ${path.slice(0, 100)}`, { where: 'path' });
      const transferId = h?.get(H_TRANSFER) ?? '';
      if (transferId === '') {
        this.deliver(msg, Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength), msg.data.byteLength);
        return;
      }
      this.fragment(msg, h!, transferId);
    } catch (err) {
      respondProblem(msg, err, path, this.log);
    }
  }

  private fragment(msg: Msg, h: MsgHdrs, id: string): void {
    const index = Number(h.get(H_INDEX));
    const count = Number(h.get(H_COUNT));
    const size = Number(h.get(H_SIZE));
    const length = Number(h.get(H_LENGTH));
    let transfer = this.#transfers.get(id);
    if (transfer === undefined) {
      if (![index, count, size, length].every(Number.isSafeInteger) || count < 2 || size < 1 || length <= (count - 1) * size || length > count * size) {
        throw new BadInputError('fragment headers do not describe one body', { where: 'fragment' });
      }
      // A sender publishes its fragments in order and NATS keeps that order, so a transfer starts
      // at fragment 0. A later fragment of an unknown transfer belongs to one refused (429 busy) or
      // dropped already: refused too, rather than holding a reservation for a body that cannot
      // complete (the sender answers with its first refusal and resends the whole envelope).
      if (index !== 0) throw new BadInputError('a transfer starts at its first fragment', { where: 'fragment' });
      if (length > this.limits.maxBody) throw new TooLargeError(`peer message of ${length} bytes exceeds the limit of ${this.limits.maxBody}`, { where: 'envelope' });
      this.reserve(length);
      transfer = { buffer: Buffer.allocUnsafe(length), count, size, have: new Array<boolean>(count).fill(false), received: 0, busy: true, timer: undefined };
      this.#transfers.set(id, transfer);
      this.watchIdle(id, transfer);
    }
    transfer.busy = true;
    if (!Number.isSafeInteger(index) || index < 0 || index >= transfer.count || count !== transfer.count || size !== transfer.size || length !== transfer.buffer.length) {
      this.drop(id, 'a fragment did not match its transfer');
      throw new BadInputError('a fragment does not match its transfer', { where: 'fragment' });
    }
    const expected = index === transfer.count - 1 ? transfer.buffer.length - index * transfer.size : transfer.size;
    if (msg.data.byteLength !== expected || transfer.have[index] === true) {
      this.drop(id, 'a fragment had the wrong size or came twice');
      throw new BadInputError('a fragment has the wrong size or came twice', { where: 'fragment' });
    }
    transfer.buffer.set(msg.data, index * transfer.size);
    transfer.have[index] = true;
    transfer.received += 1;
    if (index < transfer.count - 1) {
      respond(msg, CONTINUE, '');
      return;
    }
    if (transfer.received !== transfer.count) {
      this.drop(id, 'the last fragment came before the others');
      throw new BadInputError('the last fragment came before the others', { where: 'fragment' });
    }
    // Whole: the reservation passes from the transfer to the delivery.
    clearTimeout(transfer.timer);
    transfer.timer = undefined;
    this.#transfers.delete(id);
    this.deliver(msg, transfer.buffer, 0);
    this.release(transfer.buffer.length);
  }

  /** Delivers one whole envelope; `reserve` bytes are reserved here for its delivery (0: already reserved by its transfer). */
  private deliver(msg: Msg, envelope: Buffer, reserve: number): void {
    if (envelope.length > this.limits.maxBody) throw new TooLargeError(`peer message of ${envelope.length} bytes exceeds the limit of ${this.limits.maxBody}`, { where: 'envelope' });
    const held = reserve > 0 ? reserve : envelope.length;
    if (reserve > 0) this.reserve(reserve);
    else {
      this.#bodies += 1;
      this.#bytes += held;
    }
    // Owned: nobody reads these bytes after this call (a transfer's own buffer, or the client's
    // bytes of one message, already dispatched), so a large envelope is decrypted in place, as on
    // the HTTP route, rather than into a second buffer of its size.
    this.peer.deliver(envelope, { owned: true }).then(
      (receipt) => respond(msg, 204, receipt ?? ''),
      (err: unknown) => respondProblem(msg, err, '/peer/messages', this.log),
    ).finally(() => this.release(held));
  }

  private reserve(bytes: number): void {
    if (this.#bodies + 1 > this.limits.bodies || this.#bytes + bytes > this.limits.bytes) {
      throw new LimitError(`this server is receiving ${this.#bodies} peer messages (${this.#bytes} bytes) already; retry shortly`, { where: 'envelope', extra: { reason: 'busy' } });
    }
    this.#bodies += 1;
    this.#bytes += bytes;
  }

  private release(bytes: number): void {
    this.#bodies -= 1;
    this.#bytes -= bytes;
  }

  /**
   * Drops the transfer once no fragment arrived for idleMs. When the timer fires without progress
   * the verdict waits for setImmediate, which runs after this turn's poll phase: if this process's
   * event loop was busy (a large mask, a loaded machine) the next fragment may already sit in the
   * socket, and it is read first. A verdict from the timer alone dropped such transfers, and their
   * last fragment was then refused ("came before the others") under load.
   */
  private watchIdle(id: string, transfer: Transfer): void {
    const look = (): void => {
      if (this.#transfers.get(id) !== transfer) return;
      if (transfer.busy) {
        transfer.busy = false;
        transfer.timer = setTimeout(look, idleMs(transfer.size));
        transfer.timer.unref();
        return;
      }
      setImmediate(() => {
        if (this.#transfers.get(id) !== transfer) return;
        if (transfer.busy) look();
        else this.drop(id, 'its fragments stopped arriving');
      });
    };
    look();
  }

  private drop(id: string, why: string): void {
    const transfer = this.#transfers.get(id);
    if (transfer === undefined) return;
    clearTimeout(transfer.timer);
    transfer.timer = undefined;
    this.#transfers.delete(id);
    this.release(transfer.buffer.length);
    this.log.warn({ why }, 'dropped an unfinished peer message from the relay');
  }

  close(): void {
    for (const id of [...this.#transfers.keys()]) this.drop(id, 'the server is shutting down');
  }
}

function respond(msg: Msg, status: number, text: string): void {
  msg.respond(text, { headers: fixed([[H_STATUS, String(status)]]) });
}

/** The problem document the HTTP route would answer (server/http/problem.ts), as the answer. */
function respondProblem(msg: Msg, err: unknown, path: string, log: Logger): void {
  // deliver() logs every refusal itself (with sender and stage); toProblem logs only server faults.
  const problem = toProblem(err, path.split('?')[0] ?? path, log);
  respond(msg, problem.status, JSON.stringify(problem));
}
