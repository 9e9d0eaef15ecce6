// bin/tessera.mjs runs the server as JavaScript compiled from the sources (bin/build.mjs), cached
// by a digest of those sources: the compiled tree must hold every module and the files modules
// read by relative path, and an edited source must give a new build, never the stale one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
// @ts-expect-error: plain JavaScript without type declarations (bin/ is not compiled).
import { compiledServer, ROOT } from '../../bin/build.mjs';

const build = compiledServer as (root?: string) => Promise<string | undefined>;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test('the compiled server holds a module for every source, openapi.yaml and package.json as they are', async () => {
  const dir = await build();
  assert.ok(dir !== undefined, 'esbuild compiled the server');
  for (const top of ['server', 'services', 'shared']) {
    for (const source of filesUnder(join(ROOT as string, top))) {
      const rel = relative(ROOT as string, source);
      const compiled = rel.endsWith('.ts') ? rel.replace(/\.ts$/, '.js') : rel;
      assert.ok(existsSync(join(dir, compiled)), `${compiled} is in the build`);
    }
  }
  for (const f of ['openapi.yaml', 'package.json']) assert.equal(readFileSync(join(dir, f), 'utf8'), readFileSync(join(ROOT as string, f), 'utf8'));
  // Cached: the same sources give the same folder.
  assert.equal(await build(), dir);
});

test('an edited source is compiled again on the next start, the old build is not run', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tessera-build-'));
  try {
    for (const f of ['server', 'services', 'shared', 'openapi.yaml', 'package.json', 'tsconfig.json']) await cp(join(ROOT as string, f), join(root, f), { recursive: true });
    const before = await build(root);
    assert.ok(before !== undefined);
    await appendFile(join(root, 'server', 'cli.ts'), '\nexport const EDITED_AFTER_THE_BUILD = 1;\n');
    const after = await build(root);
    assert.ok(after !== undefined);
    assert.notEqual(after, before);
    assert.ok(readFileSync(join(after, 'server', 'cli.js'), 'utf8').includes('EDITED_AFTER_THE_BUILD'));
    assert.ok(!readFileSync(join(before, 'server', 'cli.js'), 'utf8').includes('EDITED_AFTER_THE_BUILD'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
