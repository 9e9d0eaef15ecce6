// Everything the code, comments and documents cite is in the repository: no reference to design
// notes outside it, and every docs/… file cited exists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && existsSync(f) && /\.(ts|mjs|js|py|md|ya?ml|json)$/.test(f) && !f.startsWith('clients/python/') && f !== 'package-lock.json');

test('no file refers to design documents outside the repository', () => {
  // Spelled in pieces so this file does not match itself. The repository's own shared/ module
  // (imported as '../../shared/tensors.js') is inside it: a module path is no reference.
  const outside = new RegExp(['DESIGN', 'SIMON', 'STYLE'].map((n) => `\\b${n}\\.md`).join('|') + '|/work/' + 'shared|\\.\\./' + 'shared(?!/[a-z-]+\\.(?:js|ts)\\b)');
  const offenders = files.filter((f) => outside.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});

test('every docs/*.md a file cites exists', () => {
  const missing: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\bdocs\/([A-Za-z0-9_-]+\.md)/g)) {
      if (!existsSync(`docs/${m[1]}`)) missing.push(`${f}: docs/${m[1]}`);
    }
  }
  assert.deepEqual(missing, []);
});
