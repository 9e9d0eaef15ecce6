// Parties as child processes: `tessera serve` started the way a user starts it, its URL read from
// the one machine-readable ready line (server/ready.ts), so a test can signal it, kill it hard
// (SIGKILL: no shutdown, no abort messages, as a crash or a pulled cable would) or read its output.

import { spawn, type ChildProcess } from 'node:child_process';
import { parseReadyLine } from '../../server/ready.js';
import { formatNetworkSecret } from '../../server/peer/trust.js';

export const BIN = 'bin/tessera.mjs';

export interface ServeOptions {
  /** The command and its leading arguments (default: node bin/tessera.mjs serve). */
  readonly command?: readonly [string, ...string[]];
  /** The child's whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** How long to wait for the ready line (default 60 s: a loaded machine compiles TypeScript slowly). */
  readonly readyTimeoutMs?: number;
  /** Where the child's stderr goes (default: captured, see output()). */
  readonly stderr?: 'pipe' | 'inherit';
}

export interface ServeProcess {
  readonly child: ChildProcess;
  /** The server's URL from its ready line; rejects when the process exits first or the time runs out. */
  readonly ready: Promise<string>;
  /** The exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  output(): { stdout: string; stderr: string };
  /** Sends `signal` (default SIGTERM) if still running; the exit code, or 'timeout' after 15 s. */
  stop(signal?: NodeJS.Signals): Promise<number | null | 'timeout'>;
  /** SIGKILL if still running, and wait for the exit (bounded). */
  kill(): Promise<void>;
}

/** Starts `tessera serve ...args` and watches its stdout for the ready line. */
export function spawnServe(args: readonly string[], options: ServeOptions = {}): ServeProcess {
  const [command, ...lead] = options.command ?? [process.execPath, BIN, 'serve'];
  const child = spawn(command, [...lead, ...args], {
    stdio: ['ignore', 'pipe', options.stderr ?? 'pipe'],
    env: options.env ?? process.env,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`)), timeoutMs);
    const check = (): void => {
      const url = parseReadyLine(stdout);
      if (url === undefined) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve(url);
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before its ready line; stderr: ${stderr}`));
    });
  });
  // A caller that expects the process to fail awaits `exited` instead; no unhandled rejection then.
  ready.catch(() => undefined);
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    ready,
    exited,
    output: () => ({ stdout, stderr }),
    async stop(signal = 'SIGTERM') {
      if (running()) child.kill(signal);
      return Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    },
  };
}

export interface ChildParty {
  readonly url: string;
  readonly process: ChildProcess;
  /** SIGKILL, and wait for the exit (bounded). */
  kill(): Promise<void>;
}

/** One party of a network as a child process. `env` adds to its environment (e.g. NODE_OPTIONS=--max-old-space-size=… for a small heap). */
export async function spawnParty(dataDir: string, networkSecret: Buffer, stageTimeoutMs: number, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<ChildParty> {
  const serve = spawnServe(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--stage-timeout', String(stageTimeoutMs / 1000), ...extraArgs], {
    env: { ...process.env, TESSERA_NETWORK_SECRET: formatNetworkSecret(networkSecret), ...env },
  });
  const url = await serve.ready.catch(async (err: unknown) => {
    await serve.kill();
    throw err;
  });
  return { url, process: serve.child, kill: () => serve.kill() };
}

/** What a command printed and how it ended. */
export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end, collecting its output; killed (SIGKILL) after `timeoutMs`. */
export function runCommand(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
