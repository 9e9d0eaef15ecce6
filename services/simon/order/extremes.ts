// The one min/max building block of Tessera: the global minimum and maximum of the parties'
// values, revealing nothing else. StatisticsUnivariate takes its `minimum` and `maximum` from it,
// MinimumMaximum is it plus a count, and order/kth.ts's secureExtremes is it too.
//
// Construction: a tournament in which every pair plays at once, on GMW (gmw.ts) with the
// dealer-free triples of triples.ts. Each party reduces its own values to two 64-bit order keys
// (encoding.ts): its smallest key m_i, and the complement ~M_i of its largest (the maximum is the
// minimum of the complements). A party without values offers the neutral key 2^64 − 1, which no
// finite double has. Call the last party L = n − 1 and the others the contenders. Then, for both
// searches side by side:
//   1. every pair at once, by a garbled circuit p sends in its OT answer, whose input labels q
//      obtains by OTs riding in the triples' extension (garbled.ts), leaving XOR shares at p and q
//      after the OT flight with no AND layer of its own:
//      - two contenders p < q: le_pq = [m_p ≤ m_q];
//      - a contender i and L: v_i = min(m_i, m_L), all 64 bits (the comparison's output selects
//        inside the circuit, one more half gate per bit), and g_i = f_i ∨ f_L for each flag;
//   2. contender i's winner bit w_i = ∧_{j<i} ¬le_ji ∧ ∧_{j>i} le_ij ("strictly below every earlier
//      contender, not above any later one"): exactly one w_i is 1, ties going to the lowest index;
//      AND depth ⌈log2(n−2)⌉, none for three parties (w_0 = le_01);
//   3. min(m_0, …, m_L) = min(m_i*, m_L) = v_i* for the winner i*, i.e. v_last ⊕ ⊕_i w_i·(v_i ⊕
//      v_last) over the contenders but the last (as one w_i is 1): 64 ANDs each, depth 1, none for
//      two parties;
//   4. opening those 64 shared bits: the minimum's key, which is the output.
// Flags (bits whose OR over the parties is opened too): OR_i g_i over the contenders, an AND tree of
// ⌈log2(n−1)⌉ ≤ ⌈log2(n−2)⌉ + 1 layers riding in the messages of steps 2–3 (Riders): no round of
// its own. With all pairs playing in the garbled circuits, step 3's selection of the winner's key
// by the last party's circuits saves the layer that separate winner and selection layers took.
// Every message before the opening is a GMW message d = x ⊕ a, e = y ⊕ b, one-time padded by the
// triple's uniform bits, or an OT message (uniform to the receiver, triples.ts; the garbled
// circuit reveals to q only output labels whose lowest bits p's random permutation bits mask,
// garbled.ts), so a coalition of up to n−1 parties sees uniform bits whatever the honest parties
// hold; the output shares are fresh XOR sharings (every Beaver product is; for two parties, with
// no product, they are the garbler's permutation bits and the evaluator's label bits, which XOR to
// the output), so the opened shares are uniform given their XOR, the output. What is revealed is
// therefore the minimum and the maximum and nothing else: no comparison bit, no winner, no v_i, no
// party's count or local extreme. The transcript's shape depends on n alone
// (test/services/simon/order/transcript.test.ts checks all of it).
//
// Cost, three parties: 3 sequential exchanges (1 for the oblivious transfers, a round trip, once
// their public-key base part is reused across sessions, 2 the first time, triples.ts; 1 AND layer;
// 1 opening), 128 triples (+1 per flag), 128 chosen-input OTs per pair (+1 per flag with the last
// party), 8 KiB of garbled circuits per pair, 12 KiB with the last party (4 exchanges and 392
// triples when every party's winner bit and key were selected in GMW; 7 exchanges and 460 triples
// with byte tables; 11 and about 1,700 with one-bit leaves).
// The earlier construction here, a 16-round digit search that opened Σ r_i·[m_i ≤ T] over F_p,
// took 32 rounds and let n−1 parties subtract their own terms and learn whether the last party's
// minimum was ≤ T: the honest party's own minimum.

