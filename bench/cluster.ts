// Party servers as separate processes (as in a real deployment, each with its own event loop),
// for the benchmarks. They trust each other through one fresh network secret.
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatNetworkSecret } from '../server/peer/trust.js';
import { parseReadyLine } from '../server/ready.js';

export interface ProcessCluster {
  readonly nodes: string[];
  readonly children: ChildProcess[];
  close(): Promise<void>;
}

/** Stops a child process: SIGTERM, then SIGKILL if it has not exited within 5 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** `extraArgs`: flags for every server, or per party (e.g. each party's --relay-name). */
export async function startProcessCluster(parties: number, extraArgs: string[] | ((party: number) => string[]) = []): Promise<ProcessCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
  const env = { ...process.env, TESSERA_NETWORK_SECRET: formatNetworkSecret(randomBytes(32)) };
  const children: ChildProcess[] = [];
  // E.g. TESSERA_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles each server.
  const nodeArgs = (process.env.TESSERA_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const close = async (): Promise<void> => {
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const nodes = await Promise.all(
      Array.from({ length: parties }, (_, i) => {
        const child = spawn(
          process.execPath,
          [...nodeArgs, 'bin/tessera.mjs', 'serve', '--port', '0', '--data-dir', join(dir, `party${i}`), '--log-level', 'error', ...(typeof extraArgs === 'function' ? extraArgs(i) : extraArgs)],
          { env, stdio: ['ignore', 'pipe', 'inherit'] },
        );
        children.push(child);
        return new Promise<string>((resolve, reject) => {
          // Generous: on a loaded machine five servers starting at once (each compiling TypeScript) are slow.
          const timer = setTimeout(() => reject(new Error('a server did not start within 120 s')), 120_000);
          let out = '';
          const onData = (c: Buffer): void => {
            out += c.toString();
            const url = parseReadyLine(out);
            if (!url) return;
            clearTimeout(timer);
            child.stdout!.off('data', onData);
            child.stdout!.resume();
            resolve(url);
          };
          child.stdout!.on('data', onData);
          child.once('exit', (code) => reject(new Error(`a server exited with code ${code}`)));
        });
      }),
    );
    return { nodes, children, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** CPU seconds (user + sys) a process has used, from /proc on Linux (clock ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set of a process (VmHWM, from /proc on Linux), in bytes. */
export function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Prints rows as a Markdown table. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

/** The safetensors metadata of a result, reading only the header off the download stream. */
export async function resultMetadata(url: string, uuid: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/representation/${uuid}`, { headers: { Accept: 'application/octet-stream' }, signal: AbortSignal.timeout(60_000) });
  const reader = res.body!.getReader();
  let buffered = Buffer.alloc(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffered = Buffer.concat([buffered, value]);
    if (buffered.length >= 8) {
      const length = Number(buffered.readBigUInt64LE(0));
      if (buffered.length >= 8 + length || done) {
        await reader.cancel();
        const header = JSON.parse(buffered.subarray(8, 8 + length).toString('utf8')) as { __metadata__?: Record<string, string> };
        return header.__metadata__ ?? {};
      }
    }
    if (done) throw new Error('the download ended before its header');
  }
}

/**
 * A fetch for the benchmarks' clients (ApiOptions.fetch) over node:http, which has no headers
 * timeout of its own: the global fetch (undici) gives up on a response whose headers take more
 * than 300 s, whatever the caller's own limit, and a compute call answers only when the
 * computation is done — a 3 × 10,000 set intersection on a loaded machine took longer. The
 * caller's AbortSignal (the Api's timeoutMs) stays the one limit.
 */
export async function patientFetch(input: Request): Promise<Response> {
  const body = input.body === null ? undefined : Buffer.from(await input.arrayBuffer());
  const url = new URL(input.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const req = request(url, { method: input.method, headers: Object.fromEntries(input.headers), signal: input.signal }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 502;
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
        }
        // A 204 or 304 must be built without a body.
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
