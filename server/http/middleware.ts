// The request path's middleware that is not security (server/http/security.ts) nor body reading
// (server/http/body.ts): the request log, the v0.6 empty-body rule, the JSON depth bound, and
// the adapter that routes a handler's errors (thrown or rejected) to the problem mapper.

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { BadInputError } from '../../services/errors.js';
import { nestedDeeperThan } from '../../services/common/json.js';
import type { Logger } from '../../services/microservice.js';

/**
 * Clients of the v0.6 API send a JSON body `{}` with GET and DELETE. Accept exactly that (or no
 * body); anything else in such a body is a mistake worth a clear 400 rather than silence.
 */
export function acceptEmptyBodyOnGetAndDelete(req: Request, _res: Response, next: NextFunction): void {
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
export function rejectDeepJson(maxDepth: number): RequestHandler {
  return (req, _res, next) => {
    const body: unknown = req.body;
    if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && nestedDeeperThan(body, maxDepth)) {
      next(new BadInputError(`the JSON body is nested deeper than ${maxDepth} levels`, { where: 'body' }));
      return;
    }
    next();
  };
}

/** A handler as Express middleware: what it throws or rejects with goes to the problem mapper. */
export function asyncHandler(handler: (req: Request, res: Response) => void | Promise<void>): RequestHandler {
  return (req, res, next) => {
    try {
      const result = handler(req, res);
      if (result instanceof Promise) result.catch(next);
    } catch (err) {
      next(err);
    }
  };
}

/** Runs middlewares one after the other, as Express would, stopping at the first error. */
export function runAll(middlewares: readonly RequestHandler[], req: Request, res: Response, next: NextFunction): void {
  const [first, ...rest] = middlewares;
  if (first === undefined) {
    next();
    return;
  }
  first(req, res, (err?: unknown) => (err === undefined ? runAll(rest, req, res, next) : next(err)));
}

/** One debug line per request: method, path (no query: it may carry a challenge), status, time. */
export function requestLog(log: Logger): RequestHandler {
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
