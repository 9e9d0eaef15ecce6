// Who may use the HTTP surfaces (docs/architecture.md §5, SECURITY.md):
//
// - Client API: the operations whose effective `security` in openapi.yaml names `bearerAuth`, and
//   anything that is not an open operation (deny by default). With a client token configured, each
//   such request must carry `Authorization: Bearer <token>`
//   (RFC 6750 section 2.1); the comparison is constant-time over SHA-256 digests of fixed length,
//   so neither the token's content nor its length leaks through timing. Failures are 401 problems
//   with `WWW-Authenticate: Bearer` (RFC 6750 section 3) and a warning in the log (never the token).
// - Peer API: authenticated by its sealed envelopes only. A client token means nothing there, and
//   no peer credential (an envelope, the network secret) means anything on the client API.
// - Browsers: no `Access-Control-Allow-Origin: *`, ever. A request whose `Origin` is neither this
//   server itself nor an origin configured with --cors-origin is refused (403) before it reaches a
//   handler: a page on another origin cannot drive a server, even with "simple" requests that a
//   browser sends without a preflight (Fetch standard, section 3.2 "CORS protocol").
// - DNS rebinding: a server without a client token that listens on loopback only answers requests
//   whose `Host` names loopback; a page whose domain was rebound to 127.0.0.1 sends its own domain
//   as Host and is refused.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { BadInputError, ForbiddenError, UnauthenticatedError } from '../../services/errors.js';
import type { Logger } from '../../services/microservice.js';
import { isLoopback } from '../loopback.js';
import { templatePattern, type LoadedSpec } from './spec.js';

export const MIN_TOKEN_LENGTH = 16;
export const BEARER_SCHEME = 'bearerAuth';

export interface SecurityOptions {
  /** The bearer token clients must present on the client API. Unset: clients are not authenticated. */
  clientToken?: string;
  /** Browser origins (scheme://host[:port]) allowed to call this server. Default: none. */
  corsOrigins?: readonly string[];
  /**
   * Host names (without port) this server answers to on its non-peer routes besides loopback
   * names (server/loopback.ts); unset: any. The server sets it to its own bind address when it
   * listens on loopback without a client token.
   */
  allowedHosts?: readonly string[];
}

/** Throws BadInputError naming the field when a token could not be sent in a header or is too short to resist guessing. */
export function checkClientToken(token: string, where = '--token'): string {
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new BadInputError(`a client token must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -base64 32)`, { where });
  }
  // RFC 6750 section 2.1 b64token, plus the other visible ASCII characters a header can carry.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new BadInputError('a client token must be visible ASCII characters without spaces', { where });
  }
  return token;
}

/** `https://App.example:443/` -> `https://app.example`; refuses `*` and anything that is not an origin. */
export function normaliseOrigin(origin: string, where = '--cors-origin'): string {
  if (origin.trim() === '*') {
    throw new BadInputError('"*" would let every web page drive this server; name each allowed origin', { where });
  }
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new BadInputError(`"${origin}" is not an origin like https://app.example.org`, { where });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname.replace(/\/+$/, '') !== '' || url.search || url.hash || url.username) {
    throw new BadInputError(`"${origin}" is not an origin (scheme://host[:port], nothing else)`, { where });
  }
  return url.origin;
}

