// The commutative group under the set protocols: points of Curve25519 named by their Montgomery
// u-coordinate (RFC 7748), exponentiated with Node's native X25519.
//
// Why this group: Diffie–Hellman PSI needs H(x)^(k1·k2) = (H(x)^k1)^k2. X25519 computes [k]P
// from u(P), and two clamped scalars commute ([k1][k2]P = [k2][k1]P), so a party can apply its
// key to another's already-keyed point without any inverse. Node's X25519 (OpenSSL) is about an
// order of magnitude faster here than a variable-point multiplication in @noble/curves
// (bench/simon-sets.ts prints both), which is what makes 3×10,000 items feasible.
//
// Hashing onto the group: RFC 9380's random-oracle hash_to_curve for edwards25519
// (expand_message_xmd with SHA-512, two Elligator 2 maps, point addition; the cofactor clearing
// is done by the clamped scalar, see hashToEdwards) under our own domain separation tag, then the
// birational map of RFC 7748 §4.1 to Curve25519: u = (1 + y)/(1 − y) = (Z + Y)/(Z − Y), with one
// batched field inversion for a whole slice. It is assembled from @noble/curves' RFC 9380 pieces
// (hash_to_field, the Elligator 2 map) because noble's ed25519_hasher normalises every mapped
// point to affine coordinates and checks it, which costs about twice as much here; a unit test
// checks that both give the same point. The result behaves as a random oracle onto the group:
// nobody knows its discrete logarithm.
//
// Keys are fresh per computation (Node's CSPRNG via generateKeyPairSync). Clamping
// (RFC 7748 §5) makes every scalar a multiple of 8, so a peer's point with a small-order
// component loses it; a point of small order yields the all-zero output, which OpenSSL refuses
// and we report as an invalid element. A point on the quadratic twist is harmless to the key:
// Curve25519's twist has order 4·p' with p' a 253-bit prime (Bernstein 2006, "twist security"),
// so [k]Q there reveals nothing a discrete logarithm would not.

import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ed25519, _map_to_curve_elligator2_curve25519 } from '@noble/curves/ed25519.js';
import { hash_to_field } from '@noble/curves/abstract/hash-to-curve.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { PeerError } from '../../errors.js';

/** Bytes of one group element (a little-endian u-coordinate). */
export const ELEMENT_BYTES = 32;
/** 2^255 − 19 */
const P = (1n << 255n) - 19n;
/** Work is cut into slices so a long list never blocks the server's event loop for long. */
const SLICE = 64;

const utf8 = new TextEncoder();

/** A list of group elements, packed: element i is bytes [32i, 32i + 32). */
export type Elements = Uint8Array;

export function elementAt(list: Elements, i: number): Uint8Array {
  return list.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
}

export function countOf(list: Elements): number {
  return list.length / ELEMENT_BYTES;
}

