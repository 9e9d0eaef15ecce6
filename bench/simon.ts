// `npm run bench:simon`: one table per SIMON microprotocol, all 13 — party servers in separate
// processes (real HTTP, encrypted peer envelopes), clients in this process; three parties (two for
// the two-party microprotocols, as FSC), 100, 1,000 and 10,000 values per party where the input
// has a size. Latency is the wall time until every party has its result (min, median and p95 of
// RUNS after WARMUP computations of that microprotocol at 10 values: enough that V8 has compiled
// its hot code, which takes several computations of fresh servers; with one warm-up the first
// microprotocol of a run paid the servers' JIT inside its timed runs, and those after it, sharing
// its code, did not); bytes per party are the peer payload bytes each party sends, counted in
// simulation mode (the same protocol and cryptography on the in-memory network; the envelopes add
// a fixed ~100 bytes per message). The "FSC original" column is the original's median on the
// same inputs, measured in the same run through FSC's unmodified Python client (its runs
// interleaved with Tessera's), when its sources are given with --fsc-original DIR (or
// TESSERA_FSC_ORIGINAL; bench/fsc-original.ts, docs/performance.md); a computation it does not
// finish within --fsc-timeout seconds shows as "> N s" and its larger sizes are skipped. Without
// the sources the column says "not at hand" instead of quoting numbers measured elsewhere.
//
// Table-driven: a microprotocol joins with one entry in BENCHES. The per-family benchmarks
// (bench:simon-order, bench:simon-sets, bench:simon-products) print the breakdowns (rounds, group
// operation costs, bytes written per server process); `--family` runs them after these tables.
//
//   npm run bench:simon [-- --runs 5 --warmup 10 --only SecureMedian --sizes 100,1000 --family --fsc-original DIR --fsc-timeout 120 --root DIR --idle 0]
//
// --root serves another checkout's code (e.g. a worktree of main) for a before/after in one sitting.
// --idle S lets the servers idle S seconds before each timed run, as between a user's occasional
// computations: background work, such as the products' pool of Paillier randomisers, runs then.
// The default 0 measures computations back to back.
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { Api, type Remote } from '../clients/typescript/index.js';
import { simulate } from '../services/simulation/index.js';
import { patientFetch, printTable, quantile, startProcessCluster } from './cluster.js';
import { FscSide, prepareFsc } from './fsc-original.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '10' },
    only: { type: 'string' },
    sizes: { type: 'string' },
    family: { type: 'boolean', default: false },
    'fsc-original': { type: 'string' },
    'fsc-timeout': { type: 'string', default: '120' },
    root: { type: 'string' },
    idle: { type: 'string', default: '0' },
  },
});
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);
const IDLE_MS = Number(values.idle) * 1000;
const SIZES = values.sizes?.split(',').map(Number) ?? [100, 1_000, 10_000];
const FSC_READY = prepareFsc(values['fsc-original']);
const FSC_TIMEOUT_MS = Number(values['fsc-timeout']) * 1000;

/** A deterministic pseudo-random stream, so every run benchmarks the same data. */
function numbers(seed: number, count: number): number[] {
  let x = (seed * 2654435761) % 2 ** 32;
  return Array.from({ length: count }, () => {
    x = (x * 1664525 + 1013904223) % 2 ** 32;
    return Math.round((x / 2 ** 32 - 0.5) * 2e6) / 100;
  });
}
const CATEGORIES = ['north', 'south', 'east', 'west', 'centre', 'islands', 'abroad', 'unknown'];

function matrix(rows: number, cols: number, seed: number): number[][] {
  const xs = numbers(seed, rows * cols);
  return Array.from({ length: rows }, (_, i) => xs.slice(i * cols, (i + 1) * cols).map((x) => x / 1000));
}

/** A side of the square matrices with about n entries. */
const side = (n: number) => Math.max(1, Math.round(Math.sqrt(n)));

interface Bench {
  /** (values per party, party) → that party's data. */
  readonly data: (n: number, party: number) => unknown;
  readonly parties?: number;
  /** Sizes this microprotocol runs at by default (all of SIZES if absent). */
  readonly sizes?: readonly number[];
  /** How a size reads in the table, if not as a count of values. */
  readonly label?: (n: number) => string;
}

