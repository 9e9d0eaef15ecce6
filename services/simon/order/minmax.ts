// MinimumMaximum: every party gives records {"minimum": a, "maximum": b} (one, or a list); every
// party learns the least `minimum`, the greatest `maximum` and the number of records, nothing else
// (FSC broadcasts every party's values in clear). Two searches in the same rounds: rank 1 over
// the minima, rank N over the maxima.

import type { CallContext } from '../../microservice.js';
import { runProtocol } from '../../common/stages.js';
import { parseNetwork } from '../network.js';
import { finiteNumber, record, units } from './inputs.js';
import { kthRanked, orderStages, secureCount } from './kth.js';

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
    const [minimum, maximum] = await kthRanked(
      session,
      [
        { values: minima, rank: 1n, total },
        { values: maxima, rank: total, total },
      ],
      STAGE_PREFIX,
    );
    return { inputs: session.parties, result: { minimum: minimum!, maximum: maximum!, samples: Number(total) } };
  });
}
