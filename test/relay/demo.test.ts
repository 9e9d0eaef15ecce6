// `npm run demo -- --relay`: a local nats-server and three parties that connect to it outbound
// only, named relay://party0..2; prints the sum 85 and stops every process it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('npm run demo -- --relay prints the sum 85 computed through the relay', { timeout: 280_000 }, async () => {
  const home = await mkdtemp(join(tmpdir(), 'tessera-user-'));
  try {
    const child = spawn(join('node_modules', '.bin', 'tsx'), ['examples/secure_sum/demo.ts', '--relay'], {
      env: { ...process.env, XDG_CONFIG_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the demo did not finish within 270 s:\n${out}`));
      }, 270_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, out);
    assert.match(out, /Started a NATS relay at nats:\/\/127\.0\.0\.1:\d+/);
    for (const i of [0, 1, 2]) {
      assert.match(out, new RegExp(`party ${i}: peers reach it as relay://party${i} through the relay`));
      assert.match(out, new RegExp(`party ${i} \\(secret \\d+\\) learns \\{"inputs":3,"result":\\{"samples":3,"sum":85\\}\\}`));
    }
    assert.match(out, /The sum is 85/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
