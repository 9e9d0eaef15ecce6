// StatisticsFrequency: the histogram of all parties' items and its mode.
//
// Construction: the union of the parties' distinct items by the label mix-net
// (services/common/labelunion.ts: the union is revealed, not who holds which), then one secure
// vector sum of each party's count per item of the union. Opened: the union (the histogram's
// keys, which the output shows anyway), the mix-net's named side information (docs/simon.md),
// and the histogram. FSC sends every party's list of distinct items in clear.
// `mode` is the item with the largest count; ties go to the smallest item in Unicode code-point
// order, the same at every party (FSC's depended on each server's hash seed).

import { BadInputError } from '../../errors.js';
import { withFloats } from '../../common/resultjson.js';
import { labelUnion, labelUnionStages } from '../../common/labelunion.js';
import { vectorSumStages } from '../../common/vectorsum.js';
import { enforceMinimumCount, microprotocol } from '../engine.js';
import { countsOver, label, tally } from './categories.js';

const UNION = labelUnionStages('labels');
const COUNTS = vectorSumStages('counts');
const MAX_ITEMS = 1_000_000;

export interface FrequencyResult {
  histogram: Record<string, number>;
  mode: string | null;
}

function items(data: unknown, where = 'kwargs.data'): string[] {
  if (!Array.isArray(data)) return [label(data, where)];
  if (data.length > MAX_ITEMS) throw new BadInputError(`at most ${MAX_ITEMS} items per party`, { where });
  return data.map((v: unknown, i) => label(v, `${where}[${i}]`));
}

/** The first largest count in `keys` order (keys are sorted by code point: the smallest wins a tie). */
export function modeOf<K>(keys: readonly K[], counts: readonly number[]): K | null {
  let best = -1;
  counts.forEach((c, i) => {
    if (best === -1 || c > counts[best]!) best = i;
  });
  return best === -1 ? null : keys[best]!;
}

/** `compute(microprotocol="StatisticsFrequency", data, network)`. */
export const statisticsFrequency = microprotocol({
  name: 'StatisticsFrequency',
  stages: [...UNION.all, ...COUNTS.all],
  disclosure: true,
  async run({ session, data, policy }) {
    const local = tally(items(data));
    const keys = await labelUnion(session, local.keys(), UNION);
    const counts = await countsOver(session, COUNTS, keys, local);
    enforceMinimumCount(policy, counts, 'a histogram cell is non-zero and');
    const result: FrequencyResult = { histogram: Object.fromEntries(keys.map((k, i) => [k, counts[i]!])), mode: modeOf(keys, counts) };
    return withFloats({ inputs: session.parties, result }, { result: { histogram: true } });
  },
});
