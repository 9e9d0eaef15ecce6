// Typed domain errors. Services throw these; the HTTP layer turns each into an RFC 9457 problem
// with the class's `status` and `slug` (server/http/problem.ts). No string throws anywhere in the code base.
//
// `where` says where the fault is (a field path such as "kwargs.network.nodes[2]", a tensor name,
// a party): bad input must say what was wrong and where.

export interface ErrorDetails {
  /** Where the fault is: a field path, a tensor name, a party ("party 2 (http://…)"). */
  where?: string;
  /** Extra machine-readable members for the problem document (never secrets). */
  extra?: Record<string, unknown>;
}

export abstract class TesseraError extends Error {
  abstract readonly status: number;
  /** Stable short slug, used as the problem `type` suffix (…/problems/<slug>). */
  abstract readonly slug: string;
  readonly where: string | undefined;
  readonly extra: Record<string, unknown> | undefined;
  constructor(message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.where = details.where;
    this.extra = details.extra;
  }
}

/** 400: the request is malformed or a value is invalid (NaN, out of range, wrong type). */
export class BadInputError extends TesseraError {
  readonly status = 400;
  readonly slug = 'bad-input';
}
/** 401: no or wrong credentials. */
export class UnauthenticatedError extends TesseraError {
  readonly status = 401;
  readonly slug = 'unauthenticated';
}
/** 403: the name exists but is not callable/reachable by a client (private, internal, prototype). */
export class ForbiddenError extends TesseraError {
  readonly status = 403;
  readonly slug = 'forbidden';
}
/** 404: unknown or released representation, unknown attribute, no matching microservice. */
export class NotFoundError extends TesseraError {
  readonly status = 404;
  readonly slug = 'not-found';
}
/** 409: parties disagree (terms, shapes, names), or a conflicting duplicate message. */
export class ConflictError extends TesseraError {
  readonly status = 409;
  readonly slug = 'conflict';
}
/** 413: a body, tensor or value is larger than a configured limit. */
export class TooLargeError extends TesseraError {
  readonly status = 413;
  readonly slug = 'too-large';
}
/** 415: the body is not of the media type the operation takes. */
export class UnsupportedMediaTypeError extends TesseraError {
  readonly status = 415;
  readonly slug = 'unsupported-media-type';
}
/** 429: a count limit (representations, concurrent computations, buffered messages) is reached. */
export class LimitError extends TesseraError {
  readonly status = 429;
  readonly slug = 'limit-reached';
}
/** 501: a member or microprotocol that exists in the model but is not implemented. */
export class NotImplementedError extends TesseraError {
  readonly status = 501;
  readonly slug = 'not-implemented';
}
/** 502: a peer failed, aborted, or sent something invalid; `where` names the party. */
export class PeerError extends TesseraError {
  readonly status = 502;
  readonly slug = 'peer-failed';
}
/** 504: a wait ran out of time; `where` names the party that did not arrive. */
export class TimeoutError extends TesseraError {
  readonly status = 504;
  readonly slug = 'timeout';
}
