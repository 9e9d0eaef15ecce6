// Vectors over the rings Z_2^k (k = 64, 48, 40, 32) on typed arrays, and the fixed-point code that
// maps float tensors into them — the arithmetic under SecureFedAvg (docs/architecture.md §4
// "Arithmetic").
//
// Representation (no BigInt per element, which would cost ~100x):
//   - Z_2^32: one Uint32Array word per element; typed-array stores reduce modulo 2^32 for free.
//   - Z_2^64: two words per element, interleaved [lo0, hi0, lo1, hi1, ...]. On a little-endian host
//     these bytes are exactly those of a BigUint64Array, so a vector travels as raw bytes and PRG
//     output (AES-CTR keystream bytes) is read as ring elements without any conversion. Addition
//     adds the low words as float64 (exact below 2^53), and carries 1 into the high word when the
//     low sum reaches 2^32.
//   - Z_2^48 and Z_2^40: held as Z_2^64 (the same words, the same arithmetic). Reducing modulo 2^k
//     commutes with addition and negation, so a sum computed modulo 2^64 and read modulo 2^k is the
//     sum modulo 2^k, and a uniform 64-bit mask is uniform modulo 2^k. Only the low k bits of an
//     element travel (packRing: k/8 bytes instead of 8), and decoding reads the low k bits as a
//     signed k-bit value. This is what a narrower ring buys: fewer bytes on the wire for a smaller
//     range, at the 64-bit ring's precision.
//
// Fixed point (Catrina & Saxena, "Secure computation with fixed-point numbers", FC 2010, §2):
// a real x is encoded as round(x · m) (to the nearest integer, ties to even) with m = s · 2^f,
// where f is the number of fractional bits and s ≤ 1 an optional public-to-the-party scale
// (SecureFedAvg's n_k / N); signed values use the two's-complement half ranges
// [-2^(k-1), 2^(k-1)). Every |x| must be at most bound = 2^(k-1-f) - 1 (checked on the unscaled
// x): then any convex combination Σ s_k·x_k with Σ s_k = 1 also fits after rounding (it exceeds
// the bound by at most n/2 units of 2^-f, and 2^f > n/2 for every f this module accepts with
// n ≤ 2^(f+1)), so a sum in the ring decodes to the true value, never a wrapped one. A value above the bound, NaN or ±Inf is a BadInputError naming
// the tensor and the element: never a clip, never a wrap.
//
// Error: each encoding rounds by at most 2^-(f+1) (plus a float64 rounding of x·m, relative 2^-53),
// so a sum of n encodings decodes within n·2^-(f+1) of the exact weighted sum.
//
// Nothing here branches on a secret value except the range check, which only reveals (by
// throwing) that the party's own input is invalid, to that party, and the rounding, which takes
// a slower path for a product |x·m| ≥ 2^51 (values above 2^19 at f = 32). Timing is "algorithmic
// constant time" at best: JavaScript gives no stronger guarantee.

import { endianness } from 'node:os';
import { BadInputError } from '../errors.js';

if (endianness() !== 'LE') {
  // The ring byte layout (and safetensors) is little-endian; a big-endian host would need byte swaps.
  throw new BadInputError('Tessera ring vectors need a little-endian host', { where: 'services/common/vector.ts' });
}

/** How a ring element is held: one 32-bit word, or two (Z_2^40 and Z_2^48 are held as Z_2^64). */
export type RingBits = 32 | 64;
/** The ring Z_2^k a computation works in (what travels: k/8 bytes per element). */
export type RingWidth = 32 | 40 | 48 | 64;
export const RING_WIDTHS: readonly RingWidth[] = [64, 48, 40, 32];
export type FloatArray = Float32Array | Float64Array;

const TWO32 = 4294967296;
const INV_TWO32 = 1 / TWO32;

/** Uint32 words per ring element. */
export function wordsPerElement(bits: RingBits): 1 | 2 {
  return bits === 64 ? 2 : 1;
}

