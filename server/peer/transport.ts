// How this server reaches its peers: plain node:http / node:https requests through one keep-alive
// agent per scheme. Not the global fetch: Node 20's fetch cannot take a CA per request without the
// `undici` package, and a private CA (--tls-ca) must apply to peer requests only, never to the
// whole process (NODE_EXTRA_CA_CERTS would). node:https verifies the peer's certificate chain and
// its name against the URL's host (RFC 9110 section 4.3.4, RFC 6125) and refuses on failure.
//
// Every request is bounded: by the caller's signal (the stage timeout), and by the size of the
// answer it reads (a hostile peer cannot make us buffer an endless response). Redirects are never
// followed: a trusted URL must not bounce this server to an untrusted one.

import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { PeerError, TimeoutError } from '../../services/errors.js';

export interface PeerResponse {
  readonly status: number;
  /** The answer's body; for an accepted envelope over the channel or the relay, its receipt. */
  readonly text: string;
  /** An accepted envelope's receipt, where the carrier has a place for it apart from the body (HTTP: RECEIPT_HEADER). */
  readonly receipt?: string;
}

/** The header of POST /peer/messages' 204 that carries the envelope's receipt (envelope.ts receiptFor). */
export const RECEIPT_HEADER = 'tessera-receipt';

export interface PeerRequest {
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The body, or its parts in order (a large envelope as sealed, envelope.ts sealParts): the HTTP
   * carrier writes the parts to its socket as they are; others join them (joinBody).
   */
  readonly body?: Uint8Array | readonly Uint8Array[];
  /** Ends the request (connect, send and the answer) when it fires; the rejection is its reason. */
  readonly signal: AbortSignal;
  /**
   * A time limit of the request's own besides `signal` (the rest of a stage's timeout): past it
   * the request fails as if a signal had fired with a "TimeoutError" (transportFailure then says
   * which party). Every carrier honours it; how is the carrier's: a timer per request over HTTP
   * (withTimeLimit), one deadline sweep per channel (transport-channel.ts). It replaced a
   * per-message AbortController, listener and timer (boundedSignal) on the small-message path.
   */
  readonly timeoutMs?: number;
  /** Answers longer than this are cut off and refused. Default 1 MiB (problems and identities are small). */
  readonly maxResponseBytes?: number;
  /**
   * The request may be sent twice (a GET, or an envelope POST: the receiver ignores an identical
   * duplicate). Then a failure on a reused keep-alive connection before any answer arrived, the
   * race with a peer closing that idle connection, is retried once on a new connection.
   */
  readonly idempotent?: boolean;
}

export interface TransportOptions {
  /**
   * PEM certificates of private CAs to trust for https peers, in addition to the well-known
   * roots Node ships (tls.rootCertificates).
   */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * How long an idle pooled connection is kept: well below the server side's keep-alive timeout
 * (SERVER_KEEP_ALIVE_MS in server/main.ts), so this side normally closes first. Node's default
 * server timeout is 5 s; with no agent timeout a connection idle for 5.05 s was reused just as
 * the peer closed it (hardening finding 2). A blocked event loop can still delay our timer, so a
 * request that fails on a reused connection before any answer is retried once (see `request`).
 */
export const AGENT_FREE_SOCKET_TIMEOUT_MS = 4_000;

/** The codes of a connection the other side closed (or reset) under a request just sent on it. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** Node's codes for a certificate that did not verify; the message then says how to fix it. */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  return typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
}

/** Whether a failed connection failed because the peer's certificate did not verify. */
export function isCertificateError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && CERTIFICATE_ERRORS.has(code);
}

/** A short, log-safe reason for a failed request: the error code, with a hint for certificates. */
export function describeTransportError(err: unknown): string {
  const code = errorCode(err);
  if (code !== undefined && CERTIFICATE_ERRORS.has(code)) {
    return `its TLS certificate did not verify (${code}); give its CA with --tls-ca`;
  }
  const message = (err as { message?: unknown }).message;
  return code ?? (typeof message === 'string' ? message : 'request failed');
}

/** The byte length of a body given whole or in parts. */
export function bodyLength(body: Uint8Array | readonly Uint8Array[]): number {
  if (!Array.isArray(body)) return (body as Uint8Array).byteLength;
  let length = 0;
  for (const part of body as readonly Uint8Array[]) length += part.byteLength;
  return length;
}

