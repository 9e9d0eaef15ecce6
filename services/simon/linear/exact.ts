// Exact arithmetic for the linear statistics: powers and products of doubles as integers, and
// exact rationals rounded once to a double.
//
// Every finite double is m·2^e with an integer m < 2^53 and e ≥ −1074 (IEEE 754 binary64), so
// x^j·2^(1074·j) = ±m^j·2^(j·(e+1074)) is an integer below 2^(2098·j). Summed in Z_2^k with
// k = 2098·j + 1 + 64 (sign and 2^64 terms of headroom) the power sums are exact, and moments
// follow from them as exact rationals: no cancellation, whatever the data's offset and spread.

import { BadInputError } from '../../errors.js';
import { decompose } from '../../common/fixedpoint.js';
import { Ring } from '../../common/ring.js';
import { ExactPowerSums, ExactProductSum } from '../../common/exactsum.js';

/** Fraction bits of one factor: every double is an integer multiple of 2^-1074. */
export const F = 1074;
const F_BIG = BigInt(F);

/** The ring that holds exact sums of up to 2^64 terms of degree `degree` (a multiple of 8 bits wide). */
export function powerRing(degree: number): Ring {
  return new Ring(Math.ceil((2098 * degree + 65) / 8) * 8);
}

/** x^j·2^(1074·j) exactly, as a signed BigInt. */
export function scaledPower(x: number, j: number): bigint {
  const { negative, m, e } = decompose(x);
  const v = m ** BigInt(j) << (BigInt(j) * (BigInt(e) + F_BIG));
  return negative && j % 2 === 1 ? -v : v;
}

/**
 * Σ_x x^j·2^(1074·j) for j = 1 … degree, exactly: the same integers as summing scaledPower, in
 * base-2^24 digits instead of a BigInt per value and power (services/common/exactsum.ts).
 */
export function powerSums(values: readonly number[], degree: number): bigint[] {
  const sums = new ExactPowerSums(degree);
  for (let i = 0; i < values.length; i++) sums.add(values[i]!);
  return sums.sums();
}

/**
 * [Σx·2^1074, Σy·2^1074, Σx²·2^2148, Σy²·2^2148, Σxy·2^2148] over the pairs, exactly: the same
 * integers as summing scaledPower and scaledProduct pair by pair (services/common/exactsum.ts).
 */
export function pairSums(pairs: readonly (readonly [number, number])[]): [bigint, bigint, bigint, bigint, bigint] {
  const xs = new ExactPowerSums(2);
  const ys = new ExactPowerSums(2);
  const xy = new ExactProductSum();
  for (let i = 0; i < pairs.length; i++) {
    const [x, y] = pairs[i]!;
    xs.add(x);
    ys.add(y);
    xy.add(x, y);
  }
  const [sx, sxx] = xs.sums();
  const [sy, syy] = ys.sums();
  return [sx!, sy!, sxx!, syy!, xy.scaled()];
}

/** x·y·2^(2·1074) exactly. */
export function scaledProduct(x: number, y: number): bigint {
  const a = decompose(x);
  const b = decompose(y);
  const v = (a.m * b.m) << (BigInt(a.e) + BigInt(b.e) + 2n * F_BIG);
  return a.negative !== b.negative ? -v : v;
}

/** The bit length of a ≥ 0, from its hex digits: a quarter of the string toString(2) built. */
function bitLength(a: bigint): number {
  if (a === 0n) return 0;
  const hex = a.toString(16);
  return 4 * (hex.length - 1) + 32 - Math.clz32(parseInt(hex[0]!, 16));
}

/**
 * num/den rounded to a double (relative error below 2^-52), for den > 0. The quotient is formed
 * with 64 significant bits and converted once.
 */
export function ratio(num: bigint, den: bigint): number {
  if (den <= 0n) throw new BadInputError('internal: ratio with a non-positive denominator', { where: 'statistics' });
  if (num === 0n) return 0;
  const negative = num < 0n;
  const a = negative ? -num : num;
  const shift = bitLength(den) - bitLength(a) + 64;
  const q = shift >= 0 ? (a << BigInt(shift)) / den : a / (den << BigInt(-shift));
  let x = Number(q);
  let p = -shift;
  while (p > 1000) {
    x *= 2 ** 1000;
    p -= 1000;
  }
  while (p < -1000) {
    x *= 2 ** -1000;
    p += 1000;
  }
  x *= 2 ** p;
  return negative ? -x : x;
}

export function binomial(n: number, k: number): bigint {
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

/** Whether `value` is a finite number (what finiteNumber accepts), without naming a field. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A finite number, never a boolean, NaN or ±Infinity: a 400 naming the field otherwise. */
export function finiteNumber(value: unknown, where: string): number {
  if (typeof value !== 'number') {
    throw new BadInputError(`expected a number, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`, { where });
  }
  if (!Number.isFinite(value)) throw new BadInputError(`${where} is ${Number.isNaN(value) ? 'NaN' : 'infinite'}`, { where });
  return value;
}

/** A flat list of numbers, or one bare number (FSC reads `5` as `[5]`). */
export function numberList(data: unknown, where = 'kwargs.data', max = 1_000_000): number[] {
  if (!Array.isArray(data)) return [finiteNumber(data, where)];
  if (data.length > max) throw new BadInputError(`at most ${max} values per party`, { where });
  return data.map((v: unknown, i) => {
    if (isFiniteNumber(v)) return v; // the field path is built only for a value that is refused
    if (Array.isArray(v)) throw new BadInputError('expected a flat list of numbers, e.g. [1, 2.5]; got a nested list', { where: `${where}[${i}]` });
    return finiteNumber(v, `${where}[${i}]`);
  });
}
