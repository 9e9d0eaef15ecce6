// The layers import downwards only: services/ (the protocols) never import the server (server/)
// or Express, so the engine runs without HTTP (simulation mode, the in-memory network), and
// shared/ imports neither (test/clients/typescript/browser-safe.test.ts checks shared/ and the client).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('services/ imports nothing from server/ and no Express', () => {
  const server = resolve('server') + '/';
  const violations: string[] = [];
  for (const file of sources('services')) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\(\s*)'([^']+)'/g)) {
      const specifier = m[1]!;
      if (specifier === 'express' || specifier.startsWith('express-')) violations.push(`${file}: ${specifier}`);
      else if (specifier.startsWith('.') && resolve(dirname(file), specifier).startsWith(server)) violations.push(`${file}: ${specifier} (${relative('.', resolve(dirname(file), specifier))})`);
    }
  }
  assert.ok(sources('services').length > 20, 'the scan sees the services');
  assert.deepEqual(violations, []);
});