/** The path templates of operations whose effective security requires the bearer scheme. */
export function protectedOperations(spec: LoadedSpec): { method: string; path: string }[] {
  const doc = spec.document as { security?: unknown; paths?: Record<string, Record<string, { security?: unknown }>> };
  const requiresBearer = (security: unknown): boolean =>
    Array.isArray(security) && security.some((req) => typeof req === 'object' && req !== null && Object.hasOwn(req, BEARER_SCHEME));
  return spec.operations
    .filter((op) => {
      const own = doc.paths?.[op.path]?.[op.method]?.security;
      return requiresBearer(own ?? doc.security);
    })
    .map((op) => ({ method: op.method, path: op.path }));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The path templates of operations a client may call without a token (`security: []` in the spec). */
export function openOperations(spec: LoadedSpec): { method: string; path: string }[] {
  const guarded = new Set(protectedOperations(spec).map((op) => `${op.method} ${op.path}`));
  return spec.operations.filter((op) => !guarded.has(`${op.method} ${op.path}`)).map((op) => ({ method: op.method, path: op.path }));
}

/**
 * Bearer authentication of the client API. Deny by default: with a token configured, every request
 * needs it except those for the open operations of the spec (health, the spec, Swagger UI and its
 * assets, the peer API), matched exactly and case-sensitively — so no spelling of a client path
 * (case, encoding, slashes) slips past it. Runs before any body is read, so an unauthenticated
 * caller cannot make the server parse a large body.
 */
export function clientAuthentication(spec: LoadedSpec, token: string | undefined, log: Logger): RequestHandler {
  if (token === undefined) return (_req, _res, next) => next();
  const expected = sha256(checkClientToken(token));
  const open = [...openOperations(spec).map((op) => templatePattern(op.path)), /^\/docs\/[A-Za-z0-9._-]+$/];
  return (req: Request, res: Response, next: NextFunction) => {
    if (open.some((re) => re.test(req.path))) {
      next();
      return;
    }
    const header = req.headers.authorization;
    // The scheme is case-insensitive (RFC 9110 section 11.1); one space, then the token.
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim()) : null;
    const presented = match?.[1];
    // Constant-time: both digests are 32 bytes whatever was sent (RFC 6750 section 5.2 asks that
    // tokens not be guessable; timingSafeEqual keeps the comparison from telling how close a guess was).
    const ok = presented !== undefined && timingSafeEqual(sha256(presented), expected);
    if (ok) {
      next();
      return;
    }
    const reason = header === undefined ? 'missing' : presented === undefined ? 'malformed' : 'invalid';
    log.warn({ reason, method: req.method, path: req.path.slice(0, 200), remote: req.socket.remoteAddress }, 'client authentication failed');
    res.setHeader('WWW-Authenticate', reason === 'missing' ? 'Bearer realm="tessera"' : 'Bearer realm="tessera", error="invalid_token"');
    next(
      new UnauthenticatedError(
        reason === 'missing'
          ? 'this server requires a client token: send "Authorization: Bearer <token>"'
          : reason === 'malformed'
            ? 'the Authorization header must be "Bearer <token>"'
            : 'the client token is not valid',
        { where: 'Authorization' },
      ),
    );
  };
}

/** The host part of a Host header ("127.0.0.1:55501" -> "127.0.0.1", "[::1]:80" -> "[::1]"), lower case. */
export function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

const ALLOWED_METHODS = 'GET, PUT, POST, PATCH, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept';

/**
 * Host and Origin checks plus CORS for the configured origins. The peer API is left alone: peers
 * are servers (no Origin), and their envelopes authenticate them wherever they connect from.
 */
export function browserGuard(options: SecurityOptions, log: Logger): RequestHandler {
  const origins = new Set((options.corsOrigins ?? []).map((o) => normaliseOrigin(o)));
  const hosts = options.allowedHosts === undefined ? undefined : new Set(options.allowedHosts.map(hostName));
  const allowedList = origins.size === 0 ? 'no other origin (see --cors-origin)' : [...origins].join(', ');
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/peer/')) {
      next();
      return;
    }
    const host = req.headers.host ?? '';
    if (hosts !== undefined && !(hosts.has(hostName(host)) || isLoopback(hostName(host)))) {
      log.warn({ host: host.slice(0, 200), path: req.path, remote: req.socket.remoteAddress }, 'request for another host refused');
      next(new ForbiddenError(`this server answers to loopback names only, not "${host.slice(0, 200)}"`, { where: 'Host' }));
      return;
    }
    const origin = req.headers.origin;
    if (origin === undefined) {
      next();
      return;
    }
    if (origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        // A preflight carries no credentials; it is answered here, before authentication.
        res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
        res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
      next();
      return;
    }
    if (sameOrigin(origin, host)) {
      next();
      return;
    }
    log.warn({ origin: origin.slice(0, 200), method: req.method, path: req.path }, 'cross-origin request refused');
    next(new ForbiddenError(`requests from the web origin ${origin.slice(0, 200)} are not allowed; this server allows ${allowedList}`, { where: 'Origin' }));
  };
}

/** The page that sent the request was served by this server (e.g. Swagger UI at /docs). */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return host !== '' && url.host.toLowerCase() === host.trim().toLowerCase();
  } catch {
    return false;
  }
}
