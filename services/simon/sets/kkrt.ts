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
// H is a fixed-key AES chain over the row's four blocks (outputHashes), batched over every value.
// For x ≠ y_b, Q_b ⊕ (C(x) ∧ s) = T_b ⊕ ((C(x) ⊕ C(y_b)) ∧ s): the receiver knows T_b but not the
// bits of s where the two code words differ (about half of 512), so F_b(x) is pseudorandom to it.
// Both sides expand the seeds and transpose with the OT-extension pieces of ../order/ot.ts; u is
// sent as rows (the receiver XORs in row space), so neither side ever transposes rows back.

import { createCipheriv, createHash, hash as cryptoHash, randomBytes } from 'node:crypto';
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

/** Bytes of an item's id and of one AES block. */
export const ID_BYTES = 16;

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

/**
 * Each item's id: the first 16 bytes of SHA-256 of a domain tag and its exact UTF-8 bytes (two
 * distinct items share an id with probability n²/2^129). Hashed once per computation; everything
 * per batch is derived from the ids by AES, batched (one OpenSSL call per list, no object per item).
 */
export function itemIds(items: readonly string[]): Uint8Array {
  const out = new Uint8Array(items.length * ID_BYTES);
  // A string input is hashed as its UTF-8 bytes: the same bytes as the domain followed by the item's.
  for (let x = 0; x < items.length; x++) out.set((cryptoHash('sha256', ITEM_DOMAIN + items[x]!, 'buffer') as unknown as Buffer).subarray(0, ID_BYTES), x * ID_BYTES);
  return out;
}
const ITEM_DOMAIN = 'tessera/simon/sets/kkrt/item/v1\0';

/** AES-128 in ECB mode under `key` over whole blocks: a pseudorandom permutation of each block. */
export function aesBlocks(key: Uint8Array, blocks: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  return cipher.update(blocks);
}

/**
 * The batch's view of the ids: e_x = AES_salt(id_x). The bins and code words of x come from e_x,
 * so a fresh salt gives fresh bins (a new cuckoo table) and fresh code words.
 */
export function saltedIds(ids: Uint8Array, salt: Uint8Array): Uint8Array {
  return aesBlocks(salt, ids);
}

/**
 * Bin h_i(x) for i = 0, 1, 2: the i-th 32-bit word (little-endian) of e_x mod bins. The modulo bias
 * (below bins / 2^32) only makes some bins slightly fuller; the bins are public, so it costs no
 * secrecy. `words` is one DataView over all the salted ids (no object per lookup).
 */
function binOf(words: DataView, x: number, i: number, bins: number): number {
  return words.getUint32(x * ID_BYTES + 4 * i, true) % bins;
}

function wordsOf(salted: Uint8Array): DataView {
  return new DataView(salted.buffer, salted.byteOffset, salted.length);
}

/** A 32-bit view of `bytes` (copied first if it is not 4-byte aligned), for XOR and AND four bytes at a time. */
function int32(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Int32Array(Uint8Array.from(bytes).buffer);
}

/** e_x with the tweak t XORed into its last byte: distinct (x, t) give distinct blocks except with probability about n²·2^-128. */
function tweaked(salted: Uint8Array, x: number, t: number, out: Uint8Array, at: number): void {
  out.set(salted.subarray(x * ID_BYTES, (x + 1) * ID_BYTES), at);
  out[at + ID_BYTES - 1]! ^= t;
}

/**
 * The code words C(x‖i) of every item and hash, item-major (HASHES · CODE_BYTES per item): the four
 * blocks AES_salt(e_x ⊕ (i, j)), j = 0…3, of a pseudorandom function under the batch's salt; KKRT
 * §4 needs only a pseudorandom code, and with CODE_BITS = 512 two code words agree in fewer than
 * κ = 128 positions with negligible probability.
 */
