// Binary request bodies (safetensors uploads, peer envelopes) read into one buffer of their final
// size. express.raw (raw-body) collects the chunks and concatenates them at the end, so a 100 MB
// model briefly takes 200 MB of memory and every peer message is copied once more; with a
// Content-Length we allocate once and copy each chunk into place as it arrives.

import express, { type RequestHandler } from 'express';
import { BadInputError, LimitError, TooLargeError, UnsupportedMediaTypeError } from '../../services/errors.js';
import { templatePattern, type LoadedSpec } from './spec.js';

const MEDIA_TYPE = 'application/octet-stream';

/**
 * Sets `req.body` to a Buffer for an application/octet-stream request of at most `limitBytes`;
 * leaves any other request alone (the validator answers 415 where the operation takes no such
 * body), or with `required` answers that 415 itself. Too large: 413 before reading (when declared) or as soon as the limit is passed; a body
 * shorter than its Content-Length (the client went away): 400. On an error the connection is
 * closed rather than drained, so a refused 500 MB upload is not read to its end.
 */
export function binaryBody(limitBytes: number, options: { required?: boolean } = {}): RequestHandler {
  return (req, res, next) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== MEDIA_TYPE) {
      // `required`: a route that skips the validator answers the 415 the validator would.
      if (!options.required) return next();
      return next(new UnsupportedMediaTypeError(`the body must be ${MEDIA_TYPE}, not ${type || 'missing'}`, { where: 'content-type' }));
    }
    const fail = (err: Error): void => {
      res.setHeader('Connection', 'close');
      req.unpipe();
      req.pause();
      next(err);
    };
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      return fail(new UnsupportedMediaTypeError(`unsupported content encoding ${encoding}; send the bytes as they are`, { where: 'Content-Encoding' }));
    }
    const declared = req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
      return fail(new BadInputError('Content-Length is not a byte count', { where: 'Content-Length' }));
    }
    if (length !== undefined && length > limitBytes) {
      return fail(new TooLargeError(`request body of ${length} bytes is larger than ${limitBytes} bytes, the limit`, { where: 'body' }));
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
      if (body) chunk.copy(body, received);
      else chunks.push(chunk);
      received += chunk.length;
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
    binary: binaryBody(limits.binary),
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
      res.setHeader('Connection', 'close');
      req.pause();
      next(new TooLargeError(`request body larger than ${limit} bytes, the limit of ${req.method} ${req.path.slice(0, 200)}`, { where: 'body' }));
      return;
    }
    const json = takesJson ? parsers.json : parsers.smallJson;
    const binary = takesBinary ? parsers.binary : parsers.smallBinary;
    json(req, res, (err?: unknown) => (err === undefined ? binary(req, res, next) : next(err)));
  };
}

export interface InflightLimits {
  /** Request bodies being received at once on the route. */
  readonly bodies: number;
  /** Their declared (or, when chunked, largest possible) bytes together. */
  readonly bytes: number;
  /** The largest one body may be (the route's body limit). */
  readonly maxBody: number;
  /**
   * A body must arrive within `graceMs` plus its length at `minBytesPerSecond`; slower, the
   * connection is cut. Default 5 s and 1 MiB/s (a 34 MiB envelope then has 39 s).
   */
  readonly graceMs?: number;
  readonly minBytesPerSecond?: number;
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
 * the connection is closed. A body that arrives slower than the minimum rate is cut off.
 * Hardening finding 7: 100 slow connections no longer hold 34 MiB each for 5 minutes.
 */
export function inflightGuard(limits: InflightLimits): RequestHandler & { stats(): InflightStats } {
  let bodies = 0;
  let bytes = 0;
  const graceMs = limits.graceMs ?? 5000;
  const rate = limits.minBytesPerSecond ?? 1024 * 1024;
  const guard = ((req, res, next) => {
    const declared = Number(req.headers['content-length']);
    const reserve = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, limits.maxBody + 1) : limits.maxBody;
    if (bodies + 1 > limits.bodies || bytes + reserve > limits.bytes) {
      res.setHeader('Connection', 'close');
      res.setHeader('Retry-After', '1');
      req.pause();
      next(new LimitError(`this server is receiving ${bodies} peer messages (${bytes} bytes) already; retry shortly`, { where: 'envelope', extra: { reason: INFLIGHT_BUSY } }));
      return;
    }
    bodies += 1;
    bytes += reserve;
    const timer = setTimeout(() => {
      if (!req.complete) req.socket.destroy();
    }, graceMs + (1000 * reserve) / rate);
    let released = false;
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
