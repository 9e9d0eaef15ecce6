// The SecAgg+ sparse neighbour graph of SecureFedAvg (Bell, Bonawitz, Gascón, Lepoint, Raykova,
// "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS 2020, §3–4): past a
// threshold of parties, each party masks its model with k = O(log n) neighbours instead of all
// n − 1 others, so its mask costs k keystreams instead of n − 1. docs/sparse-masks.md has the
// argument; this file has the graph and the exact failure computation it rests on.
//
// The graph is a Harary graph H(n, k) under a uniformly random relabelling: the n parties sit on a
// ring in the order of a random permutation, and each is joined to the k/2 parties on either side
// (k even). Every party derives the permutation alike from one graph seed, the hash of a 32-byte
// coin every party contributes at setup (protocol.ts), so no party (nor the client that chose the
// network uuid) fixes it alone.
//
// What the masks hide. In the default round (no dropouts) a coalition C sees, for every honest
// party i, parts of y_i = x_i + M_i with M_i = Σ_{j ∈ N(i)} ±PRG(s_ij); the seeds of pairs with a
// coalition member are known to C, the others are uniform to it. If the graph induced on the
// honest parties H is connected, the y_i (i ∈ H), after C removes what it knows, are uniform
// subject to their sum being Σ_{i∈H} x_i, which the output gives anyway (Bonawitz et al., CCS 2017,
// §4, the same argument with the complete graph). If it is not connected, C learns the sum of each
// honest component separately; a component of one party is that party's model.
// In the dropout round (min_parties = t < n; double.ts) the dropped parties' keys are rebuilt, so
// their edges are known too: the honest INCLUDED parties must stay connected with the coalition
// and up to n − t dropped parties removed. The count below holds for any fixed removed set, so
// neighbourCount takes the worst case over every removed count up to ⌊γn⌋ + n − t.
//
// When is the honest part of H(n, k) disconnected? Honest parties at ring distance ≤ k/2 are
// joined. Walk the ring: between two honest parties that follow each other there is a run of g
// coalition members, and they are joined iff g < k/2. If at most one such run has g ≥ k/2 the
// honest parties form a path around the ring (connected); if two do, no edge crosses either run
// (any honest pair on opposite sides is farther than k/2 both ways round), so it is disconnected.
// So, for a coalition of c parties fixed before the graph's coin is tossed, the failure
// probability is exactly
//
//   P_fail(n, c, k) = Pr[ at least two runs of ≥ k/2 coalition members among the n − c honest
//                         gaps, for a uniform c-subset of the ring ]
//
// which disconnectProbability computes by counting (no estimate, no bound): with h = n − c honest
// parties, L = k/2 and comp(s, r) the number of (g_1..g_r) with 0 ≤ g_i < L and Σ g_i = s,
//   #subsets with every gap < L           = n · comp(c, h) / h   (a subset with a marked honest
//                                                                party ↔ a start and a gap list)
//   #subsets with exactly one gap ≥ L      = n · Σ_{g ≥ L} comp(c − g, h − 1)  (mark the party
//                                                                before the long gap)
//   P_fail = 1 − (both) / C(n, h).
// Also: H(n, k) is k-connected (Harary, 1962), so c < k never disconnects (P_fail = 0).

import { createHash } from 'node:crypto';
import { BadInputError } from '../errors.js';
import { MaskStream, SEED_BYTES } from '../common/prg.js';

/** The coalition the sparse graph is sized against, as a fraction of the parties (documented in SECURITY.md). */
export const SPARSE_COALITION = 1 / 3;
/** The graph fails (the honest parties are disconnected) with probability at most 2^-SPARSE_FAILURE_BITS. */
export const SPARSE_FAILURE_BITS = 40;
/** From this many parties on, the default round masks with the sparse graph (mask_graph "auto"). */
export const SPARSE_THRESHOLD = 64;

const LABEL_GRAPH = 'SecureFedAvg/v1/graph';

