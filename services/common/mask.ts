// Combined masks: Σ_t sign_t · PRG(seed_t, label) over Z_2^k, for any range of ring elements.
//
// This is the one kernel behind every additive mask of SecureFedAvg (docs/performance.md): the
// protocol decides WHICH terms exist (pairwise masks with sign ±1, self-masks, neighbours of a
// sparse graph); this module only expands them, as cheaply as the machine allows.
//
// The keystream of a term is exactly MaskStream(seed, label) (services/common/prg.ts): AES-256-CTR
// from the counter block ivFor(label), the ring element e occupying bytes [e·k/8, (e+1)·k/8) of
// the stream. Because CTR mode is random access (SP 800-38A §6.5: block b is AES_K(IV + b)), a
// range starting at element e starts its cipher at counter block ⌊e·k/8 / 16⌋ and discards the
// remainder — no keystream before the range is ever computed. So a mask can be expanded chunk by
// chunk, in any order, just before it is used, and its memory is one chunk, not the model.
//
// Speed (measured on the development machine, docs/performance.md "Masks"): OpenSSL's CTR runs at
// about 2.4 GB/s of CPU per core for outputs of 64–256 KiB per `update`, and markedly slower for
// outputs of several MiB (each call allocates its output; large allocations cost page faults). The
// kernel therefore walks the range in slices of SLICE_BYTES: for each slice it asks every term's
// cipher for one slice of keystream and adds it into the target slice while that slice is still
// in cache — one pass over the target's memory for all terms together.

import { createCipheriv, type Cipher } from 'node:crypto';
import { BadInputError } from '../errors.js';
import { ivFor, SEED_BYTES } from './prg.js';
import { release } from './release.js';
import { addInto, wordsOf, wordsPerElement, type RingBits } from './vector.js';

/** One term of a combined mask: sign · PRG(seed, label). */
export interface MaskTerm {
  readonly seed: Uint8Array;
  readonly sign: 1 | -1;
}

/** Keystream bytes per cipher call: where OpenSSL's CTR through Node runs fastest (measured). */
export const SLICE_BYTES = 64 * 1024;
const zeros = Buffer.alloc(SLICE_BYTES);

/** The counter block `blocks` blocks after ivFor(label): the nonce stays, the 64-bit counter advances. */
export function ivAt(label: string, blocks: number): Buffer {
  const iv = ivFor(label);
  iv.writeBigUInt64BE(BigInt(blocks), 8);
  return iv;
}

/**
 * A cipher positioned at byte `byteOffset` of the stream for (seed, label). Exposed for tests and
 * for callers that keep one cipher per term across consecutive ranges.
 */
export function cipherAt(seed: Uint8Array, label: string, byteOffset: number): Cipher {
  if (seed.length !== SEED_BYTES) {
    throw new BadInputError(`PRG seed must be ${SEED_BYTES} bytes, got ${seed.length}`, { where: label });
  }
  const cipher = createCipheriv('aes-256-ctr', seed, ivAt(label, Math.floor(byteOffset / 16)));
  const skip = byteOffset % 16;
  if (skip > 0) cipher.update(zeros.subarray(0, skip));
  return cipher;
}

/**
 * target ← Σ_t sign_t · PRG(seed_t, label)[elements start .. start + target's length), over
 * Z_2^bits (target is overwritten; with no terms it becomes zero). `target` is a ring vector
 * (vector.ts layout: one word per element for 32 bits, two for 64). `onSlice`, when given, is
 * called as each slice is complete (with the element index of its first element), so a caller
 * can add more into it while the slice is still in cache.
 */
export function expandMaskInto(
  bits: RingBits,
  terms: readonly MaskTerm[],
  label: string,
  target: Uint32Array,
  start: number,
  onSlice?: (slice: Uint32Array, firstElement: number) => void,
): void {
  expand(bits, terms, label, target, start, undefined, onSlice);
}

/**
 * target ← v + Σ_t sign_t · PRG(seed_t, label) over the same range as expandMaskInto, where `fill`
 * writes v into each slice (every element of it, e.g. the encoded model) before the terms are
 * added. One pass fewer than expandMaskInto with an onSlice that adds v: the keystreams are added
 * straight onto v (target += s0·k0 + s1·k1), where expanding first and then adding an encoded
 * block costs a pass to combine the keystreams and another to add the block (docs/performance.md
 * "Kernels"). With no terms, target is v.
 */
