// Where a SecureSum's server CPU goes: runs the servers (3 by default) under `node --cpu-prof`,
// drives `--runs` sums with the TypeScript client (as bench:sum does), stops the servers and prints
// the self time of the hottest functions and files over all servers' profiles, per sum, and the
// servers' time by layer (LAYERS: client path, protocol, peer send, peer receive, the rest).
// With `--fsc-client DIR` the sums are driven by FSC's unmodified Python client instead (its
// checkouts in DIR, as bench/fsc-original.ts takes them): five requests per party per sum, each
// on a new connection, which is the client path issue 16 compares with the original FSC.
//
// The servers first run --warm sums unprofiled in the window: until V8 has compiled their code (a
// few hundred sums) a profile shows the compiler's work and unoptimised code, not a warm server's.
//
//   npx tsx bench/sum-profile.ts [--parties 3] [--runs 300] [--warm 1000] [--top 40] [--dir /tmp/tessera-prof] [--fsc-client DIR]
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Api, type Remote } from '../clients/typescript/index.js';
import { startProcessCluster } from './cluster.js';
import { FscClients, prepareFsc } from './fsc-original.js';

const { values } = parseArgs({ options: { parties: { type: 'string', default: '3' }, runs: { type: 'string', default: '300' }, warm: { type: 'string', default: '1000' }, top: { type: 'string', default: '40' }, dir: { type: 'string', default: '/tmp/tessera-prof' }, 'fsc-client': { type: 'string' } } });
const RUNS = Number(values.runs);
const PARTIES = Number(values.parties);
const dir = values.dir;

/**
 * A frame's file as a path in this repository when it is Tessera's own code: the sources (tsx) or
 * their compiled copies, which the servers run (node_modules/.cache/tessera/<hash>/, bin/build.mjs);
 * undefined for Node's and the dependencies' code.
 */
function ownFile(url: string): string | undefined {
  const own = /^file:\/\/.*?\/(?:node_modules\/\.cache\/tessera\/[0-9a-f]+\/)?((?:server|services|shared)\/.*)$/.exec(url);
  if (own === null || (url.includes('/node_modules/') && !url.includes('/node_modules/.cache/tessera/'))) return undefined;
  return own[1];
}

/**
 * The layers a sample is counted in: the first of these with a frame anywhere on its stack (so a
 * seal under outbound.ts counts as sending, a receipt written by the channel server as receiving,
 * and a session opened under Express's router as the protocol). The kernel's writes count in the
 * layer that made them; the floor makes the same writes.
 */
const LAYERS: readonly (readonly [string, RegExp])[] = [
  ['peer receive: ws receiver, channel server, parse, open, receipt', /\/ws\/lib\/receiver|\/server\/peer\/(channel-server|inbound)\./],
  ['peer send: seal, channel, ws sender, receipt check', /\/ws\/lib\/sender|\/server\/peer\/(outbound|transport-channel|carriers)\./],
  ['protocol: engine, microprotocol, stages, session', /\/services\/|\/server\/peer\//],
  ['client path: Express, validator, body, handlers, bus, node:http server', /\/express|\/server\/http\/|\/server\/(app|bus)\.|node:_http_server|node:_http_incoming/],
];

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

async function main(): Promise<void> {
  // The measured sums, on the monotonic clock the profiles' timestamps use (µs): start-up and
  // warm-up (module loading, validator compilation) are left out.
  const window = [0, 0];
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  process.env.TESSERA_BENCH_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval 200`;
  const cluster = await startProcessCluster(PARTIES);
  try {
    const fsc = values['fsc-client'] === undefined ? undefined : prepareFsc(values['fsc-client']);
    if (fsc !== undefined && 'why' in fsc) throw new Error(`--fsc-client: ${fsc.why}`);
    const python = fsc === undefined ? undefined : FscClients.start(PARTIES, fsc.sources, fsc.python);
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
      for (let i = 0; i < Number(values.warm); i++) await oneSum();
      const started = performance.now();
      window[0] = Number(process.hrtime.bigint() / 1000n);
      for (let i = 0; i < RUNS; i++) await oneSum();
      window[1] = Number(process.hrtime.bigint() / 1000n);
      console.log(`${RUNS} sums in ${(performance.now() - started).toFixed(0)} ms${python !== undefined ? ", FSC's Python client" : ''}`);
    } finally {
      await python?.close();
    }
  } finally {
    // A profile is written when its server exits: give them longer to stop than cluster.close
    // does before its SIGKILL (a loaded machine stops ten servers slowly).
    const started = performance.now();
    await Promise.all(cluster.children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(resolve, 60_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    })));
    console.error(`servers stopped in ${(performance.now() - started).toFixed(0)} ms`);
    await cluster.close();
  }
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  // Inclusive time of Tessera's own functions (server/, services/, shared/): a sample counts once
  // for every distinct function on its stack, so callers show what their callees cost.
  const inclusive = new Map<string, number>();
  const layers = new Map<string, number>();
  let total = 0;
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(await readFile(join(dir, f), 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const time = new Map<number, number>();
    let at = p.startTime;
    p.samples.forEach((id, k) => {
      at += p.timeDeltas[k] ?? 0;
      if (at >= window[0]! && at <= window[1]!) time.set(id, (time.get(id) ?? 0) + (p.timeDeltas[k] ?? 0));
    });
    for (const [id, us] of time) {
      const n = byId.get(id)!;
      const file = ownFile(n.callFrame.url) ?? n.callFrame.url.replace(/^.*\/(node_modules\/)/, '$1');
      const key = `${n.callFrame.functionName || '(anon)'} ${file}:${n.callFrame.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + us);
      const fk = n.callFrame.url === '' ? n.callFrame.functionName : file.replace(/^node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1');
      files.set(fk, (files.get(fk) ?? 0) + us);
      if (n.callFrame.functionName !== '(idle)') total += us;
      const onStack = new Set<string>();
      let layer = LAYERS.length;
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!.callFrame;
        const own = ownFile(frame.url);
        if (own !== undefined) onStack.add(`${frame.functionName || '(anon)'} ${own}`);
        const found = LAYERS.findIndex(([, re]) => re.test(frame.url));
        if (found >= 0 && found < layer) layer = found;
      }
      if (n.callFrame.functionName !== '(idle)') {
        const name = LAYERS[layer]?.[0] ?? (n.callFrame.url === '' ? n.callFrame.functionName : 'other: event loop, streams, timers');
        layers.set(name, (layers.get(name) ?? 0) + us);
      }
      for (const k of onStack) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const per = (us: number): string => (us / 1000 / RUNS).toFixed(3);
  console.log(`\nserver CPU per sum (${PARTIES} servers, measured sums only): ${per(total)} ms\n\n| self ms per sum | file |\n|---:|---|`);
  for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`| ${per(us)} | ${k} |`);
  console.log(`\n| ms per sum | layer (LAYERS: the first with a frame on the stack) |\n|---:|---|`);
  for (const [k, us] of [...layers].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`| ${per(us)} | ${k} |`);
  console.log(`\n| self ms per sum | function |\n|---:|---|`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`| ${per(us)} | ${k} |`);
  console.log(`\n| inclusive ms per sum | Tessera function |\n|---:|---|`);
  for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`| ${per(us)} | ${k} |`);
}
main().catch((err: unknown) => { console.error(err); process.exit(1); });
