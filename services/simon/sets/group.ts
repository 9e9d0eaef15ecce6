// The commutative group under the set protocols: points of Curve25519 named by their Montgomery
// u-coordinate (RFC 7748), exponentiated with Node's native X25519.
//
// Why this group: Diffie–Hellman PSI needs H(x)^(k1·k2) = (H(x)^k1)^k2. X25519 computes [k]P
// from u(P), and two clamped scalars commute ([k1][k2]P = [k2][k1]P), so a party can apply its
// key to another's already-keyed point without any inverse. Node's X25519 (OpenSSL) is about an
// order of magnitude faster here than a variable-point multiplication in @noble/curves
// (bench/simon-sets.ts prints both), which is what makes 3×10,000 items feasible.
//
// Hashing onto the group: RFC 9380's random-oracle hash_to_curve (expand_message_xmd with SHA-512,
// two Elligator 2 maps, point addition; the cofactor clearing is done by the clamped scalar, see
// hashToEdwards) under our own domain separation tag, as a Curve25519 u-coordinate. hashToGroup
// computes it on the Montgomery curve with the expensive parts native: SHA-512 from node:crypto,
// each map's one field exponentiation from OpenSSL, the additions' divisions batched per slice.
// hashToEdwards (assembled from @noble/curves' RFC 9380 pieces, on edwards25519, then the
// birational map of RFC 7748 §4.1) is the reference it is tested against, item by item. The
// result behaves as a random oracle onto the curve: nobody knows its discrete logarithm.
//
// Why not simply take 32 hashed bytes as the u-coordinate (X25519 accepts any): about half of
// all u lie on the quadratic twist, not on the curve, and which one is a public property of the
// element (is u³ + A·u² + u a square?) that every exponentiation preserves. Every keyed element
// would then carry one bit of H(item) in clear — for a party holding one item, a bit of that
// item. Twist security protects the key, not the element's pseudorandomness; a map onto the curve
// does both.
//
// Keys are fresh per computation (Node's CSPRNG via randomBytes). Clamping
// (RFC 7748 §5) makes every scalar a multiple of 8, so a peer's point with a small-order
// component loses it; a point of small order yields the all-zero output, which OpenSSL refuses
// and we report as an invalid element. A point on the quadratic twist is harmless to the key:
// Curve25519's twist has order 4·p' with p' a 253-bit prime (Bernstein 2006, "twist security"),
// so [k]Q there reveals nothing a discrete logarithm would not.

import { createHash, createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ed25519, _map_to_curve_elligator2_curve25519 } from '@noble/curves/ed25519.js';
import { hash_to_field } from '@noble/curves/abstract/hash-to-curve.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { PeerError } from '../../errors.js';
import { ModExp } from '../../common/modexp.js';
import { POOL_THRESHOLD, SmallOrderElement, defaultPool, type X25519Pool } from './x25519-pool.js';

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

/** (p − 5)/8: the exponent of RFC 9380 G.2.1 step 16 (c4), done by OpenSSL (services/common/modexp.ts). */
const C4 = (P - 5n) / 8n;
/** c2 = 2^((p + 3)/8) and c3 = sqrt(−1) (RFC 9380 G.2.1). */
const C2 = Fp.pow(2n, (P + 3n) / 8n);
const C3 = Fp.sqrt(Fp.neg(1n));
/** J = A, the Montgomery coefficient of Curve25519 (v² = u³ + A·u² + u, RFC 7748 §4.1). */
const J = 486662n;
/**
 * OpenSSL computes powers modulo at least 512 bits (DH_compute_key refuses smaller moduli), so it
 * works modulo M = p·(2^257 + 1) (512 bits, odd) and the result is reduced mod p: as p divides M,
 * (b^e mod M) mod p = b^e mod p. That is still about four times faster than a BigInt chain.
 */
const FIELD_POWER_MODULUS = P * ((1n << 257n) + 1n);
const fieldPower = new ModExp(FIELD_POWER_MODULUS);

/** b^c4 mod p (RFC 9380 G.2.1 step 16). */
function powC4(b: bigint): bigint {
  return fieldPower.pow(b, C4) % P;
}

/** SHA-512's input block size s_in_bytes (RFC 9380 §5.3.1). */
const SHA512_BLOCK = 128;
/** L = ceil((ceil(log2(p)) + k)/8) = 48 bytes per field element (RFC 9380 §5). */
const FIELD_BYTES = 48;

