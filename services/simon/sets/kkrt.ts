// A batched oblivious pseudorandom function from OT extension: Kolesnikov, Kumaresan, Rosulek and
// Trieu, "Efficient Batched Oblivious PRF with Applications to Private Set Intersection", CCS 2016
// (KKRT), semi-honest. docs/set-protocols.md §3 gives the construction and the argument.
//
// The receiver puts its items into a cuckoo table of `bins` bins (three hash functions, at most
// one item per bin; Pagh and Rodler, "Cuckoo Hashing", 2004). For every bin b there is one OPRF
// instance F_b; the receiver learns F_b(y) for the one input y of its bin (a dummy for an empty
// bin) and nothing else; the sender can evaluate every F_b on any input and learns nothing about
// the receiver's inputs. An item x sits in bin h_i(x) with input x‖i, so the sender, which does
// not know which of its three bins the receiver used, evaluates F_{h_i(x)}(x‖i) for i = 0, 1, 2.
//
// The OPRF is IKNP's OT extension with the repetition code replaced by a pseudorandom code C of
// CODE_BITS = 512 bits (KKRT §3–4; 512 ≥ the 448–473 bits their Table 2 asks for κ = 128 with up to
// 2^24 bins). With 512 random OTs in which the sender chose s ∈ {0,1}^512 and got the seeds
// k_j^{s_j}, while the receiver holds both seeds k_j^0, k_j^1:
//   receiver: T = G(k^0) (a bins × 512 bit matrix, column j = G(k_j^0)), u_b = T_b ⊕ G(k^1)_b ⊕ C(y_b);
//   sender:   Q_b = G(k^s)_b ⊕ (u_b ∧ s) = T_b ⊕ (C(y_b) ∧ s);
//   F_b(x) = H(b, Q_b ⊕ (C(x) ∧ s)), which for x = y_b is H(b, T_b), the receiver's value.
// For x ≠ y_b, Q_b ⊕ (C(x) ∧ s) = T_b ⊕ ((C(x) ⊕ C(y_b)) ∧ s): the receiver knows T_b but not the
// bits of s where the two code words differ (about half of 512), so F_b(x) is pseudorandom to it.
// Both sides expand the seeds and transpose with the OT-extension pieces of ../order/ot.ts; u is
// sent as rows (the receiver XORs in row space), so neither side ever transposes rows back.

import { createHash, randomBytes } from 'node:crypto';
import { PeerError } from '../../errors.js';
import { KAPPA, columnBytes, expandColumns, transpose } from '../order/ot.js';
import type { Bits } from '../order/bits.js';

/** Width of the pseudorandom code, and so the number of base OTs per OPRF batch. */
export const CODE_BITS = 512;
export const CODE_BYTES = CODE_BITS / 8;
/** One OT seed: a 256-bit AES key for the column PRG (expandColumns). */
export const SEED_BYTES = 32;
/**
 * Bytes of one OPRF value. Values are compared, so a false match needs two of them to collide:
 * with at most 10^6 receiver items against 3·10^6 sender values, 3·10^12 / 2^128 ≈ 2^-86.
 */
export const VALUE_BYTES = 16;
/** Bytes of the receiver's hash salt, which fixes the bins and the code for one batch. */
export const SALT_BYTES = 16;
/** Hash functions of the cuckoo table. */
export const HASHES = 3;

const utf8 = new TextEncoder();

/**
 * Bins for `count` receiver items: 1.27·count, the load at which three-way cuckoo hashing without
 * a stash fails with probability about 2^-40 (Pinkas, Schneider, Zohner, "Scalable Private Set
 * Intersection Based on OT Extension", ACM TOPS 2018, §5.1), plus a margin for small tables,
 * where that estimate does not hold. A function of the count alone: the bins tell the sender the
 * receiver's set size (or the public bound), nothing else.
 */
export function binsFor(count: number): number {
  return Math.ceil(1.27 * count) + 32;
}

/** Per item: SHA-256 of the salt and its UTF-8 bytes; the bins and the code words come from it. */
function digests(items: readonly string[], salt: Uint8Array): Uint8Array[] {
  return items.map((item) => createHash('sha256').update('tessera/simon/sets/kkrt/item/v1\0').update(salt).update(utf8.encode(item)).digest());
}

/**
 * Bin h_i(x) for i = 0, 1, 2: the i-th 32-bit word of the digest mod bins. The modulo bias (below
 * bins / 2^32) only makes some bins slightly fuller; the bins are public, so it costs no secrecy.
 */
function binOf(digest: Uint8Array, i: number, bins: number): number {
  return new DataView(digest.buffer, digest.byteOffset + 4 * i, 4).getUint32(0, true) % bins;
}

