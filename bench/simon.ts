// `npm run bench:simon`: one table per SIMON microprotocol — three party servers in separate
// processes, clients in this process, 100, 1,000 and 10,000 values per party where the input
// has a size. Latency is the wall time of one computation at all parties (median of RUNS after
// a warm-up); bytes per party are the peer payload bytes each party sends, counted in simulation
// mode (the same protocol on the in-memory network; envelopes add a fixed ~100 bytes per message).
// FSC's original (the Python service-simon) is not at hand on this machine, so its latency is not
// measured side by side; the issue quotes 1.4 s for its StatisticsUnivariate of 3×100 values.
//
// Table-driven: a microprotocol joins the benchmark with one entry in BENCHES.
//
//   npm run bench:simon [-- --runs 5 --only StatisticsUnivariate]
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Api, type Remote } from '../clients/typescript/index.js';
import { simulate } from '../services/simulation/index.js';
import { printTable, quantile, startProcessCluster } from './cluster.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, only: { type: 'string' } } });
const RUNS = Number(values.runs);
const PARTIES = 3;
const SIZES = [100, 1_000, 10_000];

/** A deterministic pseudo-random stream, so every run benchmarks the same data. */
function numbers(seed: number, count: number): number[] {
  let x = seed * 2654435761 % 2 ** 32;
  return Array.from({ length: count }, () => {
    x = (x * 1664525 + 1013904223) % 2 ** 32;
    return Math.round((x / 2 ** 32 - 0.5) * 2e6) / 100;
  });
}
const CATEGORIES = ['north', 'south', 'east', 'west', 'centre', 'islands', 'abroad', 'unknown'];

/** microprotocol → (values per party, party) → that party's data; `sizes` where the input has none. */
const BENCHES: Record<string, { data: (n: number, party: number) => unknown; sizes?: number[] }> = {
  SecureSum: { data: (n, p) => numbers(p + 1, n) },
  StatisticsUnivariate: { data: (n, p) => numbers(p + 11, n) },
  StatisticsBivariate: { data: (n, p) => numbers(p + 21, n).map((x, i) => [x, x / 3 + (i % 7)]) },
  StatisticsFrequency: { data: (n, p) => numbers(p + 31, n).map((x) => CATEGORIES[Math.abs(Math.trunc(x)) % CATEGORIES.length]!) },
  StatisticsContingency: { data: (n, p) => numbers(p + 41, n).map((x, i) => [CATEGORIES[Math.abs(Math.trunc(x)) % 8]!, i % 3 === 0 ? 'yes' : 'no']) },
};

async function main(): Promise<void> {
  const cluster = await startProcessCluster(PARTIES);
  try {
    const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 300_000 }));
    const computes: Remote[] = await Promise.all(apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')));
    const once = async (microprotocol: string, dataFor: (party: number) => unknown): Promise<number> => {
      const uuid = randomUUID();
      const started = performance.now();
      await Promise.all(
        apis.map(async (api, myself) => {
          const result = await computes[myself]!.call({ microprotocol, data: dataFor(myself), network: { nodes: cluster.nodes, uuid, myself } });
          await api.download(result);
          await api.release(result);
        }),
      );
      return performance.now() - started;
    };
    for (const [microprotocol, bench] of Object.entries(BENCHES)) {
      if (values.only !== undefined && values.only !== microprotocol) continue;
      await once(microprotocol, (p) => bench.data(10, p)); // warm-up: identities, connections, JIT
      const rows: (string | number)[][] = [];
      for (const n of bench.sizes ?? SIZES) {
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) times.push(await once(microprotocol, (p) => bench.data(n, p)));
        times.sort((a, b) => a - b);
        const sim = await simulate({ parties: PARTIES, microprotocol, data: [0, 1, 2].map((p) => bench.data(n, p)), timeoutMs: 300_000 });
        rows.push([n, RUNS, times[0]!.toFixed(1), quantile(times, 0.5).toFixed(1), quantile(times, 0.95).toFixed(1), sim.bytesSent.join(' / '), 'not at hand']);
      }
      console.log(`\n${microprotocol}, ${PARTIES} parties (servers in separate processes; latency in ms)\n`);
      printTable(['values per party', 'runs', 'min', 'median', 'p95', 'bytes sent per party', 'FSC original'], rows);
    }
  } finally {
    await cluster.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
