// `npm run clients:generate` on a machine without Java says that Java is missing and how to get it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('clients:generate without java on PATH: "Java is missing", exit 1, nothing written', async () => {
  const bin = await mkdtemp(join(tmpdir(), 'tessera-nojava-'));
  try {
    // A PATH with node and nothing else.
    await symlink(process.execPath, join(bin, 'node'));
    const out = join(bin, 'client');
    const run = spawnSync(join(bin, 'node'), ['scripts/generate-clients.mjs', 'python', '--out', out], {
      encoding: 'utf8',
      env: { PATH: bin, HOME: bin },
      timeout: 60_000,
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /Java is missing/);
    assert.match(run.stderr, /apt-get install default-jre-headless/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    await rm(bin, { recursive: true, force: true });
  }
});
