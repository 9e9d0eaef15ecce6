// MinimumMaximum: every party gives records {"minimum": a, "maximum": b} (one, or a list); every
// party learns the least `minimum`, the greatest `maximum` and the number of records, nothing else
// (FSC broadcasts every party's values in clear). The count is a secure sum, the extremes the
// one min/max block (extremes.ts): a tournament of all parties' local extremes at once.

import type { CallContext } from '../../microservice.js';
import { runProtocol } from '../../common/stages.js';
import { parseNetwork } from '../network.js';
import { finiteNumber, record, units } from './inputs.js';
import { orderStages, secureCount } from './kth.js';
import { secureMinMax } from './extremes.js';
import { BadInputError } from '../../errors.js';

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
export async function minimumMaximum(kwargs: Record<string, unknown>, ctx: CallContext): Promise<MinimumMaximumResult> {
  const network = parseNetwork(kwargs['network']);
  const session = await ctx.peers.open({
    uuid: network.uuid,
    myself: network.myself,
    terms: { microprotocol: 'MinimumMaximum', nodes: network.nodes },
    stages: orderStages(STAGE_PREFIX),
  });
  return runProtocol(session, async () => {
    const { minima, maxima } = parseMinimumMaximumInput(kwargs['data']);
    const total = await secureCount(session, minima.length, STAGE_PREFIX);
    if (total < 1n) throw new BadInputError('there are no values at any party (N = 0)', { where: 'kwargs.data' });
    const { minimum, maximum } = await secureMinMax(session, { minima, maxima }, STAGE_PREFIX);
    return { inputs: session.parties, result: { minimum, maximum, samples: Number(total) } };
  });
}
