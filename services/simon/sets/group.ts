// The commutative group under the set protocols: points of Curve25519 named by their Montgomery
// u-coordinate (RFC 7748), exponentiated with Node's native X25519.
//
// Why this group: Diffie–Hellman PSI needs H(x)^(k1·k2) = (H(x)^k1)^k2. X25519 computes [k]P
// from u(P), and two clamped scalars commute ([k1][k2]P = [k2][k1]P), so a party can apply its
// key to another's already-keyed point without any inverse. Node's X25519 (OpenSSL) is about an
// order of magnitude faster here than a variable-point multiplication in @noble/curves
// (bench/simon-sets.ts prints both), which is what makes 3×10,000 items feasible.
//
// Hashing onto the group: RFC 9380's random-oracle hash_to_ristretto255 (suite
// ristretto255_XMD:SHA-512_R255MAP_RO_: expand_message_xmd with SHA-512 to 64 bytes, then RFC 9496
// §4.3.4's element derivation, two maps and an addition) under our own domain separation tag,
// named by the Curve25519 u-coordinate of a representative. The expansion is node:crypto's SHA-512;
// the derivation is libsodium's `crypto_core_ristretto255_from_hash` (WebAssembly), which returns
// the element's canonical encoding s. RFC 9496 §4.3.1 decodes s to an Edwards point with
// y = (1 − s²)/(1 + s²) (its square root only fixes x, which the u-coordinate ignores), so the
// birational map u = (1 + y)/(1 − y) of RFC 7748 §4.1 gives u = 1/s²: one inversion, batched over
// a slice. The representative differs from the element's other representatives by a 4-torsion
// point, which every clamped X25519 scalar (a multiple of 8) removes, so applying a key gives the
// same u whichever representative was named. referenceU computes the same u from
// @noble/curves' implementation of the suite, the reference it is tested against. The result
// behaves as a random oracle onto the prime-order group: nobody knows its discrete logarithm.
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
import { ed25519, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { PeerError } from '../../errors.js';
import { loadSodium } from '../../common/sodium.js';
import { POOL_THRESHOLD, SmallOrderElement, defaultPool, type X25519Pool } from './x25519-pool.js';

/** Bytes of one group element (a little-endian u-coordinate). */
export const ELEMENT_BYTES = 32;
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

const Fp = ed25519.Point.Fp;

/** The hash onto the group, as the suite's name (RFC 9380 §4): part of SetIntersectionSize's and the vertical table's agreed terms. */
export const ITEM_HASH = 'ristretto255_XMD:SHA-512_R255MAP_RO_';

/** SHA-512's input block size s_in_bytes (RFC 9380 §5.3.1). */
const SHA512_BLOCK = 128;
/** hash_to_ristretto255's uniform bytes (RFC 9380 Appendix B): 64. */
const UNIFORM_BYTES = 64;

/**
 * expand_message_xmd (RFC 9380 §5.3.1) with SHA-512 by node:crypto, for the 64 uniform bytes of
 * hash_to_ristretto255. The same as @noble/hashes' (a unit test checks it), but about ten times cheaper:
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

/** The 64 uniform bytes hash_to_ristretto255 derives its element from (exported for the test against noble). */
export function uniformBytes(item: string, dst: string): Buffer {
  return expandMessageXmd(utf8.encode(item), dstPrime(dst), UNIFORM_BYTES);
}

/** A little-endian field element from its 32 bytes. */
function fromLe(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
}

/** Little-endian bytes of a field element, into `out` at `offset`. */
function writeLe(value: bigint, out: Uint8Array, offset: number): void {
  out.set(Buffer.from(value.toString(16).padStart(2 * ELEMENT_BYTES, '0'), 'hex').reverse(), offset);
}

/**
 * Hashes strings (their UTF-8 bytes, exactly as given) onto the group, under a domain separation
 * tag that names the protocol, so the same item hashes differently in another protocol: the
 * u-coordinate 1/s² of hash_to_ristretto255's element s (see the header), the inversions batched
 * per slice.
 */
export async function hashToGroup(items: readonly string[], dst: string): Promise<Elements> {
  const sodium = await loadSodium();
  const out = new Uint8Array(items.length * ELEMENT_BYTES);
  const prime = dstPrime(dst);
  for (let start = 0; start < items.length; start += SLICE) {
    const slice = items.slice(start, start + SLICE);
    const squares = slice.map((item) => Fp.sqr(fromLe(sodium.crypto_core_ristretto255_from_hash(expandMessageXmd(utf8.encode(item), prime, UNIFORM_BYTES)))));
    const inverses = FpInvertBatch(Fp, squares, false);
    inverses.forEach((inverse, i) => {
      // s = 0 is the identity, which the random oracle reaches with negligible probability.
      if (inverse === undefined) throw new PeerError('an item hashed to the identity', { where: 'hash to group' });
      writeLe(inverse, out, (start + i) * ELEMENT_BYTES);
    });
    await yieldToLoop();
  }
  return out;
}

/** hashToGroup's u for one item, from @noble/curves' hash_to_ristretto255: the reference it is tested against. */
export function referenceU(item: string, dst: string): Uint8Array {
  const s = fromLe(ristretto255_hasher.hashToCurve(utf8.encode(item), { DST: dst }).toBytes());
  if (s === 0n) throw new PeerError('an item hashed to the identity', { where: 'hash to group' });
  const out = new Uint8Array(ELEMENT_BYTES);
  writeLe(Fp.inv(Fp.sqr(s)), out, 0);
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
