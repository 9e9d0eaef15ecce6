// StatisticsUnivariate: the 22 descriptive statistics of all parties' numbers together.
//
// Construction: one secure vector sum of each party's local aggregates — the count N, the power
// sums S_1…S_6 (exact, services/simon/linear/exact.ts), Σ1/x over x ≠ 0 and Σ ln x over x > 0 —
// then the minimum and maximum by the one min/max block (order/extremes.ts), which also opens the
// OR over parties of "I hold a 0". Every opened value is a function of the output: the moments
// give S_1…S_6 back; "some value is 0" is what a null harmonic mean says, and "some value is ≤ 0"
// is not opened at all, since it is "minimum ≤ 0". Σ1/x and Σ ln x are opened only where their
// mean is defined: every party adds a fresh uniform pad to each of the two in the vector sum, so
// both open as uniform noise, and releases its pads (stage means.pads) only once the min/max has
// shown that mean defined. A party holding a 0 (a value ≤ 0) puts uniform noise in place of its
// Σ1/x (Σ ln x); the mean is then null, no pad is released, and the honest parties' unreleased
// pads hide the others' sums even from a coalition that knows that noise.
//
// Formulas (FSC's StatisticsUnivariate accumulator): x̄ = S1/N, C_k = Σ(x−x̄)^k from S_1…S_k exactly,
// m_k = C_k/N. Undefined statistics are null (FSC crashed or hung): the N−1 forms when N = 1;
// skewness, kurtosis and the hyper_* when m2 = 0; the coefficients of variation when x̄ = 0; the
// geometric mean when a value is ≤ 0; the harmonic mean when a value is 0 (or Σ1/x = 0).

import { BadInputError } from '../../errors.js';
import { withFloats } from '../../common/resultjson.js';
import { COUNT_RING, decodeLanes, encodeLanes, REAL_RING, secureVectorSum, vectorSumStages, type Lane } from '../../common/vectorsum.js';
import { Deliveries } from '../../common/deliveries.js';
import { broadcast, gather, otherParties, partyName } from '../../common/stages.js';
import type { Session } from '../../peer.js';
import { EXACT_SCALAR } from '../../common/fixedpoint.js';
import { ExactDoubleSum } from '../../common/exactsum.js';
import { enforceMinimumCount, microprotocol, unanimous } from '../engine.js';
import { minMaxCircuitStages, secureMinMax } from '../order/extremes.js';
import { circuitLoops, orderStages, stageNames } from '../order/stages.js';
import { binomial, F, numberList, powerRing, powerSums, ratio } from './exact.js';

const DEGREE = 6;
const POWER_RINGS = Array.from({ length: DEGREE }, (_, j) => powerRing(j + 1));
const MOMENTS = vectorSumStages('moments');
const EXTREMES = 'extremes';

export type UnivariateStatistics = Record<
  | 'samples' | 'sum' | 'mean' | 'minimum' | 'maximum' | 'harmonic_mean' | 'geometric_mean' | 'variance' | 'variance_mle'
  | 'variance_of_sample_mean' | 'standard_deviation' | 'standard_deviation_mle' | 'standard_error_of_sample_mean'
  | 'coefficient_of_variation' | 'coefficient_of_variation_mle' | 'root_mean_square' | 'root_mean_square_deviation'
  | 'skewness' | 'kurtosis' | 'kurtosis_excess' | 'hyper_skewness' | 'hyper_flatness',
  number | null
>;

/** The stage in which the parties release their pads on Σ1/x and Σ ln x, where that mean is defined. */
const PADS = 'means.pads';

/**
 * A party's local aggregates, as the lanes of one vector sum; `pads` (one uniform ring element for
 * Σ1/x, one for Σ ln x) are added to those two sums, which then open as uniform noise.
 */
export function localAggregates(values: readonly number[], pads: readonly [bigint, bigint], where = 'kwargs.data'): Lane[] {
  const powers = powerSums(values, DEGREE).map((sum, j) => POWER_RINGS[j]!.reduce(sum));
  // Σ1/x and Σ ln x exactly, as the sums of their EXACT_SCALAR encodings (exactsum.ts).
  const reciprocalSum = new ExactDoubleSum();
  const logSum = new ExactDoubleSum();
  let zeros = 0;
  let nonPositive = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x === 0) zeros++;
    else {
      const r = 1 / x;
      if (!Number.isFinite(r)) throw new BadInputError('the reciprocal of this (subnormal) value overflows a double', { where: `${where}[${i}]` });
      reciprocalSum.add(r);
    }
    if (x <= 0) nonPositive++;
    else logSum.add(Math.log(x)); // finite: x is a positive finite double
  }
  // Where the mean is undefined for this party's data, its sum opens as uniform noise.
  const reciprocals = zeros > 0 ? REAL_RING.random() : REAL_RING.reduce(reciprocalSum.scaled());
  const logs = nonPositive > 0 ? REAL_RING.random() : REAL_RING.reduce(logSum.scaled());
  return [
    ...POWER_RINGS.map((group, j) => ({ group, values: [powers[j]!] })),
    { group: REAL_RING, values: [REAL_RING.add(reciprocals, pads[0]), REAL_RING.add(logs, pads[1])] },
    { group: COUNT_RING, values: [BigInt(values.length)] },
  ];
}