export function checkRingBits(value: unknown, where: string): RingWidth {
  if (RING_WIDTHS.includes(value as RingWidth)) return value as RingWidth;
  // Not the value given: an option is input too, and errors are logged (see rejectValue).
  throw new BadInputError(`ring width must be one of ${RING_WIDTHS.join(', ')} bits`, { where });
}

/** The words a ring of width k is held in: Z_2^32 in one, the wider rings in two (as Z_2^64). */
export function storageBits(k: RingWidth): RingBits {
  return k === 32 ? 32 : 64;
}

/** A zero vector of `length` ring elements. */
export function allocRing(bits: RingBits, length: number): Uint32Array {
  return new Uint32Array(length * wordsPerElement(bits));
}

/** The bytes of a ring vector (a view, no copy): what is sent over the wire. */
export function ringBytes(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/** Elements [start, end) of a ring vector (a view, no copy). */
export function ringSlice(bits: RingBits, words: Uint32Array, start: number, end: number): Uint32Array {
  const w = wordsPerElement(bits);
  return words.subarray(start * w, end * w);
}

/**
 * A Uint32Array over `bytes`: a view when 4-byte aligned, else a copy into `scratch` (grown as
 * needed) — received payloads may sit at any offset of a pooled buffer.
 */
export function wordsOf(bytes: Uint8Array, scratch?: { buffer?: Uint32Array }): Uint32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new BadInputError(`a ring vector has a multiple of 4 bytes, got ${bytes.byteLength}`, { where: 'payload' });
  }
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const words = bytes.byteLength / 4;
  let out: Uint32Array;
  if (scratch !== undefined) {
    if (scratch.buffer === undefined || scratch.buffer.length < words) scratch.buffer = new Uint32Array(words);
    out = scratch.buffer.subarray(0, words);
  } else {
    out = new Uint32Array(words);
  }
  new Uint8Array(out.buffer, out.byteOffset, bytes.byteLength).set(bytes);
  return out;
}

/**
 * target ← target + sign·source (mod 2^k), element-wise; both are ring vectors of equal length.
 * This one primitive serves adding received partial sums (sign 1) and applying pairwise masks:
 * the lower-indexed party of a pair adds the mask, the higher one subtracts it (Bonawitz et al.,
 * "Practical Secure Aggregation for Privacy-Preserving Machine Learning", CCS 2017, §4), so the
 * masks cancel in the sum over all parties.
 */
export function addInto(bits: RingBits, target: Uint32Array, source: Uint32Array, sign: 1 | -1 = 1): void {
  if (target.length !== source.length) {
    throw new BadInputError(`ring vectors differ in length: ${target.length} vs ${source.length} words`, { where: 'addInto' });
  }
  const n = target.length;
  if (bits === 32) {
    // Typed-array stores take the value modulo 2^32 (ToUint32), so no explicit reduction.
    if (sign === 1) for (let i = 0; i < n; i++) target[i] = target[i]! + source[i]!;
    else for (let i = 0; i < n; i++) target[i] = target[i]! - source[i]!;
    return;
  }
  if (target.byteOffset % 8 === 0 && source.byteOffset % 8 === 0) {
    // The same bytes as BigUint64 elements: V8 compiles `a + b` stored into a BigUint64Array to
    // native 64-bit arithmetic (no BigInt allocation), and the store reduces modulo 2^64. Measured
    // 4-6x faster than the carry loop below on random (mask) words.
    const t = new BigUint64Array(target.buffer, target.byteOffset, n / 2);
    const s = new BigUint64Array(source.buffer, source.byteOffset, n / 2);
    const m = n / 2;
    if (sign === 1) for (let i = 0; i < m; i++) t[i] = t[i]! + s[i]!;
    else for (let i = 0; i < m; i++) t[i] = t[i]! - s[i]!;
    return;
  }
  if (sign === 1) {
    for (let i = 0; i < n; i += 2) {
      const lo = target[i]! + source[i]!; // < 2^33, exact
      target[i] = lo; // stored modulo 2^32
      target[i + 1] = target[i + 1]! + source[i + 1]! + Math.floor(lo * INV_TWO32); // carry 0 or 1, branch-free (random words mispredict)
    }
  } else {
    for (let i = 0; i < n; i += 2) {
      const lo = target[i]! - source[i]!; // > -2^32, exact
      target[i] = lo;
      target[i + 1] = target[i + 1]! - source[i + 1]! + Math.floor(lo * INV_TWO32); // borrow: ⌊lo/2^32⌋ is 0 or −1
    }
  }
}