import { BadInputError } from '../../errors.js';
import { unanimous } from '../engine.js';
import type { Session } from '../../peer.js';
import { concat, type Bits } from './bits.js';
import { fromOrderKey, orderKey } from './encoding.js';
import { AndCounter, Gmw, type BitEngine } from './gmw.js';
import { stageNames } from './stages.js';
import { GarbledComparisons } from './garbled.js';
import { dealerFreeTriples, prepareExtensions } from './triples.js';
import { Deliveries } from '../../common/deliveries.js';

const KEY_BITS = 64;
const ALL = (1n << 64n) - 1n;

export interface MinMax {
  readonly minimum: number;
  readonly maximum: number;
}

/** This party's operands: the values whose least is sought (`minima`) and greatest (`maximum`). */
export interface MinMaxInput {
  readonly minima: readonly number[];
  readonly maxima: readonly number[];
  /**
   * Bits whose OR over all parties is revealed too (e.g. StatisticsUnivariate's "some value is
   * 0"), and nothing else about them: not who holds a 1, nor how many do.
   */
  readonly flags?: readonly boolean[];
}

export interface MinMaxFlags extends MinMax {
  /** The OR over all parties of each of `flags`. */
  readonly flags: readonly boolean[];
}

/**
 * A BitEngine that carries a second, independent AND tree along: every AND layer the caller
 * asks for also evaluates the next level of the tree, in the same message, so the tree costs no
 * round of its own while the caller's circuit is as deep (the winner and selection layers,
 * ⌈log2(n−1)⌉ + 1 ≥ ⌈log2 n⌉, the depth of an AND of n bits).
 */
class Riders implements BitEngine {
  constructor(
    private readonly inner: BitEngine,
    /** The columns still to be ANDed together, each one bit per lane. */
    private columns: Bits[],
  ) {}

  #level(): { x: Bits; y: Bits; half: number } {
    const half = Math.floor(this.columns.length / 2);
    return { x: concat(this.columns.slice(0, half)), y: concat(this.columns.slice(half, 2 * half)), half };
  }

  #advance(z: Bits, half: number): void {
    const lanes = this.columns[0]!.length;
    const next = Array.from({ length: half }, (_, m) => z.subarray(m * lanes, (m + 1) * lanes));
    if (this.columns.length % 2) next.push(this.columns[this.columns.length - 1]!);
    this.columns = next;
  }

  async and(x: Bits, y: Bits): Promise<Bits> {
    const ride = this.#level();
    const z = await this.inner.and(concat([x, ride.x]), concat([y, ride.y]));
    if (ride.half > 0) this.#advance(z.subarray(x.length), ride.half);
    return z.subarray(0, x.length);
  }

  open(x: Bits): Promise<Bits> {
    return this.inner.open(x);
  }

  /** The AND of all columns, finishing the tree in rounds of its own if the caller's was shallower. */
  async result(): Promise<Bits> {
    while (this.columns.length > 1 && this.columns[0]!.length > 0) {
      const ride = this.#level();
      this.#advance(await this.inner.and(ride.x, ride.y), ride.half);
    }
    return this.columns[0]!;
  }
}

/** Where the tournament's inputs come from: the garbled circuits' shares (GarbledComparisons). */
interface Leaves {
  /** This party's share of le_pq = [m_p ≤ m_q], search s (0 unless it is p or q). */
  le(s: number, p: number, q: number): number;
  /** Its share of bit b of v_i = min(m_i, m_last), search s. */
  selected(s: number, i: number, b: number): number;
  /** Its share of g_i = f_i ∨ f_last, flag f. */
  flagged(f: number, i: number): number;
}

/** Zero shares of the right shape: the dry run that counts the triples reads these. */
const NO_LEAVES: Leaves = { le: () => 0, selected: () => 0, flagged: () => 0 };

/**
 * For every search s, the least of the parties' keys mine[s] (one key per party and search),
 * on XOR shares, and opened. Run once on an AndCounter to size the triples.
 *
 * With c = n − 1 contenders (the parties but the last; c = 1 when n = 1) and v_i = min(m_i, m_last)
 * shared by the garbled circuits, the least key is v_i* for the contender i* with the least m_i:
 * min(m_0, …, m_last) = min(m_i*, m_last). One w_i is 1 (w_i = [i = i*], ties to the lowest index),
 * so Σ_i w_i·v_i = v_(c−1) ⊕ ⊕_(i<c−1) w_i·(v_i ⊕ v_(c−1)), and w_(c−1) is never needed.
 */
