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

test('every section of docs/performance.md and docs/relay.md a file cites by name exists', () => {
  // Those two documents are cited by section (the document's path, then the section's name in
  // quotes) from code comments, SECURITY.md and other documents; a section renamed or dropped
  // leaves such a citation pointing nowhere. A section is a heading or a bold lead-in; a citation
  // may be cut across comment lines, so line breaks and comment markers are folded to spaces.
  const cited = ['docs/performance.md', 'docs/relay.md'];
  const sections = new Map(cited.map((doc) => {
    const text = readFileSync(doc, 'utf8');
    const names = [...text.matchAll(/^#+\s+(.*)$/gm), ...text.matchAll(/\*\*([^*]+)\*\*/g)].map((m) => m[1]!.toLowerCase());
    return [doc, names];
  }));
  const dangling: string[] = [];
  for (const f of files) {
    const flat = readFileSync(f, 'utf8').replace(/\s*\n\s*(?:\/\/|\*|#)?\s*/g, ' ');
    for (const m of flat.matchAll(/(docs\/(?:performance|relay)\.md)[^"\n]{0,12}?"([^"]{3,80})"/g)) {
      const name = m[2]!.toLowerCase();
      if (!sections.get(m[1]!)!.some((s) => s.includes(name))) dangling.push(`${f}: ${m[1]} "${m[2]}"`);
    }
  }
  assert.deepEqual(dangling, []);
});
