// `npx tsx bench/vectorsum.ts [--parties 3,4 --runs 50]`: the secure vector sum's two
// constructions (services/common/vectorsum.ts) side by side, interleaved run by run, on real peer
// nodes over loopback HTTP and the peer channel (the test harness's parties, in this process):
// additive sharing between every pair (2n(n−1) messages, two stages) against pairwise masking in a
// star (3(n−1) messages, three stages). Only the peer protocol is timed: sessions are opened
// before the clock starts, so the client path and session open (the same for both) are left out.
// It is how MASKED_FROM was chosen.
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { COUNT_RING, REAL_RING, secureVectorSum, vectorSumStages } from '../services/common/vectorsum.js';
import { EXACT_SCALAR } from '../services/common/fixedpoint.js';
import { startNetwork, termsFor } from '../test/server/peer/harness.js';
import { printTable, quantile } from './cluster.js';

const { values } = parseArgs({ options: { parties: { type: 'string', default: '3,4' }, runs: { type: 'string', default: '50' } } });
const STAGES = vectorSumStages('sum');
const RUNS = Number(values.runs);

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const n of values.parties.split(',').map(Number)) {
    const net = await startNetwork(n);
    try {
      const times = { shared: [] as number[], masked: [] as number[] };
      const once = async (construction: 'shared' | 'masked'): Promise<number> => {
        const uuid = randomUUID();
        const sessions = await Promise.all(net.parties.map((p, myself) => p.node.open({ uuid, myself, terms: termsFor(net.urls), stages: STAGES.all })));
        const started = performance.now();
        await Promise.all(sessions.map((s, i) => secureVectorSum(s, STAGES, [
          { group: REAL_RING, values: [EXACT_SCALAR.encode(i + 0.5, 'x')] },
          { group: COUNT_RING, values: [1n] },
        ], { construction })));
        const elapsed = performance.now() - started;
        sessions.forEach((s) => s.close());
        return elapsed;
      };
      for (let i = 0; i < 5; i++) {
        await once('shared');
        await once('masked');
      }
      for (let i = 0; i < RUNS; i++) {
        times.shared.push(await once('shared'));
        times.masked.push(await once('masked'));
      }
      for (const c of ['shared', 'masked'] as const) {
        const t = times[c].sort((a, b) => a - b);
        rows.push([n, c, c === 'shared' ? 2 * n * (n - 1) : 3 * (n - 1), RUNS, quantile(t, 0.5).toFixed(2), quantile(t, 0.95).toFixed(2)]);
      }
    } finally {
      await net.close();
    }
  }
  console.log('\nSecure vector sum of (exact real, count), peer protocol only (sessions open), real peer nodes over loopback (ms)\n');
  printTable(['parties', 'construction', 'peer messages', 'runs', 'median', 'p95'], rows);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
