// The plug-in contract between the generic server and its microservices.
// Services never import Express: they receive plain arguments and a CallContext.

import type { PeerNetwork } from './peer.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A flat description a client matches with `create(**requirements)`. */
export type Description = Readonly<Record<string, string>>;

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CallContext {
  /** Aborted when the server shuts down (and, where possible, when the client goes away). */
  readonly signal: AbortSignal;
  /** The peer transport for multi-party protocols. */
  readonly peers: PeerNetwork;
  readonly log: Logger;
  /** Budgets the server sets for what a call may make it hold (defaults apply when absent). */
  readonly limits?: CallLimits;
}

export interface CallLimits {
  /** Largest model (its tensors' bytes in their own dtypes) a FedAvg manifest may declare. */
  readonly maxModelBytes?: number;
}

/**
 * One callable member of a microservice. `args`/`kwargs` are the JSON arguments with every
 * `{"representation_uuid": …}` already replaced by the object it names (JSON value, TensorSet,
 * or another server-side object). The returned value becomes a new representation; `undefined`
 * answers `{"type": "none"}`.
 */
export type Member = (args: unknown[], kwargs: Record<string, unknown>, ctx: CallContext) => unknown | Promise<unknown>;

/**
 * Anything with an explicit member list: microservices, and server-side objects a member returns
 * (e.g. a prepared computation a client calls later). The bus allows attribute access and calls
 * on these only through `members`.
 */
export interface ServerObject {
  readonly [SERVER_OBJECT]: true;
  readonly members: Readonly<Record<string, Member>>;
  /**
   * Called once when the client releases the representation holding this object, when it
   * expires, or when the server shuts down: free what it holds (a prepared computation's masks)
   * now rather than at its own deadline. Not a member: a client cannot call it by name.
   */
  release?(): void;
}
export const SERVER_OBJECT = Symbol.for('tessera.serverObject');
export function isServerObject(value: unknown): value is ServerObject {
  return typeof value === 'object' && value !== null && SERVER_OBJECT in value;
}

export interface Microservice extends ServerObject {
  readonly description: Description;
  /**
   * The explicit list of members a client may reach with GET /representation/{uuid}/{name}.
   * The bus looks names up with Object.hasOwn on this map only: nothing else is reachable.
   */
  readonly members: Readonly<Record<string, Member>>;
  /** Optional: release resources on server shutdown. */
  close?(): Promise<void> | void;
}
