// Oblivious transfer for the dealer-free triple generation (triples.ts):
//
// 1. Base OTs: Chou and Orlandi, "The Simplest Protocol for Oblivious Transfer", LATINCRYPT 2015,
//    on the prime-order group ristretto255 (RFC 9496; @noble/curves). KAPPA = 128 of them per pair
//    of parties, with 32-byte keys hashed from the Diffie–Hellman point (SHA-256 over the
//    transcript and the OT index, the paper's random oracle). The messages are ristretto255
//    encodings and the additions noble's; every multiplication by a secret scalar is X25519
//    through OpenSSL (RFC 7748) on the point's Montgomery u-coordinate, with the scalars drawn
//    clamped: about thirty times cheaper than noble's variable-base multiplication, which made the
//    base OTs cost 0.6 s of CPU per pair. A multiple of the base point is X25519 of u = 9, lifted
//    back to the Edwards point with a random sign (ClampedScalar.basePoint says why random).
// 2. OT extension: Ishai, Kilian, Nissim, Petrank, "Extending Oblivious Transfers Efficiently",
//    CRYPTO 2003, §3 (semi-honest), in its random-OT form (Asharov, Lindell, Schneider, Zohner,
//    "More Efficient Oblivious Transfer and Extensions for Faster Secure Computation", CCS 2013,
//    §5.3): the roles of the base OTs are reversed, the receiver's chosen bits r ∈ {0,1}^m are
//    hidden by the PRG-expanded base keys, and the sender ends with, for each OT t, two one-bit
//    pads H(t, q_t) and H(t, q_t ⊕ s), of which the receiver learns exactly H(t, q_t ⊕ r_t·s).
//
// The PRG is AES-256-CTR (services/common/prg.ts, keyed by each column's 32-byte base key, under
// one counter block per extension derived from its unique label). The hash H must
// be correlation robust; we use the tweakable construction of Guo, Katz, Wang, Weng and Yu,
// "Efficient and Secure Multiparty Computation from Fixed-Key Block Ciphers", IEEE S&P 2020,
// §7.4: H(t, x) = π(π(x) ⊕ t) ⊕ π(x) with π fixed-key AES-128, batched through Node's AES-ECB.
// Only the lowest bit of each hash is used, since the triples need one-bit pads.
//
// Constant time: JavaScript BigInt and noble's point arithmetic are "algorithmic constant time" at
// best; the receiver computes both candidate points and selects, but nothing here is guaranteed
// free of timing channels. See SECURITY.md.

import { createCipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, randomBytes, type Cipher, type KeyObject } from 'node:crypto';
import { ed25519, ristretto255 } from '@noble/curves/ed25519.js';
import { PeerError } from '../../errors.js';
import { ivFor } from '../../common/prg.js';
import { pack, type Bits } from './bits.js';

/** Number of base OTs per pair: the computational security parameter. */
export const KAPPA = 128;
const ROW_BYTES = KAPPA / 8;
const POINT_BYTES = 32;
const Point = ristretto255.Point;
type RPoint = InstanceType<typeof Point>;

/**
 * The base OTs take a good fraction of a second of CPU: hand the event loop back every few
 * points, so that the server keeps answering (peer messages, keep-alive timers) meanwhile.
 */
const YIELD_EVERY = 8;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const Fp = ed25519.Point.Fp;
/** The X25519 base point, u = 9 (RFC 7748 §4.1): the Montgomery image of ristretto255's and Ed25519's generator. */
const BASE_U = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from([9, ...new Array<number>(31).fill(0)]).toString('base64url') }, format: 'jwk' });
/**
 * The JWK form's `x` member must be a string, but Node 20 makes the key from `d` alone (OpenSSL's
 * raw private-key import; `x` is not read for a private key), so a placeholder will do (ot.test.ts
 * checks the keys against noble's). The JWK import costs a tenth of the PKCS #8 DER one (OpenSSL
 * 3's decoder lookup): about 0.1 ms here against 1 ms, more than a scalar's multiplications.
 */
const JWK_X_PLACEHOLDER = Buffer.alloc(32).toString('base64url');

