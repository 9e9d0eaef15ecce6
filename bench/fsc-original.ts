// The original Federated Secure Computing, run side by side with Tessera when its sources are at
// hand: three FSC servers (FSC's Django webserver over its `federatedsecure.server` bus with
// `federatedsecure.services.simon`) and three Tessera servers on loopback, both driven by FSC's
// unmodified Python client (`federatedsecure.client`), one long-lived client process per party
// (bench/fsc-party.py), computations on the two systems interleaved so that a busy machine
// slows both alike.
//
// Nothing of FSC is part of this repository: the user clones FSC's repositories and names the
// directory that holds them, with `--fsc-original DIR` or TESSERA_FSC_ORIGINAL=DIR:
//
//   mkdir fsc && cd fsc
//   for r in server service-simon webserver-django client-python; do
//     git clone https://github.com/federatedsecure/$r; done
//   npm run bench:sum -- --fsc-original "$PWD/fsc"         # or: npx tsx bench/fsc-original.ts DIR
//
// The servers run from the checkouts as they are (PYTHONPATH into their `src/` folders; byte
// code goes to a temporary folder, so the checkouts stay untouched). They need Python 3 with
// Django, NumPy and requests (Debian: apt-get install python3-django python3-numpy
// python3-requests); TESSERA_FSC_PYTHON names the interpreter if `python3` lacks them.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Api, type Remote } from '../clients/typescript/index.js';
import { cpuSeconds, printTable, quantile, startProcessCluster, stopChild } from './cluster.js';

/** The `src/` folder of each FSC checkout the comparison needs, found by a file only it has. */
export interface FscSources {
  readonly server: string;
  readonly simon: string;
  readonly webserver: string;
  readonly client: string;
}

const MARKERS: Record<keyof FscSources, string> = {
  server: 'src/federatedsecure/server/bus.py',
  simon: 'src/federatedsecure/services/simon/microservice.py',
  webserver: 'src/federatedsecure_app/federatedsecure_app.py',
  client: 'src/federatedsecure/client/api.py',
};
const REPOSITORIES: Record<keyof FscSources, string> = {
  server: 'server',
  simon: 'service-simon',
  webserver: 'webserver-django',
  client: 'client-python',
};

/** The directory the user named, from the flag or the environment; undefined when neither. */
export function fscDirectory(flag: string | undefined): string | undefined {
  const dir = flag ?? process.env.TESSERA_FSC_ORIGINAL;
  return dir === undefined || dir === '' ? undefined : dir;
}

/**
 * The four checkouts inside `dir` (under any folder names), or why they cannot be used. A
 * checkout is recognised by its content, so `server`, `federatedsecure-server` or a worktree of
 * another name all work.
 */
export function locateFsc(dir: string): FscSources | string {
  if (!existsSync(dir)) return `${dir} does not exist`;
  const candidates = [dir, ...readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name))];
  const found: Partial<Record<keyof FscSources, string>> = {};
  for (const key of Object.keys(MARKERS) as (keyof FscSources)[]) {
    const root = candidates.find((c) => existsSync(join(c, MARKERS[key])));
    if (root !== undefined) found[key] = join(root, 'src');
  }
  const missing = (Object.keys(MARKERS) as (keyof FscSources)[]).filter((k) => found[k] === undefined);
  if (missing.length > 0) return `no checkout of federatedsecure/${missing.map((k) => REPOSITORIES[k]).join(', federatedsecure/')} in ${dir}`;
  return found as FscSources;
}

/** The first interpreter that has what FSC's server and client import, or why there is none. */
export function findPython(): { python: string } | { why: string } {
  const candidates = [process.env.TESSERA_FSC_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => p !== undefined && p !== '');
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import django, numpy, requests'], { stdio: 'ignore', timeout: 30_000 });
    if (probe.status === 0) return { python };
  }
  return { why: `none of ${candidates.join(', ')} imports django, numpy and requests (set TESSERA_FSC_PYTHON)` };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}


export interface FscCluster {
  readonly nodes: string[];
  readonly children: ChildProcess[];
  close(): Promise<void>;
}

/**
 * `n` original FSC servers on loopback, each `python manage.py runserver --noreload` from the
 * webserver-django checkout (Django's threaded development server, as FSC's README runs it),
 * ready once GET /representations answers.
 */
