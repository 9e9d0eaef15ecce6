// Where a 3-party SecureSum's server CPU goes: runs the servers under `node --cpu-prof`, drives
// `--runs` sums with the TypeScript client (as bench:sum does), stops the servers and prints the
// self time of the hottest functions and files over all three servers' profiles, per sum.
// With `--fsc-client DIR` the sums are driven by FSC's unmodified Python client instead (its
// checkouts in DIR, as bench/fsc-original.ts takes them): five requests per party per sum, each
// on a new connection, which is the client path issue 16 compares with the original FSC.
//
//   npx tsx bench/sum-profile.ts [--runs 300] [--top 40] [--dir /tmp/tessera-prof] [--fsc-client DIR]
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Api, type Remote } from '../clients/typescript/index.js';
import { startProcessCluster } from './cluster.js';
import { FscClients, prepareFsc } from './fsc-original.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '300' }, top: { type: 'string', default: '40' }, dir: { type: 'string', default: '/tmp/tessera-prof' }, 'fsc-client': { type: 'string' } } });
const RUNS = Number(values.runs);
const dir = values.dir;

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

async function main(): Promise<void> {
  // The measured sums, on the monotonic clock the profiles' timestamps use (µs): start-up and
  // warm-up (module loading, validator compilation) are left out.
  const window = [0, 0];
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  process.env.TESSERA_BENCH_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval 200`;
  const cluster = await startProcessCluster(3);
  try {
    const fsc = values['fsc-client'] === undefined ? undefined : prepareFsc(values['fsc-client']);
    if (fsc !== undefined && 'why' in fsc) throw new Error(`--fsc-client: ${fsc.why}`);
    const python = fsc === undefined ? undefined : FscClients.start(3, fsc.sources, fsc.python);
    const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 60_000 }));
    const computes: Remote[] = python !== undefined ? [] : await Promise.all(apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')));
    const oneSum = async (): Promise<void> => {
      const uuid = randomUUID();
      if (python !== undefined) {
        const { answers } = await python.run({ nodes: cluster.nodes, uuid, microprotocol: 'SecureSum', data: undefined }, (myself) => myself + 0.5, 60_000);
        const failed = answers.find((a) => !a.ok);
        if (failed !== undefined && !failed.ok) throw new Error(failed.error);
        return;
      }
      await Promise.all(apis.map(async (api, myself) => {
        const result = await computes[myself]!.call({ microprotocol: 'SecureSum', data: myself + 0.5, network: { nodes: cluster.nodes, uuid, myself } });
        await api.download(result);
        await api.release(result);
      }));
    };
    try {
      for (let i = 0; i < 20; i++) await oneSum();
      const started = performance.now();
      window[0] = Number(process.hrtime.bigint() / 1000n);
      for (let i = 0; i < RUNS; i++) await oneSum();
      window[1] = Number(process.hrtime.bigint() / 1000n);
      console.log(`${RUNS} sums in ${(performance.now() - started).toFixed(0)} ms${python !== undefined ? ", FSC's Python client" : ''}`);
    } finally {
      await python?.close();
    }
  } finally {
    await cluster.close();
  }
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(await readFile(join(dir, f), 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const time = new Map<number, number>();
    let at = p.startTime;
    p.samples.forEach((id, k) => {
      at += p.timeDeltas[k] ?? 0;
      if (at >= window[0]! && at <= window[1]!) time.set(id, (time.get(id) ?? 0) + (p.timeDeltas[k] ?? 0));
    });
    for (const [id, us] of time) {
      const n = byId.get(id)!;
      const file = n.callFrame.url.replace(/^.*\/(node_modules\/)/, '$1').replace(/^file:\/\/.*?\/(server|services|shared)\//, '$1/');
      const key = `${n.callFrame.functionName || '(anon)'} ${file}:${n.callFrame.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + us);
      const fk = n.callFrame.url === '' ? n.callFrame.functionName : file.replace(/^node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1');
      files.set(fk, (files.get(fk) ?? 0) + us);
      if (n.callFrame.functionName !== '(idle)') total += us;
    }
  }
  const per = (us: number): string => (us / 1000 / RUNS).toFixed(3);
  console.log(`\nserver CPU per sum (3 servers, measured sums only): ${per(total)} ms\n\n| self ms per sum | file |\n|---:|---|`);
  for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`| ${per(us)} | ${k} |`);
  console.log(`\n| self ms per sum | function |\n|---:|---|`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`| ${per(us)} | ${k} |`);
}
main().catch((err: unknown) => { console.error(err); process.exit(1); });
