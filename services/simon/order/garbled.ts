// The comparisons of the min/max tournament (extremes.ts) as garbled circuits: for each pair of
// parties p < q and each search, XOR shares at p and q of le = [x ≤ y], where p holds the 64-bit
// key x and q the key y in the clear. It is a two-party function of inputs each side knows, so
// Yao's garbled circuits compute it in the messages the oblivious transfers send anyway (Yao,
// FOCS 1986; Lindell and Pinkas, J. Cryptology 2009, for the semi-honest proof): p garbles, q
// obtains the labels of its bits y_b by the chosen-input OTs that ride in the triples' extension
// (triples.ts RiderOts: q's choice bits are y's bits), and p's OT answer (ot-base-b with a reused
// base, ot-fix after fresh base OTs) carries the OT corrections and the garbled tables. q
// evaluates locally: no message and no round of their own,
// where the byte tables this replaces left a tree of log2 8 = 3 AND layers of GMW to join the
// bytes' signals.
//
// Garbling: free XOR (Kolesnikov and Schneider, ICALP 2008: one secret offset R with lsb(R) = 1,
// W^1 = W^0 ⊕ R, so XOR and NOT cost nothing) and half gates (Zahur, Rosulek and Evans,
// EUROCRYPT 2015, §3: two 16-byte ciphertexts per AND, one for an AND with a bit the garbler
// knows), under the tweakable circular correlation-robust hash H(x, t) = π(π(x) ⊕ t) ⊕ π(x)
// with π fixed-key AES (Guo, Katz, Wang and Yu, IEEE S&P 2020, §7; ot.ts tweakedHash), every
// tweak used once per offset R.
//
// The circuit, with x in the clear at the garbler (so x's bits cost nothing: they choose which
// label stands for 0), c_b = [x mod 2^(b+1) ≤ y mod 2^(b+1)]:
//   c_0 = ¬(x_0 ∧ ¬y_0)                              one garbler half gate (x_0 known to p);
//   c_b = x_b ? (y_b ∧ c_(b−1)) : ¬(¬y_b ∧ ¬c_(b−1))   one half-gate AND; the negations, chosen by
//                                                    x_b, are relabellings (free, and unseen by q);
//   le = c_63.
// 1 + 2·63 ciphertexts per comparison, plus the 64 OT corrections (two labels each). The output
// label's lowest bit is q's share of le, the lowest bit of its 0-label p's share: since lsb(R) = 1
// they XOR to le, and p's share is a uniform bit of the garbling (the permutation bit), so each
// share alone is uniform.
//
// A selecting pair (p and the last party q, extremes.ts) outputs min(x, y) instead of le: per bit,
//   min_b = le ? x_b : y_b = (¬le ∧ (y_b ⊕ x_b)) ⊕ x_b,
// one half-gate AND of ¬le (a relabelling of c_63) and y_b ⊕ x_b (y_b's label, relabelled by the
// x_b p knows), 2 ciphertexts per bit; the output's relabelling by x_b is p's alone, so p's share is
// lsb(0-label) ⊕ x_b. For each flag, f ∨ g = f ⊕ (¬f ∧ g) with f at p and g's label obtained by
// one more OT: one garbler half gate. The tweaks of these gates (128 + …, 256 + …) differ from the
// comparison's (0 … 127), so every tweak is used once per R.
//
// What q sees: the labels of its own bits, one per wire, and the tables — by the half-gates
// theorem (ZRE15, privacy) simulatable from the output label alone, whose lsb is q's share
// of le: uniform, because p's permutation bit masks it. What p sees: the OT extension matrix
// (IKNP receiver privacy: it hides y). Neither learns le; it stays shared for the tournament.

import { randomBytes } from 'node:crypto';
import type { Session } from '../../peer.js';
import { concat, type Bits } from './bits.js';
import { tweakedHash } from './ot.js';
import type { RiderOts } from './triples.js';