export async function startFscCluster(n: number, sources: FscSources, python: string): Promise<FscCluster> {
  const cache = await mkdtemp(join(tmpdir(), 'tessera-fsc-pycache-'));
  const env = {
    ...process.env,
    PYTHONPATH: [sources.server, sources.simon, sources.client, sources.webserver].join(':'),
    PYTHONPYCACHEPREFIX: cache,
    PYTHONUNBUFFERED: '1',
  };
  const children: ChildProcess[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(children.map(stopChild));
    await rm(cache, { recursive: true, force: true });
  };
  try {
    const nodes = await Promise.all(
      Array.from({ length: n }, async () => {
        const port = await freePort();
        const child = spawn(python, ['manage.py', 'runserver', '--noreload', `127.0.0.1:${port}`], { cwd: sources.webserver, env, stdio: ['ignore', 'ignore', 'pipe'] });
        children.push(child);
        // Django logs each request on stderr; keep only the tail, to say why a server did not start.
        let tail = '';
        child.stderr!.setEncoding('utf8').on('data', (c: string) => (tail = (tail + c).slice(-2000)));
        const url = `http://127.0.0.1:${port}`;
        // Generous: on a loaded machine three Django servers importing NumPy start slowly.
        const deadline = Date.now() + 300_000;
        for (;;) {
          if (child.exitCode !== null) throw new Error(`an FSC server exited with code ${child.exitCode}:\n${tail}`);
          if (Date.now() > deadline) throw new Error(`an FSC server did not answer within 300 s:\n${tail}`);
          const ok = await fetch(`${url}/representations`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false);
          if (ok) return url;
          await new Promise((r) => setTimeout(r, 250));
        }
      }),
    );
    return { nodes, children, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface FscJob {
  readonly nodes: string[];
  readonly uuid: string;
  readonly microprotocol: string;
  readonly data: unknown;
}
export type FscAnswer = { ok: true; result: unknown } | { ok: false; error: string };

/** Thrown when a party's client has not answered in time; its process is then unusable. */
export class FscTimeoutError extends Error {}

/** One long-lived FSC Python client process per party (bench/fsc-party.py). */
export class FscClients {
  private constructor(
    private readonly children: ChildProcess[],
    private readonly lines: AsyncIterator<string>[],
  ) {}

  static start(n: number, sources: FscSources, python: string): FscClients {
    const script = join(import.meta.dirname, 'fsc-party.py');
    const children = Array.from({ length: n }, () =>
      spawn(python, [script], {
        env: { ...process.env, PYTHONPATH: sources.client, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    return new FscClients(children, children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]()));
  }

  /** Every party runs `job` at once (party i as `myself` = i); the wall time until all have answered. */
  async run(job: FscJob, dataFor: (party: number) => unknown, timeoutMs: number): Promise<{ ms: number; answers: FscAnswer[] }> {
    const parties = job.nodes.length;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FscTimeoutError(`${job.microprotocol} did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      const answers = await Promise.race([
        Promise.all(
          Array.from({ length: parties }, async (_, myself) => {
            this.children[myself]!.stdin!.write(`${JSON.stringify({ ...job, myself, data: dataFor(myself) })}\n`);
            const line = await this.lines[myself]!.next();
            if (line.done === true) throw new Error(`the FSC client of party ${myself} exited`);
            return JSON.parse(line.value) as FscAnswer;
          }),
        ),
        timeout,
      ]);
      return { ms: performance.now() - started, answers };
    } finally {
      clearTimeout(timer);
    }
  }

  /** CPU seconds (user + sys) the client processes have used together. */
  cpuSeconds(): number {
    return this.children.reduce((sum, c) => sum + cpuSeconds(c.pid!), 0);
  }

  async close(): Promise<void> {
    for (const child of this.children) child.stdin!.end();
    await Promise.all(this.children.map(stopChild));
  }
}

/**
 * The FSC client's floor: `n` bare node:http servers (bench/fsc-floor-server.mjs), each a process
 * of its own as Tessera's and FSC's servers are, answering the client's five requests per sum
 * with JSON of Tessera's shapes and computing nothing.
 */
export async function startFloorCluster(n: number): Promise<FscCluster> {
  const script = join(import.meta.dirname, 'fsc-floor-server.mjs');
  const children: ChildProcess[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(children.map(stopChild));
  };
  try {
    const nodes = await Promise.all(
      Array.from({ length: n }, async () => {
        const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(child);
        const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
        const first = await Promise.race([
          lines.next(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a floor server did not start within 30 s')), 30_000).unref()),
        ]);
        const url = first.done === true ? undefined : /^listening (\S+)$/.exec(first.value)?.[1];
        if (url === undefined) throw new Error('a floor server exited before it listened');
        child.stdout!.resume();
        return url;
      }),
    );
    return { nodes, children, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Everything to run FSC next to Tessera, or why it cannot run here. */
export function prepareFsc(dirFlag: string | undefined): { sources: FscSources; python: string } | { why: string } {
  const dir = fscDirectory(dirFlag);
  if (dir === undefined) return { why: 'not at hand (give its checkouts with --fsc-original DIR or TESSERA_FSC_ORIGINAL=DIR; see docs/performance.md)' };
  const sources = locateFsc(dir);
  if (typeof sources === 'string') return { why: `not run: ${sources}` };
  const python = findPython();
  if ('why' in python) return { why: `not run: ${python.why}` };
  return { sources, python: python.python };
}

/**
 * The original FSC for a table column (bench:simon): servers and clients that are started again
 * after a computation that did not finish (its threads may still spin), and one cell per
 * measurement: the median in ms, or why there is none.
 */
export class FscSide {
  private constructor(
    private readonly ready: { sources: FscSources; python: string },
    private readonly parties: number,
    private cluster: FscCluster,
    private clients: FscClients,
  ) {}

  static async start(ready: { sources: FscSources; python: string }, parties: number): Promise<FscSide> {
    const cluster = await startFscCluster(parties, ready.sources, ready.python);
    return new FscSide(ready, parties, cluster, FscClients.start(parties, ready.sources, ready.python));
  }

  /** One computation on the first `parties` FSC servers: its wall time in ms, or an error's text. */
  async once(microprotocol: string, parties: number, dataFor: (party: number) => unknown, timeoutMs: number): Promise<number | string> {
    const nodes = this.cluster.nodes.slice(0, parties);
    try {
      const { ms, answers } = await this.clients.run({ nodes, uuid: randomUUID(), microprotocol, data: undefined }, dataFor, timeoutMs);
      const failed = answers.find((a) => !a.ok);
      // FSC's client raises with a W3C log line: date, time, method, uri, status, reason, body.
      if (failed !== undefined && !failed.ok) return `error: ${failed.error.split('\t').slice(4, 6).join(' ') || failed.error.slice(0, 80)}`;
      return ms;
    } catch (err) {
      if (!(err instanceof FscTimeoutError)) throw err;
      await this.restart();
      return `> ${timeoutMs / 1000} s`;
    }
  }

  private async restart(): Promise<void> {
    await Promise.all([this.clients.close(), this.cluster.close()]);
    this.cluster = await startFscCluster(this.parties, this.ready.sources, this.ready.python);
    this.clients = FscClients.start(this.parties, this.ready.sources, this.ready.python);
  }

  async close(): Promise<void> {
    await Promise.all([this.clients.close(), this.cluster.close()]);
  }
}

/**
 * A 3-party SecureSum (one number per party) on Tessera and on the original FSC, both through
 * FSC's Python client, `runs` of each interleaved; prints one table with median, p95, the ratio
 * of the medians and the servers' and clients' CPU per sum, and each system's result as party 0
 * downloads it. Two more rows, interleaved with the same runs, say where the limit is: the same
 * sum on Tessera through its TypeScript client (as bench:sum runs it: compute, download, release
 * per party on a kept-alive connection), and the FSC client's floor, its five requests per party
 * answered by bare node:http servers that compute nothing (bench/fsc-floor-server.mjs).
 */
export async function secureSumSideBySide(dirFlag: string | undefined, runs: number): Promise<void> {
  const ready = prepareFsc(dirFlag);
  if ('why' in ready) {
    console.log(`\nFSC original: ${ready.why}`);
    return;
  }
  const parties = 3;
  console.error('FSC original: starting 3 FSC servers, 3 Tessera servers, 3 floor servers and 3 FSC clients');
  const started = await Promise.allSettled([startProcessCluster(parties), startFscCluster(parties, ready.sources, ready.python), startFloorCluster(parties)]);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    // Stop whichever sides did start before reporting the failure.
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : Promise.resolve())));
    throw failed.reason;
  }
  const [tessera, fsc, floor] = started.map((s) => (s as PromiseFulfilledResult<FscCluster>).value) as [FscCluster, FscCluster, FscCluster];
  const clients = FscClients.start(parties, ready.sources, ready.python);
  try {
    // 0.5 + 1.5 + 2.5: exact in binary, so both systems must print exactly 4.5.
    const dataFor = (party: number): number => party + 0.5;
    const expected = 4.5;
    const checkSum = (name: string, party: number, result: unknown): void => {
      const sum = (result as { result?: { sum?: unknown } } | undefined)?.result?.sum;
      if (sum !== expected) throw new Error(`${name}, party ${party}: sum ${String(sum)}, expected ${expected}`);
    };
    const throughFsc = (name: string, cluster: FscCluster, check: boolean) => async (): Promise<unknown> => {
      const { answers } = await clients.run({ nodes: cluster.nodes, uuid: randomUUID(), microprotocol: 'SecureSum', data: undefined }, dataFor, 60_000);
      answers.forEach((a, party) => {
        if (!a.ok) throw new Error(`${name}, party ${party}: ${a.error}`);
        if (check) checkSum(name, party, a.result);
      });
      return answers[0]!.ok ? answers[0]!.result : null;
    };
    const apis = tessera.nodes.map((url) => new Api(url, { timeoutMs: 60_000 }));
    const computes: Remote[] = await Promise.all(apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')));
    const throughTypeScript = async (): Promise<unknown> => {
      const uuid = randomUUID();
      const results = await Promise.all(
        apis.map(async (api, myself) => {
          const result = await computes[myself]!.call({ microprotocol: 'SecureSum', data: dataFor(myself), network: { nodes: tessera.nodes, uuid, myself } });
          const value = await api.download(result);
          await api.release(result);
          checkSum('Tessera, TypeScript client', myself, value);
          return value;
        }),
      );
      return results[0];
    };
    const ownCpu = (): number => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    };
    const serverCpu = (cluster: FscCluster): number => cluster.children.reduce((sum, c) => sum + cpuSeconds(c.pid!), 0);
    const systems = [
      { name: 'Tessera, FSC client', cluster: tessera, sum: throughFsc('Tessera', tessera, true), clientCpu: () => clients.cpuSeconds() },
      { name: 'FSC original, FSC client', cluster: fsc, sum: throughFsc('FSC original', fsc, true), clientCpu: () => clients.cpuSeconds() },
      // The bench process is the client here; its CPU includes the bench's own bookkeeping.
      { name: 'Tessera, TypeScript client', cluster: tessera, sum: throughTypeScript, clientCpu: ownCpu },
      { name: 'floor: FSC client, bare node:http', cluster: floor, sum: throughFsc('floor', floor, false), clientCpu: () => clients.cpuSeconds() },
    ];
    const shapes: string[] = systems.map(() => '');
    const oneSum = async (k: number): Promise<{ ms: number; server: number; client: number }> => {
      const system = systems[k]!;
      const [server, client] = [serverCpu(system.cluster), system.clientCpu()];
      const startedAt = performance.now();
      shapes[k] = JSON.stringify(await system.sum());
      const ms = performance.now() - startedAt;
      return { ms, server: serverCpu(system.cluster) - server, client: system.clientCpu() - client };
    };
    // Warm-up: Python's and Node's first calls, connections, identities.
    for (let i = 0; i < 5; i++) for (let k = 0; k < systems.length; k++) await oneSum(k);
    console.error(`FSC original: measuring ${runs} sums on each`);
    const times: number[][] = systems.map(() => []);
    const cpu = systems.map(() => ({ server: 0, client: 0 }));
    for (let i = 0; i < runs; i++) {
      // Rotate which system goes first, so none always runs right after the same other.
      for (let j = 0; j < systems.length; j++) {
        const k = (i + j) % systems.length;
        const one = await oneSum(k);
        times[k]!.push(one.ms);
        cpu[k]!.server += one.server;
        cpu[k]!.client += one.client;
      }
    }
    for (const t of times) t.sort((a, b) => a - b);
    const tesseraMedian = quantile(times[0]!, 0.5);
    const rows = systems.map((s, k) => [
      s.name,
      runs,
      times[k]![0]!.toFixed(2),
      quantile(times[k]!, 0.5).toFixed(2),
      quantile(times[k]!, 0.95).toFixed(2),
      (quantile(times[k]!, 0.5) / tesseraMedian).toFixed(2),
      ((cpu[k]!.server * 1000) / runs).toFixed(1),
      ((cpu[k]!.client * 1000) / runs).toFixed(1),
    ]);
    console.log(`\nSecureSum, ${parties} parties, FSC's unmodified Python client driving both systems, interleaved (ms)\n`);
    printTable(['system, client', 'runs', 'min', 'median', 'p95', "median / Tessera's", 'server CPU ms per sum (3 servers)', 'client CPU ms per sum'], rows);
    console.log(`\nTessera is ${(quantile(times[1]!, 0.5) / tesseraMedian).toFixed(1)}× faster than the original FSC (medians, FSC's client on both).`);
    console.log(`The FSC client's floor (its requests against bare node:http) is ${((quantile(times[3]!, 0.5) / tesseraMedian) * 100).toFixed(0)}% of Tessera's median through it.`);
    systems.forEach((s, k) => console.log(`${s.name}, result at party 0: ${shapes[k]}`));
    console.log(`Load average (1, 5, 15 min): ${loadavg().map((x) => x.toFixed(2)).join(', ')}`);
  } finally {
    await Promise.all([clients.close(), tessera.close(), fsc.close(), floor.close()]);
  }
}

// `npx tsx bench/fsc-original.ts DIR [--runs 100]`: the side-by-side SecureSum alone.
if (import.meta.filename === process.argv[1]) {
  const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '100' } }, allowPositionals: true });
  secureSumSideBySide(positionals[0], Number(values.runs)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
