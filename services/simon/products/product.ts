// The product of two matrices held by two parties, revealing only the product to both:
// party 0 holds X (p×n), party 1 holds Y (n×q), both learn X·Y. docs/products.md has the
// construction and the argument of what each party sees. In short, on Paillier's additively
// homomorphic encryption (Paillier 1999), with the product masked before it is decrypted, between
// the key owner K, which holds the right factor, and the evaluator E, which holds the left one:
//
//   shapes     both:   own shape (public: the output's shape and the shared n imply it)
//   key        K→E:    K's Paillier public key N
//   encrypted  K→E:    Enc(Σ_t B^t·Y_k,sb+t): each row of Y packed, S entries per plaintext
//   masked     E→K:    Π_k Enc(row k)^X_ik · Enc(R) = Enc(Σ_t B^t·((XY)_i,sb+t + m_t)), re-randomised
//   opened     both:   K sends Z = Dec(masked), E sends R = Σ_t B^t·m_t
//
// then each reads digit t of Z − R in base B as (X·Y)_i,sb+t. K is party 1, holding Y, unless
// the product is cheaper transposed, X·Y = (Yᵀ·Xᵀ)ᵀ: then party 0 is K with Xᵀ and party 1 is E
// with Yᵀ (`orientation`: OLS's p×N by N×1 takes a p-th of the exponentiations that way). Packing
// works because X_ik scales a whole packed row of Y at once: one ciphertext per S entries of Y, one
// exponentiation per S products, one re-randomisation and decryption per S outputs. Entries are
// fixed-point integers (matrix.ts): |x|, |y| < 2^127 at scale 2^64, so a product entry has
// |Σ| < n·2^254 = 2^κ (κ = 254 + bits(n)). Each mask digit m_t = 2^κ + u_t with u_t uniform in
// [0, 2^(κ+σ)), σ = 64, makes every digit of Z non-negative and below B = 2^(κ+σ+1), so digits
// never carry, and hides (X·Y)_ij from K up to statistical distance 2^(1−σ) per entry
// (docs/products.md); S = ⌊2046/(κ+σ+1)⌋ digits fit far below N/2 (6 for any n up to 10^6).
//
// The exponentiations (randomisers, Σ terms, decryptions) run on the modexp pool's worker threads
// (services/common/modexp-pool.ts), one batch at a time, so they use every core and the server's
// event loop stays free; between batches a failed session stops the work. Each wait gets the
// server's stage timeout plus a budget for the work the sender does first.

import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ConflictError, PeerError, TesseraError, TooLargeError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { defineStages, gather, partyName, raisedByEveryParty, scatter } from '../../common/stages.js';
import { PaillierPublicKey, productOnline, serverPaillierKey, type PaillierKeyPair } from '../../common/paillier.js';
import { defaultModExpPool } from '../../common/modexp-pool.js';
import { decodeProduct, type Shape } from './matrix.js';

export const PRODUCT_STAGES = defineStages(['shapes', 'key', 'encrypted', 'masked', 'opened'] as const);

/**
 * An agreed term of both products: which party owns the key (`orientation`). Servers from before the
 * transposed orientation always made party 1 the key owner; with one of them the session fails at
 * once with a 409 "disagrees on key_owner", where both parties would otherwise wait for a key.
 */
export const KEY_OWNER_TERM = { key_owner: 'party 1, or party 0 where the transposed product takes fewer exponentiations' } as const;

/** σ: the statistical hiding of a packed mask digit (distance 2^(1−σ) per entry). */
export const MASK_SLACK_BITS = 64;

/** The packing for a shared dimension n: digit width, digits per plaintext, and κ. */
export interface Packing {
  /** |each output entry| < 2^kappa. */
  readonly kappa: number;
  /** Bits of one digit: B = 2^width. */
  readonly width: number;
  /** Digits (entries) per plaintext. */
  readonly slots: number;
}

export function packingFor(n: number): Packing {
  const kappa = 254 + Math.ceil(Math.log2(n + 1));
  const width = kappa + MASK_SLACK_BITS + 1;
  return { kappa, width, slots: Math.floor(2046 / width) };
}

/** Entries per message: 256 ciphertexts are 128 KiB and about a second of work. */
export const CHUNK = 256;
/** Most Σ terms (p·n·q exponentiations before packing, a few ms each) one product may take: about two hours. */
export const MAX_TERMS = 2_000_000;

