// The k-th ranked element by a B-ary search over the order keys of the doubles (encoding.ts).
// Implementation in progress: the interface below is final.

import { NotImplementedError } from '../../errors.js';
import type { Session } from '../../peer.js';

/** One k-th element search: this party's values, and the public rank and total count N. */
export interface KthSearch {
  readonly values: readonly number[];
  /** 1 … total. */
  readonly rank: bigint;
  /** N, the number of values over all parties (public). */
  readonly total: bigint;
}

export interface Extremes {
  readonly min: number;
  readonly max: number;
  /** N, the number of values over all parties. */
  readonly count: number;
}

const PREFIX = /^[a-z][a-z0-9]{0,31}$/;

/** The stages the order blocks use under `prefix`; declare them in the session's stage list. */
export function orderStages(prefix: string): string[] {
  if (!PREFIX.test(prefix)) throw new TypeError(`order stage prefix must match ${PREFIX}`);
  return ['count-shares', 'count-partials', 'ot-base-a', 'ot-base-b', 'ot-ext', 'ot-fix', 'and', 'open'].map((s) => `${prefix}-${s}`);
}

export async function secureCount(_session: Session, _localCount: number, _prefix: string): Promise<bigint> {
  throw new NotImplementedError('secureCount is being written');
}

export async function kthRanked(_session: Session, _searches: readonly KthSearch[], _prefix: string): Promise<number[]> {
  throw new NotImplementedError('kthRanked is being written');
}

export async function secureExtremes(_session: Session, _values: readonly number[], _prefix: string, _total?: bigint): Promise<Extremes> {
  throw new NotImplementedError('secureExtremes is being written');
}
