// The one error mapper: every error the server answers with becomes an RFC 9457 problem document
// (application/problem+json). It also carries `code` and `message`, which clients of the
// Federated Secure Computing v0.6 API read, and `where`, the field, tensor or party at fault.
//
// Every problem's slug, status and title come from the one table of error kinds
// (shared/error-kinds.ts). Three sources of errors:
// - TesseraError subclasses (services/errors.ts): their kind's `status` and `slug`.
// - express-openapi-validator's HttpError (schema violations, unknown routes, wrong methods,
//   wrong content types): their `status`, each violation listed in `errors` with its path.
// - body-parser's errors (malformed JSON, body too large, unsupported charset): by their `type`.
// Anything else is a bug: a 500 with a generic message; the details go to the log only.
// A stack trace never reaches a response.

import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, Response } from 'express';
import { error as validatorErrors } from 'express-openapi-validator';
import { ERROR_KINDS, isErrorKind, kindOfStatus, type ErrorKind } from '../../shared/error-kinds.js';
import { TesseraError } from '../../services/errors.js';
import type { Logger } from '../../services/microservice.js';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
/**
 * Problem `type`s are this base plus a stable slug: a relative URI reference (RFC 9457 section
 * 3.1.1), resolved against the request URI, so it names the kind of problem on the server that
 * answered without claiming a domain the project does not own. Clients compare the string; they
 * should not dereference it (section 3.1.1); `about:blank` (section 4.2) would say less.
 */
export const PROBLEM_TYPE_BASE = '/problems/';

export interface ProblemItem {
  path?: string;
  message: string;
  errorCode?: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: number;
  message: string;
  where?: string;
  errors?: ProblemItem[];
  [extra: string]: unknown;
}

/** Members a TesseraError's `extra` may not overwrite: they define the problem itself. */
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'code', 'message', 'where', 'errors']);

/** The kind's slug of an HTTP status the HTTP layer itself produces (validator and body parser). */
function slugOfStatus(status: number): ErrorKind {
  return kindOfStatus(status) ?? 'bad-input';
}

export function problem(status: number, slug: ErrorKind, detail: string, more: Partial<Problem> = {}): Problem {
  const out: Problem = {
    type: PROBLEM_TYPE_BASE + slug,
    // The kind's title when the status is the kind's own; a status outside the table (a 5xx the
    // validator raises) keeps its reason phrase.
    title: isErrorKind(slug) && ERROR_KINDS[slug].status === status ? ERROR_KINDS[slug].title : (STATUS_CODES[status] ?? 'Error'),
    status,
    detail,
    code: status,
    message: detail,
  };
  if (more.instance !== undefined) out.instance = more.instance;
  if (more.where !== undefined) out.where = more.where;
  if (more.errors !== undefined && more.errors.length > 0) out.errors = more.errors;
  return out;
}

/** Where in the request a validator path points: "/body/kwargs/x" -> "body.kwargs.x". */
function validatorWhere(path: string | undefined): string | undefined {
  if (path === undefined || path === '') return undefined;
  const trimmed = path.replace(/^\.?\/?/, '').replace(/\//g, '.');
  return trimmed === '' ? undefined : trimmed;
}

function isValidatorError(err: unknown): err is InstanceType<typeof validatorErrors.BadRequest> {
  // Every validator error class extends HttpError; its classes are exported individually.
  return Object.values(validatorErrors).some((cls) => err instanceof cls);
}

interface BodyParserError {
  /** Absent on an inflate error (isInflateError). */
  type?: string;
  status: number;
  limit?: number;
  charset?: string;
  encoding?: string;
}
function isBodyParserError(err: unknown): err is BodyParserError {
  return isInflateError(err) || (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { type?: unknown }).type === 'string' &&
    typeof (err as { status?: unknown }).status === 'number' &&
    ((err as { type: string }).type.startsWith('entity.') ||
      (err as { type: string }).type.endsWith('.unsupported') ||
      (err as { type: string }).type === 'request.aborted' ||
      (err as { type: string }).type === 'request.size.invalid' ||
      (err as { type: string }).type === 'stream.encoding.set')
  );
}

/**
 * A JSON body whose Content-Encoding (gzip, deflate) does not inflate: body-parser passes zlib's
 * error on as a 400 with no `type`, only zlib's `code` (Z_DATA_ERROR, Z_BUF_ERROR, …).
 */
function isInflateError(err: unknown): err is BodyParserError {
  const { status, code } = (err ?? {}) as { status?: unknown; code?: unknown };
  return status === 400 && typeof code === 'string' && code.startsWith('Z_');
}

/**
 * Map any thrown value to a problem. `log` receives the details of unexpected errors (and of
 * response-validation failures, which are server bugs too).
 */
