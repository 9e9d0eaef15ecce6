// SecureSum (SIMON semantics): every party gives a number, a list of numbers, or a list whose
// items are numbers or lists of numbers (FSC reads two levels: `[[1, 2], [3]]` adds 1 + 2 + 3);
// every party learns the sum over all parties and the count of numbers ("samples"), nothing else.
//
// Construction: one secure vector sum (services/common/vectorsum.ts) of the pair (local total on
// the exact fixed-point ring, local count in Z_2^64). EXACT_SCALAR is wide enough that every
// finite double is an exact ring element and the ring sum is the exact real sum, rounded to the
// nearest double once, at the end.

import { BadInputError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { EXACT_SCALAR } from '../../common/fixedpoint.js';
import { ExactDoubleSum } from '../../common/exactsum.js';
import { withFloats } from '../../common/resultjson.js';
import { COUNT_RING, REAL_RING, secureVectorSum, vectorSumStages } from '../../common/vectorsum.js';
import { microprotocol } from '../engine.js';

export const SECURE_SUM_STAGES = vectorSumStages('sum');

/** The result every party downloads, exactly as the classic clients expect it. */
export interface SecureSumResult {
  inputs: number;
  result: { samples: number; sum: number };
}

const MAX_ITEMS = 1_000_000;

/** A party's input: its exact local total and how many numbers it gave. */
export interface LocalInput {
  total: bigint;
  count: bigint;
}

/** Refuses what is not a finite number, naming its place (`where` is built only then). */
function checkNumber(item: unknown, where: () => string): asserts item is number {
  if (typeof item !== 'number') {
    throw new BadInputError(`expected a number, got ${item === null ? 'null' : typeof item}`, { where: where() });
  }
  // EXACT_SCALAR encodes every finite double; for NaN and ±Infinity it throws its own error.
  if (!Number.isFinite(item)) EXACT_SCALAR.encode(item, where());
}

/**
 * Validates `data` (a number, or a list of numbers or lists of numbers) and sums it exactly: the
 * total is the same ring element as adding every value's EXACT_SCALAR encoding, accumulated
 * without a BigInt per value (exactsum.ts).
 */
export function parseSecureSumInput(data: unknown, where = 'kwargs.data'): LocalInput {
  const items = Array.isArray(data) ? data : [data];
  const sum = new ExactDoubleSum();
  let count = 0;
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    const at = (): string => (Array.isArray(data) ? `${where}[${i}]` : where);
    if (!Array.isArray(item)) {
      if (++count > MAX_ITEMS) throw new BadInputError(`at most ${MAX_ITEMS} numbers per party`, { where });
      checkNumber(item, at);
      sum.add(item);
      continue;
    }
    count += item.length;
    if (count > MAX_ITEMS) throw new BadInputError(`at most ${MAX_ITEMS} numbers per party`, { where });
    for (let k = 0; k < item.length; k++) {
      const x: unknown = item[k];
      checkNumber(x, () => `${at()}[${k}]`);
      sum.add(x);
    }
  }
  return { total: REAL_RING.reduce(sum.scaled()), count: BigInt(count) };
}

/** The float-typed fields of a SecureSum result (`sum`; `samples` is Tessera's own int). */
export function secureSumResult(parties: number, samples: number, sum: number): SecureSumResult {
  return withFloats({ inputs: parties, result: { samples, sum } }, { result: { sum: true } });
}

/** The sum itself, on an open session (SecureSum's body; also usable inside other protocols). */
export async function sumOnSession(session: Session, input: LocalInput): Promise<SecureSumResult> {
  const [totals, counts] = await secureVectorSum(session, SECURE_SUM_STAGES, [
    { group: REAL_RING, values: [input.total] },
    { group: COUNT_RING, values: [input.count] },
  ]);
  return secureSumResult(session.parties, Number(counts![0]!), EXACT_SCALAR.decode(totals![0]!, 'the sum of all parties'));
}

/** `compute(microprotocol="SecureSum", data, network)` on this party's server. */
export const secureSum = microprotocol({
  name: 'SecureSum',
  stages: SECURE_SUM_STAGES.all,
  run: ({ session, data }) => sumOnSession(session, parseSecureSumInput(data)),
});
