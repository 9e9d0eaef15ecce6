// Errors the client raises. A server that answered gives a TesseraApiError carrying its RFC 9457
// problem document; a request that never got an answer gives a TesseraRequestError (or its
// TesseraTimeoutError subclass), so callers can tell "the server said no" from "no server".

import type { components } from './generated/schema.js';

export type Problem = components['schemas']['Problem'];

/** The server answered with an error status; `problem` is its RFC 9457 problem document. */
export class TesseraApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  /** The operationId of the failed request, e.g. "downloadRepresentation". */
  readonly operation: string;
  constructor(operation: string, status: number, problem: Problem) {
    super(`${operation}: ${status} ${problem.title}: ${problem.detail}${problem.where ? ` (at ${problem.where})` : ''}`);
    this.name = 'TesseraApiError';
    this.operation = operation;
    this.status = status;
    this.problem = problem;
  }
  /** Where the server says the fault is: a field path, a tensor name or a party. */
  get where(): string | undefined {
    return this.problem.where;
  }
}

/** The request got no HTTP answer: connection refused, reset, DNS, … (`cause` has the details). */
export class TesseraRequestError extends Error {
  readonly operation: string;
  /** The server's base URL, when the request was on its way to one. */
  readonly url: string | undefined;
  constructor(operation: string, message: string, options?: { cause?: unknown; url?: string }) {
    super(`${operation}: ${message}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'TesseraRequestError';
    this.operation = operation;
    this.url = options?.url;
  }
}

/**
 * "cannot reach the Tessera server at http://…: connect ECONNREFUSED 127.0.0.1:55501": fetch says
 * only "fetch failed" and keeps the reason (refused, DNS, TLS) in its cause.
 */
export function unreachable(url: string, err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return `cannot reach the Tessera server at ${url}: ${reason}`;
}

/** The request's time ran out (ApiOptions.timeoutMs or the per-call timeoutMs). */
export class TesseraTimeoutError extends TesseraRequestError {
  readonly timeoutMs: number;
  constructor(operation: string, timeoutMs: number, options?: { cause?: unknown; url?: string }) {
    super(operation, `no answer${options?.url !== undefined ? ` from ${options.url}` : ''} within ${timeoutMs} ms`, options);
    this.name = 'TesseraTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A problem document from any error body: the server's own problem+json as it is, anything else
 * (a proxy's HTML page, an empty body) wrapped so `problem` is always complete.
 */
export function toProblem(status: number, statusText: string, body: unknown): Problem {
  if (typeof body === 'object' && body !== null && typeof (body as Problem).title === 'string' && typeof (body as Problem).status === 'number') {
    const p = body as Partial<Problem>;
    const detail = p.detail ?? p.message ?? '';
    return { ...p, type: p.type ?? 'about:blank', title: p.title!, status: p.status!, detail, code: p.code ?? p.status!, message: p.message ?? detail };
  }
  const detail = typeof body === 'string' && body.length > 0 ? body.slice(0, 500) : statusText || `HTTP ${status}`;
  return { type: 'about:blank', title: statusText || `HTTP ${status}`, status, detail, code: status, message: detail };
}
