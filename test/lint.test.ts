// ESLint over the TypeScript sources with the team's rules (eslint.config.js): zero findings.
// No --cache, here or in `npm run lint`: ESLint's cache keys each file's findings on that file's
// own content (and the config), but the type-aware rules (no-floating-promises, await-thenable,
// no-misused-promises) read types from other files. A type change in a.ts can create a finding in
// b.ts, and a warm cache replays b.ts's old, empty result: the cache once hid exactly such a
// finding (an `await` on identity() after it became synchronous). No cache strategy fixes this
// (`--cache-strategy content` still keys on the one file), so every run is cold: it type-checks
// the whole project once, about a minute of CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';

export const LINT_ARGS = ['node_modules/eslint/bin/eslint.js', '--max-warnings', '0', '.'];

test('ESLint: no findings in the TypeScript sources', { timeout: 900_000 }, async () => {
  const result = await promisify(execFile)(process.execPath, LINT_ARGS, { timeout: 890_000, maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
  assert.equal(result.code, 0, `npx eslint . found:\n${result.output}`);
});

test('npm run lint runs cold, as this test does: a warm cache misses findings that a type change in another file causes', async () => {
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
  assert.doesNotMatch(pkg.scripts.lint ?? '', /--cache/);
  assert.ok(!LINT_ARGS.some((a) => a.startsWith('--cache')));
});
