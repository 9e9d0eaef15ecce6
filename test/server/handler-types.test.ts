// The handler map is keyed and typed by the operations generated from openapi.yaml
// (server/http/operations.ts): an operation added to the spec fails the type check until it has
// a handler, and a handler must answer its operation's success body. Checked two ways: tsc on a
// fixture that widens the generated operations by one (as regenerating after adding an
// operation would), and the running map compared with the spec's operation ids.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHandlers } from '../../server/http/handlers/index.js';
import { loadSpec } from '../../server/http/spec.js';
import { createBus } from '../../server/app.js';
import { memoryLog } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** tsc --noEmit (strict, as the project) on several files at once; diagnostics by file name. */
function typecheck(sources: Readonly<Record<string, string>>): { status: number | null; output: string; errorsOf(name: string): string } {
  const dir = mkdtempSync(join(ROOT, 'test/server/.handler-types-'));
  try {
    const files = Object.entries(sources).map(([name, source]) => {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, source);
      return file;
    });
    const r = spawnSync(process.execPath, [TSC, '--noEmit', '--strict', '--noUncheckedIndexedAccess', '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
      '--target', 'ES2022', '--skipLibCheck', '--types', 'node', '--esModuleInterop', ...files], { encoding: 'utf8', timeout: 180_000, cwd: ROOT });
    const output = r.stdout + r.stderr;
    return {
      status: r.status,
      output,
      errorsOf: (name) => output.split('\n').filter((line) => line.includes(`/${name}.ts(`)).join('\n'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FIXTURE = (extra: string, handler: string): string => `
import type { HandlerMap, HandlerMapOf, operations } from '../../../server/http/operations.js';
declare const today: HandlerMap;
type Widened = operations & {
  ${extra}
};
export const map: HandlerMapOf<Widened> = {
  ...today,
  ${handler}
};
`;

const NEW_OPERATION = `getStatistics: {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    requestBody?: never;
    responses: { 200: { headers: { [name: string]: unknown }; content: { 'application/json': { count: number } } } };
  };`;

test('an operation in the spec without a handler fails the type check, naming it; with its handler it passes', () => {
  const run = typecheck({
    missing: FIXTURE(NEW_OPERATION, ''),
    handled: FIXTURE(NEW_OPERATION, 'getStatistics(_req, res) { res.json({ count: 1 }); },'),
    wrongBody: FIXTURE(NEW_OPERATION, "getStatistics(_req, res) { res.json({ count: 'one' }); },"),
  });
  assert.match(run.errorsOf('missing'), /getStatistics/, `a map without getStatistics type-checked:\n${run.output}`);
  assert.equal(run.errorsOf('handled'), '', run.output);
  // The handler answers the operation's response schema: a wrong body is a type error too.
  assert.match(run.errorsOf('wrongBody'), /'string' is not assignable to type 'number'/, run.output);
  assert.notEqual(run.status, 0);
});

test("the running handler map answers exactly the spec's operation ids", () => {
  const spec = loadSpec();
  const handlers = createHandlers({ bus: createBus({ log: memoryLog() }), log: memoryLog(), spec, startedAt: 0, readiness: {}, jsonDownloadValues: 1 });
  assert.deepEqual(Object.keys(handlers).sort(), spec.operations.map((o) => o.operationId).sort());
});