async function smallest(
  inner: BitEngine,
  session: Session,
  mine: readonly bigint[],
  flags: readonly boolean[],
  leaves: Leaves,
  beforeOpening?: Promise<unknown>,
): Promise<{ keys: bigint[]; flags: boolean[] }> {
  const n = session.parties;
  const me = session.myself;
  const S = mine.length;
  const F = flags.length;
  const c = Math.max(1, n - 1);
  // One party alone holds its own key and flags (no circuit at all).
  const v = (s: number, i: number, b: number) => (n === 1 ? Number((mine[s]! >> BigInt(b)) & 1n) : leaves.selected(s, i, b));
  const g = (f: number, i: number) => (n === 1 ? (flags[f] ? 1 : 0) : leaves.flagged(f, i));
  // OR_i f_i = OR_(i<c) g_i = ¬ AND_(i<c) ¬g_i: column i holds this party's share of ¬g_i.
  const notG = Array.from({ length: c }, (_, i) => Uint8Array.from({ length: F }, (_, f) => g(f, i) ^ (me === 0 ? 1 : 0)));
  const engine = new Riders(inner, notG);

  // 1. Winner bits w_i for the contenders i < c − 1: column k holds, for every (s, i), the k-th of
  //    the c − 1 conditions on contender i ("strictly below every earlier, not above any later").
  const lanes = S * (c - 1);
  const columns: Bits[] = Array.from({ length: c - 1 }, () => new Uint8Array(lanes));
  for (let s = 0; s < S; s++) {
    for (let i = 0; i < c - 1; i++) {
      let k = 0;
      for (let j = 0; j < c; j++) {
        if (j === i) continue;
        const bit = j > i ? leaves.le(s, i, j) : leaves.le(s, j, i) ^ (me === 0 ? 1 : 0);
        columns[k++]![s * (c - 1) + i] = bit;
      }
    }
  }
  let level = columns;
  while (level.length > 1) {
    const half = Math.floor(level.length / 2);
    const x = concat(level.slice(0, half));
    const y = concat(level.slice(half, 2 * half));
    const z = await engine.and(x, y);
    const next = Array.from({ length: half }, (_, m) => z.subarray(m * lanes, (m + 1) * lanes));
    if (level.length % 2) next.push(level[level.length - 1]!);
    level = next;
  }
  const winner = level[0] ?? new Uint8Array(0);

  // 2. v_(c−1) ⊕ ⊕_(i<c−1) w_i·(v_i ⊕ v_(c−1)): lane (s, i, bit); one AND layer (none if c = 1).
  const shares = new Uint8Array(S * KEY_BITS);
  for (let s = 0; s < S; s++) for (let bit = 0; bit < KEY_BITS; bit++) shares[s * KEY_BITS + bit] = v(s, c - 1, bit);
  if (c > 1) {
    const x = new Uint8Array(lanes * KEY_BITS);
    const y = new Uint8Array(lanes * KEY_BITS);
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < c - 1; i++) {
        for (let bit = 0; bit < KEY_BITS; bit++) {
          const at = (s * (c - 1) + i) * KEY_BITS + bit;
          x[at] = winner[s * (c - 1) + i]!;
          y[at] = v(s, i, bit) ^ v(s, c - 1, bit);
        }
      }
    }
    const products = await engine.and(x, y);
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < c - 1; i++) {
        const from = (s * (c - 1) + i) * KEY_BITS;
        for (let bit = 0; bit < KEY_BITS; bit++) shares[s * KEY_BITS + bit]! ^= products[from + bit]!;
      }
    }
  }

  // 3. Open the winners' keys and the flags' ORs (¬ at party 0 turns the AND into the OR).
  const ands = await engine.result();
  const ors = Uint8Array.from(ands, (b) => (me === 0 ? b ^ 1 : b));
  // Everything so far is uniform shares; only the opening reveals, so only it waits for the caller.
  await beforeOpening;
  const opened = await engine.open(concat([shares, ors]));
  const keys = Array.from({ length: S }, (_, s) => {
    let key = 0n;
    for (let bit = KEY_BITS - 1; bit >= 0; bit--) key = (key << 1n) | BigInt(opened[s * KEY_BITS + bit]!);
    return key;
  });
  return { keys, flags: Array.from({ length: F }, (_, f) => opened[S * KEY_BITS + f] === 1) };
}

