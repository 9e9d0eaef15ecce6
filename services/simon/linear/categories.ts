// What StatisticsFrequency and StatisticsContingency share: reading category labels, and a
// count per agreed category by one secure vector sum (services/common/vectorsum.ts).

import { BadInputError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { COUNT_RING, secureVectorSum, type VectorSumStages } from '../../common/vectorsum.js';
import { MAX_LABEL_BYTES } from '../../common/labelunion.js';

/**
 * A category label: a string as given (any characters), or a number written as a string, as FSC
 * does (`1` → "1"; JSON does not tell `1.0` from `1`, so both read "1"). Anything else is refused.
 */
export function label(value: unknown, where: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') {
    throw new BadInputError(`expected a category (a string), got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`, { where });
  }
  if (Buffer.byteLength(value, 'utf8') > MAX_LABEL_BYTES) throw new BadInputError(`a category is at most ${MAX_LABEL_BYTES} bytes of UTF-8`, { where });
  return value;
}

/** Secure-sums this party's count of each of `keys` (the agreed categories, in agreed order). */
export async function countsOver(session: Session, stages: VectorSumStages, keys: readonly string[], local: ReadonlyMap<string, number>): Promise<number[]> {
  const [counts] = await secureVectorSum(session, stages, [{ group: COUNT_RING, values: keys.map((k) => BigInt(local.get(k) ?? 0)) }]);
  return counts!.map(Number);
}

/** Counts of each key in `items`. */
export function tally(items: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}
