// The representation operations a computation makes (create, attribute, call, download,
// release: every client request of a SecureSum) skip Express's router. Express finds a request's
// middlewares by walking its stack, one layer per `app.use`, matching each layer's path and
// wrapping each call, and builds a final handler per request; for these requests the stack is
// known in advance: the same middlewares, in the same order, ending in the same operation
// dispatch and the same problem handler. Here they are called directly, one after the other,
// with Express's own request set-up (its `query` and `init` middlewares) first, so the handlers
// see the same `req` and `res`. Nothing is checked differently: the same security, body limits,
// validator and handlers run; only the router's walk is gone. Every other request (the peer API,
// the docs, the operations API, any other path or method) goes through Express as before.
// test/server/fastpath.test.ts sends the same good and bad requests both ways and compares the
// answers and the log.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** The requests taken here: method and path of the representation operations of a computation. */
const REPRESENTATION = /^\/representation\/[^/?#]+$/;
const ATTRIBUTE = /^\/representation\/[^/?#]+\/[^/?#]+$/;

function isComputationRequest(method: string | undefined, url: string | undefined): boolean {
  if (url === undefined) return false;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  switch (method) {
    case 'POST':
      return path === '/representations';
    case 'PATCH':
    case 'DELETE':
      return REPRESENTATION.test(path);
    case 'GET':
      return REPRESENTATION.test(path) || ATTRIBUTE.test(path);
    default:
      return false;
  }
}

export interface OperationChain {
  /** The middlewares Express runs for a representation request, in its order (last: the 404). */
  readonly steps: readonly RequestHandler[];
  /** Its error handlers, in order (the problem handler, then the last resort). */
  readonly errors: readonly ErrorRequestHandler[];
}

type AppHandle = (req: IncomingMessage, res: ServerResponse, callback?: (err?: unknown) => void) => void;

/**
 * Makes `app` run `chain` itself for the representation operations of a computation, and hand
 * every other request to Express. `chain` must be what the app's stack runs for those requests.
 */
export function withFastPath(app: Express, chain: OperationChain): Express {
  const steps = [express.query(app.get('query parser fn') as never), expressInit(app), ...chain.steps];
  const stock = app as unknown as { handle: AppHandle };
  const viaExpress = stock.handle.bind(app);
  stock.handle = (req, res, callback) => {
    if (!isComputationRequest(req.method, req.url)) {
      viaExpress(req, res, callback);
      return;
    }
    const request = req as Request;
    // What Express's router sets before the first layer of an app mounted at the root.
    request.originalUrl = req.url!;
    request.baseUrl = '';
    request.params = {};
    run(steps, chain.errors, request, res as Response);
  };
  return app;
}

/** Express's own `expressInit` (express/lib/middleware/init.js): req/res prototypes and links. */
function expressInit(app: Express): RequestHandler {
  const init = createRequire(import.meta.url)('express/lib/middleware/init.js') as { init(app: Express): RequestHandler };
  return init.init(app);
}

/**
 * Calls `steps` in order as Express does: each gets `next`; a value passed to `next` or thrown
 * skips the remaining steps and goes to the error handlers, each of which may pass it on.
 */
function run(steps: readonly RequestHandler[], errors: readonly ErrorRequestHandler[], req: Request, res: Response): void {
  let step = 0;
  let errorStep = 0;
  const fail = (err: unknown): void => {
    const handler = errors[errorStep++];
    if (handler === undefined) {
      // Past the last resort (which never passes an error on): no answer can be written.
      res.destroy();
      return;
    }
    try {
      handler(err, req, res, fail);
    } catch (thrown) {
      fail(thrown);
    }
  };
  const next: NextFunction = (err?: unknown) => {
    // As Express: any truthy value is an error.
    if (err) {
      fail(err);
      return;
    }
    const handler = steps[step++];
    if (handler === undefined) return;
    try {
      handler(req, res, next);
    } catch (thrown) {
      fail(thrown);
    }
  };
  next();
}
