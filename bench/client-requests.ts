// What one client request of each kind costs a Tessera server, against a bare node:http server
// answering the same request with nothing behind it (bench/fsc-floor-server.mjs): per kind the
// wall time (median, p95) and the server's CPU (user + system from /proc) per request, sent the
// two ways a sum's clients send them: FSC's Python client (`requests` without a session: a new
// TCP connection per request, its headers, a JSON body `{}` on GET and DELETE) and Tessera's
// TypeScript client (one kept-alive connection, node:http). Kinds alternate in rounds, so a busy
// machine slows each alike. The compute call (PATCH) is left out: its cost is the protocol.
// Given another source tree, its server is measured too, in the same rounds (before and after).
//
//   npx tsx bench/client-requests.ts [--runs 600] [/tmp/before]
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { cpuSeconds, printTable, quantile, startProcessCluster, stopChild } from './cluster.js';

const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '600' } }, allowPositionals: true });
const other = positionals[0];
const RUNS = Number(values.runs);

interface Answer { readonly status: number; readonly body: string }

/** python-requests 2.x's headers for `requests.post(url, json=…)` and friends. */
const PYTHON_HEADERS = { 'User-Agent': 'python-requests/2.28.1', 'Accept-Encoding': 'gzip, deflate', Accept: '*/*', Connection: 'keep-alive' };
const keptAlive = new Agent({ keepAlive: true, scheduling: 'lifo', noDelay: true });

function send(url: string, method: string, body: string | undefined, fresh: boolean): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const headers: Record<string, string | number> = fresh ? { ...PYTHON_HEADERS } : { Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = request(url, { method, headers, agent: fresh ? false : keptAlive }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        // `requests` without a session closes its connection once the answer is read.
        if (fresh) res.socket?.destroy();
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function uuidOf(answer: Promise<Answer>): Promise<string> {
  const { status, body } = await answer;
  const uuid = (JSON.parse(body) as { uuid?: unknown }).uuid;
  if (status !== 200 || typeof uuid !== 'string') throw new Error(`expected a uuid, got ${status} ${body.slice(0, 200)}`);
  return uuid;
}

async function startFloor(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['bench/fsc-floor-server.mjs'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the floor server did not start within 30 s')), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { url, pid: child.pid!, stop: () => stopChild(child) };
}

interface Kind {
  readonly name: string;
  /** One request of this kind against `base`; `fresh`: a new connection, FSC's way. */
  readonly run: (base: string, fresh: boolean, target: { uuid: string; value: string; spare: string[] }) => Promise<unknown>;
}

const EMPTY = '{}';
const kinds: Kind[] = [
  { name: 'create (POST /representations)', run: (base, fresh) => uuidOf(send(`${base}/representations`, 'POST', '{"args":[],"kwargs":{"protocol":"Simon"}}', fresh)) },
  { name: 'attribute (GET /representation/u/compute)', run: (base, fresh, t) => uuidOf(send(`${base}/representation/${t.uuid}/compute`, 'GET', fresh ? EMPTY : undefined, fresh)) },
  { name: 'download (GET /representation/u)', run: (base, fresh, t) => send(`${base}/representation/${t.value}`, 'GET', fresh ? EMPTY : undefined, fresh) },
  {
    name: 'release (DELETE /representation/u)',
    run: (base, fresh, t) => send(`${base}/representation/${t.spare.pop() ?? t.value}`, 'DELETE', fresh ? EMPTY : undefined, fresh),
  },
  { name: 'list (GET /representations)', run: (base, fresh) => send(`${base}/representations`, 'GET', fresh ? EMPTY : undefined, fresh) },
];

async function main(): Promise<void> {
  const tessera = await startProcessCluster(1);
  const here = process.cwd();
  if (other !== undefined) process.chdir(other);
  const before = other === undefined ? undefined : await startProcessCluster(1).finally(() => process.chdir(here));
  const floor = await startFloor();
  try {
    const servers = [
      { name: other === undefined ? 'Tessera' : 'Tessera (this tree)', url: tessera.nodes[0]!, pid: tessera.children[0]!.pid! },
      ...(before === undefined ? [] : [{ name: `Tessera (${other})`, url: before.nodes[0]!, pid: before.children[0]!.pid! }]),
      { name: 'bare node:http', url: floor.url, pid: floor.pid },
    ];
    const targets = new Map<string, { uuid: string; value: string; spare: string[] }>();
    for (const server of servers.slice(0, -1)) {
      const base = server.url;
      const uuid = await uuidOf(send(`${base}/representations`, 'POST', '{"args":[],"kwargs":{"protocol":"Simon"}}', false));
      const value = await uuidOf(send(`${base}/representations`, 'PUT', '{"args":[{"inputs":3,"result":{"samples":3,"sum":4.5}}]}', false));
      const download = await send(`${base}/representation/${value}`, 'GET', undefined, false);
      if (download.status !== 200) throw new Error(`download answered ${download.status}`);
      // Uploads to release, made before the measured rounds (one per release per mode, plus warm-up).
      const spare = await Promise.all(Array.from({ length: 2 * RUNS + 40 }, () => uuidOf(send(`${base}/representations`, 'PUT', '{"args":[1]}', false))));
      targets.set(server.name, { uuid, value, spare });
    }
    const floorTarget = targets.values().next().value!;
    const cells = new Map<string, { wall: number[]; cpu: number }>();
    const cell = (k: string) => cells.get(k) ?? (cells.set(k, { wall: [], cpu: 0 }), cells.get(k)!);
    const ROUND = 20;
    for (let done = -20; done < RUNS; done += ROUND) {
      for (const fresh of [true, false]) {
        for (const kind of kinds) {
          for (const server of servers) {
            const t = targets.get(server.name) ?? { ...floorTarget, spare: [] };
            const c = cell(`${fresh} ${kind.name} ${server.name}`);
            const before = cpuSeconds(server.pid);
            for (let i = 0; i < ROUND; i++) {
              const started = performance.now();
              await kind.run(server.url, fresh, t);
              if (done >= 0) c.wall.push(performance.now() - started);
            }
            if (done >= 0) c.cpu += cpuSeconds(server.pid) - before;
          }
        }
      }
    }
    const f = (x: number): string => x.toFixed(3);
    const rows: (string | number)[][] = [];
    for (const fresh of [true, false]) {
      for (const kind of kinds) {
        const row: (string | number)[] = [`${kind.name}, ${fresh ? 'new connection (FSC client)' : 'kept alive (TS client)'}`];
        const cpu: number[] = [];
        for (const server of servers) {
          const c = cell(`${fresh} ${kind.name} ${server.name}`);
          const sorted = [...c.wall].sort((a, b) => a - b);
          cpu.push((c.cpu * 1000) / c.wall.length);
          row.push(f(quantile(sorted, 0.5)), f(quantile(sorted, 0.95)), f(cpu.at(-1)!));
        }
        for (const c of cpu.slice(0, -1)) row.push(f(c - cpu.at(-1)!));
        rows.push(row);
      }
    }
    console.log(`\nOne client request of each kind, ${RUNS} each (ms per request; server CPU: user + system from /proc)\n`);
    const short = (name: string): string => name.replace('bare node:http', 'bare');
    printTable(['request', ...servers.flatMap((s) => [`${short(s.name)} wall median`, `${short(s.name)} wall p95`, `${short(s.name)} server CPU`]), ...servers.slice(0, -1).map((s) => `${s.name} CPU above bare`)], rows);
    console.log(`\nLoad average (1, 5, 15 min) at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  } finally {
    keptAlive.destroy();
    await floor.stop();
    await tessera.close();
    await before?.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