const KEY_BITS = 64;
const LABEL = 16;
/**
 * Per search: 64 OT corrections of two labels, then the comparison's tables (1 + 2·63
 * ciphertexts), then, for a selecting pair, the selection's (2 per key bit).
 */
const CORRECTION_BYTES = KEY_BITS * 2 * LABEL;
const TABLE_BYTES = (1 + 2 * (KEY_BITS - 1)) * LABEL;
const SELECT_BYTES = 2 * KEY_BITS * LABEL;
/** Per flag of a selecting pair: one OT correction of two labels and one half-gate ciphertext. */
const FLAG_BYTES = 3 * LABEL;
const searchBytes = (select: boolean) => CORRECTION_BYTES + TABLE_BYTES + (select ? SELECT_BYTES : 0);
/** The first tweak of the selection gates and of the flags' gates (the comparison's are 0…127). */
const SELECT_TWEAK = 2 * KEY_BITS;
const FLAG_TWEAK = 4 * KEY_BITS;

/**
 * What a pair's circuit outputs besides the comparison. A plain pair outputs shares of le alone; a
 * selecting pair (every pair with the last party, extremes.ts) outputs shares of min(x, y), bit by
 * bit, and of f ∨ g for each flag (f the garbler's, g the evaluator's) instead.
 */
export interface Selecting {
  /** This side's flags: the garbler's f or the evaluator's g. */
  readonly flags: readonly boolean[];
}

/** The payload's length for S searches (public: both sides compute it). */
export function payloadLength(searches: number, selecting?: { readonly flags: number }): number {
  return searches * searchBytes(selecting !== undefined) + (selecting?.flags ?? 0) * FLAG_BYTES;
}
/** Marks the garbling's tweaks apart from the OT hashes' (ot.ts: a pseudorandom salt there). */
const DOMAIN = 0x67617262; // "garb"

/**
 * The tweak of gate j of search s: distinct for every hash call under one offset R. The words j, s
 * and DOMAIN little-endian, then 4 zero bytes (out is fresh), written byte by byte: a DataView per
 * tweak was a tenth of the garbling's CPU.
 */
function tweak(out: Uint8Array, at: number, s: number, j: number): void {
  for (let i = 0; i < 4; i++) {
    out[at + i] = j >>> (8 * i);
    out[at + 4 + i] = s >>> (8 * i);
    out[at + 8 + i] = DOMAIN >>> (8 * i);
  }
}

/** out[at…] = a ⊕ b ⊕ (mask & c), on 16-byte labels (mask 0 or 0xff: no branch on a secret bit). */
function mix(out: Uint8Array, at: number, a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, c: Uint8Array, cAt: number, mask: number): void {
  for (let i = 0; i < LABEL; i++) out[at + i] = a[aAt + i]! ^ b[bAt + i]! ^ (c[cAt + i]! & mask);
}

const ZERO = new Uint8Array(LABEL);
const lsb = (label: Uint8Array, at = 0) => label[at]! & 1;
const maskOf = (bit: number) => -(bit & 1) & 0xff;

/**
 * The garbler's side for one peer: the payload (OT corrections, tables) for `keys` (its 64-bit
 * keys, one per search) and that peer's wide OT keys (64 per search, then one per flag if
 * `selecting`), and its own shares: of each le (S bits), or, for a selecting pair, of each
 * min(x, y) (64 bits per search, lowest first) and then of each f ∨ g.
 */
