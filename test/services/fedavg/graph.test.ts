// The SecAgg+ sparse graph (services/fedavg/graph.ts): the exact failure probability against a
// brute-force count, the degree it picks, and the graph itself (the same at every party given the
// same coins, symmetric, k neighbours each, the Harary ring neighbourhood).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  coalitionSize,
  disconnectFraction,
  disconnectLog2,
  graphSeed,
  hararyGraph,
  neighbourCount,
  ringOrder,
  SPARSE_COALITION,
  SPARSE_FAILURE_BITS,
  SPARSE_DEFAULTS,
  SPARSE_THRESHOLD,
  worstDisconnectLog2,
} from '../../../services/fedavg/graph.js';
import { sparseDegree } from '../../../services/fedavg/masks.js';

/** Is the honest part of H(n, k) on the ring order 0..n−1 connected, the coalition being `bad`? By search. */
function honestConnected(n: number, k: number, bad: ReadonlySet<number>): boolean {
  const honest = Array.from({ length: n }, (_, i) => i).filter((i) => !bad.has(i));
  if (honest.length <= 1) return true;
  const seen = new Set([honest[0]!]);
  const todo = [honest[0]!];
  while (todo.length > 0) {
    const p = todo.pop()!;
    for (let d = 1; d <= k / 2; d++) {
      for (const q of [(p + d) % n, (p - d + n) % n]) {
        if (!bad.has(q) && !seen.has(q)) {
          seen.add(q);
          todo.push(q);
        }
      }
    }
  }
  return seen.size === honest.length;
}

/** Every c-subset of 0..n−1, as bit masks. */
function* subsets(n: number, c: number, from = 0, chosen: number[] = []): Generator<number[]> {
  if (chosen.length === c) {
    yield chosen;
    return;
  }
  for (let i = from; i <= n - (c - chosen.length); i++) yield* subsets(n, c, i + 1, [...chosen, i]);
}

describe('the exact failure probability', () => {
  // A uniformly random relabelling and a fixed coalition is the same as a fixed ring and a uniform
  // coalition: count the c-subsets of the ring that disconnect the rest.
  for (const [n, c, k] of [[12, 5, 4], [13, 6, 4], [14, 7, 6], [11, 4, 2], [12, 8, 4], [16, 6, 4]] as const) {
    test(`n=${n}, c=${c}, k=${k}: the count of disconnecting coalitions, by brute force`, () => {
      let bad = 0;
      let all = 0;
      for (const s of subsets(n, c)) {
        all += 1;
        if (!honestConnected(n, k, new Set(s))) bad += 1;
      }
      const [num, den] = disconnectFraction(n, c, k);
      // num/den == bad/all, as fractions.
      assert.equal(num * BigInt(all), den * BigInt(bad), `formula ${num}/${den}, brute force ${bad}/${all}`);
      assert.ok(bad > 0 || c < k, 'the cases are chosen so that some coalitions disconnect');
    });
  }

  test('a coalition smaller than k never disconnects H(n, k) (it is k-connected)', () => {
    assert.deepEqual(disconnectFraction(100, 25, 26), [0n, 1n]);
    assert.ok(disconnectLog2(100, 26, 26) > -Infinity);
  });

  test('the degree is the smallest even k meeting the bound, and it is O(log n)', () => {
    for (const n of [64, 100, 256]) {
      const k = neighbourCount(n);
      const c = coalitionSize(n, SPARSE_COALITION);
      assert.ok(k % 2 === 0 && k < n - 1, `k=${k} at n=${n}`);
      assert.ok(disconnectLog2(n, c, k) <= -SPARSE_FAILURE_BITS, `n=${n}, k=${k} meets 2^-${SPARSE_FAILURE_BITS}`);
      assert.ok(disconnectLog2(n, c, k - 2) > -SPARSE_FAILURE_BITS, `n=${n}, k−2=${k - 2} does not`);
    }
    // Doubling n adds a constant: 100 → 200 → 400 parties.
    const [a, b, d] = [neighbourCount(100), neighbourCount(200), neighbourCount(400)];
    assert.ok(b - a <= 6 && d - b <= 6, `k(100)=${a}, k(200)=${b}, k(400)=${d}`);
  });

  test('small rounds keep the complete graph unless sparse is asked for, or the threshold is moved', () => {
    assert.equal(sparseDegree('auto', SPARSE_THRESHOLD - 1), undefined);
    assert.equal(sparseDegree('auto', SPARSE_THRESHOLD), neighbourCount(SPARSE_THRESHOLD));
    assert.equal(sparseDegree('full', 200), undefined);
    assert.equal(sparseDegree('sparse', 40), neighbourCount(40));
    // Three parties: no graph sparser than the complete one. Five, a coalition of one: the ring.
    assert.equal(sparseDegree('sparse', 3), undefined);
    assert.equal(sparseDegree('sparse', 5), 2);
    // The options a consortium sets (kwargs mask_sparse_from, mask_coalition, mask_failure_bits).
    const options = { ...SPARSE_DEFAULTS, threshold: 40 };
    assert.equal(sparseDegree('auto', 40, 0, options), neighbourCount(40));
    assert.equal(sparseDegree('auto', 39, 0, options), undefined);
    const loose = { ...SPARSE_DEFAULTS, coalition: 0.2, failureBits: 30 };
    assert.equal(sparseDegree('sparse', 100, 0, loose), neighbourCount(100, 0.2, 30));
    assert.ok(neighbourCount(100, 0.2, 30) < neighbourCount(100), 'a smaller coalition and a looser bound need fewer neighbours');
    assert.ok(neighbourCount(100, SPARSE_COALITION, 60) > neighbourCount(100), 'a tighter bound needs more');
  });
});