function codeWords(salted: Uint8Array, salt: Uint8Array): Uint8Array {
  const n = salted.length / ID_BYTES;
  const perItem = HASHES * CODE_BYTES;
  const blocks = new Uint8Array(n * perItem);
  const from = int32(salted);
  const to = new Int32Array(blocks.buffer);
  for (let x = 0; x < n; x++) {
    for (let k = 0; k < perItem / ID_BYTES; k++) {
      // Block k = 4i + j of item x: e_x with the tweak 1 + k in its last byte.
      const at = x * (perItem / 4) + 4 * k;
      to[at] = from[4 * x]!;
      to[at + 1] = from[4 * x + 1]!;
      to[at + 2] = from[4 * x + 2]!;
      to[at + 3] = from[4 * x + 3]!;
      blocks[4 * at + ID_BYTES - 1]! ^= 1 + k;
    }
  }
  return aesBlocks(salt, blocks);
}

/**
 * The key of item x under hash i in a hint table (multi-party.ts), written at `at` of `out`: e_x
 * tweaked by 16 + i, apart from every code block's tweak.
 */
function tableKey(salted: Uint8Array, x: number, i: number, out: Uint8Array, at: number): void {
  tweaked(salted, x, 16 + i, out, at);
}

/**
 * The output hash H(tag, b, row) of every value at once: `bins[v]` and the 512-bit `rows[v]`
 * (CODE_BYTES each) give value v (VALUE_BYTES each). KKRT (§3) need H to be "d-Hamming
 * correlation robust": for rows t_v ⊕ (d_v ∧ s) with every d_v of weight at least d = κ and s
 * secret, the values must look random (a random oracle is; the code's distance gives the d). Here
 * H is a Matyas–Meyer–Oseas chain of a fixed-key AES-128 permutation π over the row's four
 * 16-byte blocks r_1 … r_4:
 *   h_0 = AES_salt(b ‖ tag ‖ domain),  y_j = h_{j−1} ⊕ r_j,  h_j = π(y_j) ⊕ y_j,  H = h_4,
 * computed a block position at a time for all values (four AES-ECB calls under π and one under
 * the salt per batch, instead of one SHA-256 call per value, which was half of SetIntersection's
 * CPU). The argument, in the random-permutation model for π (as Guo, Katz, Wang and Yu, "Efficient
 * and Secure Multiparty Computation from Fixed-Key Block Ciphers", IEEE S&P 2020, analyse
 * π(x) ⊕ x; docs/set-protocols.md §2b): h_4 is uniform to anyone who has not queried π at y_4,
 * and y_4 is known only to whoever knows h_3 and r_4, hence, down the chain, the whole row: for a
 * value the receiver should not learn, the bits of s under d, at least κ of them, so each query
 * finds any of the V values' chains with probability at most V·2^-κ. The tweak h_0 is distinct
 * for every (batch salt, bin, tag), so chains of different bins, tags or batches never share an
 * input (except with probability 2^-128 per pair); within one (bin, tag) two values meet only
 * where their rows do, as they would under a random oracle. π's key is its own, not the one of
 * ../order/ot.ts, so the two hashes are independent permutations.
 */
export function outputHashes(salt: Uint8Array, tag: number, bins: Uint32Array, rows: Uint8Array): Uint8Array {
  const count = bins.length;
  if (rows.length !== count * CODE_BYTES) throw new RangeError('one 512-bit row per value');
  const tweaks = Buffer.alloc(count * VALUE_BYTES, OUT_TWEAK);
  for (let v = 0; v < count; v++) {
    tweaks.writeUInt32LE(bins[v]!, v * VALUE_BYTES);
    tweaks[v * VALUE_BYTES + 4] = tag;
  }
  const h = int32(aesBlocks(salt, tweaks));
  const r = int32(rows);
  const y = new Int32Array(count * 4);
  const yBytes = new Uint8Array(y.buffer);
  const words = CODE_BYTES / 4;
  for (let j = 0; j < CODE_BYTES / VALUE_BYTES; j++) {
    for (let v = 0; v < count; v++) {
      const at = 4 * v;
      const from = words * v + 4 * j;
      y[at] = h[at]! ^ r[from]!;
      y[at + 1] = h[at + 1]! ^ r[from + 1]!;
      y[at + 2] = h[at + 2]! ^ r[from + 2]!;
      y[at + 3] = h[at + 3]! ^ r[from + 3]!;
    }
    const p = int32(OUT_PI.update(yBytes));
    for (let k = 0; k < y.length; k++) h[k] = p[k]! ^ y[k]!;
  }
  return new Uint8Array(h.buffer, h.byteOffset, count * VALUE_BYTES);
}
/** The tweak block's fixed part (bytes 5…15; bytes 0…4 are the bin and the tag): a new domain, since H changed from SHA-256 (v1). */
const OUT_TWEAK = Buffer.from('\0\0\0\0\0kkrt/out/v2', 'latin1');
/** π of outputHashes: AES-128 under a fixed, public key (any fixed key will do), one reusable ECB cipher. */
const OUT_PI = createCipheriv('aes-128-ecb', createHash('sha256').update('tessera/simon/sets/kkrt/out/aes-128/v2').digest().subarray(0, 16), null);
OUT_PI.setAutoPadding(false);