/**
 * expand_message_xmd (RFC 9380 §5.3.1) with SHA-512 by node:crypto, for the 96 bytes of two field
 * elements. The same as @noble/hashes' (a unit test checks it), but about ten times cheaper:
 * @noble/hashes' SHA-512 runs in JavaScript.
 */
function expandMessageXmd(msg: Uint8Array, dstPrime: Buffer, length: number): Buffer {
  const blocks = Math.ceil(length / 64);
  const lengthBytes = Buffer.from([length >> 8, length & 0xff]);
  const b0 = createHash('sha512').update(Buffer.alloc(SHA512_BLOCK)).update(msg).update(lengthBytes).update(Buffer.from([0])).update(dstPrime).digest();
  const out: Buffer[] = [];
  let previous = createHash('sha512').update(b0).update(Buffer.from([1])).update(dstPrime).digest();
  out.push(previous);
  for (let i = 2; i <= blocks; i++) {
    const mixed = Buffer.alloc(64);
    for (let j = 0; j < 64; j++) mixed[j] = b0[j]! ^ previous[j]!;
    previous = createHash('sha512').update(mixed).update(Buffer.from([i])).update(dstPrime).digest();
    out.push(previous);
  }
  return Buffer.concat(out).subarray(0, length);
}

/** DST_prime = DST ‖ I2OSP(len(DST), 1) (RFC 9380 §5.3.1); our tags are short, so never hashed. */
function dstPrime(dst: string): Buffer {
  const bytes = Buffer.from(dst, 'utf8');
  if (bytes.length > 255) throw new RangeError('a domain separation tag longer than 255 bytes');
  return Buffer.concat([bytes, Buffer.from([bytes.length])]);
}

/** hash_to_field(msg, 2) for Curve25519's field (RFC 9380 §5.2): two elements u0, u1. */
export function hashToField(item: string, dst: string): [bigint, bigint] {
  return hashToFieldWith(utf8.encode(item), dstPrime(dst));
}

function hashToFieldWith(msg: Uint8Array, prime: Buffer): [bigint, bigint] {
  const uniform = expandMessageXmd(msg, prime, 2 * FIELD_BYTES);
  const element = (i: number) => BigInt(`0x${uniform.toString('hex', i * FIELD_BYTES, (i + 1) * FIELD_BYTES)}`) % P;
  return [element(0), element(1)];
}

/**
 * map_to_curve_elligator2_curve25519 (RFC 9380 G.2.1), line by line, with its one
 * exponentiation (step 16) done by OpenSSL instead of a BigInt addition chain: that chain was
 * most of the cost of hashing an item (about 250 BigInt squarings per map, two maps per item).
 * Returns the Montgomery point as (xn/xd, y).
 */
function mapToMontgomery(u: bigint): { xn: bigint; xd: bigint; y: bigint } {
  const tv1 = Fp.mul(Fp.sqr(u), 2n); //            1–2. tv1 = 2·u²
  const xd = Fp.add(tv1, 1n); //                 3. xd = tv1 + 1 (nonzero: −1/2 is not a square)
  const x1n = Fp.neg(J); //                      4. x1n = −J
  let tv2 = Fp.sqr(xd); //                       5.
  const gxd = Fp.mul(tv2, xd); //                6. gxd = xd³
  let gx1 = Fp.mul(Fp.mul(tv1, J), x1n); //      7–8.
  gx1 = Fp.mul(Fp.add(gx1, tv2), x1n); //        9–10. gx1 = x1n³ + J·x1n²·xd + x1n·xd²
  let tv3 = Fp.sqr(gxd); //                      11.
  tv2 = Fp.sqr(tv3); //                          12. gxd⁴
  tv3 = Fp.mul(Fp.mul(tv3, gxd), gx1); //        13–14. gx1·gxd³
  tv2 = Fp.mul(tv2, tv3); //                     15. gx1·gxd⁷
  let y11 = powC4(tv2); //                      16. y11 = tv2^c4
  y11 = Fp.mul(y11, tv3); //                     17.
  const y12 = Fp.mul(y11, C3); //                18.
  const e1 = Fp.eql(Fp.mul(Fp.sqr(y11), gxd), gx1); // 19–21.
  const y1 = e1 ? y11 : y12; //                  22. if g(x1) is square, y1 is its root
  const x2n = Fp.mul(x1n, tv1); //               23. x2 = 2·u²·x1
  const y21 = Fp.mul(Fp.mul(y11, u), C2); //     24–25.
  const y22 = Fp.mul(y21, C3); //                26.
  const gx2 = Fp.mul(gx1, tv1); //               27. g(x2) = 2·u²·g(x1)
  const e2 = Fp.eql(Fp.mul(Fp.sqr(y21), gxd), gx2); // 28–30.
  const y2 = e2 ? y21 : y22; //                  31.
  const e3 = Fp.eql(Fp.mul(Fp.sqr(y1), gxd), gx1); // 32–34.
  const xn = e3 ? x1n : x2n; //                  35.
  let y = e3 ? y1 : y2; //                       36.
  if (e3 !== ((y & 1n) === 1n)) y = Fp.neg(y); // 37–38. sgn0(y) = y mod 2 (RFC 9380 §4.1), fixed
  return { xn, xd, y };
}