export function toProblem(err: unknown, instance: string, log: Logger): Problem {
  if (err instanceof TesseraError) {
    const out = problem(err.status, err.slug, err.message, { instance, ...(err.where !== undefined ? { where: err.where } : {}) });
    for (const [key, value] of Object.entries(err.extra ?? {})) {
      if (!RESERVED.has(key)) out[key] = value;
    }
    if (err.status >= 500 && err.status !== 501 && err.status !== 502 && err.status !== 504) {
      log.error({ err, instance }, 'request failed');
    }
    return out;
  }
  if (isValidatorError(err) && err.status < 500) {
    const errors = (err.errors ?? []).map((item) => {
      const entry: ProblemItem = { message: item.message };
      const where = validatorWhere(item.path);
      if (where !== undefined) entry.path = where;
      if (item.errorCode !== undefined) entry.errorCode = item.errorCode;
      return entry;
    });
    const first = errors[0];
    const slug = slugOfStatus(err.status);
    if (err.status === 415) {
      return problem(415, slug, err.message.replace('media type undefined', 'media type: the request has no Content-Type'), {
        instance,
        where: 'Content-Type',
      });
    }
    // The validator's message joins every violation with its path ("request/body must have …").
    return problem(err.status, slug, err.message, {
      instance,
      ...(first?.path !== undefined ? { where: first.path } : {}),
      errors,
    });
  }
  if (isBodyParserError(err) && err.status < 500) {
    switch (err.type) {
      case 'entity.parse.failed':
        return problem(400, 'bad-input', 'malformed JSON in the request body', { instance, where: 'body' });
      case 'entity.too.large':
        return problem(413, 'too-large', `request body larger than ${err.limit ?? 'the limit'} bytes`, { instance, where: 'body' });
      case 'charset.unsupported':
        return problem(415, 'unsupported-media-type', `unsupported charset ${err.charset ?? ''}`.trim(), { instance, where: 'Content-Type' });
      case 'encoding.unsupported':
        return problem(415, 'unsupported-media-type', `unsupported content encoding ${err.encoding ?? ''}`.trim(), { instance, where: 'Content-Encoding' });
      default:
        return problem(err.status, slugOfStatus(err.status), 'the request body could not be read', { instance, where: 'body' });
    }
  }
  log.error({ err, instance }, 'internal error');
  return problem(500, 'internal', 'internal error; see the server log', { instance });
}

/** The request path without its query string: the problem's `instance` (RFC 9457 section 3.1.5). */
export function instancePath(originalUrl: string): string {
  const q = originalUrl.indexOf('?');
  return q === -1 ? originalUrl : originalUrl.slice(0, q);
}

export function sendProblem(res: Response, body: Problem): void {
  res.status(body.status);
  res.setHeader('Content-Type', `${PROBLEM_MEDIA_TYPE}; charset=utf-8`);
  res.json(body);
}

/** Errors whose refusal was logged where it happened (e.g. every refused peer message); see problemHandler. */
const loggedAlready = new WeakSet<object>();

/** Marks an error as logged by the code that raised it, so the refusal leaves one line, not two. */
export function markLogged<T>(err: T): T {
  if (typeof err === 'object' && err !== null) loggedAlready.add(err);
  return err;
}

const UUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** A representation uuid is a capability (whoever knows it may use it): never in a log line. */
export function redactUuids(text: string): string {
  return text.replace(UUID_PATTERN, '<uuid>');
}

/** The Express error middleware: last in the chain. */
export function problemHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      // Too late for a problem document: the client sees a cut connection; the log has why.
      log.error({ err, instance: req.originalUrl }, 'error after the response started');
      next(err);
      return;
    }
    const body = toProblem(err, instancePath(req.originalUrl), log);
    // Every refusal leaves a line (attacks and mistakes alike); what was refused and where, never
    // a body, a token or a key. 5xx were logged with their cause by toProblem.
    if (body.status < 500 && !loggedAlready.has(err as object)) {
      log.info(
        { status: body.status, method: req.method, instance: redactUuids(body.instance ?? ''), where: body.where, remote: req.socket.remoteAddress },
        `refused: ${redactUuids(body.detail.slice(0, 200))}`,
      );
    }
    if (body.status === 405 && typeof (err as { headers?: { Allow?: string } }).headers?.Allow === 'string') {
      res.setHeader('Allow', (err as { headers: { Allow: string } }).headers.Allow);
    }
    try {
      sendProblem(res, body);
    } catch (validationError) {
      // Response validation rejected the problem itself: a server bug; answer without the spec.
      log.error({ err: validationError, instance: req.originalUrl }, 'problem document failed response validation');
      res.status(500).setHeader('Content-Type', `${PROBLEM_MEDIA_TYPE}; charset=utf-8`);
      res.end(JSON.stringify(problem(500, 'internal', 'internal error; see the server log', { instance: instancePath(req.originalUrl) })));
    }
  };
}