function leBytes(value: bigint): Uint8Array {
  const out = new Uint8Array(ELEMENT_BYTES);
  let v = value;
  for (let i = 0; i < ELEMENT_BYTES; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function leValue(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

// RFC 9380 §8.5's suite for Curve25519 (expand_message_xmd, SHA-512, k = 128, m = 1, L = 48).
const H2C = { p: P, m: 1, k: 128, expand: 'xmd', hash: sha512 } as const;
const Fp = ed25519.Point.Fp;
/** c1 = sqrt(−486664) with sgn0(c1) = 0 (RFC 9380 Appendix G.2.2). */
const C1 = (() => {
  const root = Fp.sqrt(Fp.neg(486664n));
  return root % 2n === 0n ? root : Fp.neg(root);
})();

/** map_to_curve_elligator2_edwards25519 (RFC 9380 G.2.2) in extended coordinates: no inversion. */
function mapToEdwards(u: bigint): InstanceType<typeof ed25519.Point> {
  const { xMn, xMd, yMn, yMd } = _map_to_curve_elligator2_curve25519(u);
  let xn = Fp.mul(Fp.mul(xMn, yMd), C1);
  let xd = Fp.mul(xMd, yMn);
  let yn = Fp.sub(xMn, xMd);
  let yd = Fp.add(xMn, xMd);
  if (Fp.is0(Fp.mul(xd, yd))) [xn, xd, yn, yd] = [0n, 1n, 1n, 1n]; // the exceptional case: the identity
  return new ed25519.Point(Fp.mul(xn, yd), Fp.mul(yn, xd), Fp.mul(xd, yd), Fp.mul(xn, yn));
}

/**
 * hash_to_curve (RFC 9380 §3) onto edwards25519 without its final clear_cofactor: the two mapped
 * points' sum. Clearing the cofactor is multiplying by 8, and every X25519 scalar is a multiple
 * of 8 (RFC 7748 §5 clamping), so [k]·R = [k/8]·clear_cofactor(R): applying a key to R gives
 * exactly what applying it to the RFC's output would. Exported for the known-answer test.
 */
export function hashToEdwards(item: string, dst: string): InstanceType<typeof ed25519.Point> {
  const [[u0], [u1]] = hash_to_field(utf8.encode(item), 2, { ...H2C, DST: dst }) as [[bigint], [bigint]];
  return mapToEdwards(u0).add(mapToEdwards(u1));
}

/**
 * Hashes strings (their UTF-8 bytes, exactly as given) onto the group, under a domain separation
 * tag that names the protocol, so the same item hashes differently in another protocol.
 */
export async function hashToGroup(items: readonly string[], dst: string): Promise<Elements> {
  const out = new Uint8Array(items.length * ELEMENT_BYTES);
  for (let start = 0; start < items.length; start += SLICE) {
    const points = items.slice(start, start + SLICE).map((item) => hashToEdwards(item, dst));
    // u = (1 + y)/(1 − y) = (Z + Y)/(Z − Y); Z − Y = 0 only at the identity, which the random
    // oracle reaches with negligible probability.
    const inverses = FpInvertBatch(Fp, points.map((p) => Fp.sub(p.Z, p.Y)), false);
    points.forEach((p, i) => {
      const inverse = inverses[i];
      if (inverse === undefined) throw new PeerError('an item hashed to the identity', { where: 'hash to curve' });
      out.set(leBytes(Fp.mul(Fp.add(p.Z, p.Y), inverse)), (start + i) * ELEMENT_BYTES);
    });
    await yieldToLoop();
  }
  return out;
}

/**
 * Checks a peer's list of elements: whole elements only, each a canonical u-coordinate
 * (RFC 7748 §5: the top bit clear and u < p), no element twice (an honest party's list is a set
 * of pseudorandom points). `expected` pins the count where the protocol knows it.
 */
export function checkElements(payload: Uint8Array, where: string, expected?: number): Elements {
  if (payload.length % ELEMENT_BYTES !== 0) {
    throw new PeerError(`a list of group elements of ${payload.length} bytes is not a whole number of ${ELEMENT_BYTES}-byte elements`, { where });
  }
  const count = countOf(payload);
  if (expected !== undefined && count !== expected) {
    throw new PeerError(`expected ${expected} group elements, got ${count}`, { where });
  }
  for (let i = 0; i < count; i++) {
    const e = elementAt(payload, i);
    if ((e[31]! & 0x80) !== 0 || leValue(e) >= P) {
      throw new PeerError(`element ${i} is not a canonical Curve25519 u-coordinate`, { where });
    }
  }
  const sorted = sortElements(payload);
  for (let i = 1; i < count; i++) {
    if (Buffer.compare(elementAt(sorted, i - 1), elementAt(sorted, i)) === 0) {
      throw new PeerError('the list repeats a group element', { where });
    }
  }
  return payload;
}

/** The elements in ascending byte order: for pseudorandom elements, a uniformly random order. */
export function sortElements(list: Elements): Elements {
  const count = countOf(list);
  const order = Array.from({ length: count }, (_, i) => i);
  const buf = Buffer.from(list.buffer, list.byteOffset, list.length);
  // buf.compare(target, tStart, tEnd, sStart, sEnd) compares the source range with the target range.
  order.sort((a, b) => buf.compare(buf, b * ELEMENT_BYTES, (b + 1) * ELEMENT_BYTES, a * ELEMENT_BYTES, (a + 1) * ELEMENT_BYTES));
  const out = new Uint8Array(list.length);
  order.forEach((from, to) => out.set(elementAt(list, from), to * ELEMENT_BYTES));
  return out;
}

/** Element → its position, for intersecting lists. */
export function indexElements(list: Elements): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < countOf(list); i++) index.set(Buffer.from(elementAt(list, i)).toString('latin1'), i);
  return index;
}

export function elementKey(list: Elements, i: number): string {
  return Buffer.from(elementAt(list, i)).toString('latin1');
}

/** ℓ, the order of Curve25519's prime-order subgroup (RFC 7748 §4.1). */
export const GROUP_ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;
const INVERSE_OF_8 = modPow(8n, GROUP_ORDER - 2n, GROUP_ORDER);
/** PKCS #8 header of a raw X25519 private key (RFC 8410 §7). */
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/** The m < 2^251 with 2^254 + 8m ≡ residue (mod ℓ), if there is one (for about half of all residues). */
function representative(residue: bigint): bigint | undefined {
  const m = ((((residue - (1n << 254n)) % GROUP_ORDER) + GROUP_ORDER) * INVERSE_OF_8) % GROUP_ORDER;
  return m < 1n << 251n ? m : undefined;
}

/** A clamped X25519 scalar (RFC 7748 §5): 2^254 + 8m with 0 ≤ m < 2^251. */
function clampedFrom(m: bigint): bigint {
  return (1n << 254n) + 8n * m;
}

/**
 * One party's secret exponent for one computation. On a point of the prime-order subgroup (every
 * element after the first key has been applied; see hashToEdwards for the first) a clamped
 * scalar s acts as s mod ℓ, so exponents compose by multiplication mod ℓ.
 */
export class ExponentKey {
  readonly #privateKey: KeyObject;
  /** The clamped scalar; it never leaves this process. */
  readonly #scalar: bigint;

  private constructor(scalar: bigint) {
    this.#scalar = scalar;
    this.#privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, leBytes(scalar)]), format: 'der', type: 'pkcs8' });
  }

  /** A fresh uniformly random key from the operating system's CSPRNG. */
  static random(): ExponentKey {
    const m = BigInt(`0x${randomBytes(32).toString('hex')}`) & ((1n << 251n) - 1n);
    return new ExponentKey(clampedFrom(m));
  }

  /** The key that acts as this one applied twice (this² mod ℓ), if it has a clamped representative. */
  #square(): ExponentKey | undefined {
    const m = representative((this.#scalar * this.#scalar) % GROUP_ORDER);
    return m === undefined ? undefined : new ExponentKey(clampedFrom(m));
  }

  /** A fresh random key k and the key acting as k² (drawn until k² mod ℓ has a clamped representative). */
  static randomWithSquare(): { key: ExponentKey; square: ExponentKey } {
    for (;;) {
      const key = ExponentKey.random();
      const square = key.#square();
      if (square !== undefined) return { key, square };
    }
  }

  /**
   * A fresh random key `second` and the key `product` that acts as `this` then `second` in one
   * exponentiation, i.e. product ≡ this·second (mod ℓ). Found by drawing `second` until the
   * product has a clamped representative, which holds for about half of all residues (m must be
   * below 2^251 while ℓ ≈ 2^252).
   */
  withSecond(): { second: ExponentKey; product: ExponentKey } {
    for (;;) {
      const second = ExponentKey.random();
      const m = representative((this.#scalar * second.#scalar) % GROUP_ORDER);
      if (m !== undefined) return { second, product: new ExponentKey(clampedFrom(m)) };
    }
  }

  /** [k]P for every element, in the same order; `where` names the sender for an invalid element. */
  async apply(list: Elements, where: string): Promise<Elements> {
    const count = countOf(list);
    const out = new Uint8Array(list.length);
    for (let start = 0; start < count; start += SLICE) {
      const end = Math.min(count, start + SLICE);
      for (let i = start; i < end; i++) {
        const publicKey = createPublicKey({
          key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(elementAt(list, i)).toString('base64url') },
          format: 'jwk',
        });
        let shared: Buffer;
        try {
          shared = diffieHellman({ privateKey: this.#privateKey, publicKey });
        } catch {
          // OpenSSL refuses an all-zero result: the element has small order.
          throw new PeerError(`element ${i} is a point of small order`, { where });
        }
        out.set(shared, i * ELEMENT_BYTES);
      }
      await yieldToLoop();
    }
    return out;
  }
}
