// `tessera serve` is one process to the user: whichever way it was started (npx, npm run serve,
// bin/tessera.mjs), a SIGTERM or SIGINT to the process the user started stops the server and
// releases its port — also when npm put a shell between itself and node (npm -> sh -> node).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { spawnServe } from '../support/process.js';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const WAYS: [string, string, string[], NodeJS.Signals][] = [
  ['npx tessera serve', 'npx', ['tessera', 'serve'], 'SIGTERM'],
  ['npm run serve', 'npm', ['run', 'serve', '--'], 'SIGTERM'],
  ['node bin/tessera.mjs serve', process.execPath, ['bin/tessera.mjs', 'serve'], 'SIGINT'],
];

for (const [name, command, args, signal] of WAYS) {
  test(`${name}: ${signal} to the started pid stops the server and frees its port`, { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-process-'));
    const server = spawnServe(['--port', '0', '--data-dir', dir, '--log-level', 'warn'], { command: [command, ...args] });
    const { child, exited } = server;
    let port: number | undefined;
    try {
      port = Number(new URL(await server.ready).port);
      assert.equal(await portAnswers(port), true);
      child.kill(signal);
      await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error('the started process did not exit')), 30_000))]);
      // The issue asks for a free port within a second; a loaded test machine gets a few.
      let free = false;
      for (let i = 0; i < 50 && !free; i++) {
        free = !(await portAnswers(port));
        if (!free) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(free, true, `port ${port} still answers after the started process exited`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('tessera --version prints the package version', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  for (const args of [['--version'], ['serve', '--version']]) {
    const run = spawnSync(process.execPath, ['bin/tessera.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), `tessera ${pkg.version}`);
  }
});

test('--log-format pretty writes readable lines (pino-pretty), not JSON', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-pretty-'));
  const child = spawn(process.execPath, ['bin/tessera.mjs', 'serve', '--port', '0', '--data-dir', dir, '--log-format', 'pretty'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" log line within 60 s: ${stderr}`)), 60_000);
      child.stderr.on('data', () => {
        if (/INFO.*listening/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.doesNotMatch(stderr, /^\{"level"/m);
    assert.match(stderr, /INFO.*peer layer ready/);
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
});

test('whatever server/, services/ and bin/ import at run time is a runtime dependency (npm install --omit=dev serves)', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
  const sources = execFileSync('git', ['ls-files', 'server', 'services', 'bin'], { encoding: 'utf8' }).split('\n').filter((f) => /\.(ts|mjs)$/.test(f));
  const missing = new Set<string>();
  for (const file of sources) {
    // Value imports only: `import type` vanishes at run time.
    for (const m of readFileSync(file, 'utf8').matchAll(/^import (?!type )[^;]*?from '([^.'][^']*)'|await import\('([^.'][^']*)'\)/gm)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('node:')) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!Object.hasOwn(pkg.dependencies, name)) missing.add(`${name} (${file})`);
    }
  }
  assert.deepEqual([...missing], []);
});
