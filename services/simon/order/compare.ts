// The secure comparison at each probe of the search: given n private operands (party i's
// L+1-bit number o_i, XOR-shared as "party i holds the bits, the others hold zeros"), shares of
// the bit [Σ o_i ≥ 2^L], provided Σ o_i < 2^(L+1).
//
// The search uses it with o_i = c_i (party i's count of values ≤ the probe) and o_0 = c_0 + 2^L − k:
// with Σ c_i ≤ N < 2^L and 1 ≤ k ≤ N, Σ o_i = Σ c_i + 2^L − k < 2^(L+1), and bit L of it is
// exactly [Σ c_i ≥ k]. Party 0 adds the public 2^L − k to its own count locally.
//
// Circuit (all arithmetic modulo 2^(L+1), so carries out of the top bit are dropped):
// - carry-save adders reduce the operands three to two, one AND per bit per level
//   (majority(x, y, z) = ((x⊕z)∧(y⊕z))⊕z; the sum bit x⊕y⊕z is free);
// - of the final two numbers A, B only bit L of A + B is needed: A_L ⊕ B_L ⊕ (carry into bit L),
//   and that carry is the "generate" signal of bits 0…L−1, computed by a binary tree of the
//   parallel-prefix operator (G, P)∘(G', P') = (G ⊕ P∧G', P∧P') (Brent and Kung, "A Regular
//   Layout for Parallel Adders", IEEE Trans. Computers 1982; G and P∧G' never both hold, so ⊕ is ∨).
// AND depth: ⌈log_{3/2}⌉-many CSA levels (1 for three parties) + 1 + ⌈log2 L⌉.
// Many comparisons run side by side: every wire is a vector with one bit per comparison, and each
// circuit layer of all of them is one BitEngine.and call (one round).

import { concat, xor, type Bits } from './bits.js';
import type { BitEngine } from './gmw.js';

/** A shared number: `width` wires (least significant first), each one bit per comparison. */
export type SharedNumber = Bits[];

/** One batched AND layer: the ANDs of several (x, y) wire pairs in one round. */
async function andLayer(engine: BitEngine, pairs: readonly [Bits, Bits][]): Promise<Bits[]> {
  if (pairs.length === 0) return [];
  const z = await engine.and(concat(pairs.map((p) => p[0])), concat(pairs.map((p) => p[1])));
  const out: Bits[] = [];
  let at = 0;
  for (const [x] of pairs) {
    out.push(z.subarray(at, at + x.length));
    at += x.length;
  }
  return out;
}

/** Shares of [Σ operands ≥ 2^L] per comparison; each operand has L+1 wires. */
export async function carryOut(engine: BitEngine, operands: readonly SharedNumber[], L: number): Promise<Bits> {
  const width = L + 1;
  const lanes = operands[0]![0]!.length;
  const zero = new Uint8Array(lanes);
  let numbers = [...operands];
  // Carry-save levels: 3 → 2 until two numbers remain.
  while (numbers.length > 2) {
    const groups = Math.floor(numbers.length / 3);
    const pairs: [Bits, Bits][] = [];
    for (let g = 0; g < groups; g++) {
      const [x, y, z] = [numbers[3 * g]!, numbers[3 * g + 1]!, numbers[3 * g + 2]!];
      for (let bit = 0; bit < width - 1; bit++) pairs.push([xor(x[bit]!, z[bit]!), xor(y[bit]!, z[bit]!)]);
    }
    const products = await andLayer(engine, pairs);
    const next: SharedNumber[] = [];
    for (let g = 0; g < groups; g++) {
      const [x, y, z] = [numbers[3 * g]!, numbers[3 * g + 1]!, numbers[3 * g + 2]!];
      const sum = x.map((xb, bit) => xor(xor(xb, y[bit]!), z[bit]!));
      const carry: SharedNumber = [zero];
      for (let bit = 0; bit < width - 1; bit++) carry.push(xor(products[g * (width - 1) + bit]!, z[bit]!));
      next.push(sum, carry);
    }
    next.push(...numbers.slice(3 * groups));
    numbers = next;
  }
  const A = numbers[0]!;
  const B = numbers[1] ?? A.map(() => zero);
  // Generate and propagate signals of bits 0 … L−1.
  const generate = await andLayer(engine, A.slice(0, L).map((a, bit) => [a, B[bit]!] as [Bits, Bits]));
  const carry = await prefixGenerate(engine, generate.map((g, bit) => ({ g, p: xor(A[bit]!, B[bit]!) })));
  return xor(xor(A[L]!, B[L]!), carry);
}

/** A block's generate and propagate signals, one bit per comparison each. */
export interface Signals {
  readonly g: Bits;
  readonly p: Bits;
}

/**
 * The generate signal of all blocks together (least significant block first), by a binary tree of
 * (G, P)∘(G', P') = (G ⊕ P∧G', P∧P'): ⌈log2 blocks⌉ AND layers. The lowest block's propagate
 * signal is never read. With g = [x_j < y_j] and p = [x_j = y_j] per block (g = [x_0 ≤ y_0] for the
 * lowest), the result is [x ≤ y]; carryOut uses it for the carry of a sum's two last operands.
 */
export async function prefixGenerate(engine: BitEngine, blocks: readonly Signals[]): Promise<Bits> {
  let nodes = [...blocks];
  const zero = new Uint8Array(blocks[0]!.g.length);
  while (nodes.length > 1) {
    const pairs: [Bits, Bits][] = [];
    const half = Math.floor(nodes.length / 2);
    for (let m = 0; m < half; m++) {
      const lo = nodes[2 * m]!;
      const hi = nodes[2 * m + 1]!;
      pairs.push([hi.p, lo.g]);
      // The block holding bit 0 never needs its propagate signal: nothing is below it.
      if (m > 0) pairs.push([hi.p, lo.p]);
    }
    const products = await andLayer(engine, pairs);
    const next: Signals[] = [];
    let at = 0;
    for (let m = 0; m < half; m++) {
      const hi = nodes[2 * m + 1]!;
      const g = xor(hi.g, products[at++]!);
      const p = m > 0 ? products[at++]! : zero;
      next.push({ g, p });
    }
    if (nodes.length % 2) next.push(nodes[nodes.length - 1]!);
    nodes = next;
  }
  return nodes[0]!.g;
}

/** This party's operand wires for the given per-comparison values (party `owner`'s operand). */
export function operandWires(values: readonly bigint[], width: number): SharedNumber {
  return Array.from({ length: width }, (_, bit) => Uint8Array.from(values, (v) => Number((v >> BigInt(bit)) & 1n)));
}
