// Binary request bodies (safetensors uploads, peer envelopes) read into one buffer of their final
// size. express.raw (raw-body) collects the chunks and concatenates them at the end, so a 100 MB
// model briefly takes 200 MB of memory and every peer message is copied once more; with a
// Content-Length we allocate once and copy each chunk into place as it arrives.

import { release } from '../../services/common/release.js';
import type { IncomingHttpHeaders } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { BadInputError, LimitError, TooLargeError, UnsupportedMediaTypeError } from '../../services/errors.js';
import { templatePattern, type LoadedSpec } from './spec.js';

const MEDIA_TYPE = 'application/octet-stream';

/**
 * Sets `req.body` to a Buffer for an application/octet-stream request of at most `limitBytes`;
 * leaves any other request alone (the validator answers 415 where the operation takes no such
 * body), or with `required` answers that 415 itself. Too large: 413 before reading (when declared) or as soon as the limit is passed; a body
 * shorter than its Content-Length (the client went away): 400. A refused body is read off only
 * with `readOffRefused` (the client API's uploads) and when it is declared and short enough
 * (`refuseBody`); otherwise, and for peer messages, the connection is closed after the answer.
 */
export function binaryBody(limitBytes: number, options: { required?: boolean; readOffRefused?: boolean } = {}): RequestHandler {
  return (req, res, next) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== MEDIA_TYPE) {
      // `required`: a route that skips the validator answers the 415 the validator would.
      if (!options.required) return next();
      return next(new UnsupportedMediaTypeError(`the body must be ${MEDIA_TYPE}, not ${type || 'missing'}`, { where: 'content-type' }));
    }
    const fail = (err: Error, declared?: number): void => refuseBody(req, res, next, err, options.readOffRefused === true ? declared : undefined);
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      return fail(new UnsupportedMediaTypeError(`unsupported content encoding ${encoding}; send the bytes as they are`, { where: 'Content-Encoding' }), Number(req.headers['content-length']));
    }
    const declared = req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
      return fail(new BadInputError('Content-Length is not a byte count', { where: 'Content-Length' }));
    }
    if (length !== undefined && length > limitBytes) {
      return fail(new TooLargeError(`request body of ${length} bytes is larger than ${limitBytes} bytes, the limit`, { where: 'body' }), length);
    }

    // Known length: one allocation. Chunked: collect, then one concatenation (bounded by the limit).
    const body = length !== undefined ? Buffer.allocUnsafe(length) : undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (err) return fail(err);
      req.body = body ?? Buffer.concat(chunks, received);
      // body-parser's mark for "already read", so no later parser tries the spent stream again.
      (req as { _body?: boolean })._body = true;
      next();
    };
    const onData = (chunk: Buffer): void => {
      if (received + chunk.length > (length ?? limitBytes)) {
        // Node frames a body by its Content-Length, so only a chunked body gets here.
        return finish(new TooLargeError(`request body larger than ${limitBytes} bytes, the limit`, { where: 'body' }));
      }
      const n = chunk.length;
      if (body) {
        chunk.copy(body, received);
        // A socket read of its own, copied and read by nobody else: freed now, not by the collector.
        if (req.listenerCount('data') === 1) release(chunk);
      } else chunks.push(chunk);
      received += n;
    };
    const onEnd = (): void => {
      if (length !== undefined && received !== length) {
        return finish(new BadInputError(`the body ended after ${received} of ${length} bytes`, { where: 'body' }));
      }
      finish();
    };
    const onError = (err: Error): void => finish(new BadInputError(`the body could not be read: ${err.message}`, { where: 'body' }));
    const onAborted = (): void => finish(new BadInputError('the client went away before sending the whole body', { where: 'body' }));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  };
}

/** Body bytes an operation without a request body may still carry (old clients send `{}` with GET). */
export const DEFAULT_OPEN_BODY_LIMIT_BYTES = 16 * 1024;

export interface OperationBodyLimits {
  /** Largest application/json body of an operation that takes one. */
  readonly json: number;
  /** Largest application/octet-stream body of an operation that takes one. */
  readonly binary: number;
  /** Largest body of anything else: open paths, unknown paths, methods without a request body. */
  readonly other: number;
}

