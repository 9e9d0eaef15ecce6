// A real nats-server (the Debian package) for the relay tests and benchmarks: started on a free
// loopback port, told apart by its pid, stopped by that pid. Optional user/password or token auth
// and a small max_payload, so that modest payloads already travel in fragments.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_SERVER = '/usr/sbin/nats-server';

export interface NatsOptions {
  /** Reuse this port (a restart); default a free one. */
  port?: number;
  user?: string;
  password?: string;
  token?: string;
  /** Bytes per NATS message, headers included (nats-server default 1 MiB). */
  maxPayload?: number;
  /** Serve nats-server's monitoring endpoint (for varz(): bytes through the relay). */
  monitor?: boolean;
  /**
   * GOMAXPROCS for the nats-server (Go's default: one per core). 1 for a relay that shares a small
   * machine with the parties (the benchmark's): the Go scheduler then does not spin on a second
   * core looking for work between messages (docs/relay.md "The relay's own CPU on the parties' cores").
   */
  goMaxProcs?: number;
  /**
   * GOGC for the nats-server (Go's default: 100). The server gathers every message that spans its
   * socket reads into a fresh buffer of the message's size, so 1 MiB messages make garbage at the
   * rate they pass; at 100 the Go runtime collects and hands the pages back to the kernel
   * (madvise, a TLB flush on every core) several times a second, and faults them in again. 400
   * lets its heap grow to five times what is live (a few MiB) and cuts its CPU per byte by a third
   * to two fifths (docs/relay.md "The relay's garbage collector").
   */
  goGC?: number;
}

export interface Nats {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** nats-server's /varz (with `monitor`): in_bytes, out_bytes, in_msgs, out_msgs, ... */
  varz(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startNats(options: NatsOptions = {}): Promise<Nats> {
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'tessera-nats-'));
  const conf = [`listen: "127.0.0.1:${port}"`];
  if (options.maxPayload !== undefined) conf.push(`max_payload: ${options.maxPayload}`);
  const monitorPort = options.monitor === true ? await freePort() : undefined;
  if (monitorPort !== undefined) conf.push(`http: "127.0.0.1:${monitorPort}"`);
  if (options.user !== undefined) conf.push(`authorization { user: "${options.user}", password: "${options.password ?? ''}" }`);
  else if (options.token !== undefined) conf.push(`authorization { token: "${options.token}" }`);
  await writeFile(join(dir, 'nats.conf'), `${conf.join('\n')}\n`);
  const env = {
    ...process.env,
    ...(options.goMaxProcs !== undefined ? { GOMAXPROCS: String(options.goMaxProcs) } : {}),
    ...(options.goGC !== undefined ? { GOGC: String(options.goGC) } : {}),
  };
  const child: ChildProcess = spawn(NATS_SERVER, ['-c', join(dir, 'nats.conf')], { stdio: ['ignore', 'ignore', 'pipe'], env });
  const pid = child.pid;
  if (pid === undefined) throw new Error('nats-server did not start');
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`nats-server did not get ready within 10 s: ${log.slice(-500)}`)), 10_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        child.stderr!.resume();
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited with code ${code}: ${log.slice(-500)}`));
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid,
    async varz() {
      if (monitorPort === undefined) throw new Error('started without monitor');
      const res = await fetch(`http://127.0.0.1:${monitorPort}/varz`, { signal: AbortSignal.timeout(10_000) });
      return (await res.json()) as Record<string, number>;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const done = (): void => {
          void rm(dir, { recursive: true, force: true }).then(() => resolve());
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const force = setTimeout(() => process.kill(pid, 'SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          done();
        });
        process.kill(pid, 'SIGTERM');
      });
      return stopped;
    },
  };
}
