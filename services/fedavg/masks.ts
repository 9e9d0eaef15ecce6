// Which mask terms a SecureFedAvg party applies (with whom it masks: every party or its neighbours
// in the sparse graph of graph.ts; with which sign), and their expansion by one function
// (protocol.ts derives the seeds; this file turns a list of {seed, sign} into one mask).
//
// Every term is the AES-256-CTR keystream of its seed under one label (services/common/prg.ts),
// read as a ring vector over the FLAT model: element e of the model is masked by the keystream
// bytes at offset e·k/8. So any range [start, end) can be expanded on its own — setup expands
// chunk by chunk, and a segment holder that removes the masks of dropped parties or the self
// masks of included ones (docs/dropouts.md) expands only its own segment — by starting the CTR
// counter at the range's first block (NIST SP 800-38A §6.5: block i of the stream is E_K(T_0 + i)).

import { expandMaskInto, type MaskTerm } from '../common/mask.js';
import { allocRing, type RingBits } from '../common/vector.js';
import { neighbourCount, SPARSE_DEFAULTS, type SparseOptions } from './graph.js';

export type { MaskTerm };

/**
 * Σ sign·PRG(seed, label) over ring elements [start, end) of the flat stream, as one ring vector,
 * by the one mask kernel (services/common/mask.ts). The result for a range equals the same range
 * of the whole stream (tested against MaskStream).
 */
export function combinedMask(bits: RingBits, terms: readonly MaskTerm[], label: string, start: number, end: number): Uint32Array {
  const out = allocRing(bits, end - start);
  expandMaskInto(bits, terms, label, out, start);
  return out;
}

// ------------------------------------------------------------------ which pairs mask

/**
 * Which graph the pairwise masks follow (compute keyword mask_graph): "full" — every pair of
 * parties (Bonawitz et al., CCS 2017); "sparse" — the SecAgg+ graph of graph.ts (Bell et al.,
 * CCS 2020), k neighbours per party; "auto" (default) — sparse from SparseOptions.threshold parties on.
 */
export type MaskGraphChoice = 'auto' | 'full' | 'sparse';
export const MASK_GRAPH_CHOICES: readonly MaskGraphChoice[] = ['auto', 'full', 'sparse'];

/**
 * The number of neighbours k each party masks with in a round of `parties` parties, or undefined
 * for the complete graph. `dropouts` is the round's dropout budget n − min_parties (0 without
 * min_parties): the double-masked round (double.ts) removes the dropped parties' pair masks, so
 * its graph must keep the honest survivors connected with a coalition AND the dropped parties
 * gone, and k grows with the budget (graph.ts neighbourCount; docs/sparse-masks.md "The dropout
 * round"). A sparse graph no smaller than the complete one is the complete one.
 */
export function sparseDegree(choice: MaskGraphChoice, parties: number, dropouts = 0, options: SparseOptions = SPARSE_DEFAULTS): number | undefined {
  if (choice === 'full') return undefined;
  if (choice === 'auto' && parties < options.threshold) return undefined;
  const k = neighbourCount(parties, options.coalition, options.failureBits, dropouts);
  return k < parties - 1 ? k : undefined;
}

/**
 * The pairwise terms of party `me`: one per partner j (every other party, or its neighbours in
 * the sparse graph), with the pair's seed, +1 when me < j and −1 when me > j, so that over all
 * parties every pair's keystream is added once and subtracted once and Σ_i M_i = 0 — for any graph,
 * as long as every party uses the same one (the neighbour relation is symmetric).
 */
export function pairTerms(me: number, partners: readonly number[], seedWith: (j: number) => Uint8Array): MaskTerm[] {
  return partners.map((j) => ({ seed: seedWith(j), sign: me < j ? 1 : -1 }));
}

/**
 * The terms party `me` applies to each segment of the model in the default round (no dropout
 * recovery): `terms[t]` is its pair term with `partners[t]` (pairTerms' order). Segment j goes to
 * party j alone, and party j holds the seed of every pair it is in, so a pair term shared with j
 * hides nothing from j, the one party that ever sees segment j masked; only the terms with third
 * parties do. So, when every party has at least two partners:
 *   - the segment of a partner j carries every term except the one with j;
 *   - the party's own segment carries none (its contribution to it never leaves the party);
 * and on every segment j the terms kept by all parties are exactly the pairs without j, each
 * added once and subtracted once, so they still cancel. A coalition holding segment j learns what
 * it learned before (what the dropped terms hid from it, it could remove itself), and the
 * contributions of honest parties stay masked by their pairs with each other (docs/architecture.md
 * §4). It cuts the keystream a party expands from (n−1)·E to (n−1)(n−2)/n·E elements: a third of
 * it among three parties. With a single partner (two parties) that partner's term would be the
 * only one left on its segment, so nothing is dropped: every party decides alike, since
 * every party has as many partners (the complete graph, or the regular sparse graph).
 */
export function segmentTerms(me: number, partners: readonly number[], terms: readonly MaskTerm[], parties: number): MaskTerm[][] {
  if (partners.length < 2) return Array.from({ length: parties }, () => [...terms]);
  return Array.from({ length: parties }, (_, j) => (j === me ? [] : terms.filter((_, t) => partners[t] !== j)));
}
