// Fixed-point codec between doubles and Z_2^k: x ↦ round(x·2^f) mod 2^k, read back in two's
// complement.
//
// Why it can be exact: every finite double is m·2^e with an integer |m| < 2^53 and e >= -1074
// (IEEE 754-2008 §3.4: binary64 has 52 stored fraction bits, minimum exponent -1022, so the
// smallest subnormal is 2^-1074). With f = 1074 fraction bits every double is an integer in the
// ring, and with 1024 integer bits, a sign bit and h bits of headroom the ring sum of up to 2^h
// encoded doubles is the exact real sum. It is rounded to the nearest double once, at decode.
// Narrower instances (e.g. k = 128, f = 64) round inputs to the nearest multiple of 2^-f.
//
// Range: an input must satisfy |x·2^f| < 2^(k-1-h), so that the sum of 2^h of them stays inside
// the signed range [-2^(k-1), 2^(k-1)) and decode never reads a wrapped-around value. A value
// outside that range, NaN or ±Infinity is refused with BadInputError naming its place; it is
// never clipped and never wrapped.

import { BadInputError } from '../errors.js';
import { Ring } from './ring.js';

export interface FixedPointOptions {
  /** log2 of how many encoded values may be summed without leaving the range (default 16). */
  readonly headroomBits?: number;
}

const scratch = new DataView(new ArrayBuffer(8));

/** x = sign · m · 2^e exactly, with m a non-negative integer < 2^53. */
export function decompose(x: number): { negative: boolean; m: bigint; e: number } {
  scratch.setFloat64(0, x);
  const bits = scratch.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xf_ffff_ffff_ffffn;
  // Subnormals (biased exponent 0) have no implicit leading 1 and the exponent of the smallest normal.
  return biased === 0
    ? { negative, m: fraction, e: -1074 }
    : { negative, m: fraction | (1n << 52n), e: biased - 1075 };
}

/** ⌊a / 2^s⌉ with ties to even, for a >= 0 and s >= 1. */
function roundShift(a: bigint, s: number): bigint {
  const shift = BigInt(s);
  const q = a >> shift;
  const r = a & ((1n << shift) - 1n);
  const half = 1n << (shift - 1n);
  return r > half || (r === half && (q & 1n) === 1n) ? q + 1n : q;
}

function bitLength(a: bigint): number {
  return a === 0n ? 0 : a.toString(2).length;
}

/** q·2^p for a q that is exact in a double, in steps that are each exact (no double rounding). */
function scaleByPowerOfTwo(q: number, p: number): number {
  let x = q;
  while (p > 1000) {
    x *= 2 ** 1000;
    p -= 1000;
  }
  while (p < -1000) {
    x *= 2 ** -1000;
    p += 1000;
  }
  return x * 2 ** p;
}

export class FixedPoint {
  readonly ring: Ring;
  readonly fracBits: number;
  readonly headroomBits: number;
  /** Exclusive bound on |x·2^f| for one input. */
  readonly #inputBound: bigint;
  /** The input range as text, for error messages: "|x| < 2^…". */
  readonly range: string;

  constructor(ring: Ring, fracBits: number, options: FixedPointOptions = {}) {
    const headroomBits = options.headroomBits ?? 16;
    if (!Number.isInteger(fracBits) || fracBits < 0 || fracBits > 1074) {
      throw new BadInputError(`fraction bits must be an integer in [0, 1074], got ${fracBits}`, { where: 'fixedpoint.fracBits' });
    }
    if (!Number.isInteger(headroomBits) || headroomBits < 0 || ring.bits - 1 - headroomBits - fracBits < 1) {
      throw new BadInputError(
        `Z_2^${ring.bits} has no integer bits left with ${fracBits} fraction and ${headroomBits} headroom bits`,
        { where: 'fixedpoint.headroomBits' },
      );
    }
    this.ring = ring;
    this.fracBits = fracBits;
    this.headroomBits = headroomBits;
    this.#inputBound = 1n << BigInt(ring.bits - 1 - headroomBits);
    this.range = `|x| < 2^${ring.bits - 1 - headroomBits - fracBits}`;
  }

  /** round(x·2^f) as a ring element; exact when x is a multiple of 2^-f. */
  encode(x: number, where: string): bigint {
    if (Number.isNaN(x)) throw new BadInputError(`${where} is NaN`, { where });
    if (!Number.isFinite(x)) throw new BadInputError(`${where} is infinite`, { where });
    const { negative, m, e } = decompose(x);
    const s = e + this.fracBits;
    const scaled = s >= 0 ? m << BigInt(s) : roundShift(m, -s);
    if (scaled >= this.#inputBound) {
      // The value itself stays out of the message: it may be someone's secret.
      throw new BadInputError(`${where} is outside the encodable range ${this.range}`, { where, extra: { range: this.range } });
    }
    return this.ring.reduce(negative ? -scaled : scaled);
  }

  /**
   * The double nearest to toSigned(x)·2^-f (ties to even, subnormals included). -0 comes back
   * as 0. A magnitude that rounds beyond Number.MAX_VALUE is an error, never Infinity.
   */
  decode(x: bigint, where: string): number {
    const v = this.ring.toSigned(x);
    const negative = v < 0n;
    const a = negative ? -v : v;
    if (a === 0n) return 0;
    const f = this.fracBits;
    // Keep 53 significant bits, or fewer where the result is subnormal (unit 2^-1074).
    const drop = Math.max(bitLength(a) - 53, f - 1074, 0);
    const q = drop > 0 ? roundShift(a, drop) : a;
    const exponent = drop - f; // result = q · 2^exponent, q <= 2^53
    if (bitLength(q) + exponent > 1024) {
      throw new BadInputError(`${where}: sum out of range (beyond ±${Number.MAX_VALUE})`, { where });
    }
    const magnitude = scaleByPowerOfTwo(Number(q), exponent);
    return negative ? -magnitude : magnitude;
  }
}

/**
 * Exact scalars for SecureSum: Z_2^2176 with 1074 fraction bits and 64 bits of headroom. Every
 * finite double encodes exactly (range |x| < 2^1037 > Number.MAX_VALUE), and the sum of up to
 * 2^64 of them is exact in the ring, rounded once at decode. An element is 272 bytes on the wire.
 */
export const EXACT_SCALAR = new FixedPoint(new Ring(2176), 1074, { headroomBits: 64 });