/**
 * target ← target + sign·bytes, reading `bytes` (e.g. AES-CTR keystream, or a received payload)
 * as little-endian ring elements. Zero-copy when `bytes` is 4-byte aligned.
 */
export function addBytesInto(bits: RingBits, target: Uint32Array, bytes: Uint8Array, sign: 1 | -1 = 1, scratch?: { buffer?: Uint32Array }): void {
  addInto(bits, target, wordsOf(bytes, scratch), sign);
}

/**
 * The fixed-point code of one vector computation (SecureFedAvg's tensors in Z_2^32 or Z_2^64, typed
 * arrays): ring width and fractional bits. The BigInt scalar code of the SIMON statistics, over rings
 * of any width, is the FixedPoint class of fixedpoint.ts.
 */
export interface VectorFixedPoint {
  /** How each element is held (the typed-array kernels' width): 32 or 64. */
  readonly bits: RingBits;
  /** The ring Z_2^k: k ≤ bits; only the low k bits of an element are sent and decoded. */
  readonly ringBits: RingWidth;
  /** Bytes per element on the wire: k/8. */
  readonly elementBytes: number;
  /** Fractional bits f: the resolution is 2^-f. */
  readonly fracBits: number;
  /** 2^f. */
  readonly scale: number;
  /** Largest |x| accepted: 2^(k-1-f) - 1, so that any convex combination decodes exactly. */
  readonly bound: number;
}

/**
 * Defaults (see the error analysis at the top):
 *   - 64-bit ring, f = 32: |x| ≤ 2^31 - 1 ≈ 2.1e9, a sum of n parties within n·2^-33 ≈ n·1.2e-10.
 *   - 48-bit ring, f = 32: |x| ≤ 2^15 - 1 = 32767, the 64-bit ring's precision in 6 bytes.
 *   - 40-bit ring, f = 24: |x| ≤ 2^15 - 1 = 32767, a sum of n parties within n·2^-25 ≈ n·3.0e-8
 *     (a float32's resolution near 1 is 6e-8), in 5 bytes.
 *   - 32-bit ring, f = 20: |x| ≤ 2^11 - 1 = 2047, a sum of n parties within n·2^-21 ≈ n·4.8e-7.
 *     (Half the bandwidth, at the precision of a float32 near 4 and a range that covers usual
 *     neural-network weights; `frac_bits` trades range for precision.)
 */
export const DEFAULT_FRAC_BITS: Readonly<Record<RingWidth, number>> = { 64: 32, 48: 32, 40: 24, 32: 20 };

export function fixedPoint(k: RingWidth, fracBits: number = DEFAULT_FRAC_BITS[k], where = 'frac_bits'): VectorFixedPoint {
  // At least 8 fractional bits keeps the rounding slack of n ≤ 2^(f+1) parties below one unit of
  // the bound (see above); at least 1 integer bit besides the sign keeps the bound ≥ 1.
  const max = k - 2;
  if (!Number.isInteger(fracBits) || fracBits < 8 || fracBits > max) {
    throw new BadInputError(`fractional bits for a ${k}-bit ring must be an integer in 8..${max}`, { where });
  }
  return Object.freeze({ bits: storageBits(k), ringBits: k, elementBytes: k / 8, fracBits, scale: 2 ** fracBits, bound: 2 ** (k - 1 - fracBits) - 1 });
}

