// Typed domain errors. Services throw these; the HTTP layer turns each into an RFC 9457 problem
// with the class's `status` and `slug` (server/http/problem.ts). No string throws anywhere in the code base.
//
// Each class is one kind of shared/error-kinds.ts (its slug and status come from that table).
//
// `where` says where the fault is (a field path such as "kwargs.network.nodes[2]", a tensor name,
// a party): bad input must say what was wrong and where.

import { ERROR_KINDS, type ErrorKind } from './error-kinds.js';

export { ERROR_KINDS, type ErrorKind } from './error-kinds.js';

export interface ErrorDetails {
  /** Where the fault is: a field path, a tensor name, a party ("party 2 (http://…)"). */
  where?: string;
  /** Extra machine-readable members for the problem document (never secrets). */
  extra?: Record<string, unknown>;
}

export abstract class TesseraError extends Error {
  abstract readonly status: number;
  /** Stable short slug, used as the problem `type` suffix (…/problems/<slug>): a kind of shared/error-kinds.ts. */
  abstract readonly slug: ErrorKind;
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
  readonly slug = 'bad-input';
  readonly status = ERROR_KINDS['bad-input'].status;
}
/** 401: no or wrong credentials. */
export class UnauthenticatedError extends TesseraError {
  readonly slug = 'unauthenticated';
  readonly status = ERROR_KINDS['unauthenticated'].status;
}
/** 403: the name exists but is not callable/reachable by a client (private, internal, prototype). */
export class ForbiddenError extends TesseraError {
  readonly slug = 'forbidden';
  readonly status = ERROR_KINDS['forbidden'].status;
}
/** 404: unknown or released representation, unknown attribute, no matching microservice. */
export class NotFoundError extends TesseraError {
  readonly slug = 'not-found';
  readonly status = ERROR_KINDS['not-found'].status;
}
/** 409: parties disagree (terms, shapes, names), or a conflicting duplicate message. */
export class ConflictError extends TesseraError {
  readonly slug = 'conflict';
  readonly status = ERROR_KINDS['conflict'].status;
}
/** 406: the response cannot be given in the media type the client accepts (content negotiation). */
export class NotAcceptableError extends TesseraError {
  readonly slug = 'not-acceptable';
  readonly status = ERROR_KINDS['not-acceptable'].status;
}
/** 413: a body, tensor or value is larger than a configured limit. */
export class TooLargeError extends TesseraError {
  readonly slug = 'too-large';
  readonly status = ERROR_KINDS['too-large'].status;
}
/** 415: the body is not of the media type the operation takes. */
export class UnsupportedMediaTypeError extends TesseraError {
  readonly slug = 'unsupported-media-type';
  readonly status = ERROR_KINDS['unsupported-media-type'].status;
}
/** 429: a count limit (representations, concurrent computations, buffered messages) is reached. */
export class LimitError extends TesseraError {
  readonly slug = 'limit-reached';
  readonly status = ERROR_KINDS['limit-reached'].status;
}
/** 501: a member or microprotocol that exists in the model but is not implemented. */
export class NotImplementedError extends TesseraError {
  readonly slug = 'not-implemented';
  readonly status = ERROR_KINDS['not-implemented'].status;
}
/** 502: a peer failed, aborted, or sent something invalid; `where` names the party. */
export class PeerError extends TesseraError {
  readonly slug = 'peer-failed';
  readonly status = ERROR_KINDS['peer-failed'].status;
}
/** 504: a wait ran out of time; `where` names the party that did not arrive. */
export class TimeoutError extends TesseraError {
  readonly slug = 'timeout';
  readonly status = ERROR_KINDS['timeout'].status;
}
