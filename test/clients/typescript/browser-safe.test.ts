// The client must bundle for browsers and install as a package of its own: nothing it loads at
// runtime may import a Node built-in, and nothing in it or in shared/ may import server code.
// (toSafetensors() uses the global Buffer when called, which is why it is documented as Node-only.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/** Every import specifier of a module (static, re-export, side-effect, dynamic with a literal), type-only or not. */
function imports(file: string): { specifier: string; typeOnly: boolean }[] {
  const source = readFileSync(file, 'utf8');
  const found: { specifier: string; typeOnly: boolean }[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) found.push({ specifier: m[2]!, typeOnly: m[1] !== undefined });
  for (const m of source.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push({ specifier: m[1]!, typeOnly: false });
  for (const m of source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push({ specifier: m[1]!, typeOnly: false });
  return found;
}

function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!);
}

/** The TypeScript sources under `dir` (generated declarations and build output aside). */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') out.push(...sources(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const FORBIDDEN_ROOTS = ['server', 'services'].map((d) => resolve(d) + '/');

test('shared/ and the TypeScript client import nothing from server/ or services/, and no Node module', () => {
  const files = [...sources('shared'), ...sources('clients/typescript')];
  assert.ok(files.some((f) => f.endsWith(join('shared', 'tensors.ts'))), 'the scan sees the tensor codec');
  assert.ok(files.some((f) => f.endsWith(join('clients', 'typescript', 'api.ts'))), 'the scan sees the wrapper');
  const violations: string[] = [];
  for (const file of files) {
    for (const { specifier } of imports(file)) {
      // Type-only imports vanish at build time but would still tie the package to server code.
      if (isNodeBuiltin(specifier)) violations.push(`${file}: ${specifier} (a Node module)`);
      else if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        if (FORBIDDEN_ROOTS.some((root) => target.startsWith(root))) violations.push(`${file}: ${specifier} (${relative('.', target)})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the client reaches the tensor codec through shared/, following every relative import', () => {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { specifier, typeOnly } of imports(file)) {
      if (!typeOnly && specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  };
  visit(resolve('clients/typescript/index.ts'));
  assert.ok(seen.has(resolve('shared/tensors.ts')), 'the scan reaches the tensor codec');
  assert.ok(seen.has(resolve('clients/typescript/api.ts')), 'the scan reaches the wrapper');
  assert.deepEqual([...seen].filter((f) => !f.startsWith(resolve('shared') + '/') && !f.startsWith(resolve('clients/typescript') + '/')), []);
});