/** How many triples the circuit after the garbled comparisons takes: it depends on n and the flags alone. */
async function triplesNeeded(session: Session, searches: number, flagCount: number): Promise<number> {
  const counter = new AndCounter();
  await smallest(counter, session, Array.from({ length: searches }, () => ALL), Array.from({ length: flagCount }, () => false), NO_LEAVES);
  return counter.ands;
}

/** The stages the oblivious transfers send in, for a session that lets them interleave with others. */
export function minMaxOfflineStages(prefix: string): string[] {
  const s = stageNames(prefix);
  return [s.baseA, s.baseB, s.ext, s.fix];
}

/**
 * The stages secureMinMax sends in before its opening: the offline phase and the AND layers, for
 * a session that runs them beside another sub-protocol (and holds the opening back, beforeOpening).
 */
export function minMaxCircuitStages(prefix: string): string[] {
  return [...minMaxOfflineStages(prefix), stageNames(prefix).and];
}

/**
 * The least of every party's `minima` and the greatest of every party's `maxima` (a party may
 * hold none; some party must hold one, else a BadInputError at every party). Every party calls
 * it with the same `prefix` (whose stages, orderStages(prefix), the session declares) and the same
 * number of flags. It starts sending at once (the oblivious transfers carry the garbled
 * comparisons, so they need the values). `beforeOpening`, if given, is awaited after the whole circuit and before the one opening (and
 * its rejection is this call's): a caller runs the tournament beside other sub-protocols and
 * releases the output only once their checks passed (StatisticsUnivariate: N > 0 and the
 * disclosure policy).
 */
export async function secureMinMax(
  session: Session,
  input: MinMaxInput,
  prefix: string,
  where = 'kwargs.data',
  beforeOpening?: Promise<unknown>,
  /**
   * The caller's tracker for the block's sends: given, the block leaves its last receipts (the
   * opening's) to the caller's settled(), so a caller that sends on once the output is known
   * (StatisticsUnivariate's pads) waits for those receipts and its own together.
   */
  shared?: Deliveries,
): Promise<MinMaxFlags> {
  const stages = stageNames(prefix);
  let low = ALL;
  let highComplement = ALL;
  input.minima.forEach((v, i) => {
    const k = orderKey(v, `${where}[${i}]`);
    if (k < low) low = k;
  });
  input.maxima.forEach((v, i) => {
    const k = ALL - orderKey(v, `${where}[${i}]`);
    if (k < highComplement) highComplement = k;
  });
  const mine = [low, highComplement];
  const flags = input.flags ?? [];

  // One flight of oblivious transfers (two the first time between two servers) makes the triples
  // and carries the garbled comparisons, whose outputs are the tournament's le shares.
  // No send waits for its receipt before the next step (deliveries.ts; the session declares
  // circuitLoops); all are awaited before the result.
  const comparisons = new GarbledComparisons(session, mine, flags);
  const deliveries = shared ?? new Deliveries();
  const needed = await triplesNeeded(session, mine.length, flags.length);
  const label = `tessera/order/${prefix}/extremes`;
  const triples = await dealerFreeTriples(session, needed, stages, label, comparisons, deliveries);
  const opened = await smallest(new Gmw(session, stages, triples, deliveries), session, mine, flags, comparisons, beforeOpening);
  // This party's OT-receiver work for the next computation of the same shape between the same
  // servers is done once this one is over (its session closed: the caller may still exchange
  // after the output, as StatisticsUnivariate's pads), rather than at that computation's start.
  // Preparing is local (no message); should it fail, the next computation extends as if nothing
  // had been prepared.
  session.signal.addEventListener(
    'abort',
    () =>
      setImmediate(() => {
        try {
          prepareExtensions(session, needed, label, comparisons);
        } catch {
          // nothing prepared: nothing to undo
        }
      }),
    { once: true },
  );
  if (shared === undefined) await deliveries.settled();
  const [minKey, maxComplement] = opened.keys;
  // Every party sees the same opened keys, so they all throw alike.
  if (minKey === ALL) {
    // Our opening must reach the others, who then throw alike, before this session closes.
    if (shared !== undefined) await shared.settled();
    throw unanimous(new BadInputError('no party gave any value', { where }));
  }
  return { minimum: fromOrderKey(minKey!), maximum: fromOrderKey(ALL - maxComplement!), flags: opened.flags };
}
