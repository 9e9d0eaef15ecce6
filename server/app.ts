// The HTTP app, built from openapi.yaml: express-openapi-validator checks every request (and,
// when asked, every response) against the spec; handlers are bound by operationId through a
// typed map; one error mapper turns every failure into application/problem+json.
// Handlers stay thin: parse, call the bus or the peer endpoint, respond. Logic lives in services/.

import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import swaggerUi from 'swagger-ui-express';
import { BadInputError, NotFoundError, NotImplementedError, TesseraError } from '../services/errors.js';
import type { Logger } from '../services/microservice.js';
import type { PeerEndpoint, PeerNetwork } from '../services/peer.js';
import { TensorSet } from '../services/common/tensors.js';
import { nestedDeeperThan } from '../services/common/json.js';
import { createBarrier, createBroadcast } from '../services/sync/index.js';
import { createKeyValueStorage } from '../services/util/index.js';
import { createSimon } from '../services/simon/index.js';
import type { DisclosurePolicy } from '../services/simon/engine.js';
import { floatSpecOf, writeResultJson } from '../services/common/resultjson.js';
import { RepresentationBus, type BusLimits } from './bus.js';
import { configDefault } from './config.js';
import { DEFAULT_STAGE_TIMEOUT_MS } from './peer/index.js';
import { Registry } from './registry.js';
import { binaryBody, bodyByOperation, DEFAULT_OPEN_BODY_LIMIT_BYTES, inflightGuard } from './http/body.js';
import { PROBLEM_MEDIA_TYPE, instancePath, markLogged, problem, problemHandler } from './http/problem.js';
import { browserGuard, clientAuthentication, type SecurityOptions } from './http/security.js';
import { expressPath, loadSpec, type OperationId } from './http/spec.js';

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
}

export interface MetricsEndpoint {
  readonly contentType: string;
  text(): Promise<string>;
}

/** Resolves when ready; rejects (or throws) with what is wrong, which /health reports. */
export type ReadinessCheck = () => Promise<void> | void;

export type Handler = (req: Request, res: Response) => void | Promise<void>;
export type HandlerMap = { readonly [K in OperationId]: Handler };

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
  const handlers = makeHandlers({
    bus, log, spec, startedAt, jsonDownloadValues, readiness: options.readiness ?? {},
    ...(options.peerEndpoint ? { peer: options.peerEndpoint } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  checkHandlersMatchSpec(handlers, spec.operations.map((o) => o.operationId));

  const app = express();
  app.disable('x-powered-by');
  // Flat query strings only: `?challenge[a]=b` stays a string the validator rejects, not an object.
  app.set('query parser', 'simple');
  // Paths are matched exactly as the spec writes them: with Express's default, POST /REPRESENTATIONS
  // reached the createRepresentation handler under a spelling no path check expects.
  app.set('case sensitive routing', true);

  app.use(requestLog(log));
  // Before anything else reads the request: foreign origins and hosts, then client tokens, so an
  // unauthenticated caller never makes this server read a body (server/http/security.ts).
  app.use(browserGuard(security, log));
  app.use(clientAuthentication(spec, security.clientToken, log));
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
  });
  app.post(
    '/peer/messages',
    peerInflight,
    binaryBody(peerLimit, { required: true }),
    asyncHandler(handlers.deliverPeerMessage),
  );

  // Each operation's own body parser and limit (server/http/body.ts): paths that take no body,
  // open ones like /health included, read at most a few KiB, so no anonymous caller can make this
  // server parse a large body.
  app.use(bodyByOperation(spec, { json: jsonLimit, binary: binaryLimit, other: Math.min(jsonLimit, DEFAULT_OPEN_BODY_LIMIT_BYTES) }));
  app.use(rejectDeepJson(jsonDepth));
  app.use(acceptEmptyBodyOnGetAndDelete);

  app.use(
    OpenApiValidator.middleware({
      // A copy: the validator annotates the document it is given.
      apiSpec: structuredClone(spec.document) as never,
      validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false },
      validateResponses: options.validateResponses === true ? { removeAdditional: false } : false,
      validateSecurity: false,
      validateFormats: true,
    }),
  );

  for (const op of spec.operations) {
    const handler = handlers[op.operationId as OperationId];
    app[op.method](expressPath(op.path), asyncHandler(handler));
  }

  // Whatever no route took (another spelling of a path, a method the validator let through) is a
  // 404 problem, never Express's default HTML page.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new NotFoundError(`no operation ${req.method} ${req.path.slice(0, 200)}`, { where: 'path' }));
  });
  app.use(problemHandler(log));
  // Last resort, reached only when writing the problem itself failed: never Express's default
  // handler, which would print a stack trace.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    log.error({ err, instance: req.originalUrl }, 'unhandled error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(500).setHeader('Content-Type', `${PROBLEM_MEDIA_TYPE}; charset=utf-8`);
    res.end(JSON.stringify(problem(500, 'internal', 'internal error; see the server log', { instance: instancePath(req.originalUrl) })));
  });
  return app;
}

