// The global minimum and maximum of the parties' values, revealing nothing else: the seam
// through which StatisticsUnivariate (and any other microprotocol) gets its `minimum` and
// `maximum`. Order statistics live in this folder; the k-th element protocols may replace the
// construction below with theirs without changing this interface.
//
// Construction: a search over the order-preserving 64-bit keys of doubles (Aggarwal, Mishra,
// Pinkas, "Secure Computation of the k-th Ranked Element", EUROCRYPT 2004, §3: a search over the
// value domain whose probe answers together are the output). Each of 16 rounds fixes 4 bits of
// the minimum's key: for the 15 thresholds T_d (the known prefix, next digit ≤ d) every party i
// holds a bit b_i(d) = [its own minimum ≤ T_d], and the parties open only OR_i b_i(d) by a zero
// test over F_p (p = 2^255 − 19): party i contributes r_i·b_i(d) with r_i uniform and nonzero,
// the sum is secure-summed (services/common/vectorsum.ts), and Σ r_i·b_i(d) is 0 when every bit
// is 0 and otherwise within statistical distance n/p of uniform on F_p∖{0}, whatever the bits
// are (it is 0 by accident with probability below n·2^-254 per probe).
// What is opened is therefore exactly the bits "the global minimum is ≤ T_d", which the minimum
// itself determines: a coalition of up to n−1 parties learns the minimum and nothing else (no
// party's count, local minimum or membership). The maximum runs in the same messages on the
// complemented keys. 16 rounds × 2 stages, 2·15 field elements (960 bytes) per message.

import { BadInputError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { F25519 } from '../../common/field.js';
import { secureVectorSum, vectorSumStages, type VectorSumStages } from '../../common/vectorsum.js';

const DIGIT_BITS = 4;
const ROUNDS = 64 / DIGIT_BITS;
const PROBES = (1 << DIGIT_BITS) - 1;
const MASK64 = (1n << 64n) - 1n;
const SIGN = 1n << 63n;

const scratch = new DataView(new ArrayBuffer(8));

/** An order-preserving map from doubles (−0 read as 0) to [0, 2^64): a < b ⇔ key(a) < key(b). */
export function orderKey(x: number): bigint {
  scratch.setFloat64(0, x === 0 ? 0 : x);
  const bits = scratch.getBigUint64(0);
  return (bits & SIGN) !== 0n ? ~bits & MASK64 : bits | SIGN;
}

export function fromOrderKey(key: bigint): number {
  const bits = (key & SIGN) !== 0n ? key ^ SIGN : ~key & MASK64;
  scratch.setBigUint64(0, bits);
  return scratch.getFloat64(0);
}

/** The stages of a min/max sub-protocol named `id`, and the loop of its rounds. */
export function minMaxStages(id: string): VectorSumStages & { readonly loop: readonly [string, string] } {
  const stages = vectorSumStages(id);
  return Object.freeze({ ...stages, loop: [stages.partials, stages.shares] as const });
}

export interface Extremes {
  readonly minimum: number;
  readonly maximum: number;
}

/**
 * The global minimum and maximum over all parties' `values` (a party may hold none; at least
 * one party must hold one). Every party calls it with the same `stages` at the same point of
 * its protocol; only the two results are revealed.
 */
export async function secureMinMax(session: Session, values: readonly number[], stages: VectorSumStages): Promise<Extremes> {
  let low: bigint | undefined;
  let high: bigint | undefined;
  for (const v of values) {
    const k = orderKey(v);
    if (low === undefined || k < low) low = k;
    if (high === undefined || k > high) high = k;
  }
  // Searching for the smallest key of the maximum's complement finds the maximum.
  const ownMin = low;
  const ownMaxFlipped = high === undefined ? undefined : MASK64 - high;
  let minPrefix = 0n;
  let maxPrefix = 0n;
  for (let round = 0; round < ROUNDS; round++) {
    const shift = BigInt(64 - DIGIT_BITS * (round + 1));
    const probes = (own: bigint | undefined, prefix: bigint): bigint[] =>
      Array.from({ length: PROBES }, (_, d) => {
        // T_d: every key with the known prefix and the next digit ≤ d.
        const threshold = ((prefix << BigInt(DIGIT_BITS)) | BigInt(d)) << shift | ((1n << shift) - 1n);
        return own !== undefined && own <= threshold ? F25519.random() || 1n : 0n;
      });
    const [opened] = await secureVectorSum(
      session,
      stages,
      [{ group: F25519, values: [...probes(ownMin, minPrefix), ...probes(ownMaxFlipped, maxPrefix)] }],
      { seq: round },
    );
    const digit = (from: number): bigint => {
      const d = opened!.slice(from, from + PROBES).findIndex((z) => z !== 0n);
      return BigInt(d === -1 ? PROBES : d);
    };
    minPrefix = (minPrefix << BigInt(DIGIT_BITS)) | digit(0);
    maxPrefix = (maxPrefix << BigInt(DIGIT_BITS)) | digit(PROBES);
  }
  if (minPrefix === MASK64) {
    // Every probe opened 0: no party holds a value (key 2^64 − 1 is a NaN, never a finite input).
    throw new BadInputError('no party gave any value', { where: 'kwargs.data' });
  }
  return { minimum: fromOrderKey(minPrefix), maximum: fromOrderKey(MASK64 - maxPrefix) };
}
