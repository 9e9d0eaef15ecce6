// The stage names of the order-statistics blocks under a caller's prefix (one prefix per use
// within a session): the count, the oblivious transfers of the offline phase, and the GMW rounds.

import type { OrderStageNames } from './triples.js';

export interface StageNames extends OrderStageNames {
  readonly countShares: string;
  readonly countPartials: string;
  readonly and: string;
  readonly open: string;
}

const PREFIX = /^[a-z][a-z0-9]{0,31}$/;

export function stageNames(prefix: string): StageNames {
  if (!PREFIX.test(prefix)) throw new TypeError(`order stage prefix must match ${PREFIX}`);
  return {
    countShares: `${prefix}-count-shares`,
    countPartials: `${prefix}-count-partials`,
    baseA: `${prefix}-ot-base-a`,
    baseB: `${prefix}-ot-base-b`,
    ext: `${prefix}-ot-ext`,
    fix: `${prefix}-ot-fix`,
    and: `${prefix}-and`,
    open: `${prefix}-open`,
  };
}

/** The stages the order blocks use under `prefix`; declare them in the session's stage list. */
export function orderStages(prefix: string): string[] {
  return Object.values(stageNames(prefix));
}

/**
 * The back edges of a search that runs its comparison rounds several times (kth.ts: AND layers,
 * an opening, the next digit's AND layers): after an opening, a sender may send AND messages
 * again; with them the overtakings of circuitLoops (the same edges, the open → and one included).
 * Pass it as the session's `loops` with orderStages(prefix).
 */
export function searchLoops(prefix: string): [string, string][] {
  return circuitLoops(prefix);
}

/**
 * The overtakings the order blocks allow themselves (deliveries.ts): they do not wait for a
 * message's receipt before sending the next, so one sender's OT answer (ot-base-b, or ot-fix after
 * fresh base OTs), AND layers and openings may arrive in another order than they were sent. Each
 * (stage, seq) is still received once and by name, so the protocol reads the same messages: an AND
 * layer may arrive before the OT answer sent just before it, an opening before either (two
 * parties' min/max has no AND layer), and an AND layer before an opening (the next round's, kth.ts;
 * or the one layer before the min/max's opening). Nothing may arrive before the offer or the
 * matrix, which every later message depends on (no party sends a later stage before it received
 * them: the answer needs the matrix, and every AND layer needs the triples).
 */
export function circuitLoops(prefix: string): [string, string][] {
  const s = stageNames(prefix);
  return [
    [s.and, s.baseB],
    [s.and, s.fix],
    [s.open, s.baseB],
    [s.open, s.fix],
    [s.open, s.and],
  ];
}

/**
 * Edges that let the count (secureCount) run beside the oblivious transfers and the AND layers of
 * the same prefix (MinimumMaximum counts while its tournament runs): a sender may send a count
 * message after any of those.
 */
export function countBesideLoops(prefix: string): [string, string][] {
  const s = stageNames(prefix);
  return [s.baseA, s.baseB, s.ext, s.fix, s.and, s.open].flatMap((later) => [
    [later, s.countShares] as [string, string],
    [later, s.countPartials] as [string, string],
  ]);
}
