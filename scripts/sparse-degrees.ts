// Prints the degree k of SecureFedAvg's sparse mask graph (services/fedavg/graph.ts) for a range of
// party counts, with the exact probability that a coalition of the stated size disconnects the
// honest parties at that k and at k − 2 (docs/sparse-masks.md has the table this prints). With
// --dropouts, the dropout round's k (a budget of ⌊fraction·n⌋ dropouts, n − min_parties) next to
// the default round's, the failure taken as the worst over every removed count.
//
//   npx tsx scripts/sparse-degrees.ts [--coalition 0.3333] [--bits 40] [--parties 64,100,256] [--dropouts 0.05,0.1,0.2]
import { parseArgs } from 'node:util';
import { coalitionSize, disconnectLog2, neighbourCount, SPARSE_COALITION, SPARSE_FAILURE_BITS, worstDisconnectLog2 } from '../services/fedavg/graph.js';

const { values } = parseArgs({
  options: {
    coalition: { type: 'string', default: String(SPARSE_COALITION) },
    bits: { type: 'string', default: String(SPARSE_FAILURE_BITS) },
    parties: { type: 'string', default: '40,64,100,128,200,256,500,1000' },
    dropouts: { type: 'string' },
  },
});
const fraction = Number(values.coalition);
const bits = Number(values.bits);
const fmt = (x: number): string => (x === -Infinity ? '0 (c < k)' : `2^${x.toFixed(1)}`);
console.log(`coalition ⌊${fraction.toFixed(4)}·n⌋, failure ≤ 2^-${bits}`);
console.log('| parties n | coalition c | k | P_fail at k | P_fail at k − 2 | k / (n − 1) |');
console.log('|---:|---:|---:|---:|---:|---:|');
for (const n of values.parties!.split(',').map(Number)) {
  const c = coalitionSize(n, fraction);
  const k = neighbourCount(n, fraction, bits);
  const atK = k < n - 1 ? disconnectLog2(n, c, k) : -Infinity;
  const below = k - 2 >= 2 ? fmt(disconnectLog2(n, c, k - 2)) : '—';
  console.log(`| ${n} | ${c} | ${k}${k === n - 1 ? ' (complete)' : ''} | ${fmt(atK)} | ${below} | ${(k / (n - 1)).toFixed(2)} |`);
}

if (values.dropouts !== undefined) {
  const budgets = values.dropouts.split(',').map(Number);
  console.log(`\nthe dropout round: k for a coalition of ⌊${fraction.toFixed(4)}·n⌋ and a dropout budget of ⌊δ·n⌋ (n − min_parties), failure ≤ 2^-${bits} over every removed count`);
  console.log(`| parties n | coalition c | ${budgets.map((d) => `δ = ${d}: dropouts, k, worst P_fail`).join(' | ')} |`);
  console.log(`|---:|---:|${budgets.map(() => '---:').join('|')}|`);
  for (const n of values.parties!.split(',').map(Number)) {
    const c = coalitionSize(n, fraction);
    const cells = budgets.map((d) => {
      const dropouts = Math.floor(d * n + 1e-9);
      const k = neighbourCount(n, fraction, bits, dropouts);
      const worst = k < n - 1 ? worstDisconnectLog2(n, c + dropouts, k) : NaN;
      return `${dropouts}, ${k}${k === n - 1 ? ' (complete)' : ''}, ${Number.isNaN(worst) ? '—' : worst === -Infinity ? '0 (c + dropouts < k)' : `2^${worst.toFixed(1)}`}`;
    });
    console.log(`| ${n} | ${c} | ${cells.join(' | ')} |`);
  }
}