function rejectValue(x: number, index: number, bound: number, where: string): never {
  // Never the value itself: a party's input must not appear in an error or a log line, not even
  // its own (errors are logged). NaN and ±Infinity reveal nothing a peer could use.
  const what = Number.isNaN(x) ? 'NaN' : !Number.isFinite(x) ? String(x) : `outside the encodable range ±${bound}`;
  throw new BadInputError(`element ${index} of ${where} is ${what} (the fixed-point ring cannot represent it; values are never clipped)`, {
    where,
    extra: { element: index },
  });
}

/**
 * Checks that every value is encodable (|x| ≤ bound, not NaN, not ±Inf); throws a BadInputError
 * naming `where` (the tensor) and the element index otherwise. `firstIndex` is the index of
 * values[0] within the tensor.
 */
export function checkEncodable(fp: VectorFixedPoint, values: FloatArray, where: string, firstIndex = 0): void {
  const bound = fp.bound;
  const n = values.length;
  // Comparisons with NaN are false, so one test catches NaN, ±Inf and out-of-range values.
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (!(x <= bound && x >= -bound)) rejectValue(x, firstIndex + i, bound, where);
  }
}

/**
 * Encode `values` into ring elements, target[i] = round(values[i] · multiplier) (mode 'set') or
 * target[i] += round(values[i] · multiplier) (mode 'add', to encode straight into a mask vector).
 * `multiplier` = share · 2^f with 0 ≤ share ≤ 1; the range check is on the unscaled value.
 * `where` names the tensor; `firstIndex` is the index of values[0] within it, for error messages.
 * Checks every value before writing anything (unless the caller already ran checkEncodable and
 * says so with `checked`), so a rejected tensor leaves `target` unchanged.
 */
export function encodeInto(
  fp: VectorFixedPoint,
  target: Uint32Array,
  values: FloatArray,
  multiplier: number,
  mode: 'set' | 'add',
  where: string,
  firstIndex = 0,
  checked = false,
): void {
  const n = values.length;
  const w = wordsPerElement(fp.bits);
  if (target.length !== n * w) {
    throw new BadInputError(`target holds ${target.length / w} elements, values ${n}`, { where });
  }
  if (!(multiplier >= 0 && multiplier <= fp.scale)) {
    throw new BadInputError(`multiplier ${multiplier} is outside [0, 2^${fp.fracBits}]`, { where });
  }
  // Validation first, in its own pass (cheap next to the encoding), so nothing is half-written.
  if (!checked) checkEncodable(fp, values, where, firstIndex);
  // Rounding: roundHalfEven (below), the nearest integer with ties to even, from one addition of
  // a constant for every |x·m| below 2^51 (no floor, no branch that mispredicts). Checked against
  // a floor-based reference in test/services/common/vector.test.ts (ties, −0, tiny negatives,
  // 2^51 to 2^52, beyond 2^52).
  if (fp.bits === 32) {
    if (mode === 'set') {
      for (let i = 0; i < n; i++) {
        target[i] = roundHalfEven(values[i]! * multiplier);
      }
    } else {
      for (let i = 0; i < n; i++) {
        target[i] = target[i]! + roundHalfEven(values[i]! * multiplier);
      }
    }
    return;
  }
  // 64 bits: r = round(x·m) is an integer-valued double with |r| < 2^63. Its low word is r mod 2^32
  // (what a Uint32Array store computes, exactly, per ToUint32) and its high word floor(r / 2^32)
  // (power-of-two scaling is exact), which lies in [-2^31, 2^31) and stores as two's complement.
  if (mode === 'set') {
    encode64(target, values, multiplier);
  } else if (target.byteOffset % 8 === 0) {
    // Encode a block into scratch, then one 64-bit ring addition (see addInto): faster than
    // adding with explicit carries element by element.
    for (let at = 0; at < n; at += ENCODE_BLOCK) {
      const m = Math.min(ENCODE_BLOCK, n - at);
      const block = encodeScratch.subarray(0, 2 * m);
      encode64(block, values.subarray(at, at + m), multiplier);
      addInto(64, target.subarray(2 * at, 2 * (at + m)), block, 1);
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const r = roundHalfEven(values[i]! * multiplier);
      const hi = Math.floor(r * INV_TWO32);
      const lo = target[j]! + (r - hi * TWO32); // r - hi·2^32 ∈ [0, 2^32), exact
      target[j] = lo;
      target[j + 1] = target[j + 1]! + hi + Math.floor(lo * INV_TWO32); // the carry, 0 or 1, without a branch
    }
  }
}