export function maskOnto(
  bits: RingBits,
  terms: readonly MaskTerm[],
  label: string,
  target: Uint32Array,
  start: number,
  fill: (slice: Uint32Array, firstElement: number) => void,
): void {
  expand(bits, terms, label, target, start, fill, undefined);
}

function expand(
  bits: RingBits,
  terms: readonly MaskTerm[],
  label: string,
  target: Uint32Array,
  start: number,
  fill: ((slice: Uint32Array, firstElement: number) => void) | undefined,
  onSlice: ((slice: Uint32Array, firstElement: number) => void) | undefined,
): void {
  const w = wordsPerElement(bits);
  if (target.length % w !== 0) throw new BadInputError(`a ${bits}-bit ring vector has a multiple of ${w} words`, { where: 'expandMaskInto' });
  if (!Number.isSafeInteger(start) || start < 0) throw new BadInputError(`mask range start must be a non-negative integer, got ${start}`, { where: 'expandMaskInto' });
  const bytes = target.byteLength;
  const byteStart = start * (bits / 8);
  // A term with sign +1 goes first when there is one: without `fill` the first term is copied
  // into the slice, and a first −1 term would need an extra negation pass.
  const plus = terms.findIndex((t) => t.sign === 1);
  if (plus > 0) terms = [terms[plus]!, ...terms.slice(0, plus), ...terms.slice(plus + 1)];
  const ciphers = terms.map((t) => cipherAt(t.seed, label, byteStart));
  const scratch: { buffer?: Uint32Array } = {};
  const scratch2: { buffer?: Uint32Array } = {};
  for (let at = 0; at < bytes; at += SLICE_BYTES) {
    const n = Math.min(SLICE_BYTES, bytes - at);
    const slice = target.subarray(at / 4, (at + n) / 4);
    const first = start + at / (bits / 8);
    if (fill !== undefined) fill(slice, first);
    else if (ciphers.length === 0) slice.fill(0);
    let t = 0;
    if (ciphers.length >= 2) {
      // The first two terms in one pass: slice ← s0·k0 + s1·k1 (the whole mask of a party among
      // three), or slice += s0·k0 + s1·k1 onto what `fill` wrote. Each pass over the slice costs
      // about as much as the arithmetic it carries.
      const s0 = ciphers[0]!.update(zeros.subarray(0, n));
      const s1 = ciphers[1]!.update(zeros.subarray(0, n));
      const k0 = wordsOf(s0, scratch);
      const k1 = wordsOf(s1, scratch2);
      if (fill !== undefined) addTwoInto(bits, slice, k0, terms[0]!.sign, k1, terms[1]!.sign);
      else combineInto(bits, slice, k0, terms[0]!.sign, k1, terms[1]!.sign);
      // Each call's output is a fresh buffer of its own, dead once added: freed now rather than by
      // the collector (release.ts), so malloc hands the same memory to the next slice's keystream.
      release(s0);
      release(s1);
      t = 2;
    } else if (ciphers.length === 1 && fill === undefined) {
      const s0 = ciphers[0]!.update(zeros.subarray(0, n));
      slice.set(wordsOf(s0, scratch));
      release(s0);
      if (terms[0]!.sign === -1) negateInto(bits, slice);
      t = 1;
    }
    for (; t < ciphers.length; t++) {
      const st = ciphers[t]!.update(zeros.subarray(0, n));
      addInto(bits, slice, wordsOf(st, scratch), terms[t]!.sign);
      release(st);
    }
    onSlice?.(slice, first);
  }
}

