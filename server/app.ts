// The HTTP app, built from openapi.yaml: express-openapi-validator checks every request (and,
// when asked, every response) against the spec; handlers are bound by operationId through a
// typed map; one error mapper turns every failure into application/problem+json.
// Handlers stay thin: parse, call the bus or the peer endpoint, respond. Logic lives in services/.

import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import swaggerUi from 'swagger-ui-express';
import { NotFoundError, NotImplementedError } from '../services/errors.js';
import type { Logger } from '../services/microservice.js';
import type { PeerEndpoint, PeerNetwork } from '../services/peer.js';
import { createBarrier, createBroadcast } from '../services/sync/index.js';
import { createKeyValueStorage } from '../services/util/index.js';
import { createSimon } from '../services/simon/index.js';
import type { DisclosurePolicy } from '../services/simon/engine.js';
import { RepresentationBus, type BusLimits } from './bus.js';
import { configDefault } from './config.js';
import { DEFAULT_STAGE_TIMEOUT_MS } from './peer/index.js';
import { Registry } from './registry.js';
import { binaryBody, bodyByOperation, DEFAULT_OPEN_BODY_LIMIT_BYTES, inflightGuard } from './http/body.js';
import { checkHandlersMatchSpec, createHandlers, type MetricsEndpoint, type ReadinessCheck } from './http/handlers/index.js';
import { acceptEmptyBodyOnGetAndDelete, asyncHandler, rejectDeepJson, requestLog, runAll } from './http/middleware.js';
import type { Handler, OperationId } from './http/operations.js';
import { PROBLEM_MEDIA_TYPE, instancePath, problem, problemHandler } from './http/problem.js';
import { withFastPath } from './http/fastpath.js';
import { browserGuard, clientAuthentication, type SecurityOptions } from './http/security.js';
import { loadSpec } from './http/spec.js';
import { requestValidator } from './http/validator.js';

export { checkHandlersMatchSpec, type Handler, type MetricsEndpoint, type ReadinessCheck };
export type { HandlerMap } from './http/operations.js';

export const DEFAULT_JSON_LIMIT_BYTES = configDefault('limits.jsonBodyBytes');
export const DEFAULT_BINARY_LIMIT_BYTES = configDefault('limits.binaryBodyBytes');
/** Room for a peer envelope's header (at most 1 MiB) and overhead besides its payload. */
export const PEER_BODY_OVERHEAD_BYTES = 2 * 1024 * 1024;
/** The peer node's largest message plus its header and envelope overhead. */
export const DEFAULT_PEER_BODY_LIMIT_BYTES = configDefault('peer.limits.maxMessageBytes') + PEER_BODY_OVERHEAD_BYTES;
export const DEFAULT_JSON_DEPTH = configDefault('limits.jsonDepth');
export const DEFAULT_PEER_INFLIGHT_BODIES = configDefault('limits.peerInflightBodies');
/**
 * JSON text of a tensor takes up to ~24 characters per value and is built in one piece: 30M values
 * stalled a server for seconds and then exceeded V8's largest string (hardening finding 8).
 */
export const DEFAULT_JSON_DOWNLOAD_VALUES = configDefault('limits.jsonDownloadValues');
export const DEFAULT_PEER_INFLIGHT_BYTES = configDefault('limits.peerInflightBytes');

export interface AppLimits extends BusLimits {
  /** Largest application/json body. Default 16 MiB. */
  jsonBodyBytes?: number;
  /** Largest application/octet-stream upload (PUT /representations, safetensors). Default 512 MiB. */
  binaryBodyBytes?: number;
  /** Largest peer envelope (POST /peer/messages). Default 34 MiB. */
  peerBodyBytes?: number;
  /** Deepest nesting of arrays and objects in a JSON body. Default 100. */
  jsonDepth?: number;
  /**
   * Most tensor values a JSON download may carry; above it a 406 asks for safetensors
   * (`Accept: application/octet-stream`). Default 4 Mi values.
   */
  jsonDownloadValues?: number;
  /** Peer envelopes being received at once (not yet authenticated). Default 64. */
  peerInflightBodies?: number;
  /** Their bytes together (declared lengths). Default 256 MiB. */
  peerInflightBytes?: number;
}

export interface AppOptions {
  bus: RepresentationBus;
  log: Logger;
  /** The peer API's server side; without it the peer routes answer 501. */
  peerEndpoint?: PeerEndpoint;
  /** Validate every response against the spec (tests turn it on). */
  validateResponses?: boolean;
  limits?: AppLimits;
  /** When the server started (for /health); default now. */
  startedAt?: number;
  /** Client token, CORS origins, accepted Host names (server/http/security.ts). Default: none of them. */
  security?: SecurityOptions;
  /** GET /metrics (server/metrics.ts); without it the operation answers 501. */
  metrics?: MetricsEndpoint;
  /**
   * What GET /health checks before it says "ok", by name (the server adds its data directory and
   * identity; a relay connection adds its own). A failing check answers 503.
   */
  readiness?: Readonly<Record<string, ReadinessCheck>>;
  /**
   * Run the representation operations of a computation without Express's router
   * (server/http/fastpath.ts). Default on; off, every request goes through Express (the
   * differential test compares the two).
   */
  fastPath?: boolean;
}

