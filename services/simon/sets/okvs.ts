// An oblivious key-value store: a table D of 16-byte cells such that, for every key k that was
// encoded with value v, D[p1(k)] ⊕ D[p2(k)] ⊕ D[p3(k)] = v — a garbled cuckoo table, solved by
// peeling (Pinkas, Rosulek, Trieu, Yanai, "PSI from PaXoS: Fast, Malicious Private Set
// Intersection", EUROCRYPT 2020, §4; Garimella, Pinkas, Rosulek, Trieu, Yanai, "Oblivious
// Key-Value Stores and Amplification for Private Set Intersection", CRYPTO 2021, §2 for the
// property used here). Cells no key needs are uniformly random, so when the encoded values are
// uniformly random to a reader, the whole table is, and decoding any key the table was not built
// for yields a value that looks random too: the table tells nothing of its keys.
//
// It is the hint of the programmed OPRF (multi-party.ts): values F(x) ⊕ y, keys the sender's items.

import { randomBytes } from 'node:crypto';
import { PeerError } from '../../errors.js';
import { aesBlocks } from './kkrt.js';

export const CELL_BYTES = 16;
const SEED_BYTES = 16;
const KEY_BYTES = 16;

/**
 * Cells for `keys` keys: three segments of 0.45·keys + 8 (1.35 cells per key, above the 1.222 at
 * which random 3-hypergraphs stop peeling). A function of the key count alone.
 */
export function okvsCells(keys: number): number {
  return 3 * (Math.ceil(0.45 * keys) + 8);
}

/**
 * The three cells of every key (`keys`: KEY_BYTES each, back to back): one in each third of the
 * table, from the words of AES_seed(key) — a pseudorandom permutation under the table's seed, over
 * all keys in one call.
 */
function cellsOf(seed: Uint8Array, keys: Uint8Array, cells: number): Uint32Array {
  if (keys.length % KEY_BYTES !== 0) throw new RangeError('keys are 16 bytes');
  const n = keys.length / KEY_BYTES;
  const h = aesBlocks(seed, keys);
  const words = new DataView(h.buffer, h.byteOffset, h.length);
  const third = cells / 3;
  const out = new Uint32Array(3 * n);
  for (let k = 0; k < n; k++) for (let j = 0; j < 3; j++) out[3 * k + j] = j * third + (words.getUint32(k * KEY_BYTES + 4 * j, true) % third);
  return out;
}

/** An encoded table: its seed (which fixes the cells of every key) and its cells. */
export interface Okvs {
  readonly seed: Uint8Array;
  readonly table: Uint8Array;
}

/** A 32-bit view of `bytes` (copied first if it is not 4-byte aligned): cells are XORed four bytes at a time. */
function int32(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Int32Array(Uint8Array.from(bytes).buffer);
}

/**
 * A table in which each key decodes to its value (`keys`: KEY_BYTES each, back to back; `values`:
 * CELL_BYTES per key). Peeling fails with small probability; a fresh seed is drawn then. The seed
 * that succeeds depends on the keys, but a reader who does not know them cannot test a seed
 * against them.
 */
export function encode(keys: Uint8Array, values: Uint8Array, cells = okvsCells(keys.length / KEY_BYTES)): Okvs {
  const n = keys.length / KEY_BYTES;
  if (values.length !== n * CELL_BYTES) throw new RangeError('one 16-byte value per key');
  const v = int32(values);
  for (let attempt = 0; attempt < 32; attempt++) {
    const seed = randomBytes(SEED_BYTES);
    const at = cellsOf(seed, keys, cells);
    const order = peel(at, n, cells);
    if (order === undefined) continue;
    const table = new Uint8Array(randomBytes(cells * CELL_BYTES));
    const t = new Int32Array(table.buffer);
    // In reverse peeling order each key's own cell is the one no later-solved key touches.
    for (let r = order.length - 1; r >= 0; r--) {
      const k = order[r]! >>> 2;
      const which = order[r]! & 3;
      const own = 4 * at[3 * k + which]!;
      t[own] = v[4 * k]!;
      t[own + 1] = v[4 * k + 1]!;
      t[own + 2] = v[4 * k + 2]!;
      t[own + 3] = v[4 * k + 3]!;
      for (let j = 0; j < 3; j++) {
        if (j === which) continue;
        const other = 4 * at[3 * k + j]!;
        t[own]! ^= t[other]!;
        t[own + 1]! ^= t[other + 1]!;
        t[own + 2]! ^= t[other + 2]!;
        t[own + 3]! ^= t[other + 3]!;
      }
    }
    return { seed, table };
  }
  throw new Error('the key-value table could not be solved in 32 attempts');
}

/**
 * The peeling order: (key << 2 | which of its cells it owns), each key taken when one of its cells
 * has no other unsolved key; undefined if some keys remain (the hypergraph has a 2-core).
 */
function peel(at: Uint32Array, n: number, cells: number): Uint32Array | undefined {
  const degree = new Uint32Array(cells);
  const xorKeys = new Uint32Array(cells);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < 3; j++) {
      degree[at[3 * k + j]!]!++;
      xorKeys[at[3 * k + j]!]! ^= k;
    }
  }
  const stack: number[] = [];
  for (let c = 0; c < cells; c++) if (degree[c] === 1) stack.push(c);
  const order = new Uint32Array(n);
  let done = 0;
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (degree[c] !== 1) continue;
    const k = xorKeys[c]!;
    let which = 0;
    for (let j = 0; j < 3; j++) {
      const d = at[3 * k + j]!;
      if (d === c) which = j;
      degree[d]!--;
      xorKeys[d]! ^= k;
      if (degree[d] === 1) stack.push(d);
    }
    order[done++] = (k << 2) | which;
  }
  return done === n ? order : undefined;
}

/** D[p1(k)] ⊕ D[p2(k)] ⊕ D[p3(k)] for every key (`keys` back to back): CELL_BYTES per key, in the keys' order. */
export function decode(okvs: Okvs, keys: Uint8Array): Uint8Array {
  const n = keys.length / KEY_BYTES;
  const at = cellsOf(okvs.seed, keys, okvs.table.length / CELL_BYTES);
  const t = int32(okvs.table);
  const out = new Int32Array(n * 4);
  for (let k = 0; k < n; k++) {
    const a = 4 * at[3 * k]!, b = 4 * at[3 * k + 1]!, c = 4 * at[3 * k + 2]!;
    for (let w = 0; w < 4; w++) out[4 * k + w] = t[a + w]! ^ t[b + w]! ^ t[c + w]!;
  }
  return new Uint8Array(out.buffer);
}

/** The wire form: the seed, then the cells. */
export function toBytes(okvs: Okvs): Uint8Array {
  const out = new Uint8Array(SEED_BYTES + okvs.table.length);
  out.set(okvs.seed);
  out.set(okvs.table, SEED_BYTES);
  return out;
}

/** A peer's table of exactly `cells` cells. */
export function fromBytes(bytes: Uint8Array, cells: number, where: string): Okvs {
  if (bytes.length !== SEED_BYTES + cells * CELL_BYTES) throw new PeerError(`expected a key-value table of ${SEED_BYTES + cells * CELL_BYTES} bytes, got ${bytes.length}`, { where });
  return { seed: bytes.slice(0, SEED_BYTES), table: bytes.slice(SEED_BYTES) };
}

/** Bytes of a table of `cells` cells on the wire. */
export function okvsBytes(cells: number): number {
  return SEED_BYTES + cells * CELL_BYTES;
}