/**
 * The rounding constant R = 1.5·2^52. For |y| < 2^51, y + R lies in (2^52, 2^53), where the doubles
 * are exactly the integers, so the addition's one IEEE rounding (to nearest, ties to even) is the
 * rounding of y itself: fl(y + R) = R + round(y), and fl(y + R) − R = round(y) exactly. Its bits
 * are those of the integer R_bits + round(y), R_bits = 0x4338000000000000 (exponent 52, the top
 * fraction bit set), so as two words: the low word is round(y) mod 2^32 (R_bits' low word is 0)
 * and the high word is R_bits' high word 0x43380000 plus round(y)'s own, mod 2^32.
 */
const ROUNDER = 1.5 * 2 ** 52;
const ROUNDER_HIGH_WORD = 0x43380000;
const ROUNDER_RANGE = 2 ** 51;

/**
 * The nearest integer to the finite double y, ties to even (IEEE 754's default rounding, unbiased
 * on ties, where rounding half up would add +½ unit to every tie of a sum). One addition and one
 * subtraction of R below 2^51 (above); from there on, where a tie's halves are a double's last
 * bit or every double is an integer, roundHalfEvenWide.
 */
function roundHalfEven(y: number): number {
  return Math.abs(y) < ROUNDER_RANGE ? y + ROUNDER - ROUNDER : roundHalfEvenWide(y);
}

/** roundHalfEven for |y| ≥ 2^51 (and NaN, which stays NaN): ⌊y⌋ and y − ⌊y⌋ are exact there. */
function roundHalfEvenWide(y: number): number {
  const f = Math.floor(y);
  const d = y - f; // 0 or ½ from 2^51 to 2^52, 0 from 2^52 on
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

/** Elements per block of an encode-and-add (512 KiB of scratch, reused). */
const ENCODE_BLOCK = 1 << 16;
const encodeScratch = new Uint32Array(2 * ENCODE_BLOCK);

/**
 * target (2 words per element) ← round(values · multiplier), the caller having range-checked.
 * On an 8-byte-aligned target an element below 2^51 is written as the double y + R through a
 * Float64Array view of the same bytes, whose high word then loses R's (ROUNDER above): one
 * addition and two stores, about 0.6 of the time of the floor-based form (docs/performance.md
 * "The encoding's rounding by one addition").
 */
function encode64(target: Uint32Array, values: FloatArray, multiplier: number): void {
  const n = values.length;
  if (target.byteOffset % 8 === 0) {
    const asDoubles = new Float64Array(target.buffer, target.byteOffset, n);
    for (let i = 0, j = 1; i < n; i++, j += 2) {
      const y = values[i]! * multiplier;
      if (Math.abs(y) < ROUNDER_RANGE) {
        asDoubles[i] = y + ROUNDER;
        target[j] = target[j]! - ROUNDER_HIGH_WORD; // stored modulo 2^32
      } else {
        const r = roundHalfEvenWide(y);
        target[j - 1] = r;
        target[j] = Math.floor(r * INV_TWO32);
      }
    }
    return;
  }
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    const r = roundHalfEven(values[i]! * multiplier);
    target[j] = r; // ToUint32: r mod 2^32, exact for an integer-valued double
    target[j + 1] = Math.floor(r * INV_TWO32);
  }
}

