// KthElement: every party gives {"array": [numbers], "rank": k, "lower_bound": lo,
// "upper_bound": hi} (bare or in a list; a later record replaces an earlier one, as in FSC);
// every party learns the k-th smallest of the union of all arrays and N, nothing else.
// k, lo and hi are public parameters: they are part of the session's terms, so parties that
// disagree fail at once, each naming the other (409). Each party checks lo ≤ hi and that its own
// values lie in [lo, hi]; a rank outside 1…N is an error at every party. The bounds are only
// checked: the search runs over all doubles, so the answer is exact (docs/order-statistics.md).

import { BadInputError } from '../../errors.js';
import { microprotocol } from '../engine.js';
import { finiteNumber, MAX_VALUES, record, units } from './inputs.js';
import { kthRanked, orderStages, searchLoops, secureCount } from './kth.js';

export interface KthElementResult {
  inputs: number;
  result: { item: number; samples: number };
}

const SHAPE = '{"array": [numbers], "rank": k, "lower_bound": lo, "upper_bound": hi}';
const STAGE_PREFIX = 'kth';

interface KthInput {
  values: number[];
  rank: number;
  where: string;
}

/** The record that counts: the last unit (FSC's accumulator replaces), or undefined for `[]`. */
function lastUnit(data: unknown): { value: unknown; where: string } | undefined {
  const all = units(data);
  return all[all.length - 1];
}

/** rank and bounds as given (numbers or null), for the terms every party must agree on. */
function publicParameters(data: unknown): { rank: number | null; lower_bound: number | null; upper_bound: number | null } {
  let unit: unknown;
  try {
    unit = lastUnit(data)?.value;
  } catch {
    unit = undefined;
  }
  const get = (key: string) => {
    const v = typeof unit === 'object' && unit !== null && !Array.isArray(unit) ? (unit as Record<string, unknown>)[key] : undefined;
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  return { rank: get('rank'), lower_bound: get('lower_bound'), upper_bound: get('upper_bound') };
}

export function parseKthElementInput(data: unknown): KthInput {
  const unit = lastUnit(data);
  if (unit === undefined) throw new BadInputError(`expected a record ${SHAPE}, got an empty list`, { where: 'kwargs.data' });
  const { where } = unit;
  const r = record(unit.value, where, SHAPE);
  const rank = finiteNumber(r['rank'], `${where}.rank`);
  if (!Number.isSafeInteger(rank) || rank < 1) throw new BadInputError('rank must be a whole number ≥ 1 (ranks count from 1)', { where: `${where}.rank` });
  const lo = finiteNumber(r['lower_bound'], `${where}.lower_bound`);
  const hi = finiteNumber(r['upper_bound'], `${where}.upper_bound`);
  if (lo > hi) throw new BadInputError('upper_bound must not be below lower_bound', { where: `${where}.upper_bound` });
  const array = r['array'];
  if (!Array.isArray(array)) throw new BadInputError('array must be a list of numbers', { where: `${where}.array` });
  if (array.length > MAX_VALUES) throw new BadInputError(`at most ${MAX_VALUES} numbers per party`, { where: `${where}.array` });
  const values = array.map((x: unknown, i) => {
    const v = finiteNumber(x, `${where}.array[${i}]`);
    if (v < lo || v > hi) throw new BadInputError('value lies outside [lower_bound, upper_bound]', { where: `${where}.array[${i}]` });
    return v;
  });
  return { values, rank, where };
}

/** `compute(microprotocol="KthElement", data, network)`. */
export const kthElement = microprotocol<KthElementResult>({
  name: 'KthElement',
  stages: orderStages(STAGE_PREFIX),
  loops: searchLoops(STAGE_PREFIX),
  publicTerms: publicParameters,
  async run({ session, data }) {
    const input = parseKthElementInput(data);
    const total = await secureCount(session, input.values.length, STAGE_PREFIX);
    const [item] = await kthRanked(session, [{ values: input.values, rank: BigInt(input.rank), total }], STAGE_PREFIX, {
      where: `${input.where}.rank`,
    });
    return { inputs: session.parties, result: { item: item!, samples: Number(total) } };
  },
});
