// What every SIMON microprotocol shares, so that each one is a short file of its own math:
// the keywords `compute` accepts, the session (terms, declared stages and their order), the one
// policy for bad input, and the disclosure policy.
//
// One policy for bad input: the session is opened first and the input is read inside the
// protocol (runProtocol), so a party whose input is bad answers 400 naming the field and every
// other party fails at once, naming that party, instead of waiting for its timeout.

import { BadInputError, ForbiddenError } from '../errors.js';
import type { CallContext, Json } from '../microservice.js';
import type { Session } from '../peer.js';
import { runProtocol, StageOrder } from '../common/stages.js';
import { parseNetwork, requireTwoParties } from './network.js';
import { KEYWORDS } from './generated/keywords.js';
import { checkOptionValues } from './options.js';

/**
 * `compute`'s keywords: FSC's three, as openapi.yaml's ComputeKwargs declares them (its options,
 * such as FedAvg's ring_bits, belong to the microprotocols its x-microprotocols names).
 */
export const COMPUTE_KEYWORDS: readonly string[] = Object.freeze([...KEYWORDS.compute.common]);

/**
 * Refuses keywords `compute` does not take, naming them: FSC answered them with a 500, and
 * silently ignoring one (`ring_bit=32` for `ring_bits`) would run with a setting the caller did
 * not ask for.
 */
export function checkKeywords(kwargs: Record<string, unknown>, options: readonly string[] = []): void {
  const allowed = new Set([...COMPUTE_KEYWORDS, ...options]);
  const unknown = Object.keys(kwargs).filter((k) => !allowed.has(k));
  if (unknown.length > 0) {
    const names = unknown.map((k) => JSON.stringify(k.slice(0, 60))).join(', ');
    throw new BadInputError(`unknown keyword${unknown.length > 1 ? 's' : ''} ${names}; compute takes ${[...allowed].join(', ')}`, {
      where: `kwargs.${unknown[0]!.slice(0, 60)}`,
    });
  }
}

/**
 * The disclosure policy of this server (DataSHIELD's "nfilter" idea): with a minimum cell count
 * K, a frequency or contingency table with a non-zero cell below K, or a statistic over fewer
 * than K samples, is not released. All parties must run with the same K (it is part of the terms).
 */
export interface DisclosurePolicy {
  readonly minCellCount?: number;
}

/** The context a SIMON microprotocol runs in: the server's call context and its policy. */
export interface SimonContext extends CallContext {
  readonly disclosure?: DisclosurePolicy;
}

export type Microprotocol = (kwargs: Record<string, unknown>, ctx: SimonContext) => Promise<unknown>;

/** What the body of a microprotocol is given: its open session, its input and the policy. */
export interface Run {
  readonly session: Session;
  readonly data: unknown;
  readonly policy: { readonly minCellCount: number | undefined };
  /** This server's per-wait stage timeout (a long computation adds its own budget to it). */
  readonly stageTimeoutMs: number;
  /** `compute`'s keywords, checked: the common ones and this microprotocol's options (openapi.yaml). */
  readonly kwargs: Readonly<Record<string, unknown>>;
}

export interface MicroprotocolSpec<R> {
  /** FSC's exact name. */
  readonly name: string;
  /**
   * Every stage any of its sub-protocols uses, in protocol order; or, for a protocol whose stages
   * depend on the number of parties (a ring of n − 1 hops), a function of that number.
   */
  readonly stages: readonly string[] | ((parties: number) => readonly string[]);
  /** The fewest parties it runs with (refused at every party alike, before the session opens). */
  readonly minParties?: number;
  /** Back edges of sub-protocols that run several times (see StageOrder). */
  readonly loops?: readonly (readonly [string, string])[];
  /** Two-party microprotocols: nodes[0] and nodes[1], exactly. */
  readonly twoParty?: boolean;
  /** Whether the disclosure policy applies (it is then part of the agreed terms). */
  readonly disclosure?: boolean;
  /**
   * Public parameters every party must give alike (KthElement's rank and bounds), read from
   * `data` before the session opens and added to its terms, so that parties that disagree fail
   * at once, each naming the other (409). Must not throw, and must return nothing private.
   * `kwargs` is for a public option (SetIntersection's max_set_size), read the same way.
   */
  readonly publicTerms?: (data: unknown, kwargs: Readonly<Record<string, unknown>>) => Record<string, Json>;
  /** The protocol body. Reads and validates `data` first: a bad input aborts the others. */
  run(run: Run): Promise<R>;
}

