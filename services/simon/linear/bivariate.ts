// StatisticsBivariate: the 7 statistics of all parties' (x, y) pairs together.
//
// Construction: one secure vector sum of exactly what the 7 outputs need — N, Σx, Σy, Σx², Σy²,
// Σxy — each exact (services/simon/linear/exact.ts); nothing else is opened (FSC opened all 22
// univariate statistics of x, y and x·y and every party's local extremes). The statistics are
// then exact rationals rounded once:
//   covariance_mle = (N·Σxy − Σx·Σy)/N²,  covariance = (N·Σxy − Σx·Σy)/(N(N−1)),
//   var_x = (N·Σx² − (Σx)²)/(N(N−1)),     correlation = covariance/√(var_x·var_y),
//   slope = (N·Σxy − Σx·Σy)/(N·Σx² − (Σx)²), intercept = ȳ − slope·x̄, slope_only = Σxy/Σx².
// Undefined statistics are null: the N−1 forms when N = 1, the correlation when a variance is 0,
// the slope and intercept when var_x = 0, slope_only when Σx² = 0. The opened sums are implied by
// the outputs wherever those are defined (N, x̄ = ȳ − … , …); docs/simon.md lists the exceptions.

import { BadInputError } from '../../errors.js';
import { withFloats } from '../../common/resultjson.js';
import { COUNT_RING, secureVectorSum, vectorSumStages } from '../../common/vectorsum.js';
import { enforceMinimumCount, microprotocol, unanimous } from '../engine.js';
import { F, finiteNumber, isFiniteNumber, pairSums, powerRing, ratio } from './exact.js';

const LINEAR = powerRing(1);
const QUADRATIC = powerRing(2);
const SUMS = vectorSumStages('comoments');

export interface BivariateStatistics {
  samples: number;
  covariance_mle: number;
  covariance: number | null;
  correlation_coefficient: number | null;
  regression_slope: number | null;
  /** FSC's spelling, kept: it is the wire contract. */
  regression_interceipt: number | null;
  regression_slope_only: number | null;
}

/** A list of [x, y] pairs; a single pair is [[x, y]] (a bare [x, y] is refused, never misread). */
export function pairList(data: unknown, where = 'kwargs.data', max = 1_000_000): [number, number][] {
  if (!Array.isArray(data)) throw new BadInputError('expected a list of [x, y] pairs, e.g. [[1, 2.5], [2, 3]]', { where });
  if (data.length > max) throw new BadInputError(`at most ${max} pairs per party`, { where });
  return data.map((pair: unknown, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new BadInputError('expected a pair [x, y]; a single pair is written [[x, y]]', { where: `${where}[${i}]` });
    }
    const [x, y] = pair as unknown[];
    // The field paths are built only for a value that is refused.
    if (isFiniteNumber(x) && isFiniteNumber(y)) return [x, y];
    return [finiteNumber(x, `${where}[${i}][0]`), finiteNumber(y, `${where}[${i}][1]`)];
  });
}

export function bivariateFromSums(n: bigint, sx: bigint, sy: bigint, sxx: bigint, syy: bigint, sxy: bigint): BivariateStatistics {
  const scale2 = 1n << BigInt(2 * F);
  // With Σx, Σy scaled by 2^F and the quadratic sums by 2^(2F), these numerators are all scaled by 2^(2F).
  const co = n * sxy - sx * sy;
  const vx = n * sxx - sx * sx;
  const vy = n * syy - sy * sy;
  const N = Number(n);
  const covariance = N > 1 ? ratio(co, n * (n - 1n) * scale2) : null;
  const varX = N > 1 ? ratio(vx, n * (n - 1n) * scale2) : null;
  const varY = N > 1 ? ratio(vy, n * (n - 1n) * scale2) : null;
  const slope = vx !== 0n ? ratio(co, vx) : null;
  const meanX = ratio(sx, n << BigInt(F));
  const meanY = ratio(sy, n << BigInt(F));
  return {
    samples: N,
    covariance_mle: ratio(co, n * n * scale2),
    covariance,
    correlation_coefficient: covariance !== null && varX !== null && varY !== null && vx !== 0n && vy !== 0n ? covariance / Math.sqrt(varX * varY) : null,
    regression_slope: slope,
    regression_interceipt: slope === null ? null : meanY - slope * meanX,
    regression_slope_only: sxx !== 0n ? ratio(sxy, sxx) : null,
  };
}

/** `compute(microprotocol="StatisticsBivariate", data, network)`. */
export const statisticsBivariate = microprotocol({
  name: 'StatisticsBivariate',
  stages: SUMS.all,
  disclosure: true,
  async run({ session, data, policy }) {
    const pairs = pairList(data);
    const [sx, sy, sxx, syy, sxy] = pairSums(pairs);
    const [linear, quadratic, counts] = await secureVectorSum(session, SUMS, [
      { group: LINEAR, values: [LINEAR.reduce(sx), LINEAR.reduce(sy)] },
      { group: QUADRATIC, values: [QUADRATIC.reduce(sxx), QUADRATIC.reduce(syy), QUADRATIC.reduce(sxy)] },
      { group: COUNT_RING, values: [BigInt(pairs.length)] },
    ]);
    const n = counts![0]!;
    if (n === 0n) throw unanimous(new BadInputError('no party gave any pair (N = 0)', { where: 'kwargs.data' }));
    enforceMinimumCount(policy, [Number(n)], 'the number of samples is');
    const [X, Y] = linear!.map((v) => LINEAR.toSigned(v));
    const [XX, YY, XY] = quadratic!.map((v) => QUADRATIC.toSigned(v));
    const result = bivariateFromSums(n, X!, Y!, XX!, YY!, XY!);
    return withFloats({ inputs: session.parties, result }, { result: true });
  },
});