/** target ← target + s0·a + s1·b (mod 2^k); a, b and target of equal length. */
function addTwoInto(bits: RingBits, target: Uint32Array, a: Uint32Array, s0: 1 | -1, b: Uint32Array, s1: 1 | -1): void {
  const n = target.length;
  if (bits === 32) {
    if (s0 === 1 && s1 === 1) for (let i = 0; i < n; i++) target[i] = target[i]! + a[i]! + b[i]!;
    else if (s0 === 1) for (let i = 0; i < n; i++) target[i] = target[i]! + a[i]! - b[i]!;
    else if (s1 === 1) for (let i = 0; i < n; i++) target[i] = target[i]! + b[i]! - a[i]!;
    else for (let i = 0; i < n; i++) target[i] = target[i]! - a[i]! - b[i]!;
    return;
  }
  if (target.byteOffset % 8 === 0 && a.byteOffset % 8 === 0 && b.byteOffset % 8 === 0) {
    // Native 64-bit arithmetic through BigUint64Array views (vector.ts addInto): V8 lowers the
    // whole expression, stored into a BigUint64Array, to machine adds; measured as fast as a
    // two-operand add, so the third operand is free.
    const m = n / 2;
    const t = new BigUint64Array(target.buffer, target.byteOffset, m);
    const x = new BigUint64Array(a.buffer, a.byteOffset, m);
    const y = new BigUint64Array(b.buffer, b.byteOffset, m);
    if (s0 === 1 && s1 === 1) for (let i = 0; i < m; i++) t[i] = t[i]! + x[i]! + y[i]!;
    else if (s0 === 1) for (let i = 0; i < m; i++) t[i] = t[i]! + x[i]! - y[i]!;
    else if (s1 === 1) for (let i = 0; i < m; i++) t[i] = t[i]! + y[i]! - x[i]!;
    else for (let i = 0; i < m; i++) t[i] = t[i]! - x[i]! - y[i]!;
    return;
  }
  addInto(bits, target, a, s0);
  addInto(bits, target, b, s1);
}

/**
 * target ← s0·a + s1·b (mod 2^k), overwriting target; a, b and target of equal length. Terms
 * are ordered with a +1 first when there is one (see expandMaskInto), so s0 = −1 means both are −1.
 */
function combineInto(bits: RingBits, target: Uint32Array, a: Uint32Array, s0: 1 | -1, b: Uint32Array, s1: 1 | -1): void {
  const n = target.length;
  if (bits === 32) {
    // Typed-array stores reduce modulo 2^32.
    if (s0 === 1 && s1 === 1) for (let i = 0; i < n; i++) target[i] = a[i]! + b[i]!;
    else if (s0 === 1) for (let i = 0; i < n; i++) target[i] = a[i]! - b[i]!;
    else if (s1 === 1) for (let i = 0; i < n; i++) target[i] = b[i]! - a[i]!;
    else for (let i = 0; i < n; i++) target[i] = -(a[i]! + b[i]!);
    return;
  }
  if (target.byteOffset % 8 === 0 && a.byteOffset % 8 === 0 && b.byteOffset % 8 === 0) {
    // Native 64-bit arithmetic through BigUint64Array views, as in vector.ts addInto.
    const m = n / 2;
    const t = new BigUint64Array(target.buffer, target.byteOffset, m);
    const x = new BigUint64Array(a.buffer, a.byteOffset, m);
    const y = new BigUint64Array(b.buffer, b.byteOffset, m);
    if (s0 === 1 && s1 === 1) for (let i = 0; i < m; i++) t[i] = x[i]! + y[i]!;
    else if (s0 === 1) for (let i = 0; i < m; i++) t[i] = x[i]! - y[i]!;
    else if (s1 === 1) for (let i = 0; i < m; i++) t[i] = y[i]! - x[i]!;
    else for (let i = 0; i < m; i++) t[i] = 0n - x[i]! - y[i]!;
    return;
  }
  // Unaligned target (a caller's view 4 bytes into its buffer): the general path.
  target.set(a);
  if (s0 === -1) negateInto(bits, target);
  addInto(bits, target, b, s1);
}

/** v ← −v mod 2^k in place. */
function negateInto(bits: RingBits, v: Uint32Array): void {
  if (bits === 32) {
    for (let i = 0; i < v.length; i++) v[i] = -v[i]!;
    return;
  }
  if (v.byteOffset % 8 === 0) {
    const b = new BigUint64Array(v.buffer, v.byteOffset, v.length / 2);
    for (let i = 0; i < b.length; i++) b[i] = 0n - b[i]!; // lowered to native 64-bit arithmetic, as in addInto
    return;
  }
  for (let i = 0; i < v.length; i += 2) {
    // −(hi·2^32 + lo) = (¬hi + [lo = 0])·2^32 + (2^32 − lo) mod 2^64
    const lo = v[i]!;
    v[i] = -lo;
    v[i + 1] = ~v[i + 1]! + (lo === 0 ? 1 : 0);
  }
}