/** The statistics from the opened sums (every party computes the same numbers). */
export function univariateFromSums(
  s: readonly bigint[], // s[j] = S_j·2^(1074·j) for j = 1…6, signed; s[0] unused
  n: bigint,
  /** Σ1/x, or null where some value is 0. */
  reciprocals: number | null,
  /** Σ ln x, or null where some value is ≤ 0. */
  logs: number | null,
  extremes: { minimum: number; maximum: number },
): UnivariateStatistics {
  const N = Number(n);
  const scale = (k: number) => 1n << BigInt(F * k);
  // T_k = N^k·C_k·2^(1074·k) = Σ_j C(k,j)·s_j·(−s_1)^(k−j)·N^j, with s_0 = N. Numbers of up to
  // 1074·k bits: each T_k is formed once, from powers of −s_1 and N formed once (the skewness,
  // kurtosis and hyper_* read T_2…T_6, some twice).
  const minusS1 = [1n];
  const nPower = [1n];
  for (let k = 1; k <= DEGREE + 1; k++) {
    minusS1.push(minusS1[k - 1]! * -s[1]!);
    nPower.push(nPower[k - 1]! * n);
  }
  const Ts = new Map<number, bigint>();
  const T = (k: number): bigint => {
    let t = Ts.get(k);
    if (t === undefined) {
      t = 0n;
      for (let j = 0; j <= k; j++) t += binomial(k, j) * (j === 0 ? n : s[j]!) * minusS1[k - j]! * nPower[j]!;
      Ts.set(k, t);
    }
    return t;
  };
  const m = (k: number) => ratio(T(k), nPower[k + 1]! * scale(k)); // m_k = C_k/N
  const mean = ratio(s[1]!, n * scale(1));
  const t2 = T(2);
  const m2 = m(2);
  const variance = N > 1 ? ratio(t2, n * n * (n - 1n) * scale(2)) : null;
  const standardDeviation = variance === null ? null : Math.sqrt(variance);
  const standardDeviationMle = Math.sqrt(m2);
  const varianceOfMean = variance === null ? null : variance / N;
  const spread = t2 !== 0n;
  return {
    samples: N,
    sum: ratio(s[1]!, scale(1)),
    mean,
    minimum: extremes.minimum,
    maximum: extremes.maximum,
    harmonic_mean: reciprocals !== null && reciprocals !== 0 ? N / reciprocals : null,
    geometric_mean: logs !== null ? Math.exp(logs / N) : null,
    variance,
    variance_mle: m2,
    variance_of_sample_mean: varianceOfMean,
    standard_deviation: standardDeviation,
    standard_deviation_mle: standardDeviationMle,
    standard_error_of_sample_mean: varianceOfMean === null ? null : Math.sqrt(varianceOfMean),
    coefficient_of_variation: standardDeviation === null || mean === 0 ? null : standardDeviation / mean,
    coefficient_of_variation_mle: mean === 0 ? null : standardDeviationMle / mean,
    root_mean_square: Math.sqrt(ratio(s[2]!, n * scale(2))),
    root_mean_square_deviation: standardDeviationMle,
    skewness: spread ? m(3) / m2 ** 1.5 : null,
    kurtosis: spread ? m(4) / m2 ** 2 : null,
    kurtosis_excess: spread ? m(4) / m2 ** 2 - 3 : null,
    hyper_skewness: spread ? m(5) / m2 ** 2.5 : null,
    hyper_flatness: spread ? m(6) / m2 ** 3 : null,
  };
}

/**
 * The moments' vector sum is the masked star (vectorsum.ts) from 3 parties on, not only from
 * MASKED_FROM = 4: at 3 parties it sends 6 messages where additive sharing sent 12, each a vector
 * of the power sums' rings (about 6 KB: S_6 alone is 12,656 bits), so a third of the bytes to seal
 * and carry, and a third of the share draws and codings. Its three stages (nonce, masked, total)
 * still end before the min/max's opening needs the totals, after the OT round trip and the AND
 * layer. The fault behaviour the small networks keep additive sharing for (every party hears from
 * every other) holds here anyway: every pair exchanges the min/max's OT messages. Two parties keep
 * additive sharing, whose two stages the opening (no AND layer there) would otherwise wait for.
 */
export function momentsConstruction(parties: number): 'masked' | undefined {
  return parties >= 3 ? 'masked' : undefined;
}

