// MinimumMaximum: every party gives records {"minimum": a, "maximum": b} (one, or a list); every
// party learns the least `minimum`, the greatest `maximum` and the number of records, nothing else
// (FSC broadcasts every party's values in clear). The count is a secure sum, the extremes the
// one min/max block (extremes.ts): a tournament of all parties' local extremes at once. The two
// run side by side (neither needs the other's output), so the count costs no round of its own.

import { microprotocol } from '../engine.js';
import { finiteNumber, record, units } from './inputs.js';
import { secureCount } from './kth.js';
import { secureMinMax } from './extremes.js';
import { circuitLoops, countBesideLoops, orderStages } from './stages.js';

export interface MinimumMaximumResult {
  inputs: number;
  result: { minimum: number; maximum: number; samples: number };
}

const STAGE_PREFIX = 'minmax';

export function parseMinimumMaximumInput(data: unknown): { minima: number[]; maxima: number[] } {
  const minima: number[] = [];
  const maxima: number[] = [];
  for (const unit of units(data)) {
    const r = record(unit.value, unit.where, '{"minimum": a, "maximum": b}');
    minima.push(finiteNumber(r['minimum'], `${unit.where}.minimum`));
    maxima.push(finiteNumber(r['maximum'], `${unit.where}.maximum`));
  }
  return { minima, maxima };
}

/** `compute(microprotocol="MinimumMaximum", data, network)`. */
export const minimumMaximum = microprotocol<MinimumMaximumResult>({
  name: 'MinimumMaximum',
  stages: orderStages(STAGE_PREFIX),
  loops: [...countBesideLoops(STAGE_PREFIX), ...circuitLoops(STAGE_PREFIX)],
  async run({ session, data }) {
    const { minima, maxima } = parseMinimumMaximumInput(data);
    const counting = secureCount(session, minima.length, STAGE_PREFIX);
    const tournament = secureMinMax(session, { minima, maxima }, STAGE_PREFIX);
    // Both are awaited below; neither failure may go unhandled while the other is awaited.
    counting.catch(() => undefined);
    tournament.catch(() => undefined);
    const total = await counting;
    // N = 0 shows in the tournament too (its opened minimum is the neutral key): every party
    // learns it alike, after the whole protocol, and answers it itself (thrown unanimously).
    const { minimum, maximum } = await tournament;
    return { inputs: session.parties, result: { minimum, maximum, samples: Number(total) } };
  },
});