// Budgets on top of the stage timeout, generous for a loaded machine (measured costs are about
// a tenth: bench/simon-products.ts). They bound a wait; they do not slow anything down.
const KEY_BUDGET_MS = 120_000; // first use: prime search for a 2048-bit key
const ENCRYPT_BUDGET_MS = 100; // per ciphertext at the key owner
const TERM_BUDGET_MS = 20; // per exponentiation at the evaluator
const OUTPUT_BUDGET_MS = 200; // per re-randomised output at the evaluator
/** Σ-term exponentiations per thread handed to the pool at once: tens of milliseconds of work. */
const TERM_BATCH = 64;
const DECRYPT_BUDGET_MS = 100; // per decryption at the key owner

export interface ProductInput {
  /** X at party 0, Y at party 1: signed fixed-point integers (scale 2^64), rows of equal length. */
  readonly matrix: readonly (readonly bigint[])[];
  readonly shape: Shape;
}

export interface ProductOptions {
  /** The server's per-wait timeout, to which each wait adds the budget of the work before it. */
  readonly stageTimeoutMs: number;
  /** The problem when X's columns ≠ Y's rows: names both shapes in the microprotocol's words. */
  mismatch(x: Shape, y: Shape): string;
}

function chunks(total: number): number {
  return Math.ceil(total / CHUNK);
}

function encodeShape(shape: Shape): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ rows: shape.rows, cols: shape.cols }));
}

function decodeShape(payload: Uint8Array, where: string): Shape {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new PeerError('malformed shape message', { where });
  }
  const { rows, cols } = (value ?? {}) as Record<string, unknown>;
  for (const d of [rows, cols]) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) throw new PeerError('malformed shape message', { where });
  }
  return { rows: rows as number, cols: cols as number };
}

/** Stops a long computation as soon as the session fails (an abort, a shutdown). */
async function checkpoint(session: Session): Promise<void> {
  await nextTurn();
  if (session.signal.aborted) {
    const reason: unknown = session.signal.reason;
    throw reason instanceof TesseraError ? reason : new PeerError('the session failed');
  }
}

/**
 * Runs the product on an open two-party session (inside runProtocol) and returns X·Y as rows of
 * doubles, the same at both parties.
 */
export async function secureProduct(session: Session, input: ProductInput, options: ProductOptions): Promise<number[][]> {
  const me = session.myself;
  const peer = peerLink(session, options.stageTimeoutMs);

  // Stage "shapes": agree on the shapes before anything else is sent.
  const [, theirs] = await Promise.all([
    peer.send(PRODUCT_STAGES.shapes, encodeShape(input.shape)),
    peer.receive(PRODUCT_STAGES.shapes, 0, 0, decodeShape),
  ]);
  const x = me === 0 ? input.shape : theirs;
  const y = me === 1 ? input.shape : theirs;
  // Both shapes were received and acknowledged at both parties, so each party makes these two
  // checks itself and answers the same 409 or 413; neither tells the other (an abort notice would
  // race the other's own check).
  if (x.cols !== y.rows) {
    throw raisedByEveryParty(new ConflictError(options.mismatch(x, y), { where: 'kwargs.data', extra: { x: [x.rows, x.cols], y: [y.rows, y.cols] } }));
  }
  if (x.rows * x.cols * y.cols > MAX_TERMS) {
    throw raisedByEveryParty(
      new TooLargeError(`X·Y with X ${x.rows}×${x.cols} and Y ${y.rows}×${y.cols} takes ${x.rows * x.cols * y.cols} products; at most ${MAX_TERMS}`, { where: 'kwargs.data' }),
    );
  }
  const sizes = { p: x.rows, n: x.cols, q: y.cols };
  const transposed = orientation(sizes) === 'transposed';
  // The roles' product is X·Y as given, or Yᵀ·Xᵀ with party 1 on the left.
  const roles: Roles = transposed
    ? { sizes: { p: sizes.q, n: sizes.n, q: sizes.p }, other: partyName(session, 1 - me), entry: (i, j) => `[${j}][${i}]` }
    : { sizes, other: partyName(session, 1 - me), entry: (i, j) => `[${i}][${j}]` };
  const matrix = transposed ? transpose(input.matrix) : input.matrix;
  let product: number[][];
  if (me === (transposed ? 0 : 1)) {
    const key = await serverPaillierKey();
    product = await key.online(() => keyOwner(session, peer, matrix, roles, key, options.stageTimeoutMs));
  } else {
    product = await productOnline(() => evaluator(session, peer, matrix, roles, options.stageTimeoutMs));
  }
  return transposed ? transpose(product) : product;
}