const BENCHES: Record<string, Bench> = {
  SecureSum: { data: (n, p) => numbers(p + 1, n) },
  StatisticsUnivariate: { data: (n, p) => numbers(p + 11, n) },
  StatisticsBivariate: { data: (n, p) => numbers(p + 21, n).map((x, i) => [x, x / 3 + (i % 7)]) },
  StatisticsFrequency: { data: (n, p) => numbers(p + 31, n).map((x) => CATEGORIES[Math.abs(Math.trunc(x)) % CATEGORIES.length]!) },
  StatisticsContingency: { data: (n, p) => numbers(p + 41, n).map((x, i) => [CATEGORIES[Math.abs(Math.trunc(x)) % 8]!, i % 3 === 0 ? 'yes' : 'no']) },
  SecureMedian: { data: (n, p) => numbers(p + 51, n) },
  KthElement: { data: (n, p) => ({ array: numbers(p + 61, n), rank: Math.ceil((3 * n) / 4), lower_bound: -1e4, upper_bound: 1e4 }) },
  MinimumMaximum: { data: (n, p) => numbers(p + 71, n).map((x) => ({ minimum: x, maximum: x + 1 })) },
  // Half of each party's items are shared by all, the rest its own.
  SetIntersection: { data: (n, p) => [Array.from({ length: n }, (_, k) => (k < n / 2 ? `shared-${k}` : `p${p}-${k}`))] },
  SetIntersectionSize: { data: (n, p) => [Array.from({ length: n }, (_, k) => (k < n / 2 ? `shared-${k}` : `p${p}-${k}`))] },
  StatisticsContingencyVertical: {
    parties: 2,
    // 9 in 10 (6 in 7) of the ids at party 0 (1); 3 × 2 categories. The sets bench stops at 1,000 too.
    sizes: [100, 1_000],
    data: (n, p) =>
      Array.from({ length: n }, (_, k) => `id-${k}`)
        .filter((_, k) => k % (p === 0 ? 10 : 7) !== 0)
        .map((id, k) => [id, p === 0 ? ['north', 'south', 'east'][k % 3]! : ['basic', 'premium'][k % 2]!]),
  },
  SecureMatrixMultiplication: {
    parties: 2,
    // Paillier products: 100 and 400 entries per party (10×10 and 20×20, as bench:simon-products).
    sizes: [100, 400],
    label: (n) => `${side(n)}×${side(n)} · ${side(n)}×${side(n)}`,
    data: (n, p) => [matrix(side(n), side(n), p + 81)],
  },
  StatisticsRegressionOLSVertical: {
    parties: 2,
    label: (n) => `N = ${n}, p = 3`,
    data: (n, p) => {
      const X = Array.from({ length: n }, (_, i) => [1, Math.sin(i) * 10, (i % 97) / 3]);
      return p === 0 ? [X] : [X.map((r, i) => 2 + 0.5 * r[1]! - 0.25 * r[2]! + Math.cos(i))];
    },
  },
};