/** C(x‖i): SHA-512 of the salt, the hash index and x's digest, a random oracle onto {0,1}^512. */
function codeWord(digest: Uint8Array, i: number, salt: Uint8Array): Buffer {
  return createHash('sha512').update('tessera/simon/sets/kkrt/code/v1\0').update(salt).update(Uint8Array.of(i)).update(digest).digest();
}

/** H(b, row): SHA-256 of the salt, the bin and the 512-bit row, cut to VALUE_BYTES (a random oracle; KKRT §4). */
function outputHash(salt: Uint8Array, bin: number, row: Uint8Array): Buffer {
  const index = Buffer.alloc(4);
  index.writeUInt32LE(bin);
  return createHash('sha256').update('tessera/simon/sets/kkrt/out/v1\0').update(salt).update(index).update(row).digest().subarray(0, VALUE_BYTES);
}

/** The bins × 512 matrix whose columns are G(seed_j), as rows of CODE_BYTES: four 128-column transposes. */
function expandRows(seeds: readonly Uint8Array[], bins: number, label: string): Uint8Array {
  const columns = expandColumns(seeds, label, columnBytes(bins));
  const rows = new Uint8Array(bins * CODE_BYTES);
  for (let g = 0; g < CODE_BITS / KAPPA; g++) {
    const part = transpose(columns.slice(g * KAPPA, (g + 1) * KAPPA), bins);
    for (let b = 0; b < bins; b++) rows.set(part.subarray(b * 16, b * 16 + 16), b * CODE_BYTES + g * 16);
  }
  return rows;
}

/** The items placed in a cuckoo table: slot b holds item `item[b]` (−1: empty) under hash `hash[b]`. */
interface Table {
  readonly item: Int32Array;
  readonly hash: Uint8Array;
}

/** Inserts every item by random-walk cuckoo hashing; undefined when a walk exceeds its bound. */
function cuckoo(ds: readonly Uint8Array[], bins: number): Table | undefined {
  const item = new Int32Array(bins).fill(-1);
  const hash = new Uint8Array(bins);
  const limit = 100 + 10 * Math.ceil(Math.log2(bins + 1)) ** 2;
  const coin = randomBytes(4 * (ds.length + 1));
  let c = 0;
  for (let x = 0; x < ds.length; x++) {
    let current = x;
    let placed = false;
    for (let step = 0; step < limit && !placed; step++) {
      const d = ds[current]!;
      for (let i = 0; i < HASHES; i++) {
        const b = binOf(d, i, bins);
        if (item[b] === -1) {
          item[b] = current;
          hash[b] = i;
          placed = true;
          break;
        }
      }
      if (placed) break;
      // Evict the occupant of a random one of the three bins and carry it on.
      const i = coin[c++ % coin.length]! % HASHES;
      const b = binOf(d, i, bins);
      const evicted = item[b]!;
      item[b] = current;
      hash[b] = i;
      current = evicted;
    }
    if (!placed) return undefined;
  }
  return { item, hash };
}

/**
 * The receiver's side of one batch: its items in a cuckoo table under a fresh salt (a new salt if
 * insertion fails, which happens with probability about 2^-40; the salt the sender sees is then
 * one that works for the receiver's set, see docs), then `query` with its OT seed pairs.
 */
export class OprfReceiver {
  readonly salt: Uint8Array;
  readonly bins: number;
  readonly #table: Table;
  readonly #digests: Uint8Array[];
  /** H(b, T_b) per bin, after query. */
  #values: Uint8Array | undefined;

  constructor(items: readonly string[], bins: number = binsFor(items.length)) {
    if (bins < items.length) throw new RangeError('fewer bins than items');
    for (let attempt = 0; ; attempt++) {
      const salt = randomBytes(SALT_BYTES);
      const ds = digests(items, salt);
      const table = cuckoo(ds, bins);
      if (table !== undefined) {
        this.salt = salt;
        this.bins = bins;
        this.#table = table;
        this.#digests = ds;
        return;
      }
      if (attempt === 16) throw new Error('cuckoo hashing failed 17 times (probability about 2^-680)');
    }
  }