/** Startup fails when the spec and the handler map disagree in either direction. */
export function checkHandlersMatchSpec(handlers: Readonly<Record<string, Handler>>, specOperationIds: readonly string[]): void {
  const inSpec = new Set(specOperationIds);
  for (const id of specOperationIds) {
    if (!Object.hasOwn(handlers, id)) {
      throw new NotImplementedError(`operation '${id}' in openapi.yaml has no handler`, { where: `operationId ${id}` });
    }
  }
  for (const id of Object.keys(handlers)) {
    if (!inSpec.has(id)) {
      throw new BadInputError(`handler '${id}' has no operation in openapi.yaml`, { where: `operationId ${id}` });
    }
  }
}

interface HandlerDeps {
  bus: RepresentationBus;
  log: Logger;
  spec: ReturnType<typeof loadSpec>;
  startedAt: number;
  readiness: Readonly<Record<string, ReadinessCheck>>;
  jsonDownloadValues: number;
  peer?: PeerEndpoint;
  metrics?: MetricsEndpoint;
}

function makeHandlers({ bus, spec, startedAt, jsonDownloadValues, peer, metrics, readiness }: HandlerDeps): HandlerMap {
  const docsHtml = swaggerUi
    .generateHTML(undefined, { swaggerUrl: '/openapi.json', customSiteTitle: 'Tessera API' })
    // The page is served at /docs (no trailing slash), so its relative asset URLs must be rooted.
    .replace(/(href|src)="\.\//g, '$1="/docs/');
  // The JSON copy (the one Swagger UI loads) lists "this server" first: a relative server URL
  // resolves against where the document was fetched (OpenAPI 3.0.3, Server Object), so "Try it
  // out" calls the server that served the page, whatever port it runs on. The YAML stays the file.
  const specJson = JSON.stringify({
    ...spec.document,
    servers: [{ url: '/', description: 'This server' }, ...((spec.document.servers as unknown[] | undefined) ?? [])],
  });
  const requirePeer = (): PeerEndpoint => {
    if (peer === undefined) throw new NotImplementedError('this server runs without a peer layer', { where: 'peer' });
    return peer;
  };

  return {
    listRepresentations(_req, res) {
      res.json({ type: 'list', list: bus.list() });
    },
    createRepresentation(req, res) {
      const { args, kwargs } = argsKwargs(req.body);
      if (args.length > 0) {
        throw new BadInputError('create takes its requirements as keyword arguments only', { where: 'args' });
      }
      res.json({ type: 'uuid', uuid: bus.create(kwargs) });
    },
    uploadRepresentation(req, res) {
      if (req.is('application/octet-stream')) {
        if (!Buffer.isBuffer(req.body)) throw new BadInputError('the body must be a safetensors file', { where: 'body' });
        res.json({ type: 'uuid', uuid: bus.upload(TensorSet.parseSafetensors(req.body)) });
        return;
      }
      const { args } = argsKwargs(req.body);
      res.json({ type: 'uuid', uuid: bus.upload(args[0]) });
    },
    downloadRepresentation(req, res) {
      const found = bus.download(uuidParam(req));
      const wantsBinary = req.accepts(['application/json', 'application/octet-stream']) === 'application/octet-stream';
      if (wantsBinary) {
        if (found.kind !== 'tensors') {
          throw new NotAcceptableError('only named tensors can be downloaded as application/octet-stream');
        }
        // Written chunk by chunk (header, then each tensor's bytes): no second copy of a large model.
        const chunks = found.value.safetensorsChunks();
        res.type('application/octet-stream');
        res.setHeader('Content-Length', chunks.reduce((n, c) => n + c.byteLength, 0));
        for (const chunk of chunks) res.write(chunk);
        res.end();
        return;
      }
      if (found.kind === 'tensors' && found.value.parameterCount > jsonDownloadValues) {
        throw new NotAcceptableError(
          `these tensors hold ${found.value.parameterCount} values, more than ${jsonDownloadValues} (--max-json-download) for a JSON download; ask for safetensors with "Accept: application/octet-stream"`,
          { where: 'Accept' },
        );
      }
      if (found.kind === 'json' && floatSpecOf(found.value) !== undefined) {
        // A result with float-typed fields (SIMON's counts and statistics): written so that `6.0`
        // stays a float for clients that tell ints from floats (services/common/resultjson.ts).
        res.type('application/json').send(`{"type":"object","object":${writeResultJson(found.value)}}`);
        return;
      }
      res.json({ type: 'object', object: found.kind === 'tensors' ? found.value.toJson() : found.value });
    },
    async callRepresentation(req, res) {
      const { args, kwargs } = argsKwargs(req.body);
      const uuid = await bus.call(uuidParam(req), args, kwargs, clientGone(res));
      res.json(uuid === undefined ? { type: 'none' } : { type: 'uuid', uuid });
    },
    releaseRepresentation(req, res) {
      bus.release(uuidParam(req));
      res.json({ type: 'none' });
    },
    createAttribute(req, res) {
      const name = req.params.attribute_name;
      if (name === undefined) throw new BadInputError('attribute_name is required', { where: 'attribute_name' });
      res.json({ type: 'uuid', uuid: bus.attribute(uuidParam(req), name) });
    },
    async getPeerIdentity(req, res) {
      const challenge = typeof req.query.challenge === 'string' ? req.query.challenge : undefined;
      res.json(await requirePeer().identity(challenge));
    },
    async deliverPeerMessage(req, res) {
      if (!Buffer.isBuffer(req.body)) throw new BadInputError('the body must be one sealed envelope', { where: 'body' });
      // deliver() logs every message it refuses, with the sender and stage: one line per refusal.
      await requirePeer().deliver(req.body).catch((err: unknown) => {
        throw err instanceof TesseraError ? markLogged(err) : err;
      });
      res.status(204).end();
    },
    async getHealth(_req, res) {
      const checks: Record<string, { status: 'ok' | 'failing'; detail?: string }> = {};
      await Promise.all(
        Object.entries(readiness).map(async ([name, check]) => {
          try {
            await check();
            checks[name] = { status: 'ok' };
          } catch (err) {
            // The error code (ENOENT, EACCES) rather than the message: /health is open to anyone
            // who reaches the port, and a file system message carries the data directory's path.
            const code = (err as { code?: unknown }).code;
            checks[name] = { status: 'failing', detail: typeof code === 'string' ? code : (err instanceof Error ? err.message : String(err)).slice(0, 300) };
          }
        }),
      );
      const ready = Object.values(checks).every((c) => c.status === 'ok');
      res.status(ready ? 200 : 503).json({
        status: ready ? 'ok' : 'unavailable',
        version: spec.version,
        uptimeSeconds: Math.max(0, (Date.now() - startedAt) / 1000),
        representations: bus.size,
        checks,
      });
    },
    async getMetrics(_req, res) {
      if (metrics === undefined) throw new NotImplementedError('this server keeps no metrics', { where: 'path' });
      const text = await metrics.text();
      res.setHeader('Content-Type', metrics.contentType);
      res.send(text);
    },
    getRoot(_req, res) {
      // A browser pointed at the server's address lands on its API documentation.
      res.type('text/html').send(ROOT_PAGE);
    },
    getOpenApiYaml(_req, res) {
      res.type('application/yaml').send(spec.yamlText);
    },
    getOpenApiJson(_req, res) {
      res.type('application/json').send(specJson);
    },
    getDocs(_req, res) {
      res.type('text/html').send(docsHtml);
    },
  };
}

const ROOT_PAGE =
  '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Tessera</title>' +
  '<meta http-equiv="refresh" content="0; url=/docs"></head>' +
  '<body><p>This is a Tessera server. Its API documentation is at <a href="/docs">/docs</a>.</p></body></html>';

/** 406, for content negotiation; not one of the domain errors, so defined with the HTTP layer. */
class NotAcceptableError extends TesseraError {
  readonly status = 406;
  readonly slug = 'not-acceptable';
}

function argsKwargs(body: unknown): { args: unknown[]; kwargs: Record<string, unknown> } {
  // The validator has checked the shape; missing members default as the model's server does.
  const b = (body ?? {}) as { args?: unknown[]; kwargs?: Record<string, unknown> };
  return { args: b.args ?? [], kwargs: b.kwargs ?? {} };
}

function uuidParam(req: Request): string {
  const uuid = req.params.representation_uuid;
  if (uuid === undefined) throw new BadInputError('representation_uuid is required', { where: 'representation_uuid' });
  return uuid;
}

/** Aborts when the client goes away before the answer is written (e.g. a cancelled long wait). */
function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client went away'));
  });
  return controller.signal;
}

