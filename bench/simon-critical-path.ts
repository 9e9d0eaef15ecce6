// `npm run bench:simon-critical-path`: how many one-way network delays a microprotocol waits in
// sequence, measured in a way the machine's load hardly moves. Three parties in one process on the
// in-memory network (services/simulation), where every message is made to take D ms to arrive and
// its receipt (the receiver's 2xx, which Session.send resolves on) D ms to come back. The run's
// wall time at delay D minus that at delay 0 (CPU alone), divided by D, is the number of delays on
// the critical path: one per message hop that something waits for, and one per receipt waited for.
// On a real network a hop costs the carrier's latency plus the receiving process's scheduling, so
// fewer delays here is fewer milliseconds there, whatever the load; the CPU column is the rest.
//
//   npm run bench:simon-critical-path [-- --delay 50 --runs 7 --warmup 10 --size 100 --only StatisticsUnivariate,MinimumMaximum --root DIR]
//
// --root runs another checkout's code (e.g. a worktree of main) for a before/after in one sitting.
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { printTable, quantile } from './cluster.js';

const { values } = parseArgs({
  options: {
    delay: { type: 'string', default: '50' },
    runs: { type: 'string', default: '7' },
    warmup: { type: 'string', default: '10' },
    size: { type: 'string', default: '100' },
    only: { type: 'string', default: 'StatisticsUnivariate,MinimumMaximum,SecureSum' },
    root: { type: 'string' },
  },
});
const D = Number(values.delay);
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);
const SIZE = Number(values.size);
const ROOT = values.root === undefined ? '..' : resolve(values.root);

type Simulation = typeof import('../services/simulation/index.js');
const { simulate, MemoryHub, simulatedNodes } = (await import(`${ROOT}/services/simulation/index.ts`)) as Simulation;

/** The inputs of bench/simon.ts, so the two read alike. */
function numbers(seed: number, count: number): number[] {
  let x = (seed * 2654435761) % 2 ** 32;
  return Array.from({ length: count }, () => {
    x = (x * 1664525 + 1013904223) % 2 ** 32;
    return Math.round((x / 2 ** 32 - 0.5) * 2e6) / 100;
  });
}
const DATA: Record<string, (n: number, p: number) => unknown> = {
  SecureSum: (n, p) => numbers(p + 1, n),
  StatisticsUnivariate: (n, p) => numbers(p + 11, n),
  SecureMedian: (n, p) => numbers(p + 51, n),
  KthElement: (n, p) => ({ array: numbers(p + 61, n), rank: Math.ceil((3 * n) / 4), lower_bound: -1e4, upper_bound: 1e4 }),
  MinimumMaximum: (n, p) => numbers(p + 71, n).map((x) => ({ minimum: x, maximum: x + 1 })),
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** One run at one-way delay `d`: its wall time, the process's CPU time and the number of peer messages. */
async function once(microprotocol: string, data: unknown[], d: number): Promise<{ ms: number; cpuMs: number; messages: number }> {
  const hub = new MemoryHub(simulatedNodes(3), 600_000);
  const deliver = hub.deliver.bind(hub);
  hub.deliver = async (...args: Parameters<typeof deliver>) => {
    if (d > 0) await sleep(d);
    await deliver(...args);
    if (d > 0) await sleep(d);
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  const run = await simulate({ parties: 3, microprotocol, data, hub, timeoutMs: 600_000 });
  const ms = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  const failed = run.results.find((r) => !r.ok);
  if (failed !== undefined && !failed.ok) throw failed.error;
  return { ms, cpuMs: (user + system) / 1000, messages: hub.log.length };
}

const rows: (string | number)[][] = [];
for (const microprotocol of values.only.split(',')) {
  const data = [0, 1, 2].map((p) => DATA[microprotocol]!(SIZE, p));
  // Warm-up: the base OTs, which later runs between the same "servers" reuse, and JIT. V8 takes
  // several computations to compile the hot code; with two warm-ups the first microprotocol
  // measured paid that in its CPU column (StatisticsUnivariate first: about twice
  // MinimumMaximum's, which shares its OT and garbling code; in either order, once warm, within
  // a few ms of it).
  for (let i = 0; i < WARMUP; i++) await once(microprotocol, data, 0);
  const cpu: number[] = [];
  const cpuTime: number[] = [];
  const delayed: number[] = [];
  let messages = 0;
  for (let i = 0; i < RUNS; i++) {
    const quick = await once(microprotocol, data, 0);
    cpu.push(quick.ms);
    cpuTime.push(quick.cpuMs);
    const run = await once(microprotocol, data, D);
    delayed.push(run.ms);
    messages = run.messages;
  }
  cpu.sort((a, b) => a - b);
  cpuTime.sort((a, b) => a - b);
  delayed.sort((a, b) => a - b);
  const delays = (quantile(delayed, 0.5) - quantile(cpu, 0.5)) / D;
  rows.push([microprotocol, `3×${SIZE.toLocaleString('en-US')}`, RUNS, messages, quantile(cpu, 0.5).toFixed(1), quantile(cpuTime, 0.5).toFixed(1), quantile(delayed, 0.5).toFixed(1), delays.toFixed(1)]);
}
console.log(`\nCritical path, 3 parties in one process (${ROOT === '..' ? 'this checkout' : ROOT}); one-way delay D = ${D} ms per message and per receipt; load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}\n`);
// The CPU column is the process's user + system time over the D = 0 run: the three parties' work,
// which a loaded machine stretches in wall time far more than in CPU time.
printTable(['microprotocol', 'values', 'runs', 'peer messages', 'median ms, D = 0', 'median CPU ms (user+sys), D = 0', `median ms, D = ${D}`, 'delays waited in sequence'], rows);
