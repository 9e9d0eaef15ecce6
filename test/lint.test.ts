// ESLint over the TypeScript sources with the team's rules (eslint.config.js): zero findings.
// The cache (node_modules/.cache/eslint/) makes a re-run check only the files that changed; a
// cold run type-checks the whole project once (about a minute of CPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const LINT_ARGS = ['node_modules/eslint/bin/eslint.js', '--cache', '--cache-location', 'node_modules/.cache/eslint/', '--max-warnings', '0', '.'];

test('ESLint: no findings in the TypeScript sources', { timeout: 900_000 }, async () => {
  const result = await promisify(execFile)(process.execPath, LINT_ARGS, { timeout: 890_000, maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
  assert.equal(result.code, 0, `npx eslint --cache . found:\n${result.output}`);
});