/** A body as one buffer: for carriers that frame a body whole (the channel, the relay). */
export function joinBody(body: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(body)) return body as Uint8Array;
  const parts = body as readonly Uint8Array[];
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, bodyLength(parts));
}

/** Problem-document members for the error transportFailure returns, per kind of failure. */
export interface TransportFailureExtra {
  readonly onTimeout?: Record<string, unknown>;
  readonly onFailure?: Record<string, unknown>;
}

/**
 * The Tessera error for a request that failed in transport, at `where` (the party): a
 * TimeoutError saying `timeoutMessage` when the request's signal fired, otherwise a PeerError
 * "cannot reach" with the log-safe reason (describeTransportError).
 */
export function transportFailure(err: unknown, where: string, timeoutMessage: string, extra: TransportFailureExtra = {}): TimeoutError | PeerError {
  const name = (err as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new TimeoutError(timeoutMessage, { where, ...(extra.onTimeout !== undefined ? { extra: extra.onTimeout } : {}) });
  }
  return new PeerError(`cannot reach ${where}: ${describeTransportError(err)}`, {
    where,
    ...(extra.onFailure !== undefined ? { extra: extra.onFailure } : {}),
  });
}

/**
 * How the peer layer reaches a peer: one request to a peer URL, one answer. Every carrier of the
 * same sealed envelopes implements this (HttpTransport below is the default); the peer layer above
 * does not know which one carried a message, so authentication, replay and timeout semantics are
 * the same on each.
 */
export interface PeerTransport {
  request(url: string, req: PeerRequest): Promise<PeerResponse>;
  /** Closes pooled connections; later requests open new ones. */
  close(): void;
}

/** What every carrier that reaches an https peer passes to tls.connect (peerTlsOptions). */
export interface PeerTlsOptions {
  readonly secureContext: SecureContext;
  readonly rejectUnauthorized: true;
}

/**
 * One SecureContext per CA configuration, shared by every carrier (the POSTs' agent, the
 * channel's wss) and every server in the process that trusts the same CAs. Given `ca` instead,
 * tls.connect builds a context per connection, and a context with a private CA must list Node's
 * ~140 roots too (below), so each new connection to an https peer parsed them all again. Keyed by
 * the PEM text itself: the server reads its certificate files once, at start (it has no reload),
 * so a different configuration is a different key and gets its own context. Bounded; one evicted
 * is built again when next asked for.
 */
const secureContexts = new Map<string, SecureContext>();
const MAX_SECURE_CONTEXTS = 16;

/**
 * The TLS options every carrier reaching an https peer uses: the certificate chain must verify
 * against Node's roots plus the private CAs given (--tls-ca), and the certificate must name the
 * URL's host (tls.connect's default checkServerIdentity: RFC 9110 section 4.3.4, RFC 6125).
 * This server presents no client certificate to its peers (peers authenticate each other by
 * their envelope keys, not by TLS), on the POSTs and on wss alike.
 */
export function peerTlsOptions(options: TransportOptions = {}): PeerTlsOptions {
  const extra = (options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca]).map((c: string | Buffer) => c.toString());
  const key = extra.join('\n');
  let secureContext = secureContexts.get(key);
  if (secureContext === undefined) {
    // `ca` replaces Node's default roots, so the well-known ones are listed with the private ones.
    secureContext = createSecureContext(extra.length > 0 ? { ca: [...rootCertificates, ...extra] } : {});
    if (secureContexts.size >= MAX_SECURE_CONTEXTS) secureContexts.delete(secureContexts.keys().next().value!);
    secureContexts.set(key, secureContext);
  }
  return { secureContext, rejectUnauthorized: true };
}

/** Peers reached by HTTP(S) requests: the default carrier. */
export class HttpTransport implements PeerTransport {
  readonly #http = new HttpAgent({ keepAlive: true, scheduling: 'lifo', timeout: AGENT_FREE_SOCKET_TIMEOUT_MS });
  readonly #https: HttpsAgent;