  /**
   * u (bins rows of CODE_BYTES) for the sender, from both seeds of each of the CODE_BITS OTs.
   * An empty bin encodes a fresh random code word: to the sender every row is T ⊕ G(k^1) ⊕ C,
   * uniformly random whatever C is, since it never learns G(k_j^{1−s_j}).
   */
  query(seeds0: readonly Uint8Array[], seeds1: readonly Uint8Array[], label: string): Uint8Array {
    if (seeds0.length !== CODE_BITS || seeds1.length !== CODE_BITS) throw new RangeError(`expected ${CODE_BITS} seed pairs`);
    const t = expandRows(seeds0, this.bins, label);
    const u = expandRows(seeds1, this.bins, label);
    const values = new Uint8Array(this.bins * VALUE_BYTES);
    for (let b = 0; b < this.bins; b++) {
      const x = this.#table.item[b]!;
      const code = x === -1 ? randomBytes(CODE_BYTES) : codeWord(this.#digests[x]!, this.#table.hash[b]!, this.salt);
      const row = b * CODE_BYTES;
      for (let k = 0; k < CODE_BYTES; k++) u[row + k]! ^= t[row + k]! ^ code[k]!;
      values.set(outputHash(this.salt, b, t.subarray(row, row + CODE_BYTES)), b * VALUE_BYTES);
    }
    this.#values = values;
    return u;
  }

  /** The positions (in the item list given) of the items whose OPRF value is among `values`. */
  matches(values: ReadonlySet<string>): number[] {
    if (this.#values === undefined) throw new Error('query first');
    const found: number[] = [];
    for (let b = 0; b < this.bins; b++) {
      const x = this.#table.item[b]!;
      if (x === -1) continue;
      if (values.has(Buffer.from(this.#values.subarray(b * VALUE_BYTES, (b + 1) * VALUE_BYTES)).toString('latin1'))) found.push(x);
    }
    return found.sort((a, b) => a - b);
  }

  /** F_b(y_b) for every item, in the item list's order (for the tests' plaintext reference). */
  valuesByItem(): Uint8Array[] {
    if (this.#values === undefined) throw new Error('query first');
    const out: Uint8Array[] = [];
    for (let b = 0; b < this.bins; b++) {
      const x = this.#table.item[b]!;
      if (x !== -1) out[x] = this.#values.subarray(b * VALUE_BYTES, (b + 1) * VALUE_BYTES);
    }
    return out;
  }
}

/**
 * The sender's key for one batch: from its choice bits s, the chosen seeds k_j^{s_j} and the
 * receiver's u, the rows Q_b = T_b ⊕ (C(y_b) ∧ s) with which it evaluates every F_b.
 */
export class OprfSender {
  readonly #q: Uint8Array;
  readonly #s: Uint8Array;
  readonly #salt: Uint8Array;
  readonly bins: number;

  constructor(s: Bits, seeds: readonly Uint8Array[], u: Uint8Array, bins: number, salt: Uint8Array, label: string, where: string) {
    if (s.length !== CODE_BITS || seeds.length !== CODE_BITS) throw new RangeError(`expected ${CODE_BITS} choice bits and seeds`);
    if (u.length !== bins * CODE_BYTES) throw new PeerError(`expected an OPRF query of ${bins * CODE_BYTES} bytes, got ${u.length}`, { where });
    if (salt.length !== SALT_BYTES) throw new PeerError(`expected a salt of ${SALT_BYTES} bytes, got ${salt.length}`, { where });
    this.bins = bins;
    this.#salt = Uint8Array.from(salt);
    this.#s = new Uint8Array(CODE_BYTES);
    for (let j = 0; j < CODE_BITS; j++) this.#s[j >>> 3]! |= (s[j]! & 1) << (j & 7);
    const q = expandRows(seeds, bins, label);
    for (let b = 0; b < bins; b++) {
      const row = b * CODE_BYTES;
      for (let k = 0; k < CODE_BYTES; k++) q[row + k]! ^= u[row + k]! & this.#s[k]!;
    }
    this.#q = q;
  }

  /**
   * F_{h_i(x)}(x‖i) for every item x and i = 0, 1, 2: HASHES values per item, item-major
   * (item x, hash i at position HASHES·x + i). One of them is the receiver's value exactly when
   * the receiver holds x.
   */
  evaluate(items: readonly string[]): Uint8Array {
    const out = new Uint8Array(items.length * HASHES * VALUE_BYTES);
    const row = new Uint8Array(CODE_BYTES);
    digests(items, this.#salt).forEach((d, x) => {
      for (let i = 0; i < HASHES; i++) {
        const b = binOf(d, i, this.bins);
        const code = codeWord(d, i, this.#salt);
        const at = b * CODE_BYTES;
        for (let k = 0; k < CODE_BYTES; k++) row[k] = this.#q[at + k]! ^ (code[k]! & this.#s[k]!);
        out.set(outputHash(this.#salt, b, row), (HASHES * x + i) * VALUE_BYTES);
      }
    });
    return out;
  }
}