/** Little-endian bytes of a field element, into `out` at `offset`. */
function writeLe(value: bigint, out: Uint8Array, offset: number): void {
  out.set(Buffer.from(value.toString(16).padStart(2 * ELEMENT_BYTES, '0'), 'hex').reverse(), offset);
}

/**
 * Hashes strings (their UTF-8 bytes, exactly as given) onto the group, under a domain separation
 * tag that names the protocol, so the same item hashes differently in another protocol.
 *
 * The same value as hashToEdwards followed by the birational map (a unit test checks it on many
 * items), computed on the Montgomery curve directly: two Elligator 2 maps (mapToMontgomery),
 * then the u-coordinate of their sum by the affine addition law (u3 = λ² − A − u1 − u2, with
 * λ = (y2 − y1)/(u2 − u1)), whose one division per item is batched over a slice. The rare item
 * whose two mapped points share a u-coordinate (their sum is a doubling or the identity; with
 * probability about 2⁻²⁵³ for a random oracle) takes the reference path.
 */
export async function hashToGroup(items: readonly string[], dst: string): Promise<Elements> {
  const out = new Uint8Array(items.length * ELEMENT_BYTES);
  const prime = dstPrime(dst);
  for (let start = 0; start < items.length; start += SLICE) {
    const slice = items.slice(start, start + SLICE);
    const nums: bigint[] = [];
    const dens: bigint[] = [];
    for (const item of slice) {
      const [u0, u1] = hashToFieldWith(utf8.encode(item), prime);
      const a = mapToMontgomery(u0);
      const b = mapToMontgomery(u1);
      // u1 = a.xn/a.xd, u2 = b.xn/b.xd; over the common denominator a.xd·b.xd:
      const t1 = Fp.mul(a.xn, b.xd);
      const t2 = Fp.mul(b.xn, a.xd);
      const dd = Fp.mul(a.xd, b.xd);
      const d = Fp.sub(t2, t1); // (u2 − u1)·dd
      const lambdaN = Fp.mul(Fp.sub(b.y, a.y), dd); // λ = lambdaN / d
      const d2 = Fp.sqr(d);
      // u3 = lambdaN²/d² − A − (t1 + t2)/dd = (lambdaN²·dd − (A·dd + t1 + t2)·d²) / (d²·dd)
      nums.push(Fp.sub(Fp.mul(Fp.sqr(lambdaN), dd), Fp.mul(Fp.add(Fp.mul(J, dd), Fp.add(t1, t2)), d2)));
      dens.push(Fp.mul(d2, dd));
    }
    const inverses = FpInvertBatch(Fp, dens, false);
    slice.forEach((item, i) => {
      const inverse = inverses[i];
      const offset = (start + i) * ELEMENT_BYTES;
      if (inverse === undefined) out.set(referenceU(item, dst), offset);
      else writeLe(Fp.mul(nums[i]!, inverse), out, offset);
    });
    await yieldToLoop();
  }
  return out;
}

/**
 * The u-coordinate of hashToEdwards(item) by the birational map of RFC 7748 §4.1,
 * u = (1 + y)/(1 − y) = (Z + Y)/(Z − Y): the reference hashToGroup is checked against, and its
 * path for the exceptional items.
 */