export function garble(keys: readonly bigint[], keys0: Uint8Array, keys1: Uint8Array, selecting?: Selecting): { payload: Uint8Array; shares: Bits } {
  const S = keys.length;
  const select = selecting !== undefined;
  const F = selecting?.flags.length ?? 0;
  const SEARCH_BYTES = searchBytes(select);
  const out = new Uint8Array(payloadLength(S, selecting && { flags: F }));
  const R = randomBytes(LABEL);
  R[0]! |= 1;
  // Y0[s, b]: the 0-label of y_b in search s; C0[s]: the 0-label of the running c.
  const Y0 = randomBytes(S * KEY_BITS * LABEL);
  const C0 = new Uint8Array(S * LABEL);
  const bit = (s: number, b: number) => Number((keys[s]! >> BigInt(b)) & 1n);
  for (let s = 0; s < S; s++) {
    const base = s * SEARCH_BYTES;
    for (let b = 0; b < KEY_BITS; b++) {
      const t = s * KEY_BITS + b;
      // E_K0(Y0) and E_K1(Y0 ⊕ R): the receiver opens the label of its bit alone.
      mix(out, base + 2 * b * LABEL, Y0, t * LABEL, keys0, t * LABEL, ZERO, 0, 0);
      mix(out, base + (2 * b + 1) * LABEL, Y0, t * LABEL, keys1, t * LABEL, R, 0, 0xff);
    }
  }

  // Bit 0, a garbler half gate: a = ¬y_0 (0-label A0 = Y0 ⊕ R), r = x_0; c_0 = ¬(a ∧ r).
  {
    const inputs = new Uint8Array(2 * S * LABEL);
    const tweaks = new Uint8Array(2 * S * LABEL);
    for (let s = 0; s < S; s++) {
      const y = s * KEY_BITS * LABEL;
      mix(inputs, 2 * s * LABEL, Y0, y, R, 0, ZERO, 0, 0); // A0
      inputs.set(Y0.subarray(y, y + LABEL), (2 * s + 1) * LABEL); // A1
      tweak(tweaks, 2 * s * LABEL, s, 0);
      tweak(tweaks, (2 * s + 1) * LABEL, s, 0);
    }
    const h = tweakedHash(inputs, tweaks);
    for (let s = 0; s < S; s++) {
      const table = s * SEARCH_BYTES + CORRECTION_BYTES;
      const h0 = 2 * s * LABEL;
      const h1 = h0 + LABEL;
      // TG = H(A0) ⊕ H(A1) ⊕ r·R; WG0 = H(A0) ⊕ pa·TG; C0 = WG0 ⊕ R.
      mix(out, table, h, h0, h, h1, R, 0, maskOf(bit(s, 0)));
      mix(C0, s * LABEL, h, h0, R, 0, out, table, maskOf(lsb(inputs, h0)));
    }
  }

  // Bits 1 … 63: one half-gate AND each, d = a ∧ b with a = y_b, b = c (x_b = 1) or a = ¬y_b,
  // b = ¬c, c_b = ¬d (x_b = 0): the flip by R is the relabelling.
  const A0 = new Uint8Array(S * LABEL);
  const B0 = new Uint8Array(S * LABEL);
  for (let b = 1; b < KEY_BITS; b++) {
    const inputs = new Uint8Array(4 * S * LABEL);
    const tweaks = new Uint8Array(4 * S * LABEL);
    for (let s = 0; s < S; s++) {
      const flip = maskOf(1 - bit(s, b));
      const at = s * LABEL;
      mix(A0, at, Y0, (s * KEY_BITS + b) * LABEL, ZERO, 0, R, 0, flip);
      mix(B0, at, C0, at, ZERO, 0, R, 0, flip);
      andInputs(inputs, 4 * s * LABEL, A0, at, B0, at, R);
      tweak(tweaks, 4 * s * LABEL, s, 2 * b);
      tweak(tweaks, (4 * s + 1) * LABEL, s, 2 * b);
      tweak(tweaks, (4 * s + 2) * LABEL, s, 2 * b + 1);
      tweak(tweaks, (4 * s + 3) * LABEL, s, 2 * b + 1);
    }
    const h = tweakedHash(inputs, tweaks);
    for (let s = 0; s < S; s++) {
      const at = s * LABEL;
      const tg = s * SEARCH_BYTES + CORRECTION_BYTES + (1 + 2 * (b - 1)) * LABEL;
      garbleAnd(out, tg, h, 4 * s * LABEL, A0, at, B0, at, R, C0, at, maskOf(1 - bit(s, b)));
    }
  }
  if (!select) return { payload: out, shares: Uint8Array.from({ length: S }, (_, s) => lsb(C0, s * LABEL)) };

  // The selection, min_b = le ? x_b : y_b = (¬le ∧ (y_b ⊕ x_b)) ⊕ x_b: one half-gate AND per bit
  // of a = ¬le (0-label C0 ⊕ R) and b = y_b ⊕ x_b (0-label Y0 ⊕ x_b·R); the output's 0-label is
  // D0 ⊕ x_b·R, so the garbler's share is lsb(D0) ⊕ x_b. All 64·S gates hash at once.
  const shares = new Uint8Array(S * KEY_BITS + F);
  {
    const inputs = new Uint8Array(4 * S * KEY_BITS * LABEL);
    const tweaks = new Uint8Array(4 * S * KEY_BITS * LABEL);
    const NL0 = new Uint8Array(S * LABEL);
    const YX0 = new Uint8Array(S * KEY_BITS * LABEL);
    for (let s = 0; s < S; s++) {
      mix(NL0, s * LABEL, C0, s * LABEL, R, 0, ZERO, 0, 0);
      for (let b = 0; b < KEY_BITS; b++) {
        const t = s * KEY_BITS + b;
        mix(YX0, t * LABEL, Y0, t * LABEL, ZERO, 0, R, 0, maskOf(bit(s, b)));
        andInputs(inputs, 4 * t * LABEL, NL0, s * LABEL, YX0, t * LABEL, R);
        tweak(tweaks, 4 * t * LABEL, s, SELECT_TWEAK + 2 * b);
        tweak(tweaks, (4 * t + 1) * LABEL, s, SELECT_TWEAK + 2 * b);
        tweak(tweaks, (4 * t + 2) * LABEL, s, SELECT_TWEAK + 2 * b + 1);
        tweak(tweaks, (4 * t + 3) * LABEL, s, SELECT_TWEAK + 2 * b + 1);
      }
    }
    const h = tweakedHash(inputs, tweaks);
    const D0 = new Uint8Array(LABEL);
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < KEY_BITS; b++) {
        const t = s * KEY_BITS + b;
        const tg = s * SEARCH_BYTES + CORRECTION_BYTES + TABLE_BYTES + 2 * b * LABEL;
        garbleAnd(out, tg, h, 4 * t * LABEL, NL0, s * LABEL, YX0, t * LABEL, R, D0, 0, 0);
        shares[t] = lsb(D0) ^ bit(s, b);
      }
    }
  }

  // Each flag: f ∨ g = f ⊕ (¬f ∧ g), a garbler half gate (¬f known to the garbler) on the label
  // of g, which the evaluator obtains by the OT after the key bits'.
  if (F > 0) {
    const flags = selecting!.flags;
    const G0 = randomBytes(F * LABEL);
    const inputs = new Uint8Array(2 * F * LABEL);
    const tweaks = new Uint8Array(2 * F * LABEL);
    for (let f = 0; f < F; f++) {
      const t = S * KEY_BITS + f;
      const at = S * SEARCH_BYTES + f * FLAG_BYTES;
      mix(out, at, G0, f * LABEL, keys0, t * LABEL, ZERO, 0, 0);
      mix(out, at + LABEL, G0, f * LABEL, keys1, t * LABEL, R, 0, 0xff);
      inputs.set(G0.subarray(f * LABEL, (f + 1) * LABEL), 2 * f * LABEL);
      mix(inputs, (2 * f + 1) * LABEL, G0, f * LABEL, R, 0, ZERO, 0, 0);
      tweak(tweaks, 2 * f * LABEL, 0, FLAG_TWEAK + f);
      tweak(tweaks, (2 * f + 1) * LABEL, 0, FLAG_TWEAK + f);
    }
    const h = tweakedHash(inputs, tweaks);
    for (let f = 0; f < F; f++) {
      const table = S * SEARCH_BYTES + f * FLAG_BYTES + 2 * LABEL;
      const h0 = 2 * f * LABEL;
      // TG = H(A0) ⊕ H(A1) ⊕ r·R with r = ¬f; WG0 = H(A0) ⊕ pa·TG.
      mix(out, table, h, h0, h, h0 + LABEL, R, 0, maskOf(flags[f] ? 0 : 1));
      const wg0 = h[h0]! ^ (out[table]! & maskOf(lsb(inputs, h0)));
      shares[S * KEY_BITS + f] = (wg0 & 1) ^ (flags[f] ? 1 : 0);
    }
  }
  return { payload: out, shares };
}

