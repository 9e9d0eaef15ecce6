// The comparisons of the min/max tournament (extremes.ts) as garbled circuits: for each pair of
// parties p < q and each search, XOR shares at p and q of le = [x ≤ y], where p holds the 64-bit
// key x and q the key y in the clear. It is a two-party function of inputs each side knows, so
// Yao's garbled circuits compute it in the messages the oblivious transfers send anyway (Yao,
// FOCS 1986; Lindell and Pinkas, J. Cryptology 2009, for the semi-honest proof): p garbles, q
// obtains the labels of its bits y_b by the chosen-input OTs that ride in the triples' extension
// (triples.ts RiderOts: q's choice bits are y's bits), and p's ot-fix message carries the OT
// corrections and the garbled tables. q evaluates locally: no message and no round of their own,
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
// What q sees: the labels of its own bits, one per wire, and the tables — by the half-gates
// theorem (ZRE15, privacy) simulatable from the output label alone, whose lsb is q's share
// of le: uniform, because p's permutation bit masks it. What p sees: the OT extension matrix
// (IKNP receiver privacy: it hides y). Neither learns le; it stays shared for the tournament.

import { randomBytes } from 'node:crypto';
import type { Session } from '../../peer.js';
import type { Bits } from './bits.js';
import { tweakedHash } from './ot.js';
import type { RiderOts } from './triples.js';

const KEY_BITS = 64;
const LABEL = 16;
/** Per search: 64 OT corrections of two labels, then the tables (1 + 2·63 ciphertexts). */
const CORRECTION_BYTES = KEY_BITS * 2 * LABEL;
const TABLE_BYTES = (1 + 2 * (KEY_BITS - 1)) * LABEL;
const SEARCH_BYTES = CORRECTION_BYTES + TABLE_BYTES;
/** Marks the garbling's tweaks apart from the OT hashes' (ot.ts: a pseudorandom salt there). */
const DOMAIN = 0x67617262; // "garb"

/** The tweak of gate j of search s: distinct for every hash call under one offset R. */
function tweak(out: Uint8Array, at: number, s: number, j: number): void {
  const view = new DataView(out.buffer, out.byteOffset + at, LABEL);
  view.setUint32(0, j, true);
  view.setUint32(4, s, true);
  view.setUint32(8, DOMAIN, true);
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
 * keys, one per search) and that peer's wide OT keys, and its own shares of each le.
 */
export function garble(keys: readonly bigint[], keys0: Uint8Array, keys1: Uint8Array): { payload: Uint8Array; shares: Bits } {
  const S = keys.length;
  const out = new Uint8Array(S * SEARCH_BYTES);
  const shares = new Uint8Array(S);
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
  const inputs = new Uint8Array(4 * S * LABEL);
  const tweaks = new Uint8Array(4 * S * LABEL);
  const A0 = new Uint8Array(S * LABEL);
  const B0 = new Uint8Array(S * LABEL);
  for (let b = 1; b < KEY_BITS; b++) {
    for (let s = 0; s < S; s++) {
      const flip = maskOf(1 - bit(s, b));
      const at = s * LABEL;
      mix(A0, at, Y0, (s * KEY_BITS + b) * LABEL, ZERO, 0, R, 0, flip);
      mix(B0, at, C0, at, ZERO, 0, R, 0, flip);
      const k = 4 * s * LABEL;
      inputs.set(A0.subarray(at, at + LABEL), k);
      mix(inputs, k + LABEL, A0, at, R, 0, ZERO, 0, 0);
      inputs.set(B0.subarray(at, at + LABEL), k + 2 * LABEL);
      mix(inputs, k + 3 * LABEL, B0, at, R, 0, ZERO, 0, 0);
      tweak(tweaks, k, s, 2 * b);
      tweak(tweaks, k + LABEL, s, 2 * b);
      tweak(tweaks, k + 2 * LABEL, s, 2 * b + 1);
      tweak(tweaks, k + 3 * LABEL, s, 2 * b + 1);
    }
    const h = tweakedHash(inputs, tweaks);
    for (let s = 0; s < S; s++) {
      const at = s * LABEL;
      const k = 4 * s * LABEL;
      const tg = s * SEARCH_BYTES + CORRECTION_BYTES + (1 + 2 * (b - 1)) * LABEL;
      const te = tg + LABEL;
      const pa = lsb(A0, at);
      const pb = lsb(B0, at);
      // TG = H(A0) ⊕ H(A1) ⊕ pb·R;  WG0 = H(A0) ⊕ pa·TG.
      mix(out, tg, h, k, h, k + LABEL, R, 0, maskOf(pb));
      // TE = H(B0) ⊕ H(B1) ⊕ A0;  WE0 = H(B0) ⊕ pb·(TE ⊕ A0).
      mix(out, te, h, k + 2 * LABEL, h, k + 3 * LABEL, A0, at, 0xff);
      const flip = maskOf(1 - bit(s, b));
      for (let i = 0; i < LABEL; i++) {
        const wg = h[k + i]! ^ (out[tg + i]! & maskOf(pa));
        const we = h[k + 2 * LABEL + i]! ^ ((out[te + i]! ^ A0[at + i]!) & maskOf(pb));
        C0[at + i] = wg ^ we ^ (R[i]! & flip);
      }
    }
  }
  for (let s = 0; s < S; s++) shares[s] = lsb(C0, s * LABEL);
  return { payload: out, shares };
}

