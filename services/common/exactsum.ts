// Exact sums of doubles and of their powers, as the integers Σ x^j·2^(1074·j), without a BigInt
// per value.
//
// Every finite double is x = ±m·2^(p − 1074) with an integer significand m < 2^53 and a bit
// position p = e + 1074 ∈ [0, 2045] (IEEE 754 binary64: 52 stored fraction bits, minimum
// exponent −1074 for subnormals). So x·2^1074 = ±m·2^p is an integer, x^j·2^(1074·j) = ±m^j·2^(j·p)
// too, and their sums are exact integers: SecureSum's local total on EXACT_SCALAR's ring,
// StatisticsUnivariate's power sums and StatisticsBivariate's sums of x, y, x², y² and x·y. Adding them one BigInt at a time built and dropped integers
// of thousands of bits per value: at a million values most of a party's CPU went to those
// additions and the garbage collector.
//
// Here an integer is a list of base-2^24 digits held in float64 slots. A double's m is three
// digits; m^j is j·3 digits, each product of two digits below 2^48 and each sum of three such
// products below 2^50, exact in a double. Adding a ±digits·2^o into a sum (`WideSum`) splits
// each digit shifted by o mod 24 (below 2^48) into two pieces below 2^24, so one term adds under
// 2^25 to any slot of the sum, and a slot stays an exact integer (below 2^53) for 2^27 terms;
// the carries are propagated every `normalizeEvery` terms (2^20 by default) and at the end. The
// result is the same integer as the BigInt sums it replaces: test/services/common/exactsum.test.ts
// and test/services/simon/exact.test.ts check them against those references.

const BASE = 2 ** 24;
const POW2 = Float64Array.from({ length: 24 }, (_, r) => 2 ** r);
/** Most significand digits of a term: m^6 (StatisticsUnivariate's highest power) is 318 bits. */
const MAX_TERM_DIGITS = 24;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
/** Which word of a double holds its sign and exponent (the second on a little-endian machine). */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/**
 * Writes the significand m of a finite x as three base-2^24 digits into out[0..2] and returns
 * its bit position p (x = ±m·2^(p − 1074)), or −1 for ±0.
 */
export function significandDigits(x: number, out: Float64Array): number {
  bits[0] = x;
  const hi = words[HI]!;
  const lo = words[LO]!;
  const biased = (hi >>> 20) & 0x7ff;
  let top = hi & 0xfffff;
  if (biased === 0 && top === 0 && lo === 0) return -1;
  if (biased !== 0) top += 0x100000; // the implicit leading bit of a normal double
  out[0] = lo & 0xffffff;
  out[1] = (lo >>> 24) + (top & 0xffff) * 256;
  out[2] = top >>> 16;
  // Normal: e = biased − 1075, so p = biased − 1; subnormal: m·2^-1074, p = 0.
  return biased === 0 ? 0 : biased - 1;
}

/**
 * out = a·m for a digit list a and a significand's three digits m; returns how many digits it
 * has (at most la + 3; leading zeros are left out). One pass: each digit is at most three
 * products below 2^48 plus the carry, exact.
 */
function multiplyBySignificand(a: Float64Array, la: number, m: Float64Array, out: Float64Array): number {
  const m0 = m[0]!;
  const m1 = m[1]!;
  const m2 = m[2]!;
  let previous = 0;
  let before = 0;
  let carry = 0;
  let n = la + 3;
  for (let k = 0; k < n; k++) {
    const ak = k < la ? a[k]! : 0;
    const v = ak * m0 + previous * m1 + before * m2 + carry;
    before = previous;
    previous = ak;
    carry = Math.floor(v / BASE);
    out[k] = v - carry * BASE;
  }
  while (n > 1 && out[n - 1] === 0) n--; // leading zero digits add nothing
  return n;
}

/** A signed integer Σ ±digits·2^offset, for terms below 2^bits. */
export class WideSum {
  readonly #slots: Float64Array;
  readonly #normalizeEvery: number;
  #pending = 0;

  /** `bits`: the width of the largest term; room is left for 2^64 of them. */
  constructor(bits: number, normalizeEvery = 2 ** 20) {
    // The top term's digits may reach MAX_TERM_DIGITS past its offset's slot (its leading ones zero).
    this.#slots = new Float64Array(Math.ceil((bits + 64) / 24) + MAX_TERM_DIGITS + 1);
    // One term adds under 2^25 to a slot: 2^27 terms keep every slot below 2^53.
    this.#normalizeEvery = Math.min(normalizeEvery, 2 ** 27);
  }