/**
 * A secret scalar drawn clamped (RFC 7748 §5: 2^254 + 8m, m uniform below 2^251), held as an
 * X25519 private key for OpenSSL. On the prime-order group a clamped scalar k acts as k mod ℓ;
 * it is a multiple of 8, so X25519 also drops the 4-torsion part by which a ristretto255
 * element's Edwards representatives differ, and the result is one u-coordinate per group element.
 * m has 251 uniform bits, so the residue mod ℓ ≈ 2^252 takes one of 2^251 values, each equally
 * likely: as good a secret as Chou–Orlandi's uniform scalar for the computational Diffie–Hellman
 * problem its keys rest on.
 */
class ClampedScalar {
  readonly #key: KeyObject;

  constructor() {
    const bytes = randomBytes(32);
    bytes[0]! &= 248;
    bytes[31]! &= 127;
    bytes[31]! |= 64;
    this.#key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: bytes.toString('base64url'), x: JWK_X_PLACEHOLDER }, format: 'jwk' });
  }

  /**
   * ±[k]G as a ristretto255 element, the sign drawn at random. The fixed-base multiplication is
   * OpenSSL's (X25519 of the base point: k's public key), which gives u([k]G) only; the Edwards
   * y = (u − 1)/(u + 1) (RFC 7748 §4.1) fixes the point up to its sign, and the Edwards decoding
   * (RFC 8032 §5.1.3) takes the root whose sign bit we set from a fresh random bit: [k]G or
   * −[k]G = [−k]G, each with probability ½. No key depends on the sign, since u([a]P) = u([−a]P):
   * an X25519 by k or by the peer's scalar gives the same u-coordinate either way. What is sent
   * does, which is why the sign is random: under a fixed rule (say, the even root) the prime-order
   * part of the receiver's R = ±[x]G + c·S would show the rule's parity whenever c = 0, and the
   * sender could read c from it.
   */
  basePoint(): RPoint {
    const u = diffieHellman({ privateKey: this.#key, publicKey: BASE_U });
    const uu = Fp.create(BigInt('0x' + Buffer.from(u).reverse().toString('hex')));
    const y = Fp.mul(Fp.sub(uu, Fp.ONE), Fp.inv(Fp.add(uu, Fp.ONE)));
    const encoded = Buffer.from(y.toString(16).padStart(64, '0'), 'hex').reverse();
    encoded[31]! |= (randomBytes(1)[0]! & 1) << 7;
    return new Point(ed25519.Point.fromBytes(encoded));
  }

  /** u([k]P), 32 bytes little-endian, by X25519 on P's Montgomery u-coordinate (montgomery). */
  times(p: RPoint, where: string): Buffer {
    return this.timesU(montgomery(p, where), where);
  }

  /** u([k]P) for P given as an imported u-coordinate (a point used many times is imported once). */
  timesU(p: KeyObject, where: string): Buffer {
    try {
      return diffieHellman({ privateKey: this.#key, publicKey: p });
    } catch {
      // OpenSSL refuses an all-zero result: a point of small order, i.e. the identity class.
      throw new PeerError('the identity in an OT message', { where });
    }
  }
}

/** P's Montgomery u = (1 + y)/(1 − y) (RFC 7748 §4.1) as an X25519 public key. */
function montgomery(p: RPoint, where: string): KeyObject {
  const { y } = p.toAffine();
  const denominator = Fp.sub(Fp.ONE, y);
  if (Fp.is0(denominator)) throw new PeerError('the identity in an OT message', { where });
  const u = Fp.mul(Fp.add(Fp.ONE, y), Fp.inv(denominator));
  const x = Buffer.from(u.toString(16).padStart(64, '0'), 'hex').reverse().toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
}

function decodePoint(bytes: Uint8Array, where: string): RPoint {
  try {
    const p = Point.fromBytes(bytes);
    if (p.is0()) throw new Error('identity');
    return p;
  } catch {
    throw new PeerError('invalid ristretto255 point in an OT message', { where });
  }
}

/**
 * The base-OT key for index t: SHA-256 of the domain, t, both public points and the shared point,
 * which enters as the u-coordinate X25519 gives (one value per group element, see ClampedScalar).
 */
function baseKey(t: number, first: Uint8Array, reply: Uint8Array, shared: Buffer): Buffer {
  const index = Buffer.alloc(4);
  index.writeUInt32BE(t);
  return createHash('sha256').update('tessera/ot/chou-orlandi/ristretto255-x25519/v2\0').update(index).update(first).update(reply).update(shared).digest();
}

/**
 * The base-OT sender (in IKNP: the extension's receiver). Its first message is S = yG; for each
 * reply R_t it derives k_t^0 = H(yR_t) and k_t^1 = H(yR_t − yS), only one of which the receiver knows.
 */
export class BaseOtSender {
  readonly #y = new ClampedScalar();
  readonly #S: RPoint = this.#y.basePoint();
  readonly first: Uint8Array = this.#S.toBytes();

  async keys(reply: Uint8Array, where: string): Promise<{ k0: Buffer[]; k1: Buffer[] }> {
    if (reply.length !== KAPPA * POINT_BYTES) throw new PeerError(`expected ${KAPPA} OT points, got ${reply.length} bytes`, { where });
    const k0: Buffer[] = [];
    const k1: Buffer[] = [];
    for (let t = 0; t < KAPPA; t++) {
      if (t % YIELD_EVERY === 0) await yieldToEventLoop();
      const bytes = reply.subarray(t * POINT_BYTES, (t + 1) * POINT_BYTES);
      const R = decodePoint(bytes, where);
      // yR and y(R − S) = yR − yS, as the paper's keys.
      k0.push(baseKey(t, this.first, bytes, this.#y.times(R, where)));
      k1.push(baseKey(t, this.first, bytes, this.#y.times(R.subtract(this.#S), where)));
    }
    return { k0, k1 };
  }
}

/**
 * The base-OT receiver with choice bits `choices` (in IKNP: the extension's sender, choosing s):
 * R_t = c_t·S + x_t·G, key H(x_t·S), which equals the sender's k_t^{c_t}.
 */
export async function baseOtReceive(first: Uint8Array, choices: Bits, where: string): Promise<{ reply: Uint8Array; keys: Buffer[] }> {
  if (first.length !== POINT_BYTES) throw new PeerError(`expected one OT point, got ${first.length} bytes`, { where });
  const S = decodePoint(first, where);
  // S is the same in every OT: its u-coordinate is imported once.
  const sU = montgomery(S, where);
  const reply = new Uint8Array(KAPPA * POINT_BYTES);
  const keys: Buffer[] = [];
  for (let t = 0; t < KAPPA; t++) {
    if (t % YIELD_EVERY === 0) await yieldToEventLoop();
    const x = new ClampedScalar();
    const xG = x.basePoint();
    // Both candidates are computed and one is selected by the secret bit.
    const candidates = [xG, xG.add(S)];
    const R = candidates[choices[t]! & 1]!.toBytes();
    reply.set(R, t * POINT_BYTES);
    keys.push(baseKey(t, first, R, x.timesU(sU, where)));
  }
  return { reply, keys };
}

/** The hash tweak's salt of one extension: 16 bytes of SHA-256 of its (unique) label. */
function labelSalt(label: string): Buffer {
  return createHash('sha256').update('tessera/ot/iknp/salt\0').update(label).digest().subarray(0, ROW_BYTES);
}

/** ⌈m/8⌉: the bytes of one IKNP column. */
export function columnBytes(m: number): number {
  return (m + 7) >>> 3;
}

/**
 * One AES-256-ECB cipher per base key, made once and kept as long as the key (its base stays in
 * triples.ts's cache): creating a cipher (the key schedule and OpenSSL's context) cost more than
 * the few blocks each column of an extension needs, and was the largest CPU cost of a min/max.
 * ECB with padding off is stateless per block, so one cipher object serves every extension.
 */
const COLUMN_CIPHERS = new WeakMap<Uint8Array, Cipher>();

function columnCipher(seed: Uint8Array): Cipher {
  let cipher = COLUMN_CIPHERS.get(seed);
  if (cipher === undefined) {
    cipher = createCipheriv('aes-256-ecb', seed, null);
    cipher.setAutoPadding(false);
    COLUMN_CIPHERS.set(seed, cipher);
  }
  return cipher;
}

/**
 * G(k_j) for every column j of one extension: AES-256-CTR keyed by the column's base key, all
 * under one initial counter block derived from the extension's label. The keys differ per column
 * (independent base-OT keys) and the label per extension (its nonce), so no (key, counter block)
 * pair repeats; deriving the counter block once per extension rather than once per column saves
 * a SHA-256 per column, the larger part of G's cost at the sizes the order statistics use.
 *
 * The keystream is computed as CTR mode defines it (NIST SP 800-38A, §6.5): the encryptions of
 * the counter blocks iv, iv + 1, …, by each column's cached ECB cipher. ivFor leaves the low 64
 * bits of iv zero, so counter block i is iv's high half followed by i, big-endian: byte for byte
 * the stream of MaskStream.rawCipher(seed, iv) (test/services/simon/order/ot.test.ts checks it).
 */
export function expandColumns(seeds: readonly Uint8Array[], label: string, bytes: number): Buffer[] {
  const iv = ivFor(`${label}/columns`);
  const blocks = Math.ceil(bytes / 16);
  const counters = Buffer.alloc(16 * blocks);
  for (let i = 0; i < blocks; i++) {
    iv.copy(counters, 16 * i, 0, 8);
    counters.writeBigUInt64BE(BigInt(i), 16 * i + 8);
  }
  return seeds.map((seed) => columnCipher(seed).update(counters).subarray(0, bytes));
}

/**
 * The m × KAPPA bit matrix whose columns are `columns` (KAPPA arrays of ⌈m/8⌉ bytes, bit t of
 * column j at byte t>>3, bit t&7), as m rows of 16 bytes (bit j of row t at byte j>>3, bit j&7).
 * Works on 8×8 blocks with the shift-and-mask transpose of Warren, "Hacker's Delight", §7-3.
 */
export function transpose(columns: readonly Uint8Array[], m: number, into?: { rows: Uint8Array; stride: number; offset: number }): Uint8Array {
  // By default a fresh m × 16-byte matrix; `into` writes row t at into.offset + t·into.stride of a
  // wider matrix instead (kkrt.ts: four 128-column parts side by side in 64-byte rows).
  const stride = into?.stride ?? ROW_BYTES;
  const rows = into?.rows ?? new Uint8Array(m * ROW_BYTES);
  const first = into?.offset ?? 0;
  const cb = columnBytes(m);
  for (let jb = 0; jb < ROW_BYTES; jb++) {
    const c0 = columns[8 * jb]!, c1 = columns[8 * jb + 1]!, c2 = columns[8 * jb + 2]!, c3 = columns[8 * jb + 3]!;
    const c4 = columns[8 * jb + 4]!, c5 = columns[8 * jb + 5]!, c6 = columns[8 * jb + 6]!, c7 = columns[8 * jb + 7]!;
    for (let tb = 0; tb < cb; tb++) {
      // Rows of the 8×8 block in reverse order, so that output byte 7−b is row b's byte, LSB first.
      let x = (c7[tb]! << 24) | (c6[tb]! << 16) | (c5[tb]! << 8) | c4[tb]!;
      let y = (c3[tb]! << 24) | (c2[tb]! << 16) | (c1[tb]! << 8) | c0[tb]!;
      let t = (x ^ (x >>> 7)) & 0x00aa00aa;
      x = x ^ t ^ (t << 7);
      t = (y ^ (y >>> 7)) & 0x00aa00aa;
      y = y ^ t ^ (t << 7);
      t = (x ^ (x >>> 14)) & 0x0000cccc;
      x = x ^ t ^ (t << 14);
      t = (y ^ (y >>> 14)) & 0x0000cccc;
      y = y ^ t ^ (t << 14);
      t = (x & 0xf0f0f0f0) | ((y >>> 4) & 0x0f0f0f0f);
      y = ((x << 4) & 0xf0f0f0f0) | (y & 0x0f0f0f0f);
      x = t;
      // Row base + b takes byte b of y then x, least significant first (a Uint8Array keeps the low byte).
      const at = first + 8 * tb * stride + jb;
      if (8 * tb + 8 <= m) {
        rows[at] = y;
        rows[at + stride] = y >>> 8;
        rows[at + 2 * stride] = y >>> 16;
        rows[at + 3 * stride] = y >>> 24;
        rows[at + 4 * stride] = x;
        rows[at + 5 * stride] = x >>> 8;
        rows[at + 6 * stride] = x >>> 16;
        rows[at + 7 * stride] = x >>> 24;
      } else {
        for (let b = 0; 8 * tb + b < m; b++) rows[at + b * stride] = (b < 4 ? y : x) >>> (8 * (b & 3));
      }
    }
  }
  return rows;
}

/** The fixed, public AES-128 key of the permutation π (any fixed key will do, §7 of Guo et al.). */
const PI_KEY = createHash('sha256').update('tessera/ot/tmmo/aes-128/v1').digest().subarray(0, 16);

/** π as one reusable ECB cipher: blocks are independent, so no per-call key schedule. */
const PI = createCipheriv('aes-128-ecb', PI_KEY, null);
PI.setAutoPadding(false);

function pi(blocks: Uint8Array): Buffer {
  return PI.update(blocks);
}

/**
 * H(x_i, t_i) = π(π(x_i) ⊕ t_i) ⊕ π(x_i) for every 16-byte block x_i of `inputs` with its tweak
 * t_i (the 16-byte block at the same offset of `tweaks`), in full: the tweakable circular
 * correlation-robust hash of Guo, Katz, Wang and Yu (IEEE S&P 2020, §7), on which garbling with
 * free XOR and half gates is secure (garbled.ts). Two AES-ECB passes for the whole batch.
 */
export function tweakedHash(inputs: Uint8Array, tweaks: Uint8Array): Buffer {
  if (inputs.length % ROW_BYTES !== 0 || tweaks.length !== inputs.length) throw new RangeError('hash inputs and tweaks must be equal numbers of 16-byte blocks');
  const first = pi(inputs);
  const tweaked = Buffer.allocUnsafe(first.length);
  for (let i = 0; i < first.length; i++) tweaked[i] = first[i]! ^ tweaks[i]!;
  const second = pi(tweaked);
  for (let i = 0; i < second.length; i++) second[i]! ^= first[i]!;
  return second;
}

/**
 * The lowest bit of H(t, row_t) = π(π(row_t) ⊕ tweak_t) ⊕ π(row_t) for every 16-byte row, where
 * tweak_t is `salt` (16 bytes, default zero) with t XORed into its first four bytes. The salt
 * makes tweaks unique across extensions that share base OTs (triples.ts caches them): Guo et
 * al.'s tweakable correlation robustness is stated for distinct tweaks.
 */
export function hashRows(rows: Uint8Array, m: number, salt?: Uint8Array): Bits {
  const first = pi(rows);
  const tweaked = Buffer.from(first);
  if (salt !== undefined && salt.length !== ROW_BYTES) throw new RangeError('the hash salt must be 16 bytes');
  // Word by word (one DataView, little-endian as the tweak's definition): the salt, then t into word 0.
  const words = new DataView(tweaked.buffer, tweaked.byteOffset, tweaked.length);
  const s = salt === undefined ? [0, 0, 0, 0] : saltWords(salt);
  for (let t = 0; t < m; t++) {
    const at = t * ROW_BYTES;
    words.setUint32(at, words.getUint32(at, true) ^ s[0]! ^ t, true);
    words.setUint32(at + 4, words.getUint32(at + 4, true) ^ s[1]!, true);
    words.setUint32(at + 8, words.getUint32(at + 8, true) ^ s[2]!, true);
    words.setUint32(at + 12, words.getUint32(at + 12, true) ^ s[3]!, true);
  }
  const second = pi(tweaked);
  const out = new Uint8Array(m);
  for (let t = 0; t < m; t++) out[t] = (second[t * ROW_BYTES]! ^ first[t * ROW_BYTES]!) & 1;
  return out;
}

/** The salt's four little-endian 32-bit words. */
function saltWords(salt: Uint8Array): number[] {
  const view = new DataView(salt.buffer, salt.byteOffset, ROW_BYTES);
  return [0, 4, 8, 12].map((at) => view.getUint32(at, true));
}

/**
 * Which OTs of an extension also get wide keys, and how wide: rows from … from + count − 1, each
 * key `blocks` × 16 bytes. They serve chosen-input OTs of many-bit messages (garbled.ts: the
 * receiver's choice bits are its own key's bits, and the sender's messages are the two input
 * labels of each bit, each encrypted under one of the keys).
 */
export interface WideKeys {
  readonly from: number;
  readonly count: number;
  readonly blocks: number;
}

/**
 * H(tweak_(t,k), row_t) in full (16 bytes) for k = 1 … blocks and every row t of `wide`: the same
 * tweakable correlation-robust hash as hashRows, with k in the tweak's bytes 4–7 so that no
 * (tweak, row) pair meets the one-bit pads' (whose k is 0) or another block's. Key t occupies
 * bytes [t·16·blocks, (t + 1)·16·blocks) of the result (t counted from `from`).
 */
export function hashRowsWide(rows: Uint8Array, wide: WideKeys, salt: Uint8Array): Uint8Array {
  const { from, count, blocks } = wide;
  if (salt.length !== ROW_BYTES) throw new RangeError('the hash salt must be 16 bytes');
  const first = pi(rows.subarray(from * ROW_BYTES, (from + count) * ROW_BYTES));
  const firstWords = new DataView(first.buffer, first.byteOffset, first.length);
  const tweaked = Buffer.alloc(count * blocks * ROW_BYTES);
  const words = new DataView(tweaked.buffer, tweaked.byteOffset, tweaked.length);
  const s = saltWords(salt);
  for (let c = 0; c < count; c++) {
    const f0 = firstWords.getUint32(c * ROW_BYTES, true) ^ s[0]! ^ (from + c);
    const f1 = firstWords.getUint32(c * ROW_BYTES + 4, true) ^ s[1]!;
    const f2 = firstWords.getUint32(c * ROW_BYTES + 8, true) ^ s[2]!;
    const f3 = firstWords.getUint32(c * ROW_BYTES + 12, true) ^ s[3]!;
    for (let k = 0; k < blocks; k++) {
      const at = (c * blocks + k) * ROW_BYTES;
      words.setUint32(at, f0, true);
      words.setUint32(at + 4, f1 ^ (k + 1), true);
      words.setUint32(at + 8, f2, true);
      words.setUint32(at + 12, f3, true);
    }
  }
  const second = pi(tweaked);
  const out = new DataView(second.buffer, second.byteOffset, second.length);
  for (let c = 0; c < count; c++) {
    for (let k = 0; k < blocks; k++) {
      const at = (c * blocks + k) * ROW_BYTES;
      for (let w = 0; w < ROW_BYTES; w += 4) out.setUint32(at + w, out.getUint32(at + w, true) ^ firstWords.getUint32(c * ROW_BYTES + w, true), true);
    }
  }
  return second;
}

/**
 * The part of an IKNP receiver's extension that does not depend on its choices (m OTs under
 * `label`): the column expansions t^j = G(k_j^0) and g^j = G(k_j^0) ⊕ G(k_j^1), and the pads
 * H(t, t_t) (and wide keys) of the rows of t. Only u = g ⊕ r needs the choices (iknpChoose), so a
 * receiver may prepare this before it knows them; it must use it for one extension only.
 */
export interface PreparedExtension {
  readonly label: string;
  readonly m: number;
  /** g^j, KAPPA columns of ⌈m/8⌉ bytes. */
  readonly g: Uint8Array;
  readonly pads: Bits;
  readonly keys: Uint8Array;
}

export function iknpPrepare(k0: readonly Buffer[], k1: readonly Buffer[], m: number, label: string, wide?: WideKeys): PreparedExtension {
  const cb = columnBytes(m);
  const g = new Uint8Array(KAPPA * cb);
  const t = expandColumns(k0, label, cb);
  const other = expandColumns(k1, label, cb);
  for (let j = 0; j < KAPPA; j++) {
    const tj = t[j]!;
    const oj = other[j]!;
    const gj = g.subarray(j * cb, (j + 1) * cb);
    for (let i = 0; i < cb; i++) gj[i] = tj[i]! ^ oj[i]!;
  }
  const rows = transpose(t, m);
  const salt = labelSalt(label);
  return { label, m, g, pads: hashRows(rows, m, salt), keys: wide === undefined ? new Uint8Array(0) : hashRowsWide(rows, wide, salt) };
}

/** The message u^j = g^j ⊕ r of a prepared extension for choice bits r (as many as it was prepared for). */
export function iknpChoose(prepared: PreparedExtension, choices: Bits): { u: Uint8Array; pads: Bits; keys: Uint8Array } {
  if (choices.length !== prepared.m) throw new Error(`the extension was prepared for ${prepared.m} OTs, not ${choices.length}`);
  const cb = columnBytes(prepared.m);
  const r = pack(choices);
  const u = new Uint8Array(prepared.g);
  for (let j = 0; j < KAPPA; j++) for (let i = 0; i < cb; i++) u[j * cb + i]! ^= r[i]!;
  return { u, pads: prepared.pads, keys: prepared.keys };
}

/**
 * IKNP, extension receiver: for choice bits `choices` (length m) and the base-OT key pairs,
 * the message u (KAPPA columns of ⌈m/8⌉ bytes) for the sender, and the pads H(t, t_t) it
 * learns, which equal the sender's pad_{r_t}.
 */
export function iknpReceive(
  k0: readonly Buffer[],
  k1: readonly Buffer[],
  choices: Bits,
  label: string,
  wide?: WideKeys,
): { u: Uint8Array; pads: Bits; keys: Uint8Array } {
  return iknpChoose(iknpPrepare(k0, k1, choices.length, label, wide), choices);
}

/**
 * IKNP, extension sender with base choice bits `s` and the keys k_j^{s_j}: from the receiver's u,
 * q^j = G(k_j^{s_j}) ⊕ s_j·u^j, i.e. row q_t = t_t ⊕ r_t·s; the two pads of OT t are
 * H(t, q_t) and H(t, q_t ⊕ s).
 */
export function iknpSend(
  keys: readonly Buffer[],
  s: Bits,
  u: Uint8Array,
  m: number,
  label: string,
  where: string,
  wide?: WideKeys,
): { pad0: Bits; pad1: Bits; keys0: Uint8Array; keys1: Uint8Array } {
  const cb = columnBytes(m);
  if (u.length !== KAPPA * cb) throw new PeerError(`expected an OT extension matrix of ${KAPPA * cb} bytes, got ${u.length}`, { where });
  const columns = expandColumns(keys, label, cb);
  for (let j = 0; j < KAPPA; j++) {
    const qj = columns[j]!;
    // q^j = G(k_j^{s_j}) ⊕ s_j·u^j, without branching on the secret bit s_j.
    const uj = u.subarray(j * cb, (j + 1) * cb);
    if (cb % 4 === 0 && qj.byteOffset % 4 === 0 && uj.byteOffset % 4 === 0) {
      // Four bytes at a time where both columns are aligned (cb a multiple of 4: most extensions).
      const mask = -(s[j]! & 1);
      const q32 = new Int32Array(qj.buffer, qj.byteOffset, cb / 4);
      const u32 = new Int32Array(uj.buffer, uj.byteOffset, cb / 4);
      for (let i = 0; i < q32.length; i++) q32[i]! ^= u32[i]! & mask;
    } else {
      const mask = -(s[j]! & 1) & 0xff;
      for (let i = 0; i < cb; i++) qj[i]! ^= uj[i]! & mask;
    }
  }
  const rows = transpose(columns, m);
  const sRow = new Uint8Array(ROW_BYTES);
  for (let j = 0; j < KAPPA; j++) sRow[j >>> 3]! |= (s[j]! & 1) << (j & 7);
  const salt = labelSalt(label);
  const pad0 = hashRows(rows, m, salt);
  const keys0 = wide === undefined ? new Uint8Array(0) : hashRowsWide(rows, wide, salt);
  // rows ⊕ s, four bytes at a time (transpose's rows are a fresh, aligned array).
  const rowWords = new Int32Array(rows.buffer, rows.byteOffset, rows.length / 4);
  const sWords = new Int32Array(sRow.buffer);
  for (let t = 0; t < rowWords.length; t += 4) {
    rowWords[t]! ^= sWords[0]!;
    rowWords[t + 1]! ^= sWords[1]!;
    rowWords[t + 2]! ^= sWords[2]!;
    rowWords[t + 3]! ^= sWords[3]!;
  }
  return { pad0, pad1: hashRows(rows, m, salt), keys0, keys1: wide === undefined ? new Uint8Array(0) : hashRowsWide(rows, wide, salt) };
}