export function referenceU(item: string, dst: string): Uint8Array {
  const point = hashToEdwards(item, dst);
  const denominator = Fp.sub(point.Z, point.Y);
  // Z − Y = 0 only at the identity, which the random oracle reaches with negligible probability.
  if (Fp.is0(denominator)) throw new PeerError('an item hashed to the identity', { where: 'hash to curve' });
  return leBytes(Fp.div(Fp.add(point.Z, point.Y), denominator));
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
    if (!isCanonical(payload, i * ELEMENT_BYTES)) {
      throw new PeerError(`element ${i} is not a canonical Curve25519 u-coordinate`, { where });
    }
  }
  const order = sortedOrder(payload);
  for (let i = 1; i < count; i++) {
    if (compareAt(payload, order[i - 1]!, order[i]!) === 0) {
      throw new PeerError('the list repeats a group element', { where });
    }
  }
  return payload;
}

/** u < p = 2^255 − 19 with the top bit clear, read from the little-endian bytes at `at`. */
function isCanonical(list: Uint8Array, at: number): boolean {
  const top = list[at + 31]!;
  if (top < 0x7f) return true;
  if (top > 0x7f) return false;
  // top byte 0x7f: u ≥ p only if every middle byte is 0xff and the lowest is at least 0xed.
  for (let j = 30; j >= 1; j--) if (list[at + j] !== 0xff) return true;
  return list[at]! < 0xed;
}

/** Byte order of elements i and j of a list (Buffer.compare on their 32 bytes, without views). */
function compareAt(list: Uint8Array, i: number, j: number): number {
  const a = i * ELEMENT_BYTES;
  const b = j * ELEMENT_BYTES;
  for (let k = 0; k < ELEMENT_BYTES; k++) {
    const d = list[a + k]! - list[b + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** 2^21 positions (more than MAX_ITEMS) fit below a 32-bit prefix in a double's 53 bits. */
const POSITION_BITS = 2 ** 21;

/**
 * The positions of the elements in ascending byte order. Each element's first four bytes and its
 * position are packed into one double, so the sort is a typed-array sort with no comparator and
 * no per-element object; elements that share the four bytes are then put in full byte order, so
 * the order is a function of the elements' values alone, never of where they came from.
 */
function sortedOrder(list: Elements): Uint32Array {
  const count = countOf(list);
  if (count >= POSITION_BITS) throw new RangeError(`at most ${POSITION_BITS - 1} elements per list`);
  const keys = new Float64Array(count);
  for (let i = 0, at = 0; i < count; i++, at += ELEMENT_BYTES) {
    const prefix = ((list[at]! << 24) >>> 0) + (list[at + 1]! << 16) + (list[at + 2]! << 8) + list[at + 3]!;
    keys[i] = prefix * POSITION_BITS + i;
  }
  keys.sort();
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = keys[i]! % POSITION_BITS;
  // Runs with equal prefixes (rare: about count²/2^33 pairs) are sorted by their whole bytes.
  for (let start = 0; start < count; ) {
    let end = start + 1;
    while (end < count && Math.floor(keys[end]! / POSITION_BITS) === Math.floor(keys[start]! / POSITION_BITS)) end++;
    if (end - start > 1) order.subarray(start, end).sort((i, j) => compareAt(list, i, j));
    start = end;
  }
  return order;
}

/** The elements in ascending byte order: for pseudorandom elements, a uniformly random order. */
export function sortElements(list: Elements): Elements {
  const order = sortedOrder(list);
  const out = new Uint8Array(list.length);
  for (let to = 0; to < order.length; to++) {
    const from = order[to]! * ELEMENT_BYTES;
    out.set(list.subarray(from, from + ELEMENT_BYTES), to * ELEMENT_BYTES);
  }
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

/**
 * A fresh X25519 public key [s]·B (RFC 7748 §6.1; s clamped, from the CSPRNG), as an element: a
 * point of the prime-order subgroup whose discrete logarithm nobody keeps.
 */
export function randomElement(): Uint8Array {
  // X25519(s, 9) is the public key of s (RFC 7748 §6.1), computed without generateKeyPairSync and
  // KeyObject.export: with those, a 3 × 10,000 SetIntersectionSize in one process deadlocked the
  // main thread (gdb: ExportJWKEdKey holds a key's mutex while allocating, the allocation runs a
  // GC, and the GC's weak callback ~KeyGenJob waits for that same mutex; Node 20 with OpenSSL
  // 3.0), which is the "silent hang" of issue 9: every thread idle, no error, no timer firing.
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, randomBytes(ELEMENT_BYTES)]), format: 'der', type: 'pkcs8' });
  return new Uint8Array(diffieHellman({ privateKey, publicKey: basePoint() }));
}