/** The evaluator's side: its shares of each le, from its keys, its chosen OT keys and the payload. */
export function evaluate(keys: readonly bigint[], chosen: Uint8Array, payload: Uint8Array): Bits {
  const S = keys.length;
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
  const inputs = new Uint8Array(2 * S * LABEL);
  const tweaks = new Uint8Array(2 * S * LABEL);
  for (let b = 1; b < KEY_BITS; b++) {
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
      const te = tg + LABEL;
      const sa = maskOf(lsb(inputs, a));
      const sb = maskOf(lsb(inputs, a + LABEL));
      // WG = H(A) ⊕ sa·TG;  WE = H(B) ⊕ sb·(TE ⊕ A);  C = WG ⊕ WE.
      for (let i = 0; i < LABEL; i++) {
        C[s * LABEL + i] = h[a + i]! ^ (payload[tg + i]! & sa) ^ h[a + LABEL + i]! ^ ((payload[te + i]! ^ inputs[a + i]!) & sb);
      }
    }
  }
  return Uint8Array.from({ length: S }, (_, s) => lsb(C, s * LABEL));
}

/**
 * The comparisons le_pq = [m_p ≤ m_q] (p < q) of every search, as RiderOts of the triples'
 * extension: the receiver q's choice bits are its keys' bits, the sender p's payload the OT
 * corrections and garbled tables (garble above), and each side keeps its share per peer.
 */
export class GarbledComparisons implements RiderOts {
  readonly count: number;
  readonly blocks = 1;
  readonly payloadBytes: number;
  /** Per peer: this party's share of le for each search. */
  readonly #shares = new Map<number, Bits>();

  constructor(private readonly mine: readonly bigint[]) {
    this.count = mine.length * KEY_BITS;
    this.payloadBytes = mine.length * SEARCH_BYTES;
  }

  choices(): Bits {
    return Uint8Array.from({ length: this.count }, (_, t) => Number((this.mine[Math.floor(t / KEY_BITS)]! >> BigInt(t % KEY_BITS)) & 1n));
  }

  payload(peer: number, keys0: Uint8Array, keys1: Uint8Array): Uint8Array {
    const { payload, shares } = garble(this.mine, keys0, keys1);
    this.#shares.set(peer, shares);
    return payload;
  }

  receive(peer: number, keys: Uint8Array, payload: Uint8Array): void {
    this.#shares.set(peer, evaluate(this.mine, keys, payload));
  }

  /** Shares of le, one bit per lane (s, pair): this party's where it is one of the pair, 0 elsewhere. */
  shares(session: Session, pairs: readonly (readonly [number, number])[]): Bits {
    const me = session.myself;
    const out = new Uint8Array(this.mine.length * pairs.length);
    for (let s = 0; s < this.mine.length; s++) {
      pairs.forEach(([a, b], e) => {
        if (me === a) out[s * pairs.length + e] = this.#shares.get(b)![s]!;
        else if (me === b) out[s * pairs.length + e] = this.#shares.get(a)![s]!;
      });
    }
    return out;
  }
}
