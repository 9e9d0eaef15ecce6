// A party's server as a child process (`tessera serve`), so a test can kill it hard (SIGKILL: no
// shutdown, no abort messages), as a crash or a pulled cable would.

import { spawn, type ChildProcess } from 'node:child_process';
import { formatNetworkSecret } from '../../server/peer/trust.js';

export interface ChildParty {
  readonly url: string;
  readonly process: ChildProcess;
  /** SIGKILL, and wait for the exit (bounded). */
  kill(): Promise<void>;
}

const BIN = 'bin/tessera.mjs';

/** `env` adds to the child's environment (e.g. NODE_OPTIONS=--max-old-space-size=… for a small heap). */
export async function spawnParty(dataDir: string, networkSecret: Buffer, stageTimeoutMs: number, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<ChildParty> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--stage-timeout', String(stageTimeoutMs / 1000), ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TESSERA_NETWORK_SECRET: formatNetworkSecret(networkSecret), ...env } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 30 s; stderr: ${stderr}`)), 30_000);
    const check = (): void => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited early; stderr: ${stderr}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    url,
    process: child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    },
  };
}