/**
 * Which party owns the key, decided by both parties from the two shapes alone: 'as-given', party 1
 * encrypts Y's rows and party 0 raises them to X's entries (p·n·⌈q/S⌉ Σ-term exponentiations, the
 * bulk of the work), or 'transposed', party 0 encrypts X's columns (the rows of Xᵀ) and party 1
 * raises them to Y's entries (q·n·⌈p/S⌉), whichever takes fewer; a tie stays as given. The
 * encryptions (n·⌈q/S⌉ or n·⌈p/S⌉) are left out: they come mostly from the key owner's offline pool.
 */
export function orientation({ p, n, q }: Sizes): 'as-given' | 'transposed' {
  const { slots } = packingFor(n);
  return q * Math.ceil(p / slots) < p * Math.ceil(q / slots) ? 'transposed' : 'as-given';
}

function transpose<T>(rows: readonly (readonly T[])[]): T[][] {
  return Array.from({ length: rows[0]!.length }, (_, j) => rows.map((row) => row[j]!));
}

/** The other party, through stages.ts (errors name the party and the stage). */
interface PeerLink {
  /** Sends one message; the promise is already handled, so it may be awaited later. */
  send(stage: string, payload: Uint8Array, seq?: number): Promise<void>;
  /** Waits the stage timeout plus `budgetMs` (the work the other party does first). */
  receive<T>(stage: string, seq: number, budgetMs: number, decode: (payload: Uint8Array, where: string) => T): Promise<T>;
}

function peerLink(session: Session, stageTimeoutMs: number): PeerLink {
  const other = 1 - session.myself;
  const who = partyName(session, other);
  return {
    send(stage, payload, seq = 0) {
      const sent = scatter(session, stage, () => payload, { seq, to: [other] });
      // A send that fails while this party computes must not be an unhandled rejection; it is
      // reported where it is awaited, and the session's abort stops the computation.
      sent.catch(() => {});
      return sent;
    },
    async receive(stage, seq, budgetMs, decode) {
      const got = await gather(session, stage, [other], (payload) => decode(payload, who), { seq, timeoutMs: stageTimeoutMs + budgetMs });
      return got.get(other)!;
    },
  };
}

/** The left factor is p×n (the evaluator's), the right one n×q (the key owner's). */
export interface Sizes {
  readonly p: number;
  readonly n: number;
  readonly q: number;
}

/** The product as the two roles compute it. */
interface Roles {
  readonly sizes: Sizes;
  /** The other party, as errors name it. */
  readonly other: string;
  /** Entry (i, j) of the roles' product as the parties' output names it ("[i][j]"). */
  entry(i: number, j: number): string;
}

/** Row k of Y packed: block b holds columns b·S … b·S + S − 1 as Σ_t B^t·Y_k,bS+t (a signed integer). */
function packRow(row: readonly bigint[], block: number, { width, slots }: Packing): bigint {
  let v = 0n;
  const end = Math.min(row.length, (block + 1) * slots);
  for (let j = end - 1; j >= block * slots; j--) v = (v << BigInt(width)) + row[j]!;
  return v;
}

