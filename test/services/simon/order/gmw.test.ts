// Dealer-free boolean triples (OT between every pair), GMW AND gates, and the comparison circuit,
// each against plaintext, with two to four parties on the in-memory network.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dealerFreeTriples } from '../../../../services/simon/order/triples.js';
import { Gmw } from '../../../../services/simon/order/gmw.js';
import { carryOut, operandWires } from '../../../../services/simon/order/compare.js';
import { orderStages } from '../../../../services/simon/order/index.js';
import type { Session } from '../../../../services/peer.js';
import { PREFIX, runParties } from './parties.js';

const [countShares, countPartials, baseA, baseB, ext, fix, and, open] = orderStages(PREFIX) as [string, string, string, string, string, string, string, string];
void countShares;
void countPartials;
const STAGES = { baseA, baseB, ext, fix, and, open };

async function triplesFor(session: Session, count: number) {
  return dealerFreeTriples(session, count, STAGES, 'test');
}

describe('boolean Beaver triples from oblivious transfer', () => {
  for (const n of [2, 3, 4]) {
    test(`${n} parties: c = a ∧ b over XOR shares, for 5000 triples`, async () => {
      const count = 5000;
      const shares = await runParties(n, (session) => triplesFor(session, count));
      let ones = 0;
      for (let t = 0; t < count; t++) {
        const a = shares.reduce((x, s) => x ^ s.a[t]!, 0);
        const b = shares.reduce((x, s) => x ^ s.b[t]!, 0);
        const c = shares.reduce((x, s) => x ^ s.c[t]!, 0);
        assert.equal(c, a & b, `triple ${t}`);
        ones += a & b;
      }
      // a and b are uniform, so about a quarter of the products are 1.
      assert.ok(Math.abs(ones - count / 4) < 6 * Math.sqrt((count * 3) / 16), `${ones}`);
      // No party's c share equals the product on its own (it is masked by the cross terms).
      for (const s of shares) {
        let same = 0;
        for (let t = 0; t < count; t++) same += Number(s.c[t] === (shares.reduce((x, q) => x ^ q.a[t]!, 0) & shares.reduce((x, q) => x ^ q.b[t]!, 0)));
        assert.ok(same < count * 0.6, 'a single share is not the product');
      }
    });
  }
});

describe('GMW AND gates', () => {
  test('x ∧ y on XOR shares, several layers in a row', async () => {
    const n = 3;
    const m = 300;
    const xs = Array.from({ length: n }, () => Uint8Array.from({ length: m }, () => Math.round(Math.random())));
    const ys = Array.from({ length: n }, () => Uint8Array.from({ length: m }, () => Math.round(Math.random())));
    const outs = await runParties(n, async (session, i) => {
      const gmw = new Gmw(session, STAGES, await triplesFor(session, 2 * m));
      const z = await gmw.and(xs[i]!, ys[i]!);
      const zz = await gmw.and(z, xs[i]!);
      return { z, zz, opened: await gmw.open(zz), left: gmw.remaining };
    });
    for (let t = 0; t < m; t++) {
      const x = xs.reduce((a, s) => a ^ s[t]!, 0);
      const y = ys.reduce((a, s) => a ^ s[t]!, 0);
      assert.equal(outs.reduce((a, o) => a ^ o.z[t]!, 0), x & y);
      assert.equal(outs.reduce((a, o) => a ^ o.zz[t]!, 0), x & y & x);
      for (const o of outs) assert.equal(o.opened[t], x & y);
    }
    for (const o of outs) assert.equal(o.left, 0);
  });

  test('running out of triples is an error, not a wrong answer', async () => {
    await assert.rejects(
      runParties(2, async (session) => {
        const gmw = new Gmw(session, STAGES, await triplesFor(session, 3));
        return gmw.and(new Uint8Array(4), new Uint8Array(4));
      }),
      /ran out of multiplication triples/,
    );
  });
});

/** Every party's view of [Σ counts + (2^L − k) ≥ 2^L], i.e. [Σ counts ≥ k], opened. */
async function compareAll(counts: number[][], ranks: number[], L: number): Promise<Uint8Array[]> {
  const n = counts.length;
  return runParties(n, async (session, i) => {
    const mine = counts[i]!.map((c, j) => BigInt(c) + (i === 0 ? (1n << BigInt(L)) - BigInt(ranks[j]!) : 0n));
    const operands = Array.from({ length: n }, (_, p) => (p === i ? operandWires(mine, L + 1) : operandWires(mine.map(() => 0n), L + 1)));
    const gmw = new Gmw(session, STAGES, await triplesFor(session, 2000));
    return gmw.open(await carryOut(gmw, operands, L));
  });
}

describe('secure comparison [Σ c_i ≥ k]', () => {
  test('against plaintext: edge cases k = 1, k = N, Σ c = k exactly, all zero', async () => {
    // N = 12 total values (L = 4); each column is one comparison: counts at 3 parties and k.
    const counts = [
      [0, 5, 4, 4, 0, 4, 1, 5],
      [0, 5, 4, 4, 0, 4, 0, 4],
      [0, 2, 4, 3, 0, 4, 0, 3],
    ];
    const ranks = [1, 12, 12, 12, 12, 1, 1, 13 - 1];
    const L = 4;
    const views = await compareAll(counts, ranks, L);
    ranks.forEach((k, j) => {
      const sum = counts.reduce((s, c) => s + c[j]!, 0);
      for (const v of views) assert.equal(v[j], Number(sum >= k), `comparison ${j}: ${sum} ≥ ${k}`);
    });
  });

  test('property: random counts and ranks, 2 to 4 parties', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 12 }),
        async (n, N, lanes) => {
          const L = N.toString(2).length;
          const counts = Array.from({ length: n }, () => new Array<number>(lanes).fill(0));
          const ranks: number[] = [];
          for (let j = 0; j < lanes; j++) {
            // Split some total ≤ N among the parties.
            let left = Math.floor(Math.random() * (N + 1));
            for (let i = 0; i < n; i++) {
              const c = i === n - 1 ? left : Math.floor(Math.random() * (left + 1));
              counts[i]![j] = c;
              left -= c;
            }
            ranks.push(1 + Math.floor(Math.random() * N));
          }
          const views = await compareAll(counts, ranks, L);
          ranks.forEach((k, j) => {
            const sum = counts.reduce((s, c) => s + c[j]!, 0);
            for (const v of views) assert.equal(v[j], Number(sum >= k));
          });
        },
      ),
      { numRuns: 6 },
    );
  });
});