/**
 * Decode ring elements as signed fixed-point values: out[i] = signed(source[i]) / 2^f, rounded
 * once to the output's precision (float64: exact below 2^53 units, then one rounding; float32:
 * one more rounding to the nearest float32).
 */
export function decodeInto(fp: VectorFixedPoint, source: Uint32Array, out: FloatArray): void {
  const n = out.length;
  const w = wordsPerElement(fp.bits);
  if (source.length !== n * w) {
    throw new BadInputError(`source holds ${source.length / w} elements, output ${n}`, { where: 'decodeInto' });
  }
  const inv = 1 / fp.scale; // a power of two: multiplying by it is exact
  if (fp.bits === 32) {
    for (let i = 0; i < n; i++) out[i] = (source[i]! | 0) * inv;
    return;
  }
  // The low k bits as a signed k-bit value: the high word's low k − 32 bits, sign-extended by a
  // shift pair (s = 0 for the 64-bit ring, where this is the `| 0` of the high word).
  const s = 64 - fp.ringBits;
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    out[i] = (((source[j + 1]! << s) >> s) * TWO32 + source[j]!) * inv;
  }
}

/**
 * The bytes of a ring vector as they travel: the vector's own bytes (a view) for Z_2^32 and
 * Z_2^64; for Z_2^40 and Z_2^48 (held as Z_2^64) the low k bits of each element, in two planes: the
 * n low words (4n bytes, little-endian), then the n high parts' low k − 32 bits (1 or 2 bytes each,
 * little-endian). Planes keep both copies word- or byte-wise, without shifting bits across
 * elements. `into` (exactly n·k/8 bytes) receives them when given, else a new buffer.
 */
export function packRing(fp: VectorFixedPoint, words: Uint32Array, into?: Uint8Array): Uint8Array {
  if (fp.ringBits === fp.bits) return ringBytes(words);
  const n = words.length / 2;
  const bytes = n * fp.elementBytes;
  const out = into ?? new Uint8Array(bytes);
  if (out.byteLength !== bytes) throw new BadInputError(`a packed ${fp.ringBits}-bit vector of ${n} elements has ${bytes} bytes, the buffer ${out.byteLength}`, { where: 'packRing' });
  if (out.byteOffset % 4 !== 0) {
    // Packed where the planes can be typed arrays, then copied (only a caller's odd buffer).
    out.set(packRing(fp, words));
    return out;
  }
  // One pass over the words, each element's two planes written together.
  const lo = new Uint32Array(out.buffer, out.byteOffset, n);
  if (fp.ringBits === 40) {
    const hi = out.subarray(4 * n);
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      lo[i] = words[j]!;
      hi[i] = words[j + 1]!; // a Uint8Array store keeps the low 8 bits
    }
  } else {
    const hi = new Uint16Array(out.buffer, out.byteOffset + 4 * n, n); // 2-byte aligned: 4n past a 4-byte aligned start
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      lo[i] = words[j]!;
      hi[i] = words[j + 1]!; // the low 16 bits
    }
  }
  return out;
}

/**
 * The inverse of packRing for Z_2^40 and Z_2^48: each element's low k bits into a Z_2^64 element
 * whose high bits are zero (they are reduced away modulo 2^k). Writes `out` (2n words) when given.
 * For Z_2^32 and Z_2^64 the payload's words themselves (wordsOf: a view when aligned).
 */
export function unpackRing(fp: VectorFixedPoint, bytes: Uint8Array, out?: Uint32Array): Uint32Array {
  if (fp.ringBits === fp.bits) return wordsOf(bytes);
  const n = packedLength(fp, bytes);
  const words = out ?? new Uint32Array(2 * n);
  if (words.length !== 2 * n) throw new BadInputError(`${n} packed elements need ${2 * n} words, the buffer has ${words.length}`, { where: 'unpackRing' });
  const lo = wordsOf(bytes.subarray(0, 4 * n));
  const hi = highPlane(fp, bytes.subarray(4 * n), n);
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    words[j] = lo[i]!;
    words[j + 1] = hi[i]!;
  }
  return words;
}