describe('the dropout round: a coalition and the dropped parties removed', () => {
  test('k grows with the dropout budget, and is the smallest even k meeting the bound over every removed count', () => {
    for (const n of [64, 100, 200]) {
      const c = coalitionSize(n, SPARSE_COALITION);
      let previous = 0;
      const budgets = [0, Math.floor(n / 20), Math.floor(n / 10), Math.floor(n / 5)];
      for (const dropouts of budgets) {
        const k = neighbourCount(n, SPARSE_COALITION, SPARSE_FAILURE_BITS, dropouts);
        assert.ok(k >= previous, `n=${n}: k=${k} with ${dropouts} dropouts, ${previous} with fewer`);
        previous = k;
        if (k === n - 1) continue;
        assert.ok(k % 2 === 0);
        assert.ok(worstDisconnectLog2(n, c + dropouts, k) <= -SPARSE_FAILURE_BITS, `n=${n}, ${dropouts} dropouts: k=${k} meets the bound`);
        assert.ok(worstDisconnectLog2(n, c + dropouts, k - 2) > -SPARSE_FAILURE_BITS, `n=${n}, ${dropouts} dropouts: k−2 does not`);
      }
      assert.ok(previous > neighbourCount(n), `n=${n}: a budget of n/5 dropouts needs more neighbours than none`);
    }
    // Where it stays sparse: 200 parties, min_parties 180.
    assert.ok(neighbourCount(200, SPARSE_COALITION, SPARSE_FAILURE_BITS, 20) < 100);
    assert.equal(sparseDegree('sparse', 100, 20), neighbourCount(100, SPARSE_COALITION, SPARSE_FAILURE_BITS, 20));
  });

  // The coalition-size check: by brute force over every set of removed parties (coalition ∪
  // dropped) up to the bound, on the ring (a uniformly random relabelling with a fixed set is a
  // fixed ring with a uniform set), the fraction that disconnects the rest is within 2^-bits for
  // every size, at the k chosen; at k − 2 some size exceeds it. Small rings need a loose bound.
  for (const [n, fraction, dropouts, bits] of [[16, 0.25, 2, 3], [15, 0.2, 3, 2], [14, 0.3, 1, 4]] as const) {
    test(`n=${n}, coalition ⌊${fraction}·n⌋, ${dropouts} dropouts, 2^-${bits}: every removed set, by brute force`, () => {
      const k = neighbourCount(n, fraction, bits, dropouts);
      assert.ok(k < n - 1, `the cases are chosen so that the graph is sparse (k=${k})`);
      const removed = coalitionSize(n, fraction) + dropouts;
      const worstAt = (degree: number): number => {
        let worst = 0;
        for (let r = 1; r <= removed; r++) {
          let bad = 0;
          let all = 0;
          for (const s of subsets(n, r)) {
            all += 1;
            if (!honestConnected(n, degree, new Set(s))) bad += 1;
          }
          worst = Math.max(worst, bad / all);
        }
        return worst;
      };
      assert.ok(worstAt(k) <= 2 ** -bits, `k=${k}: at most 2^-${bits}`);
      if (k > 2) assert.ok(worstAt(k - 2) > 2 ** -bits, `k−2=${k - 2} exceeds 2^-${bits}`);
      assert.ok(Math.abs(2 ** worstDisconnectLog2(n, removed, k) - worstAt(k)) < 1e-12, 'the count matches the brute force');
    });
  }
});

describe('the graph', () => {
  const n = 40;
  const k = neighbourCount(n);
  const coins = Array.from({ length: n }, () => randomBytes(32));

  test('every party builds the same graph from the same coins; another coin, another graph', () => {
    const one = hararyGraph(n, k, graphSeed(coins));
    const again = hararyGraph(n, k, graphSeed(coins.map((c) => Buffer.from(c))));
    for (let p = 0; p < n; p++) assert.deepEqual(one.neighbours(p), again.neighbours(p));
    const changed = coins.map((c, i) => (i === 17 ? randomBytes(32) : c));
    const other = hararyGraph(n, k, graphSeed(changed));
    assert.ok(Array.from({ length: n }, (_, p) => p).some((p) => other.neighbours(p).join() !== one.neighbours(p).join()));
  });

  test('each party has k distinct neighbours: the k/2 on either side of it on the ring, and the relation is symmetric', () => {
    const seed = graphSeed(coins);
    const graph = hararyGraph(n, k, seed);
    const order = ringOrder(n, seed);
    assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    for (let p = 0; p < n; p++) {
      const mine = graph.neighbours(p);
      assert.equal(new Set(mine).size, k);
      assert.ok(!mine.includes(p));
      const at = order.indexOf(p);
      const ring = new Set<number>();
      for (let d = 1; d <= k / 2; d++) ring.add(order[(at + d) % n]!).add(order[(at - d + n) % n]!);
      assert.deepEqual(mine, [...ring].sort((a, b) => a - b));
      for (const q of mine) assert.ok(graph.neighbours(q).includes(p), `${p}–${q} one way only`);
    }
  });

  test('the ring order is uniform: each party lands at position 0 about equally often', () => {
    const m = 8;
    const counts = new Array<number>(m).fill(0);
    const trials = 4000;
    for (let t = 0; t < trials; t++) counts[ringOrder(m, randomBytes(32))[0]!]! += 1;
    // Expected 500 each; a binomial(4000, 1/8) is within ±5σ (σ ≈ 21) with probability 1 − 6e-7 per party.
    for (const c of counts) assert.ok(Math.abs(c - trials / m) < 105, `counts ${counts.join(',')}`);
  });
});