  constructor(options: TransportOptions = {}) {
    this.#https = new HttpsAgent({
      keepAlive: true,
      scheduling: 'lifo',
      timeout: AGENT_FREE_SOCKET_TIMEOUT_MS,
      ...peerTlsOptions(options),
    });
  }

  request(url: string, req: PeerRequest): Promise<PeerResponse> {
    return withTimeLimit(req, (bounded) => this.requestOnce(url, bounded));
  }

  private async requestOnce(url: string, req: PeerRequest): Promise<PeerResponse> {
    try {
      return await this.send(url, req);
    } catch (err) {
      const stale = err as { reusedSocket?: boolean; answered?: boolean; code?: unknown };
      // Node's documented pattern for keep-alive races (http.ClientRequest#reusedSocket): the
      // server closed the idle connection just as we wrote to it; nothing reached a handler.
      if (req.idempotent === true && stale.reusedSocket === true && stale.answered !== true &&
          typeof stale.code === 'string' && STALE_CONNECTION_CODES.has(stale.code) && !req.signal.aborted) {
        return this.send(url, req);
      }
      throw err;
    }
  }

  private send(url: string, req: PeerRequest): Promise<PeerResponse> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const limit = req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const { signal } = req;
    return new Promise<PeerResponse>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortReason(signal));
        return;
      }
      let settled = false;
      const finish = (err: unknown, value?: PeerResponse): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (err === undefined) resolve(value!);
        else reject(err);
      };
      const headers: Record<string, string | number> = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = bodyLength(req.body);
      const outgoing = (secure ? httpsRequest : httpRequest)(
        target,
        { method: req.method, headers, agent: secure ? this.#https : this.#http },
        (response: IncomingMessage) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) {
              const err = Object.assign(new Error(`answer larger than ${limit} bytes`), { code: 'ERESPONSETOOLARGE' });
              response.destroy();
              outgoing.destroy();
              finish(err);
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () => {
            const receipt = response.headers[RECEIPT_HEADER];
            finish(undefined, {
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks, size).toString('utf8'),
              ...(typeof receipt === 'string' ? { receipt } : {}),
            });
          });
          response.on('error', (err) => finish(err));
          response.on('aborted', () => finish(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })));
        },
      );
      const onAbort = (): void => {
        const reason = abortReason(signal);
        outgoing.destroy();
        finish(reason);
      };
      let answered = false;
      signal.addEventListener('abort', onAbort, { once: true });
      outgoing.on('error', (err) => finish(Object.assign(err, { reusedSocket: outgoing.reusedSocket, answered })));
      if (req.body === undefined) outgoing.end();
      else if (!Array.isArray(req.body)) outgoing.end(req.body);
      else {
        // The parts of a large envelope go to the socket as they are, in one writev (cork), with
        // no copy into one buffer first.
        outgoing.cork();
        for (const part of req.body as readonly Uint8Array[]) outgoing.write(part);
        outgoing.end();
      }
    });
  }

  /** Closes pooled connections; later requests open new ones. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

/**
 * `signal` (if any), or a time limit of `ms`, whichever fires first (the limit fires with the DOMException
 * "TimeoutError" AbortSignal.timeout gives), released by `dispose`. Per peer message this replaces
 * AbortSignal.any([signal, AbortSignal.timeout(ms)]): a timeout signal cannot be cancelled, so
 * every message sent left a timer of the whole stage timeout behind it, and every composite stayed
 * registered with the session's signal until garbage collection; here both go when the message is
 * answered.
 */
export function boundedSignal(signal: AbortSignal | undefined, ms: number): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (signal?.aborted === true) {
    controller.abort(signal.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(timeLimitReason()), ms);
  timer.unref();
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Runs `send` with `req`'s time limit (timeoutMs) folded into its signal (boundedSignal), for a
 * carrier that knows only signals; a request without a limit is sent as it is.
 */
export async function withTimeLimit<T>(req: PeerRequest, send: (req: PeerRequest) => Promise<T>): Promise<T> {
  if (req.timeoutMs === undefined) return send(req);
  const { timeoutMs, ...rest } = req;
  const bounded = boundedSignal(req.signal, timeoutMs);
  try {
    return await send({ ...rest, signal: bounded.signal });
  } finally {
    bounded.dispose();
  }
}

/** The abort reason a request's own time limit gives (what AbortSignal.timeout gives). */
export function timeLimitReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/** The signal's reason as an Error (a DOMException "TimeoutError" for AbortSignal.timeout). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error || (typeof reason === 'object' && reason !== null && 'name' in reason)) return reason as Error;
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError' });
}