function packedLength(fp: VectorFixedPoint, bytes: Uint8Array): number {
  if (bytes.byteLength % fp.elementBytes !== 0) {
    throw new BadInputError(`a packed ${fp.ringBits}-bit vector has a multiple of ${fp.elementBytes} bytes, got ${bytes.byteLength}`, { where: 'payload' });
  }
  return bytes.byteLength / fp.elementBytes;
}

/**
 * target ← target + sign·(a packed vector, as packRing wrote it): addBytesInto for Z_2^32 and
 * Z_2^64; for the narrower rings each element's low and high parts added onto the Z_2^64 element
 * in one pass, the low word's carry (or borrow) taken into the high word without a branch, as
 * addInto's carry loop does. `scratch` holds the low words when the payload is not 4-byte aligned.
 */
export function addPackedInto(fp: VectorFixedPoint, target: Uint32Array, bytes: Uint8Array, sign: 1 | -1 = 1, scratch?: { buffer?: Uint32Array }): void {
  if (fp.ringBits === fp.bits) {
    addBytesInto(fp.bits, target, bytes, sign, scratch);
    return;
  }
  const n = packedLength(fp, bytes);
  if (target.length !== 2 * n) {
    throw new BadInputError(`ring vectors differ in length: ${target.length / 2} vs ${n} elements`, { where: 'addPackedInto' });
  }
  const lo = wordsOf(bytes.subarray(0, 4 * n), scratch);
  const hi = highPlane(fp, bytes.subarray(4 * n), n);
  // Two copies of one loop, so that each reads one kind of typed array (V8 compiles a loop over
  // both element kinds to slower polymorphic loads).
  if (hi instanceof Uint16Array) addPlanes16(target, lo, hi, sign);
  else addPlanes8(target, lo, hi, sign);
}

function addPlanes8(target: Uint32Array, lo: Uint32Array, hi: Uint8Array, sign: 1 | -1): void {
  const n = lo.length;
  if (sign === 1) {
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const l = target[j]! + lo[i]!; // < 2^33, exact
      target[j] = l;
      target[j + 1] = target[j + 1]! + hi[i]! + Math.floor(l * INV_TWO32); // the carry, 0 or 1
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const l = target[j]! - lo[i]!; // > -2^32, exact
      target[j] = l;
      target[j + 1] = target[j + 1]! - hi[i]! + Math.floor(l * INV_TWO32); // the borrow, 0 or −1
    }
  }
}

function addPlanes16(target: Uint32Array, lo: Uint32Array, hi: Uint16Array, sign: 1 | -1): void {
  const n = lo.length;
  if (sign === 1) {
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const l = target[j]! + lo[i]!;
      target[j] = l;
      target[j + 1] = target[j + 1]! + hi[i]! + Math.floor(l * INV_TWO32);
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const l = target[j]! - lo[i]!;
      target[j] = l;
      target[j + 1] = target[j + 1]! - hi[i]! + Math.floor(l * INV_TWO32);
    }
  }
}

/** The high parts of n packed elements as a typed array: bytes (Z_2^40) or 16-bit words (Z_2^48, copied when odd-aligned). */
function highPlane(fp: VectorFixedPoint, bytes: Uint8Array, n: number): Uint8Array | Uint16Array {
  if (fp.ringBits === 40) return bytes;
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  return new Uint16Array(Uint8Array.from(bytes).buffer);
}

/** Signed integer value of element i (exact as a bigint), for tests and diagnostics. */
export function elementAt(bits: RingBits, words: Uint32Array, i: number): bigint {
  if (bits === 32) return BigInt(words[i]! | 0);
  return BigInt.asIntN(64, (BigInt(words[2 * i + 1]!) << 32n) | BigInt(words[2 * i]!));
}
