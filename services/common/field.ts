// The prime field F_p with p = 2^255 − 19, for sub-protocols whose opened value must be uniform
// over a field rather than a ring: a zero test Σ r_i·c_i with uniform r_i is uniform on F_p
// whenever some c_i ≠ 0 (mod p), which Z_2^k cannot give (an even c_i times a uniform r_i is
// never odd). It offers the same element interface as Ring (add, sub, random, bytes), so the
// secure vector sum (vectorsum.ts) runs on either.
// BigInt arithmetic is not constant-time; the values handled here are shares and masked sums,
// uniformly distributed, and no branch depends on them.

import { randomBytes } from 'node:crypto';
import { BadInputError } from '../errors.js';

/**
 * Bytes from the OS CSPRNG, drawn 4 KiB at a time: one randomBytes call per field element costs
 * more than the arithmetic. Each byte is handed out once and never reused.
 */
let pool = Buffer.alloc(0);
let poolAt = 0;
export function entropy(length: number): Buffer {
  if (poolAt + length > pool.length) {
    pool = randomBytes(Math.max(4096, length));
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + length);
  poolAt += length;
  return out;
}

/** What the secure vector sum needs of its arithmetic: Ring and PrimeField both provide it. */
export interface AdditiveGroup {
  readonly byteLength: number;
  /** The group's order: 2^k for Z_2^k, p for F_p. */
  readonly modulus: bigint;
  reduce(x: bigint): bigint;
  add(a: bigint, b: bigint): bigint;
  sub(a: bigint, b: bigint): bigint;
  random(): bigint;
  encodeBytes(x: bigint): Uint8Array;
  decodeBytes(bytes: Uint8Array, where: string): bigint;
}

export class PrimeField implements AdditiveGroup {
  readonly byteLength: number;
  readonly #bits: number;
  constructor(readonly modulus: bigint) {
    this.#bits = modulus.toString(2).length;
    this.byteLength = Math.ceil(this.#bits / 8);
  }
  reduce(x: bigint): bigint {
    const r = x % this.modulus;
    return r < 0n ? r + this.modulus : r;
  }
  add(a: bigint, b: bigint): bigint {
    return this.reduce(a + b);
  }
  sub(a: bigint, b: bigint): bigint {
    return this.reduce(a - b);
  }
  mul(a: bigint, b: bigint): bigint {
    return this.reduce(a * b);
  }
  /** Uniform on F_p by rejection sampling from the OS CSPRNG (no modulo bias). */
  random(): bigint {
    for (;;) {
      const x = BigInt.asUintN(this.#bits, this.#read(entropy(this.byteLength)));
      if (x < this.modulus) return x;
    }
  }
  /** Little-endian, fixed width; 64-bit words rather than hex text, since this runs per element. */
  encodeBytes(x: bigint): Uint8Array {
    const out = Buffer.alloc(this.#words * 8);
    let v = this.reduce(x);
    for (let i = 0; i < this.#words; i++) {
      out.writeBigUInt64LE(BigInt.asUintN(64, v), 8 * i);
      v >>= 64n;
    }
    return out.subarray(0, this.byteLength);
  }
  /** Refuses a wrong length or a non-canonical element (≥ p). */
  decodeBytes(bytes: Uint8Array, where: string): bigint {
    if (bytes.length !== this.byteLength) {
      throw new BadInputError(`expected ${this.byteLength} bytes for a field element, got ${bytes.length}`, { where });
    }
    const x = this.#read(bytes);
    if (x >= this.modulus) throw new BadInputError('field element is not reduced', { where });
    return x;
  }
  #read(bytes: Uint8Array): bigint {
    const padded = Buffer.alloc(this.#words * 8);
    padded.set(bytes);
    let x = 0n;
    for (let i = this.#words - 1; i >= 0; i--) x = (x << 64n) | padded.readBigUInt64LE(8 * i);
    return x;
  }
  get #words(): number {
    return Math.ceil(this.byteLength / 8);
  }
}

/** F_p for p = 2^255 − 19 (the prime of Curve25519, RFC 7748 §4.1). */
export const F25519 = new PrimeField(2n ** 255n - 19n);