  /** Adds (or subtracts) the integer of `count` digits shifted left by `offset` bits. */
  add(digits: Float64Array, count: number, offset: number, negative: boolean): void {
    const q = Math.floor(offset / 24);
    const scale = POW2[offset - q * 24]!;
    const slots = this.#slots;
    const sign = negative ? -1 : 1;
    for (let i = 0; i < count; i++) {
      const v = digits[i]! * scale; // below 2^48
      const high = Math.floor(v / BASE);
      slots[q + i]! += sign * (v - high * BASE);
      slots[q + i + 1]! += sign * high;
    }
    if (++this.#pending >= this.#normalizeEvery) this.#normalize();
  }

  /** The sum, exactly. */
  value(): bigint {
    this.#normalize();
    const slots = this.#slots;
    let acc = BigInt(slots[slots.length - 1]!);
    for (let i = slots.length - 2; i >= 0; i--) acc = (acc << 24n) + BigInt(slots[i]!);
    return acc;
  }

  /** Carries every slot but the top one into [0, 2^24); the top one keeps the signed rest. */
  #normalize(): void {
    const slots = this.#slots;
    let carry = 0;
    for (let i = 0; i < slots.length - 1; i++) {
      const v = slots[i]! + carry;
      carry = Math.floor(v / BASE);
      slots[i] = v - carry * BASE;
    }
    slots[slots.length - 1]! += carry;
    this.#pending = 0;
  }
}

/** Σ x·2^1074 over finite doubles (the sum of their EXACT_SCALAR encodings, unreduced). */
export class ExactDoubleSum {
  readonly #sum: WideSum;
  readonly #digits = new Float64Array(3);

  constructor(normalizeEvery?: number) {
    this.#sum = new WideSum(2098, normalizeEvery);
  }

  /** Adds x, which must be finite (the caller checks: NaN and ±Infinity have no exact value). */
  add(x: number): void {
    const p = significandDigits(x, this.#digits);
    if (p >= 0) this.#sum.add(this.#digits, 3, p, x < 0);
  }

  scaled(): bigint {
    return this.#sum.value();
  }
}

/** Σ x^j·2^(1074·j) for j = 1 … degree over finite doubles, each exactly. */
export class ExactPowerSums {
  readonly #sums: WideSum[];
  readonly #m = new Float64Array(3);
  /** m^j, then m^(j+1): two buffers used in turn. */
  readonly #powers = [new Float64Array(MAX_TERM_DIGITS), new Float64Array(MAX_TERM_DIGITS)];

  constructor(degree: number, normalizeEvery?: number) {
    if (!Number.isInteger(degree) || degree < 1 || 3 * degree > MAX_TERM_DIGITS) throw new RangeError(`degree must be an integer in 1…${MAX_TERM_DIGITS / 3}`);
    this.#sums = Array.from({ length: degree }, (_, j) => new WideSum(2098 * (j + 1), normalizeEvery));
  }

  /** Adds the powers of x, which must be finite. */
  add(x: number): void {
    const m = this.#m;
    const p = significandDigits(x, m);
    if (p < 0) return;
    const negative = x < 0;
    this.#sums[0]!.add(m, 3, p, negative);
    let power = m;
    let count = 3;
    for (let j = 2; j <= this.#sums.length; j++) {
      const next = this.#powers[j & 1]!;
      count = multiplyBySignificand(power, count, m, next);
      power = next;
      this.#sums[j - 1]!.add(power, count, j * p, negative && (j & 1) === 1);
    }
  }

  /** [Σ x·2^1074, Σ x²·2^2148, …], signed. */
  sums(): bigint[] {
    return this.#sums.map((s) => s.value());
  }
}

/** Σ x·y·2^(2·1074) over pairs of finite doubles, exactly. */
export class ExactProductSum {
  readonly #sum = new WideSum(2 * 2098);
  readonly #x = new Float64Array(3);
  readonly #y = new Float64Array(3);
  readonly #product = new Float64Array(6);

  /** Adds x·y; both must be finite. */
  add(x: number, y: number): void {
    const px = significandDigits(x, this.#x);
    const py = significandDigits(y, this.#y);
    if (px < 0 || py < 0) return;
    const count = multiplyBySignificand(this.#x, 3, this.#y, this.#product);
    this.#sum.add(this.#product, count, px + py, x < 0 !== y < 0);
  }

  scaled(): bigint {
    return this.#sum.value();
  }
}
