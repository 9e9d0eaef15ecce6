// SecureMedian: every party gives a number or a list of numbers; every party learns the median of
// the union (rank (N+1)/2 for odd N, the mean of ranks N/2 and N/2+1 for even N) and N. For even
// N both middle elements are found (their mean is the answer), so a coalition learns both: a
// named leakage (SECURITY.md). An empty party contributes nothing; N = 0 is an error everywhere.

import { microprotocol } from '../engine.js';
import { numberList } from './inputs.js';
import { kthRanked, orderStages, searchLoops, secureCount } from './kth.js';

export interface SecureMedianResult {
  inputs: number;
  result: { median: number };
}

const STAGE_PREFIX = 'median';

/** (a + b)/2 rounded once; halves first only where a + b would overflow. */
export function midpoint(a: number, b: number): number {
  const sum = a + b;
  return Number.isFinite(sum) ? sum / 2 : a / 2 + b / 2;
}

/** `compute(microprotocol="SecureMedian", data, network)`. */
export const secureMedian = microprotocol<SecureMedianResult>({
  name: 'SecureMedian',
  stages: orderStages(STAGE_PREFIX),
  loops: searchLoops(STAGE_PREFIX),
  async run({ session, data }) {
    const values = numberList(data);
    const total = await secureCount(session, values.length, STAGE_PREFIX);
    const ranks = total % 2n === 1n ? [(total + 1n) / 2n] : [total / 2n, total / 2n + 1n];
    const found = await kthRanked(session, ranks.map((rank) => ({ values, rank, total })), STAGE_PREFIX);
    const median = found.length === 1 ? found[0]! : midpoint(found[0]!, found[1]!);
    return { inputs: session.parties, result: { median } };
  },
});
