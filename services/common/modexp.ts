// Modular exponentiation by OpenSSL, for the Paillier products (services/common/paillier.ts).
//
// Why not BigInt: a 4096-bit `a * b % m` costs tens of microseconds in V8, so a square-and-
// multiply of a 2048-bit exponent (one Paillier randomiser r^N mod N²) takes 70–110 ms, and
// paillier-bigint's own modPow is no faster. OpenSSL's Montgomery exponentiation is 3–6× faster
// (bench/simon-products.ts prints both). Node exposes it without a native add-on through
// `DiffieHellman`: with "prime" m, `setPrivateKey(e)` then `computeSecret(b)` returns b^e mod m
// (OpenSSL's DH_compute_key, i.e. BN_mod_exp_mont_consttime: constant-time in the exponent's
// value for a given exponent length). OpenSSL does not need m to be prime for that (Node only
// reports `verifyError`), only odd — a Paillier N² and the p², q² of its CRT are odd.
// DH_check_pub_key refuses a "public key" outside [2, m−2]; those bases are answered here, and
// the one result OpenSSL will not return (1) by BigInt.

import { createDiffieHellman, type DiffieHellman } from 'node:crypto';
import { BadInputError } from '../errors.js';

/** Big-endian bytes of a non-negative integer (no leading zero bytes beyond one for 0). */
export function bigintToBytes(x: bigint, width?: number): Buffer {
  if (x < 0n) throw new BadInputError('cannot encode a negative integer', { where: 'bigint' });
  let hex = x.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (width !== undefined) {
    if (hex.length > 2 * width) throw new BadInputError(`integer does not fit ${width} bytes`, { where: 'bigint' });
    hex = hex.padStart(2 * width, '0');
  }
  return Buffer.from(hex, 'hex');
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
}

/** a⁻¹ mod m by the extended Euclidean algorithm; throws when gcd(a, m) ≠ 1. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new BadInputError('value is not invertible modulo the modulus', { where: 'modInverse' });
  return ((oldS % m) + m) % m;
}

/** b^e mod m for one fixed odd modulus m, by OpenSSL. */
export class ModExp {
  readonly modulus: bigint;
  readonly #dh: DiffieHellman;
  /** The exponent last given to OpenSSL: a run of powers to one exponent sets it once. */
  #exponent: bigint | undefined;

  constructor(modulus: bigint) {
    if (modulus < 5n || modulus % 2n === 0n) {
      throw new BadInputError('the modulus must be odd and at least 5', { where: 'modulus' });
    }
    this.modulus = modulus;
    // The generator is irrelevant: only computeSecret (b^e) is used.
    this.#dh = createDiffieHellman(bigintToBytes(modulus), Buffer.from([2]));
  }

  /** base^exponent mod m for exponent >= 0. */
  pow(base: bigint, exponent: bigint): bigint {
    const m = this.modulus;
    if (exponent < 0n) throw new BadInputError('negative exponent', { where: 'exponent' });
    const b = ((base % m) + m) % m;
    if (exponent === 0n) return 1n;
    if (b <= 1n) return b;
    if (b === m - 1n) return exponent % 2n === 0n ? 1n : b;
    try {
      if (this.#exponent !== exponent) {
        this.#dh.setPrivateKey(bigintToBytes(exponent));
        this.#exponent = exponent;
      }
      return bytesToBigint(this.#dh.computeSecret(bigintToBytes(b)));
    } catch {
      // OpenSSL refuses a shared secret of 1 (NIST SP 800-56A §5.7.1.1 demands Z ≠ 1), which is
      // a legitimate power here (a CRT decryption of a multiple of p); BigInt answers it.
      return slowPow(b, exponent, m);
    }
  }
}

/** Square-and-multiply in BigInt: the rare case OpenSSL will not compute. */
function slowPow(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = base % m;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}
