// The main job from a fresh clone: `npm run demo` (here on free ports) starts three server
// processes with no trust configuration at all, runs the three parties, prints the sum, and stops.
// And the by-hand way: servers started with `tessera serve`, one example client per party.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServe, type ServeProcess } from '../support/process.js';

const TSX = join('node_modules', '.bin', 'tsx');

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** A fresh XDG_CONFIG_HOME: the local network secret of "this user" is made anew. */
async function isolatedUser(): Promise<{ env: NodeJS.ProcessEnv; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-user-'));
  return { dir, env: { ...process.env, XDG_CONFIG_HOME: dir } };
}

test('npm run demo prints the sum 85 for every party and stops its servers', { timeout: 120_000 }, async () => {
  const { env, dir } = await isolatedUser();
  try {
    const { code, out } = await run(TSX, ['examples/secure_sum/demo.ts', '--ports', '0,0,0'], { ...env, PWD: dir }, 90_000);
    assert.equal(code, 0, out);
    for (const [party, secret] of [[0, 19], [1, 5], [2, 61]]) {
      assert.match(out, new RegExp(`party ${party} \\(secret ${secret}\\) learns \\{"inputs":3,"result":\\{"samples":3,"sum":85\\}\\}`));
    }
    assert.match(out, /The sum is 85/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('by hand: tessera serve per party, then one example client per party', { timeout: 120_000 }, async () => {
  const { env, dir } = await isolatedUser();
  const servers: ServeProcess[] = [];
  try {
    const urls = await Promise.all(
      [0, 1, 2].map((i) => {
        const server = spawnServe(['--port', '0', '--data-dir', join(dir, `party${i}`), '--log-level', 'warn'], { env, stderr: 'inherit' });
        servers.push(server);
        return server.ready;
      }),
    );
    const results = await Promise.all(
      [19, 5, 61].map((secret, myself) =>
        run(TSX, ['examples/secure_sum/secure_sum.ts', String(myself), String(secret), '--nodes', urls.join(',')], env, 60_000),
      ),
    );
    for (const { code, out } of results) {
      assert.equal(code, 0, out);
      assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1)!), { inputs: 3, result: { samples: 3, sum: 85 } });
    }
  } finally {
    await Promise.all(servers.map(async (server) => ((await server.stop('SIGTERM')) === 'timeout' ? server.kill() : undefined)));
    await rm(dir, { recursive: true, force: true });
  }
});
