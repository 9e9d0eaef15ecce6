// An order-preserving encoding of finite float64 values as 64-bit unsigned integers, so that a
// search over the integers 0 … 2^64−1 finds the exact double (no scaling, no decimal strings).
//
// IEEE 754 doubles with the sign bit clear already compare like their bit patterns read as
// unsigned integers; negative ones compare in reverse. The classic "radix-sort key" fixes both:
// for x ≥ 0 set the top bit, for x < 0 invert every bit. Then x < y ⇔ key(x) < key(y) for all
// finite x, y, and key is a bijection onto its image, so decoding the key found by the search
// gives back the very double one party held. −0 is folded into +0 first: they are the same
// number, and two encodings of it would make ranks over {−0, 0} depend on the spelling.

import { BadInputError } from '../../errors.js';

const SIGN = 1n << 63n;
const ALL = (1n << 64n) - 1n;
const scratch = new DataView(new ArrayBuffer(8));

/** The order key of a finite double (−0 is encoded as +0). */
export function orderKey(x: number, where = 'value'): bigint {
  if (!Number.isFinite(x)) throw new BadInputError('expected a finite number (not NaN or ±Infinity)', { where });
  scratch.setFloat64(0, x === 0 ? 0 : x);
  const bits = scratch.getBigUint64(0);
  return bits & SIGN ? ~bits & ALL : bits | SIGN;
}

/** The double whose order key is `key` (the inverse of orderKey on its image). */
export function fromOrderKey(key: bigint): number {
  const bits = key & SIGN ? key & ~SIGN : ~key & ALL;
  scratch.setBigUint64(0, bits);
  return scratch.getFloat64(0);
}

/** The order keys of `values`, sorted ascending, ready for counting with countAtMost. */
export function sortedKeys(values: readonly number[], where = 'values'): BigUint64Array {
  const keys = new BigUint64Array(values.length);
  values.forEach((x, i) => {
    keys[i] = orderKey(x, `${where}[${i}]`);
  });
  return keys.sort();
}

/** |{x ∈ keys : x ≤ v}| for ascending `keys` (binary search). */
export function countAtMost(keys: BigUint64Array, v: bigint): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
