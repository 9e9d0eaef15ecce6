// The client must bundle for browsers: nothing it loads at runtime may import a Node built-in.
// (toSafetensors() uses the global Buffer when called, which is why it is documented as Node-only.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Every runtime (non type-only) import specifier of a module, with the files it reaches. */
function runtimeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
    if (m[1] === undefined) specifiers.push(m[2]!);
  }
  for (const m of source.matchAll(/^\s*import\s+'([^']+)'/gm)) specifiers.push(m[1]!);
  return specifiers;
}

test('the TypeScript client and the tensor codec import no Node built-in modules', () => {
  const seen = new Set<string>();
  const nodeImports: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('node:') || ['fs', 'os', 'path', 'crypto', 'http', 'buffer'].includes(spec)) nodeImports.push(`${file}: ${spec}`);
      else if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  };
  visit(resolve('clients/typescript/index.ts'));
  assert.ok(seen.has(resolve('services/common/tensors.ts')), 'the scan reaches the tensor codec');
  assert.ok(seen.has(resolve('clients/typescript/api.ts')), 'the scan reaches the wrapper');
  assert.deepEqual(nodeImports, []);
});