/** The four hash inputs of a half-gate AND: A0, A0 ⊕ R, B0, B0 ⊕ R. */
function andInputs(inputs: Uint8Array, k: number, A0: Uint8Array, aAt: number, B0: Uint8Array, bAt: number, R: Uint8Array): void {
  inputs.set(A0.subarray(aAt, aAt + LABEL), k);
  mix(inputs, k + LABEL, A0, aAt, R, 0, ZERO, 0, 0);
  inputs.set(B0.subarray(bAt, bAt + LABEL), k + 2 * LABEL);
  mix(inputs, k + 3 * LABEL, B0, bAt, R, 0, ZERO, 0, 0);
}

/**
 * A half-gate AND (ZRE15, §3) from the hashes h[k…] of andInputs: writes the tables TG, TE at
 * out[tg…] and the output's 0-label, XORed with R where `flip` (0xff), at W0[w…].
 */
function garbleAnd(out: Uint8Array, tg: number, h: Uint8Array, k: number, A0: Uint8Array, aAt: number, B0: Uint8Array, bAt: number, R: Uint8Array, W0: Uint8Array, w: number, flip: number): void {
  const te = tg + LABEL;
  const pa = maskOf(lsb(A0, aAt));
  const pb = maskOf(lsb(B0, bAt));
  // TG = H(A0) ⊕ H(A1) ⊕ pb·R;  WG0 = H(A0) ⊕ pa·TG.
  mix(out, tg, h, k, h, k + LABEL, R, 0, pb);
  // TE = H(B0) ⊕ H(B1) ⊕ A0;  WE0 = H(B0) ⊕ pb·(TE ⊕ A0).
  mix(out, te, h, k + 2 * LABEL, h, k + 3 * LABEL, A0, aAt, 0xff);
  for (let i = 0; i < LABEL; i++) {
    const wg = h[k + i]! ^ (out[tg + i]! & pa);
    const we = h[k + 2 * LABEL + i]! ^ ((out[te + i]! ^ A0[aAt + i]!) & pb);
    W0[w + i] = wg ^ we ^ (R[i]! & flip);
  }
}