/**
 * Clients of the v0.6 API send a JSON body `{}` with GET and DELETE. Accept exactly that (or no
 * body); anything else in such a body is a mistake worth a clear 400 rather than silence.
 */
function acceptEmptyBodyOnGetAndDelete(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'DELETE' || req.method === 'HEAD') {
    const body: unknown = req.body;
    const empty =
      body === undefined ||
      (typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && !Array.isArray(body) && Object.keys(body).length === 0) ||
      (Buffer.isBuffer(body) && body.length === 0);
    if (!empty) {
      next(new BadInputError(`a ${req.method} request takes no body (an empty JSON object is accepted)`, { where: 'body' }));
      return;
    }
    req.body = undefined;
  }
  next();
}

/**
 * JSON nested deeper than `maxDepth` is refused before anything walks it: JSON.parse copes with
 * any depth, but recursive code later (validation, serialisation of a download, an error message
 * that quotes a value) would exhaust the stack on a few hundred kilobytes of brackets.
 */
function rejectDeepJson(maxDepth: number): RequestHandler {
  return (req, _res, next) => {
    const body: unknown = req.body;
    if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && nestedDeeperThan(body, maxDepth)) {
      next(new BadInputError(`the JSON body is nested deeper than ${maxDepth} levels`, { where: 'body' }));
      return;
    }
    next();
  };
}

function asyncHandler(handler: Handler): RequestHandler {
  return (req, res, next) => {
    try {
      const result = handler(req, res);
      if (result instanceof Promise) result.catch(next);
    } catch (err) {
      next(err);
    }
  };
}

function runAll(middlewares: readonly RequestHandler[], req: Request, res: Response, next: NextFunction): void {
  const [first, ...rest] = middlewares;
  if (first === undefined) {
    next();
    return;
  }
  first(req, res, (err?: unknown) => (err === undefined ? runAll(rest, req, res, next) : next(err)));
}

/** One debug line per request: method, path (no query: it may carry a challenge), status, time. */
function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      log.debug(
        { method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 },
        'request',
      );
    });
    next();
  };
}
