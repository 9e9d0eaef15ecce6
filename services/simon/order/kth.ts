// The k-th ranked element (Aggarwal, Mishra, Pinkas, "Secure Computation of the k-th Ranked
// Element", EUROCRYPT 2004, §4: the multi-party protocol) over the 64-bit order keys of the
// doubles (encoding.ts). The answer is found digit by digit, DIGIT_BITS bits per round: with the
// digits above already known (the prefix of key(x_k)), the round probes the 2^d − 1 keys
// v_j = prefix | j | 11…1 and learns, for each, the bit [x_k ≤ v_j] = [Σ_i c_i(v_j) ≥ k], where
// c_i(v) is party i's count of values with key ≤ v. The first probe that answers 1 is the next
// digit of key(x_k). Each bit comes out of a secure comparison (compare.ts on GMW, gmw.ts) that
// opens nothing but that bit, and every opened bit is a function of x_k alone: the transcript
// is simulatable from the output. 64/d rounds find the exact double, duplicates included
// (x_k is the smallest key whose count reaches k).
//
// Offline phase: base OTs with every peer, then one OT extension producing exactly the triples the
// search will use (the circuit's size depends only on n, N's bit length and the number of searches).

import { BadInputError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { Ring } from '../../common/ring.js';
import { share } from '../../common/sharing.js';
import { otherParties } from '../../common/stages.js';
import { countAtMost, fromOrderKey, sortedKeys } from './encoding.js';
import { carryOut, operandWires, type SharedNumber } from './compare.js';
import { AndCounter, Gmw } from './gmw.js';
import { dealerFreeTriples, receiveFrom } from './triples.js';
import { Deliveries } from '../../common/deliveries.js';
import { countBesideLoops, orderStages, searchLoops, stageNames } from './stages.js';
import { unanimous } from '../engine.js';
import { secureMinMax } from './extremes.js';

export { countBesideLoops, orderStages, searchLoops };

/** One k-th element search: this party's values, and the public rank and total count N. */
export interface KthSearch {
  readonly values: readonly number[];
  /** 1 … total. */
  readonly rank: bigint;
  /** N, the number of values over all parties (public). */
  readonly total: bigint;
}

export interface Extremes {
  readonly min: number;
  readonly max: number;
  /** N, the number of values over all parties. */
  readonly count: number;
}

/** Bits found per round: 2^d − 1 comparisons per search and round, 64/d rounds. See the benchmark. */
export const DIGIT_BITS = 4;
const KEY_BITS = 64;
const COUNT_RING = new Ring(64);

async function exchangeAll(session: Session, stage: string, payloadFor: (to: number) => Uint8Array): Promise<Uint8Array[]> {
  const others = otherParties(session);
  const [, received] = await Promise.all([
    Promise.all(others.map((to) => session.send(to, stage, payloadFor(to)))),
    Promise.all(others.map((from) => receiveFrom(session, from, stage))),
  ]);
  return received;
}

/**
 * N = Σ localCount over all parties, by additive sharing over Z_2^64 (as SecureSum): every party
 * sees uniform shares and partial sums, and learns only N.
 */
export async function secureCount(session: Session, localCount: number, prefix: string): Promise<bigint> {
  const stages = stageNames(prefix);
  const shares = share(BigInt(localCount), session.parties, COUNT_RING);
  const decode = (bytes: Uint8Array, stage: string) => COUNT_RING.decodeBytes(bytes, `stage ${stage}`);
  const held = await exchangeAll(session, stages.countShares, (to) => COUNT_RING.encodeBytes(shares[to]!));
  const partial = COUNT_RING.sum([shares[session.myself]!, ...held.map((b) => decode(b, stages.countShares))]);
  const partials = await exchangeAll(session, stages.countPartials, () => COUNT_RING.encodeBytes(partial));
  return COUNT_RING.sum([partial, ...partials.map((b) => decode(b, stages.countPartials))]);
}

function bitLength(x: bigint): number {
  return x.toString(2).length;
}

/** The digit widths of the search: DIGIT_BITS each, the last one shorter if need be. */
function digitPlan(digitBits: number): number[] {
  const plan: number[] = [];
  for (let left = KEY_BITS; left > 0; left -= digitBits) plan.push(Math.min(digitBits, left));
  return plan;
}

function zeroOperand(width: number, lanes: number): SharedNumber {
  return Array.from({ length: width }, () => new Uint8Array(lanes));
}

/** How many AND gates (triples) the whole search needs: the circuit run on a counter. */
async function triplesNeeded(parties: number, L: number, plan: readonly number[], searches: number): Promise<number> {
  const counter = new AndCounter();
  for (const d of plan) {
    const lanes = searches * ((1 << d) - 1);
    await carryOut(counter, Array.from({ length: parties }, () => zeroOperand(L + 1, lanes)), L);
  }
  return counter.ands;
}

/**
 * Checks what every party must agree on and knows anyway: all parties throw alike (unanimous:
 * none aborts the others, each answers the same problem itself).
 */
function checkSearches(searches: readonly KthSearch[], where: string): void {
  for (const s of searches) {
    if (s.total < 1n) throw unanimous(new BadInputError('there are no values at any party (N = 0)', { where }));
    if (s.rank < 1n || s.rank > s.total) {
      throw unanimous(new BadInputError(`rank ${s.rank} is outside 1…N, where N = ${s.total} is the number of values over all parties`, { where }));
    }
  }
}

export interface KthOptions {
  /** Field named by errors about the rank or N (default "kwargs.data"). */
  readonly where?: string;
  /** Bits found per round (1 … 8); default DIGIT_BITS. */
  readonly digitBits?: number;
}

/**
 * For each search, the rank-th smallest of the union of every party's values (the exact double;
 * −0 counts as 0). Every party passes the same ranks and totals; all searches share the rounds.
 */
export async function kthRanked(session: Session, searches: readonly KthSearch[], prefix: string, options: KthOptions = {}): Promise<number[]> {
  const stages = stageNames(prefix);
  checkSearches(searches, options.where ?? 'kwargs.data');
  const keys = searches.map((s) => sortedKeys(s.values, options.where ?? 'values'));
  const digitBits = options.digitBits ?? DIGIT_BITS;
  if (!Number.isInteger(digitBits) || digitBits < 1 || digitBits > 8) throw new RangeError('digitBits must be 1…8');
  const plan = digitPlan(digitBits);
  if (searches.length === 0) return [];
  // N < 2^L for every search, so counts fit L bits and Σ counts + 2^L − k fits L + 1.
  const L = bitLength(searches.reduce((m, s) => (s.total > m ? s.total : m), 0n));
  const width = L + 1;

  // Offline: exactly as many triples as the search consumes (base OTs reused if both hold one).
  const needed = await triplesNeeded(session.parties, L, plan, searches.length);
  // No send waits for its receipt before the next layer (deliveries.ts; sessions declare
  // searchLoops); all are awaited before the result.
  const deliveries = new Deliveries();
  const triples = await dealerFreeTriples(session, needed, stages, `tessera/order/${prefix}`, undefined, deliveries);
  const gmw = new Gmw(session, stages, triples, deliveries);

  // Online: one comparison layer batch and one opening per digit.
  const found = searches.map(() => 0n);
  let below = KEY_BITS;
  for (const d of plan) {
    below -= d;
    const probes = (1 << d) - 1;
    const mine: bigint[] = [];
    searches.forEach((s, i) => {
      const offset = session.myself === 0 ? (1n << BigInt(L)) - s.rank : 0n;
      for (let j = 1; j <= probes; j++) {
        const v = found[i]! + (BigInt(j) << BigInt(below)) - 1n;
        mine.push(BigInt(countAtMost(keys[i]!, v)) + offset);
      }
    });
    const operands = Array.from({ length: session.parties }, (_, p) =>
      p === session.myself ? operandWires(mine, width) : zeroOperand(width, mine.length),
    );
    const bits = await gmw.open(await carryOut(gmw, operands, L));
    searches.forEach((_, i) => {
      let digit = probes;
      for (let j = probes - 1; j >= 0; j--) if (bits[i * probes + j]) digit = j;
      found[i] = found[i]! + (BigInt(digit) << BigInt(below));
    });
  }
  await deliveries.settled();
  return found.map(fromOrderKey);
}

/**
 * The minimum and maximum of the union of every party's values (extremes.ts, the one min/max
 * block), and their number N (computed with secureCount unless the caller knows it already).
 * N = 0 is a BadInputError at every party.
 */
export async function secureExtremes(session: Session, values: readonly number[], prefix: string, total?: bigint): Promise<Extremes> {
  const N = total ?? (await secureCount(session, values.length, prefix));
  checkSearches([{ values, rank: 1n, total: N }], 'kwargs.data');
  const { minimum, maximum } = await secureMinMax(session, { minima: values, maxima: values }, prefix);
  return { min: minimum, max: maximum, count: Number(N) };
}
