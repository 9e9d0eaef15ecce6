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
        const deadline = Date.now() + 120_000;
        for (;;) {
          if (child.exitCode !== null) throw new Error(`an FSC server exited with code ${child.exitCode}:\n${tail}`);
          if (Date.now() > deadline) throw new Error(`an FSC server did not answer within 120 s:\n${tail}`);
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

  async close(): Promise<void> {
    for (const child of this.children) child.stdin!.end();
    await Promise.all(this.children.map(stopChild));
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
 * of the medians and the servers' CPU per sum, and each system's result as party 0 downloads it.
 */
export async function secureSumSideBySide(dirFlag: string | undefined, runs: number): Promise<void> {
  const ready = prepareFsc(dirFlag);
  if ('why' in ready) {
    console.log(`\nFSC original: ${ready.why}`);
    return;
  }
  const parties = 3;
  console.error('FSC original: starting 3 FSC servers, 3 Tessera servers and 3 FSC clients');
  const started = await Promise.allSettled([startProcessCluster(parties), startFscCluster(parties, ready.sources, ready.python)]);
  if (started[0].status === 'rejected' || started[1].status === 'rejected') {
    // Stop whichever side did start before reporting the other's failure.
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : Promise.resolve())));
    throw started[0].status === 'rejected' ? started[0].reason : (started[1] as PromiseRejectedResult).reason;
  }
  const [tessera, fsc] = [started[0].value, started[1].value];
  const clients = FscClients.start(parties, ready.sources, ready.python);
  try {
    const systems = [
      { name: 'Tessera', cluster: tessera },
      { name: 'FSC original', cluster: fsc },
    ];
    // 0.5 + 1.5 + 2.5: exact in binary, so both systems must print exactly 4.5.
    const dataFor = (party: number): number => party + 0.5;
    const expected = 4.5;
    const shapes: string[] = systems.map(() => '');
    const oneSum = async (k: number): Promise<number> => {
      const { ms, answers } = await clients.run({ nodes: systems[k]!.cluster.nodes, uuid: randomUUID(), microprotocol: 'SecureSum', data: undefined }, dataFor, 60_000);
      answers.forEach((a, party) => {
        if (!a.ok) throw new Error(`${systems[k]!.name}, party ${party}: ${a.error}`);
        const sum = (a.result as { result?: { sum?: unknown } }).result?.sum;
        if (sum !== expected) throw new Error(`${systems[k]!.name}, party ${party}: sum ${String(sum)}, expected ${expected}`);
      });
      shapes[k] = JSON.stringify(answers[0]!.ok ? answers[0]!.result : null);
      return ms;
    };
    const serverCpu = (k: number): number => systems[k]!.cluster.children.reduce((sum, c) => sum + cpuSeconds(c.pid!), 0);
    // Warm-up: Python's and Node's first calls, connections, identities.
    for (let i = 0; i < 5; i++) for (const k of [0, 1]) await oneSum(k);
    console.error(`FSC original: measuring ${runs} sums on each`);
    const times: number[][] = [[], []];
    const cpu = [0, 0];
    for (let i = 0; i < runs; i++) {
      // Alternate which system goes first, so neither always runs right after the other.
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const before = serverCpu(k);
        times[k]!.push(await oneSum(k));
        cpu[k]! += serverCpu(k) - before;
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
      ((cpu[k]! * 1000) / runs).toFixed(1),
    ]);
    console.log(`\nSecureSum, ${parties} parties, FSC's unmodified Python client driving both systems, interleaved (ms)\n`);
    printTable(['system', 'runs', 'min', 'median', 'p95', "median / Tessera's", 'server CPU ms per sum (3 servers)'], rows);
    console.log(`\nTessera is ${(quantile(times[1]!, 0.5) / tesseraMedian).toFixed(1)}× faster than the original FSC (medians).`);
    systems.forEach((s, k) => console.log(`${s.name} result at party 0: ${shapes[k]}`));
    console.log(`Load average (1, 5, 15 min): ${loadavg().map((x) => x.toFixed(2)).join(', ')}`);
  } finally {
    await Promise.all([clients.close(), tessera.close(), fsc.close()]);
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