/** Media types of each operation's requestBody in the spec (empty: the operation takes no body). */
function operationBodies(spec: LoadedSpec): { method: string; pattern: RegExp; types: ReadonlySet<string> }[] {
  const paths = (spec.document.paths ?? {}) as Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } }>>;
  return spec.operations.map((op) => ({
    method: op.method.toUpperCase(),
    pattern: templatePattern(op.path),
    types: new Set(Object.keys(paths[op.path]?.[op.method]?.requestBody?.content ?? {})),
  }));
}

/**
 * One body parser per operation, chosen from the spec: an operation that declares an
 * application/json body gets the JSON limit, one that declares application/octet-stream the
 * binary limit, and everything else (open paths such as /health, unknown paths, a method the path
 * does not have) at most `other` bytes. A declared Content-Length above the route's limit is a 413
 * before a single body byte is read, and the connection is closed rather than drained; a chunked
 * body of a type no parser reads is refused the same way on a route that takes no body. Runs after
 * client authentication, so a protected operation's body is never read for an anonymous caller
 * either (SECURITY.md "Clients", finding 1 of the hardening issue).
 */
export function bodyByOperation(spec: LoadedSpec, limits: OperationBodyLimits): RequestHandler {
  const routes = operationBodies(spec);
  const parsers = {
    json: express.json({ limit: limits.json, strict: true }),
    binary: binaryBody(limits.binary, { readOffRefused: true }),
    smallJson: express.json({ limit: limits.other, strict: true }),
    smallBinary: binaryBody(limits.other),
  };
  return (req, res, next) => {
    const types = routes.find((r) => r.method === req.method && r.pattern.test(req.path))?.types;
    const takesJson = types?.has('application/json') === true;
    const takesBinary = types?.has(MEDIA_TYPE) === true;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const limit = type === MEDIA_TYPE && takesBinary ? limits.binary : takesJson ? limits.json : limits.other;
    const declared = req.headers['content-length'];
    const chunked = declared === undefined && req.headers['transfer-encoding'] !== undefined;
    const readable = type === 'application/json' || type === MEDIA_TYPE;
    if ((declared !== undefined && Number(declared) > limit) || (chunked && !readable && !takesJson && !takesBinary)) {
      const error = new TooLargeError(`request body larger than ${limit} bytes, the limit of ${req.method} ${req.path.slice(0, 200)}`, { where: 'body' });
      // Read off only for an operation that takes a body (a party's own client, past the token
      // check); a large body sent to any other path is not read.
      refuseBody(req, res, next, error, declared !== undefined && (takesJson || takesBinary) ? Number(declared) : undefined);
      return;
    }
    // The two common cases of a client request, read without body-parser (see plainJsonBody):
    // no body at all, and a JSON body in UTF-8, as it is, of a declared length.
    if (!(req as { _body?: boolean })._body && type !== MEDIA_TYPE) {
      if (declared === undefined && req.headers['transfer-encoding'] === undefined) {
        req.body ??= {};
        next();
        return;
      }
      if (declared !== undefined && isPlainJson(req.headers)) {
        plainJsonBody(req, Number(declared), next);
        return;
      }
    }
    const json = takesJson ? parsers.json : parsers.smallJson;
    const binary = takesBinary ? parsers.binary : parsers.smallBinary;
    json(req, res, (err?: unknown) => (err === undefined ? binary(req, res, next) : next(err)));
  };
}

/**
 * A refused body of the client API of at most this many declared bytes is read and dropped after
 * the answer; a longer one, or one of unknown length, is not read at all.
 */
export const REFUSED_BODY_READ_BYTES = 256 * 1024 * 1024;

/**
 * Answers `err` for a request whose body will not be used. The answer goes out at once. A client
 * usually goes on writing the body it declared, and a connection closed under it shows that
 * client a reset ("write EPIPE", "connection reset") instead of the answer: the TypeScript
 * client, through Node's http, did so for most bodies of a few MiB past --max-json-body. So a body
 * declared at most REFUSED_BODY_READ_BYTES long is read off and dropped, the connection staying
 * open, and the client reads the 413 (or 415) with its reason. A longer body, one of unknown
 * length, or `declared` left undefined by the caller (a path that takes no body, a peer message)
 * is not read: the connection is closed after the answer, so a refused 5 GB upload costs this
 * server nothing (HTTP/1.1 has no other way to stop a sender).
 */
