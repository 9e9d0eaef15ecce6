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
  SPARSE_THRESHOLD,
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

  test('small rounds keep the complete graph unless sparse is asked for; the dropout round always does', () => {
    assert.equal(sparseDegree('auto', SPARSE_THRESHOLD - 1, false), undefined);
    assert.equal(sparseDegree('auto', SPARSE_THRESHOLD, false), neighbourCount(SPARSE_THRESHOLD));
    assert.equal(sparseDegree('full', 200, false), undefined);
    assert.equal(sparseDegree('sparse', 40, false), neighbourCount(40));
    assert.equal(sparseDegree('sparse', 200, true), undefined);
    assert.equal(sparseDegree('auto', 200, true), undefined);
    // Three parties: no graph sparser than the complete one. Five, a coalition of one: the ring.
    assert.equal(sparseDegree('sparse', 3, false), undefined);
    assert.equal(sparseDegree('sparse', 5, false), 2);
  });
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