/** `compute(microprotocol="StatisticsUnivariate", data, network)`. */
export const statisticsUnivariate = microprotocol({
  name: 'StatisticsUnivariate',
  stages: [...MOMENTS.all, ...orderStages(EXTREMES), PADS],
  // The min/max block's whole circuit (oblivious transfers, then every AND layer: uniform shares
  // and one-time-padded bits only) runs beside the moments' vector sum, so a party's OT and AND
  // messages interleave with its moments messages; only the opening waits for the moments.
  // Its own messages may overtake one another where the block allows it (circuitLoops). The
  // opening goes out once the moments' totals are in, without waiting for the receipts of the
  // moments' last sends (vectorsum.ts), so it may overtake those too.
  loops: [
    ...[...minMaxCircuitStages(EXTREMES), stageNames(EXTREMES).open].flatMap((ot) => MOMENTS.all.map((m) => [ot, m] as const)),
    ...circuitLoops(EXTREMES),
    // A party sends its pads once it holds every opening, before the receipts of its own opening
    // and moments sends are in, so its pads may overtake those.
    ...[stageNames(EXTREMES).open, ...MOMENTS.all].map((earlier) => [PADS, earlier] as const),
  ],
  disclosure: true,
  async run({ session, data, policy }) {
    const values = numberList(data);
    const pads: [bigint, bigint] = [REAL_RING.random(), REAL_RING.random()];
    // The min/max block is the longer chain (an OT round trip, an AND layer, the opening against
    // the moments' 2 exchanges), so its oblivious transfers go out first: the local aggregates
    // (exact power sums, a few ms of BigInt arithmetic) are computed after its first flight is
    // on its way (setImmediate runs after the microtasks that send it).
    let release!: (moments: Promise<bigint[][]>) => void;
    const released = new Promise<bigint[][]>((resolve) => (release = resolve));
    // Awaited by secureMinMax only after its AND layers; a rejection before then is handled here.
    released.catch(() => undefined);
    // The extremes are opened only once N > 0 and the disclosure policy is met (every party
    // checks the same opened N, so all open or none does).
    // The moments' sends are not awaited before their totals release the opening; they are
    // awaited at the end with the min/max's and the pads' (a failed one fails the computation,
    // naming the party, at once).
    const deliveries = new Deliveries();
    const opening = secureMinMax(session, { minima: values, maxima: values, flags: [values.includes(0)] }, EXTREMES, 'kwargs.data', released, deliveries);
    opening.catch(() => undefined);
    let summed = false;
    const moments = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => secureVectorSum(session, MOMENTS, localAggregates(values, pads), { deliveries, construction: momentsConstruction(session.parties) }))
      .then((sums) => {
        summed = true;
        const n = sums[DEGREE + 1]![0]!;
        if (n === 0n) throw unanimous(new BadInputError('no party gave any value (N = 0)', { where: 'kwargs.data' }));
        enforceMinimumCount(policy, [Number(n)], 'the number of samples is');
        return sums;
      });
    release(moments);
    let sums: bigint[][];
    try {
      sums = await moments;
    } catch (err) {
      // Every party stops at the same point (its AND layers done, before the opening).
      await opening.catch(() => undefined);
      // A check every party fails alike on the totals (N = 0, the disclosure policy) ends the
      // computation without an abort: our last moments messages must still reach the others, or
      // they would time out instead of reaching the same answer. After any other failure the
      // session is aborted and closed, which ends the sends still in flight.
      if (summed) await deliveries.settled().catch(() => undefined);
      throw err;
    }
    const s = [0n, ...POWER_RINGS.map((ring, j) => ring.toSigned(sums[j]![0]!))];
    const [reciprocals, logs] = sums[DEGREE]!;
    const n = sums[DEGREE + 1]![0]!;
    const extremes = await deliveries.race(opening);
    const [anyZero] = extremes.flags;
    const [sumOfReciprocals, sumOfLogs] = await unpad(session, [!anyZero, extremes.minimum > 0], [reciprocals!, logs!], pads, deliveries);
    await deliveries.settled();
    const result = univariateFromSums(s, n, sumOfReciprocals, sumOfLogs, extremes);
    return withFloats({ inputs: session.parties, result }, { result: { '*': true, minimum: false, maximum: false } });
  },
});

/**
 * Σ1/x and Σ ln x from their padded totals: where `defined` (the same at every party: it follows
 * from the opened min/max), each party sends the others its pad and subtracts everyone's; where
 * not, nothing is sent and the sum stays null. One exchange, only when a mean is defined.
 */
async function unpad(
  session: Session,
  defined: readonly [boolean, boolean],
  padded: readonly [bigint, bigint],
  pads: readonly [bigint, bigint],
  deliveries: Deliveries,
): Promise<[number | null, number | null]> {
  const released = [0, 1].filter((k) => defined[k]);
  const totals = [...padded];
  if (released.length > 0 && session.parties > 1) {
    const mine = released.map((k) => pads[k]!);
    const lanes: Lane[] = [{ group: REAL_RING, values: mine }];
    const [, others] = await Promise.all([
      broadcast(session, PADS, encodeLanes(lanes, [mine]), { deliveries }),
      gather(session, PADS, otherParties(session), (payload, from) => decodeLanes(lanes, payload, partyName(session, from))[0]!, { deliveries }),
    ]);
    released.forEach((k, i) => {
      let total = REAL_RING.sub(padded[k]!, pads[k]!);
      for (const theirs of others.values()) total = REAL_RING.sub(total, theirs[i]!);
      totals[k] = total;
    });
  }
  return [defined[0] ? EXACT_SCALAR.decode(totals[0]!, 'Σ1/x') : null, defined[1] ? EXACT_SCALAR.decode(totals[1]!, 'Σ ln x') : null];
}