/** The evaluator's half-gate AND: WG = H(A) ⊕ sa·TG, WE = H(B) ⊕ sb·(TE ⊕ A), W = WG ⊕ WE. */
function evaluateAnd(W: Uint8Array, w: number, payload: Uint8Array, tg: number, h: Uint8Array, hA: number, hB: number, A: Uint8Array, aAt: number, B: Uint8Array, bAt: number): void {
  const te = tg + LABEL;
  const sa = maskOf(lsb(A, aAt));
  const sb = maskOf(lsb(B, bAt));
  for (let i = 0; i < LABEL; i++) {
    W[w + i] = h[hA + i]! ^ (payload[tg + i]! & sa) ^ h[hB + i]! ^ ((payload[te + i]! ^ A[aAt + i]!) & sb);
  }
}

/**
 * The evaluator's side: its shares (as garble's: of each le, or of each min(x, y) and f ∨ g for
 * a selecting pair), from its keys, its chosen OT keys and the payload.
 */
export function evaluate(keys: readonly bigint[], chosen: Uint8Array, payload: Uint8Array, selecting?: Selecting): Bits {
  const S = keys.length;
  const select = selecting !== undefined;
  const F = selecting?.flags.length ?? 0;
  const SEARCH_BYTES = searchBytes(select);
  const Y = new Uint8Array(S * KEY_BITS * LABEL);
  const C = new Uint8Array(S * LABEL);
  const bit = (s: number, b: number) => Number((keys[s]! >> BigInt(b)) & 1n);
  for (let s = 0; s < S; s++) {
    for (let b = 0; b < KEY_BITS; b++) {
      const t = s * KEY_BITS + b;
      mix(Y, t * LABEL, payload, s * SEARCH_BYTES + (2 * b + bit(s, b)) * LABEL, chosen, t * LABEL, ZERO, 0, 0);
    }
  }
  {
    const inputs = new Uint8Array(S * LABEL);
    const tweaks = new Uint8Array(S * LABEL);
    for (let s = 0; s < S; s++) {
      inputs.set(Y.subarray(s * KEY_BITS * LABEL, (s * KEY_BITS + 1) * LABEL), s * LABEL);
      tweak(tweaks, s * LABEL, s, 0);
    }
    const h = tweakedHash(inputs, tweaks);
    for (let s = 0; s < S; s++) {
      // C = H(A) ⊕ sa·TG.
      mix(C, s * LABEL, h, s * LABEL, ZERO, 0, payload, s * SEARCH_BYTES + CORRECTION_BYTES, maskOf(lsb(inputs, s * LABEL)));
    }
  }
  for (let b = 1; b < KEY_BITS; b++) {
    const inputs = new Uint8Array(2 * S * LABEL);
    const tweaks = new Uint8Array(2 * S * LABEL);
    for (let s = 0; s < S; s++) {
      inputs.set(Y.subarray((s * KEY_BITS + b) * LABEL, (s * KEY_BITS + b + 1) * LABEL), 2 * s * LABEL);
      inputs.set(C.subarray(s * LABEL, (s + 1) * LABEL), (2 * s + 1) * LABEL);
      tweak(tweaks, 2 * s * LABEL, s, 2 * b);
      tweak(tweaks, (2 * s + 1) * LABEL, s, 2 * b + 1);
    }
    const h = tweakedHash(inputs, tweaks);
    for (let s = 0; s < S; s++) {
      const a = 2 * s * LABEL;
      const tg = s * SEARCH_BYTES + CORRECTION_BYTES + (1 + 2 * (b - 1)) * LABEL;
      evaluateAnd(C, s * LABEL, payload, tg, h, a, a + LABEL, inputs, a, inputs, a + LABEL);
    }
  }
  if (!select) return Uint8Array.from({ length: S }, (_, s) => lsb(C, s * LABEL));

  // The selection: ¬le has the label of le (a relabelling), y_b ⊕ x_b the label of y_b.
  const shares = new Uint8Array(S * KEY_BITS + F);
  {
    const inputs = new Uint8Array(2 * S * KEY_BITS * LABEL);
    const tweaks = new Uint8Array(2 * S * KEY_BITS * LABEL);
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < KEY_BITS; b++) {
        const t = s * KEY_BITS + b;
        inputs.set(C.subarray(s * LABEL, (s + 1) * LABEL), 2 * t * LABEL);
        inputs.set(Y.subarray(t * LABEL, (t + 1) * LABEL), (2 * t + 1) * LABEL);
        tweak(tweaks, 2 * t * LABEL, s, SELECT_TWEAK + 2 * b);
        tweak(tweaks, (2 * t + 1) * LABEL, s, SELECT_TWEAK + 2 * b + 1);
      }
    }
    const h = tweakedHash(inputs, tweaks);
    const D = new Uint8Array(LABEL);
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < KEY_BITS; b++) {
        const t = s * KEY_BITS + b;
        const tg = s * SEARCH_BYTES + CORRECTION_BYTES + TABLE_BYTES + 2 * b * LABEL;
        evaluateAnd(D, 0, payload, tg, h, 2 * t * LABEL, (2 * t + 1) * LABEL, inputs, 2 * t * LABEL, inputs, (2 * t + 1) * LABEL);
        shares[t] = lsb(D);
      }
    }
  }
  if (F > 0) {
    const flags = selecting!.flags;
    const inputs = new Uint8Array(F * LABEL);
    const tweaks = new Uint8Array(F * LABEL);
    for (let f = 0; f < F; f++) {
      const at = S * SEARCH_BYTES + f * FLAG_BYTES;
      mix(inputs, f * LABEL, payload, at + (flags[f] ? LABEL : 0), chosen, (S * KEY_BITS + f) * LABEL, ZERO, 0, 0);
      tweak(tweaks, f * LABEL, 0, FLAG_TWEAK + f);
    }
    const h = tweakedHash(inputs, tweaks);
    for (let f = 0; f < F; f++) {
      const table = S * SEARCH_BYTES + f * FLAG_BYTES + 2 * LABEL;
      // WG = H(A) ⊕ sa·TG.
      shares[S * KEY_BITS + f] = (h[f * LABEL]! ^ (payload[table]! & maskOf(lsb(inputs, f * LABEL)))) & 1;
    }
  }
  return shares;
}