/** comp(s, r) for s = 0..maxS: tuples of r integers in [0, limit) summing to s, by dynamic programming. */
function compositions(r: number, limit: number, maxS: number): bigint[] {
  let row: bigint[] = Array.from({ length: maxS + 1 }, (_, s) => (s === 0 ? 1n : 0n));
  for (let t = 0; t < r; t++) {
    // next[s] = Σ_{g=0}^{limit-1} row[s − g], by a running window sum.
    const next: bigint[] = new Array<bigint>(maxS + 1).fill(0n);
    let window = 0n;
    for (let s = 0; s <= maxS; s++) {
      window += row[s]!;
      if (s - limit >= 0) window -= row[s - limit]!;
      next[s] = window;
    }
    row = next;
  }
  return row;
}

function binomial(n: number, k: number): bigint {
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

/**
 * Exact probability, as a fraction [numerator, denominator], that the honest parties of H(n, k)
 * under a uniformly random relabelling are disconnected when a fixed set of c parties is removed
 * (see the top of this file).
 */
export function disconnectFraction(n: number, c: number, k: number): [bigint, bigint] {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k)) || n < 2 || c < 0 || c > n || k < 2 || k % 2 !== 0) {
    throw new RangeError(`disconnectFraction(${n}, ${c}, ${k}): need n ≥ 2, 0 ≤ c ≤ n, k even ≥ 2`);
  }
  const h = n - c;
  if (h <= 1 || c < k || k >= n - 1) return [0n, 1n];
  const L = k / 2;
  const total = binomial(n, h);
  const shortGaps = compositions(h, L, c); // all h gaps < L
  const oneLong = compositions(h - 1, L, c); // the other h − 1 gaps < L
  let longFirst = 0n;
  for (let g = L; g <= c; g++) longFirst += oneLong[c - g]!;
  const N = BigInt(n);
  const H = BigInt(h);
  // connected·h = n·comp(c, h) + h·n·Σ…  (so that every term is an integer)
  const connectedTimesH = N * shortGaps[c]! + H * N * longFirst;
  return [H * total - connectedTimesH, H * total];
}

/** log2 of disconnectFraction (−Infinity when it is 0). */
export function disconnectLog2(n: number, c: number, k: number): number {
  const [num, den] = disconnectFraction(n, c, k);
  if (num === 0n) return -Infinity;
  const log2 = (x: bigint): number => {
    const bits = x.toString(2).length;
    const shift = Math.max(0, bits - 60);
    return Math.log2(Number(x >> BigInt(shift))) + shift;
  };
  return log2(num) - log2(den);
}

/** The coalition size the graph is sized against: ⌊fraction · n⌋. */
export function coalitionSize(n: number, fraction = SPARSE_COALITION): number {
  return Math.floor(fraction * n + 1e-9);
}

/**
 * What sizes the graph, as a consortium sets it (SecureFedAvg kwargs mask_sparse_from,
 * mask_coalition, mask_failure_bits; docs/sparse-masks.md "Choosing the constants").
 */
export interface SparseOptions {
  /** mask_graph "auto" masks with the sparse graph from this many parties on. */
  readonly threshold: number;
  /** γ: the graph holds against coalitions of ⌊γ·n⌋ parties. */
  readonly coalition: number;
  /** The graph fails with probability at most 2^-failureBits. */
  readonly failureBits: number;
}
export const SPARSE_DEFAULTS: SparseOptions = { threshold: SPARSE_THRESHOLD, coalition: SPARSE_COALITION, failureBits: SPARSE_FAILURE_BITS };

/**
 * log2 of the largest P_fail(n, r, k) over every removed set size r ≤ removed: the failure
 * probability of H(n, k) when up to `removed` parties (a coalition and the dropped parties, fixed
 * before the coins) leave the graph. P_fail is not monotone in r (with one honest party left
 * nothing can disconnect), so every r is counted; r < k is 0 (k-connectivity). The largest r is
 * tried first: it is the worst case for every k this scan rejects, so a rejected k costs one count.
 */
export function worstDisconnectLog2(n: number, removed: number, k: number): number {
  let worst = -Infinity;
  for (let r = Math.min(removed, n); r >= k; r--) worst = Math.max(worst, disconnectLog2(n, r, k));
  return worst;
}

/**
 * The smallest even k such that, with a coalition of ⌊fraction·n⌋ parties and up to `dropouts`
 * dropped parties removed (fixed before the coins), the remaining parties stay connected except
 * with probability at most 2^-failureBits: max over r ≤ ⌊fraction·n⌋ + dropouts of P_fail(n, r, k).
 * n − 1 (the complete graph: every pair masks) when no smaller k does (P_fail is not increasing in
 * k, so the search is a scan from the bottom). With dropouts = 0 this is the default round's k.
 */