async function main(): Promise<void> {
  // The servers start from the working directory's bin/tessera.mjs.
  if (values.root !== undefined) process.chdir(values.root);
  const cluster = await startProcessCluster(3, ['--stage-timeout', '600']);
  const fsc = 'why' in FSC_READY ? undefined : await FscSide.start(FSC_READY, 3).catch(async (err: unknown) => {
    await cluster.close();
    throw err;
  });
  try {
    const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 900_000, fetch: patientFetch }));
    const computes: Remote[] = await Promise.all(apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')));
    const once = async (microprotocol: string, parties: number, dataFor: (party: number) => unknown): Promise<number> => {
      const uuid = randomUUID();
      const nodes = cluster.nodes.slice(0, parties);
      const started = performance.now();
      await Promise.all(
        nodes.map(async (_, myself) => {
          const result = await computes[myself]!.call({ microprotocol, data: dataFor(myself), network: { nodes, uuid, myself } });
          await apis[myself]!.download(result);
          await apis[myself]!.release(result);
        }),
      );
      return performance.now() - started;
    };
    for (const [microprotocol, bench] of Object.entries(BENCHES)) {
      if (values.only !== undefined && !values.only.split(',').includes(microprotocol)) continue;
      const parties = bench.parties ?? 3;
      const sizes = values.sizes === undefined ? (bench.sizes ?? SIZES) : SIZES;
      // Warm-up: identities, connections, keys, the base OTs, JIT.
      for (let i = 0; i < WARMUP; i++) await once(microprotocol, parties, (p) => bench.data(10, p));
      // The same in simulation, so that the bytes counted are a warm server's (base OTs reused).
      await simulate({ parties, microprotocol, data: Array.from({ length: parties }, (_, p) => bench.data(10, p)), timeoutMs: 900_000 });
      if (fsc !== undefined) await fsc.once(microprotocol, parties, (p) => bench.data(10, p), FSC_TIMEOUT_MS); // warm-up
      const rows: (string | number)[][] = [];
      // The FSC cell of a size: its median, or why there is none; once it has not finished, the
      // larger sizes are not tried.
      let fscGaveUp: string | undefined;
      for (const n of sizes) {
        const times: number[] = [];
        const fscTimes: number[] = [];
        let fscFailed: string | undefined = fscGaveUp;
        for (let i = 0; i < RUNS; i++) {
          if (IDLE_MS > 0) await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
          times.push(await once(microprotocol, parties, (p) => bench.data(n, p)));
          if (fsc !== undefined && fscFailed === undefined) {
            const t = await fsc.once(microprotocol, parties, (p) => bench.data(n, p), FSC_TIMEOUT_MS);
            if (typeof t === 'number') fscTimes.push(t);
            else fscFailed = t;
          }
        }
        times.sort((a, b) => a - b);
        fscTimes.sort((a, b) => a - b);
        if (fscFailed?.startsWith('>') === true) fscGaveUp = `not run (${fscFailed} at a smaller size)`;
        const fscCell = 'why' in FSC_READY ? 'not at hand' : (fscFailed ?? `${quantile(fscTimes, 0.5).toFixed(1)} (×${(quantile(fscTimes, 0.5) / quantile(times, 0.5)).toFixed(1)})`);
        const data = Array.from({ length: parties }, (_, p) => bench.data(n, p));
        const sim = await simulate({ parties, microprotocol, data, timeoutMs: 900_000 });
        const failed = sim.results.find((r) => !r.ok);
        if (failed !== undefined && !failed.ok) throw failed.error;
        const ms = (q: number) => quantile(times, q).toFixed(1);
        rows.push([bench.label?.(n) ?? n.toLocaleString('en-US'), RUNS, times[0]!.toFixed(1), ms(0.5), ms(0.95), sim.bytesSent.map((b) => b.toLocaleString('en-US')).join(' / '), fscCell]);
        console.error(`done: ${microprotocol} ${n}`);
      }
      console.log(`\n${microprotocol}, ${parties} parties (servers in separate processes; latency in ms${IDLE_MS > 0 ? `; ${values.idle} s idle before each run` : ''})\n`);
      printTable([bench.label === undefined ? 'values per party' : 'inputs', 'runs', 'min', 'median', 'p95', 'bytes sent per party', 'FSC original median (× Tessera)'], rows);
    }
    console.log(
      'why' in FSC_READY
        ? `\nFSC original: ${FSC_READY.why}; no number is quoted in its place.\n`
        : "\nFSC original: the original's median on the same inputs, through FSC's unmodified Python client, runs interleaved with Tessera's" +
            ` (Tessera's latency here is through the TypeScript client); load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}.\n`,
    );
  } finally {
    await Promise.all([cluster.close(), fsc?.close()]);
  }
  if (values.family) {
    for (const family of ['simon-order', 'simon-sets', 'simon-products']) {
      console.log(`\n=== npm run bench:${family} ===`);
      spawnSync('npm', ['run', '--silent', `bench:${family}`], { stdio: 'inherit' });
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