/** The key owner: encrypts the right factor's rows under its key, decrypts the masked product. */
async function keyOwner(session: Session, peer: PeerLink, right: readonly (readonly bigint[])[], roles: Roles, key: PaillierKeyPair, stageTimeoutMs: number): Promise<number[][]> {
  const { p, n, q } = roles.sizes;
  const pk = key.publicKey;
  await peer.send(PRODUCT_STAGES.key, pk.toBytes());
  const packing = packingFor(n);
  const blocksPerRow = Math.ceil(q / packing.slots);

  // Stage "encrypted": Y's rows packed, row-major, one chunk at a time; a chunk's send overlaps
  // the next one's encryption.
  const count = n * blocksPerRow;
  let sending: Promise<void> = Promise.resolve();
  for (let s = 0; s < chunks(count); s++) {
    const first = s * CHUNK;
    const rhos = await key.randomizers(Math.min(CHUNK, count - first), defaultModExpPool, stageTimeoutMs + CHUNK * ENCRYPT_BUDGET_MS);
    await checkpoint(session);
    const cts = rhos.map((rho, t) => pk.encryptWith(packRow(right[Math.floor((first + t) / blocksPerRow)]!, (first + t) % blocksPerRow, packing), rho));
    await sending;
    sending = peer.send(PRODUCT_STAGES.encrypted, pk.encodeCiphertexts(cts), s);
  }
  await sending;

  // Stages "masked" and "opened": decrypt each chunk and return Z at once; receive R.
  const total = p * blocksPerRow;
  const firstBudget = p * count * TERM_BUDGET_MS + total * OUTPUT_BUDGET_MS;
  const z: bigint[] = [];
  const sends: Promise<void>[] = [];
  for (let s = 0; s < chunks(total); s++) {
    const count = Math.min(CHUNK, total - s * CHUNK);
    const budget = s === 0 ? firstBudget : CHUNK * OUTPUT_BUDGET_MS;
    const masked = await peer.receive(PRODUCT_STAGES.masked, s, budget, (b, who) => pk.decodeCiphertexts(b, count, who));
    const plain = await key.decryptAll(masked, defaultModExpPool, stageTimeoutMs + count * DECRYPT_BUDGET_MS);
    await checkpoint(session);
    z.push(...plain);
    sends.push(peer.send(PRODUCT_STAGES.opened, pk.encodeResidues(plain), s));
  }
  const r: bigint[] = [];
  for (let s = 0; s < chunks(total); s++) {
    const count = Math.min(CHUNK, total - s * CHUNK);
    r.push(...(await peer.receive(PRODUCT_STAGES.opened, s, 0, (b, who) => pk.decodeResidues(b, count, who))));
  }
  await Promise.all(sends);
  return open(z, r, p, q, packing, roles);
}

/** The evaluator: computes left·Enc(right) + Enc(R) on the key owner's packed ciphertexts. */
async function evaluator(session: Session, peer: PeerLink, left: readonly (readonly bigint[])[], roles: Roles, stageTimeoutMs: number): Promise<number[][]> {
  const { p, n, q } = roles.sizes;
  const pk = await peer.receive(PRODUCT_STAGES.key, 0, KEY_BUDGET_MS, (b, who) => PaillierPublicKey.fromBytes(b, who));
  const X = left;
  const packing = packingFor(n);
  const blocksPerRow = Math.ceil(q / packing.slots);
  const total = p * blocksPerRow;
  const count = n * blocksPerRow;

  // The randomisers of stage "masked" depend on nothing but the key: draw them while the key owner
  // is still encrypting (on the pool's threads, beside the Σ terms), not after its last chunk.
  const randomizers: bigint[] = [];
  const drawing = (async () => {
    for (let s = 0; s < chunks(total); s++) {
      randomizers.push(...(await pk.randomizers(Math.min(CHUNK, total - s * CHUNK), defaultModExpPool, stageTimeoutMs + CHUNK * OUTPUT_BUDGET_MS)));
      await checkpoint(session);
    }
  })();
  drawing.catch(() => {}); // awaited below; a failure here is the session's, reported there

  // Σ_k X_ik·Enc(row block) as two products, of the terms with positive and with negative X_ik, so
  // that every exponent is a short |X_ik| (one inversion per output instead of a 2048-bit exponent).
  const positive = Array.from({ length: total }, () => 1n);
  const negative = Array.from({ length: total }, () => 1n);
  for (let s = 0; s < chunks(count); s++) {
    const received = Math.min(CHUNK, count - s * CHUNK);
    const cts = await peer.receive(PRODUCT_STAGES.encrypted, s, CHUNK * ENCRYPT_BUDGET_MS, (b, who) => pk.decodeCiphertexts(b, received, who));
    // This chunk's terms: the ciphertext, |X_ik|, and the output (its bits inverted when X_ik < 0).
    const bases: bigint[] = [];
    const exponents: bigint[] = [];
    const targets: number[] = [];
    for (let t = 0; t < received; t++) {
      const index = s * CHUNK + t;
      const k = Math.floor(index / blocksPerRow);
      const block = index % blocksPerRow;
      for (let i = 0; i < p; i++) {
        const xik = X[i]![k]!;
        if (xik === 0n) continue;
        const out = i * blocksPerRow + block;
        bases.push(cts[t]!);
        exponents.push(xik > 0n ? xik : -xik);
        targets.push(xik > 0n ? out : ~out);
      }
    }
    // In batches of TERM_BATCH per thread, so that a failed session stops the work within one.
    const batch = TERM_BATCH * defaultModExpPool.size;
    for (let from = 0; from < bases.length; from += batch) {
      const to = Math.min(bases.length, from + batch);
      const powers = await pk.scaleAll(bases.slice(from, to), exponents.slice(from, to), defaultModExpPool, stageTimeoutMs + batch * TERM_BUDGET_MS);
      powers.forEach((power, j) => {
        const out = targets[from + j]!;
        if (out >= 0) positive[out] = pk.add(positive[out]!, power);
        else negative[~out] = pk.add(negative[~out]!, power);
      });
      await checkpoint(session);
    }
  }

  // Stage "masked": Enc(packed XY + R) with a fresh randomiser, so that its randomness (which the
  // key owner can extract with its key) is uniform and independent of X.
  await drawing;
  const r: bigint[] = [];
  const sends: Promise<void>[] = [];
  for (let s = 0; s < chunks(total); s++) {
    const masked: bigint[] = [];
    for (let out = s * CHUNK; out < Math.min(total, (s + 1) * CHUNK); out++) {
      const mask = packedMask(packing);
      r.push(mask);
      let c = pk.add(positive[out]!, pk.encryptWith(mask, randomizers[out]!));
      if (negative[out] !== 1n) c = pk.add(c, pk.negate(negative[out]!));
      masked.push(c);
      await checkpoint(session);
    }
    sends.push(peer.send(PRODUCT_STAGES.masked, pk.encodeCiphertexts(masked), s));
  }
  await Promise.all(sends);

  // Stage "opened": R for Z.
  const z: bigint[] = [];
  const opened: Promise<void>[] = [];
  for (let s = 0; s < chunks(total); s++) {
    opened.push(peer.send(PRODUCT_STAGES.opened, pk.encodeResidues(r.slice(s * CHUNK, (s + 1) * CHUNK)), s));
  }
  for (let s = 0; s < chunks(total); s++) {
    const count = Math.min(CHUNK, total - s * CHUNK);
    z.push(...(await peer.receive(PRODUCT_STAGES.opened, s, CHUNK * DECRYPT_BUDGET_MS, (b, who) => pk.decodeResidues(b, count, who))));
  }
  await Promise.all(opened);
  return open(z, r, p, q, packing, roles);
}