/**
 * The garbled circuits of the tournament (extremes.ts), as RiderOts of the triples' extension:
 * for every pair p < q, p garbles and q evaluates. A pair whose q is the last party n − 1 is
 * selecting: it leaves shares of min(m_p, m_q) for every search and of f_p ∨ f_q for every flag;
 * every other pair leaves shares of le_pq = [m_p ≤ m_q]. The receiver's choice bits are its keys'
 * bits (then its flags'); the sender's payload the OT corrections and the tables.
 */
export class GarbledComparisons implements RiderOts {
  readonly blocks = 1;
  /** Per peer: this party's shares from the circuit with that peer. */
  readonly #shares = new Map<number, Bits>();

  constructor(
    private readonly session: Session,
    private readonly mine: readonly bigint[],
    private readonly flags: readonly boolean[],
  ) {}

  /** Whether the pair (myself, peer) selects: its higher index is the last party. */
  #selecting(peer: number): Selecting | undefined {
    return Math.max(this.session.myself, peer) === this.session.parties - 1 ? { flags: this.flags } : undefined;
  }

  count(peer: number): number {
    return this.mine.length * KEY_BITS + (this.#selecting(peer) ? this.flags.length : 0);
  }

  payloadBytes(peer: number): number {
    return payloadLength(this.mine.length, this.#selecting(peer) && { flags: this.flags.length });
  }

  choices(peer: number): Bits {
    const keyBits = Uint8Array.from({ length: this.mine.length * KEY_BITS }, (_, t) => Number((this.mine[Math.floor(t / KEY_BITS)]! >> BigInt(t % KEY_BITS)) & 1n));
    return this.#selecting(peer) ? concat([keyBits, Uint8Array.from(this.flags, Number)]) : keyBits;
  }

  payload(peer: number, keys0: Uint8Array, keys1: Uint8Array): Uint8Array {
    const { payload, shares } = garble(this.mine, keys0, keys1, this.#selecting(peer));
    this.#shares.set(peer, shares);
    return payload;
  }

  receive(peer: number, keys: Uint8Array, payload: Uint8Array): void {
    this.#shares.set(peer, evaluate(this.mine, keys, payload, this.#selecting(peer)));
  }

  /** Shares of le_pq for search s: this party's if it is p or q, else 0. */
  le(s: number, p: number, q: number): number {
    const me = this.session.myself;
    if (me !== p && me !== q) return 0;
    return this.#shares.get(me === p ? q : p)![s]!;
  }

  /** Shares of min(m_i, m_last) for search s, bit b (lowest first): this party's if it is i or the last, else 0. */
  selected(s: number, i: number, b: number): number {
    const me = this.session.myself;
    const last = this.session.parties - 1;
    if (me !== i && me !== last) return 0;
    return this.#shares.get(me === i ? last : i)![s * KEY_BITS + b]!;
  }

  /** Shares of f_i ∨ f_last for flag f: this party's if it is i or the last, else 0. */
  flagged(f: number, i: number): number {
    const me = this.session.myself;
    const last = this.session.parties - 1;
    if (me !== i && me !== last) return 0;
    return this.#shares.get(me === i ? last : i)![this.mine.length * KEY_BITS + f]!;
  }
}