export function refuseBody(req: Request, res: Response, next: NextFunction, err: Error, declared: number | undefined): void {
  req.unpipe();
  if (declared !== undefined && Number.isSafeInteger(declared) && declared >= 0 && declared <= REFUSED_BODY_READ_BYTES) {
    req.resume();
  } else {
    res.setHeader('Connection', 'close');
    req.pause();
  }
  next(err);
}

/** `Content-Type: application/json` (UTF-8, the default), no Content-Encoding, no chunks. */
function isPlainJson(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  if (type === undefined || headers['transfer-encoding'] !== undefined) return false;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const normalised = type.toLowerCase().replace(/[ \t]/g, '');
  if (normalised !== 'application/json' && normalised !== 'application/json;charset=utf-8') return false;
  const length = Number(headers['content-length']);
  return Number.isSafeInteger(length) && length >= 0 && /^\d+$/.test(headers['content-length']!.trim());
}

/** body-parser's test for a strict JSON body: the first character that is not JSON whitespace. */
const FIRST_CHAR = /^[ \t\n\r]*([^ \t\n\r])/;

/** An error as body-parser makes them: the problem mapper reads `type` and `status` (server/http/problem.ts). */
function bodyParserError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { type, status, statusCode: status, expose: true });
}

/**
 * A small JSON body read as body-parser's `json({ strict: true })` reads it, for the one case a
 * client request nearly always is: UTF-8 JSON of a declared length (the bound was checked before,
 * in bodyByOperation), neither compressed nor chunked. body-parser gets there through type-is,
 * content-type, raw-body, on-finished and iconv-lite, a tenth of a request's server time in a
 * profile; here the bytes are collected from the request and parsed. The outcome is the same: an
 * empty body is `{}` (body-parser's special case), a leading byte order mark is dropped (as
 * iconv-lite's UTF-8 decoder drops it), anything that does not start with `{` or `[` or does not
 * parse is a 400 `entity.parse.failed`, a body cut short a 400 `request.size.invalid` or
 * `request.aborted`. Every other request (another charset, an encoding, chunks) goes to
 * body-parser as before.
 */
function plainJsonBody(req: Request, length: number, next: NextFunction): void {
  (req as { _body?: boolean })._body = true;
  const chunks: Buffer[] = [];
  let received = 0;
  let done = false;
  const finish = (err?: Error): void => {
    if (done) return;
    done = true;
    req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
    if (err !== undefined) {
      // As body-parser does: the rest of the request is read off, so the answer can be written.
      req.resume();
      next(err);
      return;
    }
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    let text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.length === 0) {
      req.body = {};
      next();
      return;
    }
    const first = FIRST_CHAR.exec(text)?.[1];
    if (first !== '{' && first !== '[') {
      next(bodyParserError(400, 'entity.parse.failed', 'the JSON body must be an object or an array'));
      return;
    }
    try {
      req.body = JSON.parse(text) as unknown;
    } catch (err) {
      next(bodyParserError(400, 'entity.parse.failed', err instanceof Error ? err.message : 'malformed JSON'));
      return;
    }
    next();
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    received += chunk.length;
  };
  const onEnd = (): void => {
    finish(received === length ? undefined : bodyParserError(400, 'request.size.invalid', 'request size did not match content length'));
  };
  const onError = (): void => finish(bodyParserError(400, 'request.aborted', 'request aborted'));
  const onAborted = (): void => finish(bodyParserError(400, 'request.aborted', 'request aborted'));
  req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
}

export interface InflightLimits {
  /** Request bodies being received at once on the route. */
  readonly bodies: number;
  /** Their declared (or, when chunked, largest possible) bytes together. */
  readonly bytes: number;
  /** The largest one body may be (the route's body limit). */
  readonly maxBody: number;
  /**
   * Progress a body must make: in every `windowMs` of this server's own running time, at least
   * `minWindowBytes` more of it (or the rest of it); slower, the connection is cut. Default 5 s and
   * 256 KiB: a stalled or dribbling sender (slowloris) is cut after one window, however large the
   * body it declared, while an upload of any length that keeps moving is not.
   */
  readonly windowMs?: number;
  readonly minWindowBytes?: number;
  /** Told when a body is cut (for the server log): what had arrived, over how long. */
  readonly onCut?: (info: { readonly declared: number | undefined; readonly received: number; readonly elapsedMs: number; readonly stalledMs: number }) => void;
}