/** Builds `compute`'s entry for a microprotocol on the engine. */
export function microprotocol<R>(spec: MicroprotocolSpec<R>): Microprotocol {
  const fixed = typeof spec.stages === 'function' ? undefined : new StageOrder(spec.stages, spec.loops);
  return async (kwargs, ctx) => {
    let network = parseNetwork(kwargs['network']);
    if (spec.twoParty === true) network = requireTwoParties(network, 'kwargs.network.nodes', spec.name);
    if (spec.minParties !== undefined && network.nodes.length < spec.minParties) {
      // Every party is given the same nodes, so each refuses alike; no session is needed.
      throw new BadInputError(`${spec.name} needs at least ${spec.minParties} parties; got ${network.nodes.length} nodes`, { where: 'kwargs.network.nodes' });
    }
    const order = fixed ?? new StageOrder((spec.stages as (parties: number) => readonly string[])(network.nodes.length), spec.loops);
    const minCellCount = spec.disclosure === true ? ctx.disclosure?.minCellCount : undefined;
    // The engine's own terms come last: a public parameter cannot stand in for them.
    const terms: Record<string, Json | readonly string[]> = { ...spec.publicTerms?.(kwargs['data'], kwargs), microprotocol: spec.name, nodes: network.nodes };
    if (spec.disclosure === true) terms['min_cell_count'] = minCellCount ?? null;
    const session = await ctx.peers.open({
      uuid: network.uuid,
      myself: network.myself,
      terms: terms as { microprotocol: string; nodes: readonly string[] },
      stages: order.stages,
      order,
    });
    // An error every party derives alike from opened values (a withheld result, N = 0) is not a
    // failure of the protocol: no party aborts the others, which would race their own answer.
    let agreed: Error | undefined;
    const result = await runProtocol(session, async () => {
      checkKeywords(kwargs, optionsOf(spec.name));
      // Their values against openapi.yaml's schemas, in the same step (after the session opened).
      checkOptionValues('compute', kwargs, optionsOf(spec.name));
      try {
        return await spec.run({ session, data: kwargs['data'], policy: { minCellCount }, stageTimeoutMs: ctx.peers.stageTimeoutMs, kwargs });
      } catch (err) {
        if (!(err instanceof Error && UNANIMOUS.has(err))) throw err;
        agreed = err;
        return undefined;
      }
    });
    if (agreed !== undefined) throw agreed;
    return result;
  };
}

/** The options openapi.yaml gives a microprotocol (x-microprotocols), beyond the common keywords. */
function optionsOf(name: string): readonly string[] {
  const options: Readonly<Record<string, readonly string[]>> = KEYWORDS.compute.options;
  return Object.hasOwn(options, name) ? options[name]! : [];
}

const UNANIMOUS = new WeakSet<Error>();

/**
 * Marks an error that every party reaches alike from the same opened values (so each answers it
 * itself, and none aborts the others), and returns it: `throw unanimous(new BadInputError(…))`.
 */
export function unanimous<E extends Error>(err: E): E {
  UNANIMOUS.add(err);
  return err;
}

/** 403: the disclosure policy withholds a result every party computed alike. */
export class WithheldError extends ForbiddenError {}

/**
 * The disclosure check, run by every party on the opened result before it is returned, so that
 * all parties refuse alike. The refusal itself reveals that some cell (or the sample count) is
 * below K, which is what the policy exists to say; it reveals no cell's value.
 */
export function enforceMinimumCount(policy: Run['policy'], counts: Iterable<number>, what: string): void {
  const k = policy.minCellCount;
  if (k === undefined) return;
  for (const c of counts) {
    if (c > 0 && c < k) {
      throw unanimous(new WithheldError(`the disclosure policy (--min-cell-count ${k}) withholds this result: ${what} below ${k}`, {
        where: 'disclosure policy',
        extra: { minCellCount: k },
      }));
    }
  }
}