let base: KeyObject | undefined;
/** The base point B, u = 9 (RFC 7748 §4.1), as a peer key. */
function basePoint(): KeyObject {
  const u = new Uint8Array(ELEMENT_BYTES);
  u[0] = 9;
  base ??= createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(u).toString('base64url') }, format: 'jwk' });
  return base;
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
  /** The private key as PKCS #8 bytes, for the worker threads of this process (x25519-pool.ts). */
  readonly #pkcs8: Buffer;
  /** The clamped scalar; it never leaves this process. */
  readonly #scalar: bigint;
  /** The worker threads long lists go to. */
  readonly #pool: X25519Pool;

  private constructor(scalar: bigint, pool: X25519Pool = defaultPool) {
    this.#scalar = scalar;
    this.#pool = pool;
    this.#pkcs8 = Buffer.concat([PKCS8_X25519, leBytes(scalar)]);
    this.#privateKey = createPrivateKey({ key: this.#pkcs8, format: 'der', type: 'pkcs8' });
  }

  /** The same key, handing its long lists to `pool` (the failure tests give one party a faulty pool). */
  onPool(pool: X25519Pool): ExponentKey {
    return new ExponentKey(this.#scalar, pool);
  }

  /** A fresh uniformly random key from the operating system's CSPRNG. */
  static random(): ExponentKey {
    const m = BigInt(`0x${randomBytes(32).toString('hex')}`) & ((1n << 251n) - 1n);
    return new ExponentKey(clampedFrom(m));
  }

  /**
   * A fresh random key `blind` and the key `finish` that acts as `this` with `blind` taken off,
   * finish ≡ this·blind⁻¹ (mod ℓ): a party blinds its own list with `blind`, lets every other
   * party key it, and finishes it itself, so its list ends under every party's key without
   * anyone else seeing it so (SetIntersectionSize, docs/set-protocols.md §2). Drawn until the
   * product has a clamped representative (m below 2^251 while ℓ ≈ 2^252: about half of all residues). `blind` is a multiple of 8 like
   * every clamped scalar, so it also clears the hashed point's cofactor; from then on both act
   * on the prime-order subgroup, where blind⁻¹ mod ℓ exists (ℓ is prime, blind < 2^255 < ℓ²).
   */
  withBlinding(): { blind: ExponentKey; finish: ExponentKey } {
    for (;;) {
      const blind = ExponentKey.random();
      const residue = blind.#scalar % GROUP_ORDER;
      if (residue === 0n) continue;
      const inverse = modPow(residue, GROUP_ORDER - 2n, GROUP_ORDER);
      const m = representative((this.#scalar * inverse) % GROUP_ORDER);
      if (m !== undefined) return { blind, finish: new ExponentKey(clampedFrom(m)) };
    }
  }

  /**
   * [k]P for every element, in the same order; `where` names the sender for an invalid element.
   * A long list is spread over the worker threads (x25519-pool.ts), a short one done here.
   * `timeoutMs` bounds the wait for a worker (the protocols pass their stage timeout): a worker
   * that fails or never answers makes this reject, never hang.
   */
  async apply(list: Elements, where: string, timeoutMs?: number): Promise<Elements> {
    const count = countOf(list);
    if (count >= POOL_THRESHOLD) {
      try {
        return await this.#pool.apply(this.#pkcs8, list, timeoutMs);
      } catch (err) {
        if (err instanceof SmallOrderElement) throw new PeerError(err.message, { where });
        throw err;
      }
    }
    const out = new Uint8Array(list.length);
    for (let start = 0; start < count; start += SLICE) {
      const end = Math.min(count, start + SLICE);
      for (let i = start; i < end; i++) {
        const publicKey = createPublicKey({
          key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(list.buffer, list.byteOffset + i * ELEMENT_BYTES, ELEMENT_BYTES).toString('base64url') },
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