export function neighbourCount(n: number, fraction = SPARSE_COALITION, failureBits = SPARSE_FAILURE_BITS, dropouts = 0): number {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`neighbourCount: n must be an integer ≥ 2, got ${n}`);
  if (!Number.isInteger(dropouts) || dropouts < 0 || dropouts >= n) throw new RangeError(`neighbourCount: dropouts must be an integer in [0, ${n}), got ${dropouts}`);
  // Exact counting costs up to a second at a few hundred parties with a large dropout budget:
  // once per (n, fraction, bits, dropouts) and process.
  const key = `${n}/${fraction}/${failureBits}/${dropouts}`;
  let k = degrees.get(key);
  if (k === undefined) {
    const removed = coalitionSize(n, fraction) + dropouts;
    k = n - 1;
    for (let even = 2; even < n - 1; even += 2) {
      if (disconnectLog2(n, Math.min(removed, n), even) > -failureBits) continue; // the usual worst case, first
      if (worstDisconnectLog2(n, removed, even) <= -failureBits) {
        k = even;
        break;
      }
    }
    degrees.set(key, k);
  }
  return k;
}
const degrees = new Map<string, number>();

/** The graph seed: SHA-256 over a label, n and every party's coin in party order. */
export function graphSeed(coins: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha256').update(`tessera/${LABEL_GRAPH}/seed\0`).update(String(coins.length)).update('\0');
  coins.forEach((coin, i) => {
    if (coin.length !== SEED_BYTES) throw new BadInputError(`graph coin of party ${i} must be ${SEED_BYTES} bytes, got ${coin.length}`, { where: `party ${i}` });
    hash.update(coin);
  });
  return hash.digest();
}

/**
 * The ring order: a uniformly random permutation of 0..n−1 from the graph seed, by Fisher–Yates
 * with rejection sampling on 32-bit words of AES-256-CTR keystream (unbiased: a word is used only
 * when it falls below the largest multiple of the range).
 */
export function ringOrder(n: number, seed: Uint8Array): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const stream = new MaskStream(seed, LABEL_GRAPH);
  let bytes: Buffer = Buffer.alloc(0);
  let at = 0;
  const word = (): number => {
    if (at === bytes.length) {
      bytes = stream.next(1024);
      at = 0;
    }
    at += 4;
    return bytes.readUInt32LE(at - 4);
  };
  for (let i = n - 1; i > 0; i--) {
    const range = i + 1;
    const limit = Math.floor(2 ** 32 / range) * range;
    let w = word();
    while (w >= limit) w = word();
    const j = w % range;
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** A party's neighbours in the graph: whom it masks with (sorted, itself excluded). */
export interface MaskGraph {
  readonly parties: number;
  /** Neighbours per party (k of them; n − 1 for the complete graph). */
  readonly degree: number;
  neighbours(party: number): number[];
}

/** The complete graph: every pair masks (the construction without a sparse graph). */
export function completeGraph(n: number): MaskGraph {
  return {
    parties: n,
    degree: n - 1,
    neighbours: (p) => Array.from({ length: n }, (_, j) => j).filter((j) => j !== p),
  };
}

/** H(n, k) on the ring order from `seed`: each party is joined to the k/2 parties on either side. */
export function hararyGraph(n: number, k: number, seed: Uint8Array): MaskGraph {
  if (!Number.isInteger(k) || k < 2 || k % 2 !== 0 || k >= n - 1) throw new RangeError(`a sparse graph of ${n} parties needs an even degree 2 ≤ k < ${n - 1}, got ${k}`);
  const order = ringOrder(n, seed);
  const position = new Array<number>(n);
  order.forEach((party, at) => (position[party] = at));
  const half = k / 2;
  return {
    parties: n,
    degree: k,
    neighbours(p) {
      const at = position[p]!;
      const out: number[] = [];
      for (let d = 1; d <= half; d++) out.push(order[(at + d) % n]!, order[(at - d + n) % n]!);
      return out.sort((a, b) => a - b);
    },
  };
}