/** What an InflightGuard holds right now. */
export interface InflightStats {
  readonly bodies: number;
  readonly bytes: number;
}

export const INFLIGHT_BUSY = 'busy';

/**
 * Bounds what unauthenticated senders can make a route hold before their bodies authenticate
 * (POST /peer/messages: an envelope is only checked once it is whole). Each request reserves its
 * declared length (a chunked one: the route's limit) for as long as it is in flight; past
 * `bodies` or `bytes`, a 429 problem with `reason: "busy"` at once, before any byte is read, and
 * the connection is closed. A body that stops making progress is cut off (hardening finding 7:
 * 100 slow connections no longer hold 34 MiB each for 5 minutes).
 *
 * Progress, not a total deadline: a deadline of 5 s + 1 s/MiB cut bodies that were moving but
 * whose receiver was starved: under load (5 parties × 25M parameters on 2 cores) a server busy
 * for seconds in one synchronous step finds its timers due before it reads the bytes waiting in
 * its socket, and cut a peer's 2 MiB envelope that had in fact arrived (its sender saw ECONNRESET).
 * So the check (1) runs after the pending reads (setImmediate: the poll phase comes first), (2)
 * counts only this server's running time: a tick that comes late (this process did not run) counts
 * as at most two ticks, and (3) asks for progress per window, so a long body is never cut for its
 * length. A slowloris still has to deliver minWindowBytes every window to keep its slot.
 */
export function inflightGuard(limits: InflightLimits): RequestHandler & { stats(): InflightStats } {
  let bodies = 0;
  let bytes = 0;
  const windowMs = limits.windowMs ?? 5000;
  const minWindowBytes = limits.minWindowBytes ?? 256 * 1024;
  const tickMs = Math.max(10, Math.min(1000, windowMs / 5));
  const guard = ((req, res, next) => {
    const declared = Number(req.headers['content-length']);
    const known = Number.isSafeInteger(declared) && declared >= 0;
    const reserve = known ? Math.min(declared, limits.maxBody + 1) : limits.maxBody;
    if (bodies + 1 > limits.bodies || bytes + reserve > limits.bytes) {
      res.setHeader('Connection', 'close');
      res.setHeader('Retry-After', '1');
      req.pause();
      next(new LimitError(`this server is receiving ${bodies} peer messages (${bytes} bytes) already; retry shortly`, { where: 'envelope', extra: { reason: INFLIGHT_BUSY } }));
      return;
    }
    bodies += 1;
    bytes += reserve;
    // Body bytes as the socket counts them (a listener of our own on `req` would start the stream
    // before the body parser is attached); the headers are read by now.
    const socket = req.socket;
    const base = socket.bytesRead;
    const bodyRead = () => Math.max(0, socket.bytesRead - base);
    let ran = 0; // this server's running time since the request came, in ms
    let last = performance.now();
    let window = { at: 0, read: 0 };
    let lastMoved = 0;
    let timer: NodeJS.Timeout | undefined;
    let released = false;
    const check = (): void => {
      if (released || req.complete) return;
      const now = performance.now();
      ran += Math.min(now - last, 2 * tickMs);
      last = now;
      const read = bodyRead();
      if (read > window.read) lastMoved = ran;
      if (ran - window.at >= windowMs) {
        const needed = Math.min(minWindowBytes, known ? Math.max(0, reserve - window.read) : minWindowBytes);
        if (read - window.read < needed) {
          limits.onCut?.({ declared: known ? declared : undefined, received: read, elapsedMs: Math.round(ran), stalledMs: Math.round(ran - lastMoved) });
          socket.destroy();
          return;
        }
        window = { at: ran, read };
      }
      timer = setTimeout(() => setImmediate(check), tickMs);
    };
    timer = setTimeout(() => setImmediate(check), tickMs);
    const release = (): void => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      bodies -= 1;
      bytes -= reserve;
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  }) as RequestHandler & { stats(): InflightStats };
  guard.stats = () => ({ bodies, bytes });
  return guard;
}
