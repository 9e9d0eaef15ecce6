// bench:sum's SecureSums (3 parties; one number and 100 numbers per party) on two source trees
// side by side, one sum on each in turn: a before/after comparison that a shared, busy machine
// does not skew toward either. Also each tree's server CPU (user + sys, all three servers) per
// sum, from /proc, which depends less on the machine's load than latency does.
//
//   git archive <commit> | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
//   npx tsx bench/sum-compare.ts /tmp/before [--runs 150]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Api, type Remote } from '../clients/typescript/index.js';
import { cpuSeconds, printTable, quantile, startProcessCluster } from './cluster.js';

const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '150' } }, allowPositionals: true });
const RUNS = Number(values.runs);
const before = positionals[0];
if (before === undefined) {
  console.error('usage: npx tsx bench/sum-compare.ts <the other tree> [--runs 150]');
  process.exit(2);
}
const trees: [string, string][] = [[`before (${before})`, before], ['after (this tree)', process.cwd()]];
async function main(): Promise<void> {
  const here = process.cwd();
  const clusters = [];
  for (const [, dir] of trees) { process.chdir(dir); clusters.push(await startProcessCluster(3)); }
  process.chdir(here);
  try {
    const setups = await Promise.all(clusters.map(async (cluster) => {
      const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 60_000 }));
      const computes: Remote[] = await Promise.all(apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')));
      return { cluster, apis, computes };
    }));
    const oneSum = async (s: (typeof setups)[number], dataFor: (p: number) => unknown): Promise<number> => {
      const uuid = randomUUID();
      const started = performance.now();
      await Promise.all(s.apis.map(async (api, myself) => {
        const result = await s.computes[myself]!.call({ microprotocol: 'SecureSum', data: dataFor(myself), network: { nodes: s.cluster.nodes, uuid, myself } });
        await api.download(result);
        await api.release(result);
      }));
      return performance.now() - started;
    };
    for (let i = 0; i < 20; i++) for (const s of setups) await oneSum(s, (p) => p + 1);
    const rows: (string | number)[][] = [];
    for (const [name, dataFor] of [['1 number per party', (p: number) => p + 0.5], ['100 numbers per party', (p: number) => Array.from({ length: 100 }, (_, k) => p * 1000 + k / 7)]] as const) {
      const times: number[][] = setups.map(() => []);
      const cpu = setups.map(() => 0);
      const serverCpu = (k: number): number => setups[k]!.cluster.children.reduce((sum, c) => sum + cpuSeconds(c.pid!), 0);
      for (let i = 0; i < RUNS; i++) {
        // Alternate which tree goes first, so neither always runs right after the other.
        const order = i % 2 === 0 ? [0, 1] : [1, 0];
        for (const k of order) {
          const before = serverCpu(k);
          times[k]!.push(await oneSum(setups[k]!, dataFor));
          cpu[k]! += serverCpu(k) - before;
        }
      }
      times.forEach((t, k) => {
        t.sort((a, b) => a - b);
        rows.push([trees[k]![0], name, RUNS, t[0]!.toFixed(2), quantile(t, 0.5).toFixed(2), quantile(t, 0.95).toFixed(2), ((cpu[k]! * 1000) / RUNS).toFixed(2)]);
      });
    }
    console.log(`\nSecureSum latency, 3 parties, interleaved (ms)\n`);
    printTable(['tree', 'input', 'runs', 'min', 'median', 'p95', 'server CPU ms per sum (3 servers)'], rows);
  } finally {
    await Promise.all(clusters.map((c) => c.close()));
  }
}
main().catch((err: unknown) => { console.error(err); process.exit(1); });
