// The ring Z_2^k over BigInt, for scalars of any width (k = 64 for counts, k = 2176 for the
// exact fixed-point scalars). Elements are canonical representatives in [0, 2^k); every
// operation reduces with BigInt.asUintN, which is exact for negative intermediates too.
// BigInt arithmetic is not constant-time; these values are shares and masked sums, which are
// uniformly distributed, and no branch here depends on them.

import { randomBytes } from 'node:crypto';
import { BadInputError } from '../errors.js';

/** Wider rings are almost certainly a mistake (and would make every share megabytes). */
const MAX_BITS = 1 << 16;

export class Ring {
  readonly bits: number;
  readonly modulus: bigint;
  /** Width of encodeBytes: ceil(k/8). */
  readonly byteLength: number;

  constructor(bits: number) {
    if (!Number.isInteger(bits) || bits < 1 || bits > MAX_BITS) {
      throw new BadInputError(`ring width must be an integer in [1, ${MAX_BITS}], got ${bits}`, { where: 'ring.bits' });
    }
    this.bits = bits;
    this.modulus = 1n << BigInt(bits);
    this.byteLength = Math.ceil(bits / 8);
  }

  reduce(x: bigint): bigint {
    return BigInt.asUintN(this.bits, x);
  }
  add(a: bigint, b: bigint): bigint {
    return BigInt.asUintN(this.bits, a + b);
  }
  sub(a: bigint, b: bigint): bigint {
    return BigInt.asUintN(this.bits, a - b);
  }
  neg(a: bigint): bigint {
    return BigInt.asUintN(this.bits, -a);
  }
  /** Product modulo 2^k (meant for public factors such as weights or counts). */
  mul(a: bigint, b: bigint): bigint {
    return BigInt.asUintN(this.bits, a * b);
  }
  /** Σ xs modulo 2^k. */
  sum(xs: Iterable<bigint>): bigint {
    let acc = 0n;
    for (const x of xs) acc += x;
    return BigInt.asUintN(this.bits, acc);
  }

  /**
   * A uniform element from the OS CSPRNG: ceil(k/8) random bytes with the excess top bits
   * cleared. Masking a uniform bit string to k bits is exactly uniform on Z_2^k (no modulo bias,
   * which a `% m` reduction would have for a modulus that is not a power of two).
   */
  random(): bigint {
    return BigInt.asUintN(this.bits, BigInt('0x' + randomBytes(this.byteLength).toString('hex')));
  }

  /** The two's complement reading of x: a value in [-2^(k-1), 2^(k-1)). */
  toSigned(x: bigint): bigint {
    return BigInt.asIntN(this.bits, x);
  }

  /** Fixed width ceil(k/8), little-endian. */
  encodeBytes(x: bigint): Uint8Array {
    const hex = this.reduce(x).toString(16).padStart(2 * this.byteLength, '0');
    return new Uint8Array(Buffer.from(hex, 'hex').reverse());
  }

  /** Inverse of encodeBytes. Refuses a wrong length or bits set above k (a non-canonical encoding). */
  decodeBytes(bytes: Uint8Array, where: string): bigint {
    if (bytes.length !== this.byteLength) {
      throw new BadInputError(`expected ${this.byteLength} bytes for an element of Z_2^${this.bits}, got ${bytes.length}`, { where });
    }
    const x = BigInt('0x' + Buffer.from(bytes).reverse().toString('hex'));
    if (x >= this.modulus) {
      throw new BadInputError(`element of Z_2^${this.bits} has bits set above bit ${this.bits - 1}`, { where });
    }
    return x;
  }
}