/** The bins × 512 matrix whose columns are G(seed_j), as rows of CODE_BYTES: four 128-column transposes. */
function expandRows(seeds: readonly Uint8Array[], bins: number, label: string): Uint8Array {
  const columns = expandColumns(seeds, label, columnBytes(bins));
  const rows = new Uint8Array(bins * CODE_BYTES);
  for (let g = 0; g < CODE_BITS / KAPPA; g++) transpose(columns.slice(g * KAPPA, (g + 1) * KAPPA), bins, { rows, stride: CODE_BYTES, offset: g * 16 });
  return rows;
}

/** The items placed in a cuckoo table: slot b holds item `item[b]` (−1: empty) under hash `hash[b]`. */
interface Table {
  readonly item: Int32Array;
  readonly hash: Uint8Array;
}

/** Inserts every item by random-walk cuckoo hashing; undefined when a walk exceeds its bound. */
function cuckoo(salted: Uint8Array, bins: number): Table | undefined {
  const n = salted.length / ID_BYTES;
  const item = new Int32Array(bins).fill(-1);
  const hash = new Uint8Array(bins);
  const limit = 100 + 10 * Math.ceil(Math.log2(bins + 1)) ** 2;
  const coin = randomBytes(4 * (n + 1));
  const words = wordsOf(salted);
  let c = 0;
  for (let x = 0; x < n; x++) {
    let current = x;
    let placed = false;
    for (let step = 0; step < limit && !placed; step++) {
      for (let i = 0; i < HASHES; i++) {
        const b = binOf(words, current, i, bins);
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
      const b = binOf(words, current, i, bins);
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
 * The receiver's side of one batch: its items (by their ids, itemIds) in a cuckoo table under a
 * fresh salt (a new salt if insertion fails, which happens with probability about 2^-40; the salt
 * the sender sees is then one that works for the receiver's set, see docs), then `query` with its
 * OT seed pairs.
 */
export class OprfReceiver {
  readonly salt: Uint8Array;
  readonly bins: number;
  readonly #table: Table;
  readonly #salted: Uint8Array;
  readonly #count: number;
  /** T, a row per bin, after query: the receiver's value in bin b is H(tag, b, T_b). */
  #t: Uint8Array | undefined;

  constructor(ids: Uint8Array, bins: number = binsFor(ids.length / ID_BYTES)) {
    this.#count = ids.length / ID_BYTES;
    if (bins < this.#count) throw new RangeError('fewer bins than items');
    for (let attempt = 0; ; attempt++) {
      const salt = randomBytes(SALT_BYTES);
      const salted = saltedIds(ids, salt);
      const table = cuckoo(salted, bins);
      if (table !== undefined) {
        this.salt = salt;
        this.bins = bins;
        this.#table = table;
        this.#salted = salted;
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
    const codes = codeWords(this.#salted, this.salt);
    const empty = randomBytes(CODE_BYTES * this.bins);
    for (let b = 0; b < this.bins; b++) {
      const x = this.#table.item[b]!;
      const code = x === -1 ? empty.subarray(b * CODE_BYTES) : codes.subarray((x * HASHES + this.#table.hash[b]!) * CODE_BYTES);
      const row = b * CODE_BYTES;
      for (let k = 0; k < CODE_BYTES; k++) u[row + k]! ^= t[row + k]! ^ code[k]!;
    }
    this.#t = t;
    return u;
  }

  /** The positions (in the item list given) of the items whose OPRF value (tag 0) is among `values`. */
  matches(values: ReadonlySet<string>): number[] {
    const found: number[] = [];
    const mine = this.values(0);
    for (let x = 0; x < this.#count; x++) {
      if (values.has(Buffer.from(mine.buffer, mine.byteOffset + x * VALUE_BYTES, VALUE_BYTES).toString('latin1'))) found.push(x);
    }
    return found;
  }

  /** F_b(y_b‖i) under `tag` for every item y_b (in bin b under hash i), in the item list's order: VALUE_BYTES each. */
  values(tag = 0): Uint8Array {
    const t = this.#t;
    if (t === undefined) throw new Error('query first');
    const bins = new Uint32Array(this.#count);
    const rows = new Uint8Array(this.#count * CODE_BYTES);
    for (let b = 0; b < this.bins; b++) {
      const x = this.#table.item[b]!;
      if (x === -1) continue;
      bins[x] = b;
      rows.set(t.subarray(b * CODE_BYTES, (b + 1) * CODE_BYTES), x * CODE_BYTES);
    }
    return outputHashes(this.salt, tag, bins, rows);
  }

  /** The same values, one array per item. */
  valuesByItem(tag = 0): Uint8Array[] {
    const all = this.values(tag);
    return Array.from({ length: this.#count }, (_, x) => all.subarray(x * VALUE_BYTES, (x + 1) * VALUE_BYTES));
  }

  /** The hint-table key of each item under the hash it sits in (multi-party.ts), in the item list's order: ID_BYTES each. */
  tableKeys(): Uint8Array {
    const out = new Uint8Array(this.#count * ID_BYTES);
    for (let b = 0; b < this.bins; b++) {
      const x = this.#table.item[b]!;
      if (x !== -1) tableKey(this.#salted, x, this.#table.hash[b]!, out, x * ID_BYTES);
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
  readonly salt: Uint8Array;
  readonly bins: number;

  constructor(s: Bits, seeds: readonly Uint8Array[], u: Uint8Array, bins: number, salt: Uint8Array, label: string, where: string) {
    if (s.length !== CODE_BITS || seeds.length !== CODE_BITS) throw new RangeError(`expected ${CODE_BITS} choice bits and seeds`);
    if (u.length !== bins * CODE_BYTES) throw new PeerError(`expected an OPRF query of ${bins * CODE_BYTES} bytes, got ${u.length}`, { where });
    if (salt.length !== SALT_BYTES) throw new PeerError(`expected a salt of ${SALT_BYTES} bytes, got ${salt.length}`, { where });
    this.bins = bins;
    this.salt = Uint8Array.from(salt);
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
   * F_{h_i(x)}(x‖i) for every item x (by id) and i = 0, 1, 2, under each tag: per tag HASHES
   * values per item, item-major (item x, hash i at position HASHES·x + i). One of them is the
   * receiver's value exactly when the receiver holds x. Also the hint-table key of every (x, i)
   * in the same order (ID_BYTES each).
   */
  evaluate(ids: Uint8Array, tags: readonly number[] = [0]): { values: Uint8Array[]; keys: Uint8Array } {
    const salted = saltedIds(ids, this.salt);
    const words = wordsOf(salted);
    const n = salted.length / ID_BYTES;
    const codes = int32(codeWords(salted, this.salt));
    const q = int32(this.#q);
    const s = int32(this.#s);
    const perRow = CODE_BYTES / 4;
    const count = n * HASHES;
    const bins = new Uint32Array(count);
    const rows = new Int32Array(count * perRow);
    const keys = new Uint8Array(count * ID_BYTES);
    for (let x = 0; x < n; x++) {
      for (let i = 0; i < HASHES; i++) {
        const v = HASHES * x + i;
        const b = binOf(words, x, i, this.bins);
        bins[v] = b;
        // Q_b ⊕ (C(x‖i) ∧ s), four bytes at a time.
        for (let k = 0; k < perRow; k++) rows[v * perRow + k] = q[b * perRow + k]! ^ (codes[v * perRow + k]! & s[k]!);
        tableKey(salted, x, i, keys, v * ID_BYTES);
      }
    }
    const rowBytes = new Uint8Array(rows.buffer);
    return { values: tags.map((tag) => outputHashes(this.salt, tag, bins, rowBytes)), keys };
  }
}