/** The microservices every Tessera server offers, matched by description. */
export function createDefaultRegistry(options: { disclosure?: DisclosurePolicy } = {}): Registry {
  const registry = new Registry();
  registry.register(createSimon(options.disclosure !== undefined ? { disclosure: options.disclosure } : {}));
  registry.register(createBarrier());
  registry.register(createBroadcast());
  registry.register(createKeyValueStorage());
  return registry;
}

/** A PeerNetwork for servers without a peer layer (unit tests): every open fails clearly. */
export function unavailablePeers(stageTimeoutMs = DEFAULT_STAGE_TIMEOUT_MS): PeerNetwork {
  return {
    stageTimeoutMs,
    open() {
      return Promise.reject(new NotImplementedError('this server runs without a peer layer', { where: 'network' }));
    },
  };
}

export function createBus(options: {
  log: Logger;
  peers?: PeerNetwork;
  registry?: Registry;
  limits?: BusLimits;
  now?: () => number;
  /** The SIMON disclosure policy (--min-cell-count). */
  disclosure?: DisclosurePolicy;
}): RepresentationBus {
  return new RepresentationBus({
    registry: options.registry ?? createDefaultRegistry(options.disclosure !== undefined ? { disclosure: options.disclosure } : {}),
    peers: options.peers ?? unavailablePeers(),
    log: options.log,
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
}

export function createApp(options: AppOptions): Express {
  const { bus, log } = options;
  const spec = loadSpec();
  const startedAt = options.startedAt ?? Date.now();
  const jsonLimit = options.limits?.jsonBodyBytes ?? DEFAULT_JSON_LIMIT_BYTES;
  const binaryLimit = options.limits?.binaryBodyBytes ?? DEFAULT_BINARY_LIMIT_BYTES;
  const peerLimit = options.limits?.peerBodyBytes ?? DEFAULT_PEER_BODY_LIMIT_BYTES;
  const jsonDepth = options.limits?.jsonDepth ?? DEFAULT_JSON_DEPTH;
  const security = options.security ?? {};

  const jsonDownloadValues = options.limits?.jsonDownloadValues ?? DEFAULT_JSON_DOWNLOAD_VALUES;
  const handlers = createHandlers({
    bus, log, spec, startedAt, jsonDownloadValues, readiness: options.readiness ?? {},
    ...(options.peerEndpoint ? { peer: options.peerEndpoint } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  checkHandlersMatchSpec(handlers, spec.operations.map((o) => o.operationId));

  const app = express();
  app.disable('x-powered-by');
  // No ETag: Express hashes every response body with SHA-1 to make one, and no client of this
  // API sends If-None-Match (results are fetched once, by uuid); the spec declares no ETag.
  app.set('etag', false);
  // Flat query strings only: `?challenge[a]=b` stays a string the validator rejects, not an object.
  app.set('query parser', 'simple');
  // Paths are matched exactly as the spec writes them: with Express's default, POST /REPRESENTATIONS
  // reached the createRepresentation handler under a spelling no path check expects.
  app.set('case sensitive routing', true);

  // Before anything else reads the request: foreign origins and hosts, then client tokens, so an
  // unauthenticated caller never makes this server read a body (server/http/security.ts).
  // The debug line costs a listener and a clock read per request: only when it is written.
  const guards: RequestHandler[] = [
    ...(debugEnabled(log) ? [requestLog(log)] : []),
    browserGuard(security, log),
    clientAuthentication(spec, security.clientToken, log),
  ];
  for (const guard of guards) app.use(guard);
  // Swagger UI's static assets (CSS, JS) under /docs/…; the page itself is the getDocs operation.
  const docsAssets = swaggerUi.serveFiles(undefined, { swaggerUrl: '/openapi.json' });
  app.use('/docs', (req, res, next) => (req.path === '/' ? next() : runAll(docsAssets, req, res, next)));

  // One body limit per content type and route: JSON everywhere; binary up to the upload limit for
  // safetensors uploads only, up to the envelope limit for peer messages, and small elsewhere (the
  // validator refuses those bodies anyway; they must not be read in full first).
  // Peer messages take a short path: the body is one opaque sealed envelope that deliver()
  // authenticates and parses itself (server/peer/envelope.ts), so the schema validator has nothing
  // to check beyond the media type and size, which are checked here. It is the hot path of every
  // computation (each party receives 2·(n−1) of them per SecureSum); skipping the validator halves
  // its cost. Every other method on this path still goes through the validator (405).
  // Before an envelope is whole nothing about it is authentic: the in-flight guard bounds how
  // many such bodies, and how many bytes, anyone can make this server hold at once.
  const peerInflight = inflightGuard({
    bodies: options.limits?.peerInflightBodies ?? DEFAULT_PEER_INFLIGHT_BODIES,
    bytes: Math.max(options.limits?.peerInflightBytes ?? DEFAULT_PEER_INFLIGHT_BYTES, peerLimit),
    maxBody: peerLimit,
    // Which side cuts a peer's upload, and how far it had come: the receiver, here.
    onCut: (info) => log.warn(info, 'a peer message body stopped making progress; its connection was cut'),
  });
  app.post(
    '/peer/messages',
    peerInflight,
    binaryBody(peerLimit, { required: true }),
    asyncHandler(untyped(handlers.deliverPeerMessage)),
  );

  const operations: RequestHandler[] = [
    // Each operation's own body parser and limit (server/http/body.ts): paths that take no body,
    // open ones like /health included, read at most a few KiB, so no anonymous caller can make
    // this server parse a large body.
    bodyByOperation(spec, { json: jsonLimit, binary: binaryLimit, other: Math.min(jsonLimit, DEFAULT_OPEN_BODY_LIMIT_BYTES) }),
    rejectDeepJson(jsonDepth),
    acceptEmptyBodyOnGetAndDelete,
    requestValidator(spec, {
      validateResponses: options.validateResponses === true,
      caseSensitive: app.enabled('case sensitive routing'),
      strict: app.enabled('strict routing'),
    }),
    // The validator has already matched every request to its operation (it must, to know the
    // schema): dispatch on that match rather than have Express test each operation's route pattern
    // again, one regular expression per operation per request, on every client request.
    operationDispatch(spec.operations.map((op) => [op.operationId, asyncHandler(untyped(handlers[op.operationId as OperationId]))])),
    // Whatever no route took (another spelling of a path, a method the validator let through) is a
    // 404 problem, never Express's default HTML page.
    (req, _res, next) => next(new NotFoundError(`no operation ${req.method} ${req.path.slice(0, 200)}`, { where: 'path' })),
  ];
  for (const step of operations) app.use(step);
  const errors: ErrorRequestHandler[] = [problemHandler(log), lastResort(log)];
  for (const handler of errors) app.use(handler);
  // The representation operations of a computation run the same guards and operation steps
  // without Express's router (server/http/fastpath.ts).
  return options.fastPath === false ? app : withFastPath(app, { steps: [...guards, ...operations], errors });
}

/**
 * Last resort, reached only when writing the problem itself failed: never Express's default
 * handler, which would print a stack trace.
 */
function lastResort(log: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    log.error({ err, instance: req.originalUrl }, 'unhandled error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(500).setHeader('Content-Type', `${PROBLEM_MEDIA_TYPE}; charset=utf-8`);
    res.end(JSON.stringify(problem(500, 'internal', 'internal error; see the server log', { instance: instancePath(req.originalUrl) })));
  };
}

/** What express-openapi-validator leaves on a request it matched to an operation. */
interface MatchedRequest {
  openapi?: { schema?: { operationId?: unknown }; pathParams?: Record<string, string> };
}

/**
 * Calls the handler of the operation the validator matched, with the path parameters it decoded
 * (decodeURIComponent, as Express's router does); a request it matched to none goes on to the
 * 404. Express sets `req.params` per layer (empty for a middleware), hence set here.
 */
function operationDispatch(entries: readonly (readonly [string, RequestHandler])[]): RequestHandler {
  const byOperation = new Map(entries);
  return (req, res, next) => {
    const matched = (req as MatchedRequest).openapi;
    const operationId = matched?.schema?.operationId;
    const handler = typeof operationId === 'string' ? byOperation.get(operationId) : undefined;
    if (handler === undefined) {
      next();
      return;
    }
    req.params = matched?.pathParams ?? {};
    handler(req, res, next);
  };
}

/**
 * A typed handler as Express routes it: Express hands every route an untyped request; the
 * validator before it has checked the request against the operation's schema, which is what
 * the handler's types say.
 */
/** Whether the logger writes debug lines (pino says so; a logger that cannot say gets them). */
function debugEnabled(log: Logger): boolean {
  const withLevel = log as Logger & { isLevelEnabled?: (level: string) => boolean };
  return typeof withLevel.isLevelEnabled !== 'function' || withLevel.isLevelEnabled('debug');
}

function untyped(handler: Handler): (req: Request, res: Response) => void | Promise<void> {
  return handler as unknown as (req: Request, res: Response) => void | Promise<void>;
}