/** Σ_t B^t·(2^κ + u_t), u_t uniform in [0, 2^(κ+σ)) from the CSPRNG: one mask per packed output. */
function packedMask({ kappa, width, slots }: Packing): bigint {
  const bytes = randomBytes(Math.ceil(((kappa + MASK_SLACK_BITS) * slots) / 8));
  let all = BigInt(`0x${bytes.toString('hex')}`);
  const uBits = BigInt(kappa + MASK_SLACK_BITS);
  let mask = 0n;
  for (let t = 0; t < slots; t++) {
    mask += ((1n << BigInt(kappa)) + BigInt.asUintN(Number(uBits), all)) << BigInt(t * width);
    all >>= uBits;
  }
  return mask;
}

/**
 * X·Y from Z (the key owner's decryptions) and R (the evaluator's masks): digit t of output block
 * (i, b) is Z_digit − R_digit = (X·Y)_i,bS+t, a signed integer of scale 2^-128, read as a double. A
 * digit of Z below its mask digit, or beyond B, cannot come from an honest run (the other party
 * sent a wrong value).
 */
function open(z: readonly bigint[], r: readonly bigint[], p: number, q: number, { kappa, width, slots }: Packing, { other, entry: name }: Roles): number[][] {
  const blocksPerRow = Math.ceil(q / slots);
  const digitMask = (1n << BigInt(width)) - 1n;
  const bound = 1n << BigInt(kappa);
  return Array.from({ length: p }, (_, i) =>
    Array.from({ length: q }, (_, j) => {
      const out = i * blocksPerRow + Math.floor(j / slots);
      const shift = BigInt((j % slots) * width);
      const entry = ((z[out]! >> shift) & digitMask) - ((r[out]! >> shift) & digitMask);
      if (entry >= bound || entry <= -bound) throw new PeerError(`product entry ${name(i, j)} is out of range: a wrong opening`, { where: other });
      return decodeProduct(entry, `product${name(i, j)}`);
    }),
  );
}
