// The committed Python client (clients/python) is exactly what the generator makes from the
// committed openapi.yaml, and its models are the spec's typed schemas.
//
// Why commit the generated client at all: Python users (and these tests) import it without Java,
// and reviewers see in a diff what a spec change does to client code. swagger-codegen 3's output
// is deterministic (no timestamps with hideGenerationTimestamp, stable ordering), so a stale copy
// is detected by regenerating and comparing byte for byte.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { PYTHON_CLIENT, ROOT, describeRun, runPython } from './python.js';

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) {
        if (name !== '__pycache__') walk(path);
      } else if (!name.endsWith('.pyc')) {
        out.push(relative(dir, path));
      }
    }
  };
  walk(dir);
  return out.sort();
}

describe('generated Python client', () => {
  let fresh: string;
  before(() => {
    fresh = mkdtempSync(join(tmpdir(), 'tessera-python-client-'));
    const run = spawnSync(process.execPath, ['scripts/generate-clients.mjs', 'python', '--out', fresh], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.status, 0, `generator failed:\n${run.stdout}\n${run.stderr}`);
  });
  after(() => rmSync(fresh, { recursive: true, force: true }));

  test('clients/python is up to date with openapi.yaml (else: npm run clients:generate -- python)', () => {
    const committed = listFiles(PYTHON_CLIENT);
    const regenerated = listFiles(fresh);
    assert.deepEqual(committed, regenerated, 'the generated file list differs');
    const stale = regenerated.filter(
      (file) => !readFileSync(join(fresh, file)).equals(readFileSync(join(PYTHON_CLIENT, file))),
    );
    assert.deepEqual(stale, [], `stale generated files; run: npm run clients:generate -- python`);
  });

  test('is marked generated', () => {
    assert.match(readFileSync(join(PYTHON_CLIENT, 'GENERATED.md'), 'utf8'), /Generated — do not edit/);
  });

  test('every object schema of the spec is a typed model with the same properties', async () => {
    const spec = parse(readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')) as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const want: Record<string, string[]> = {};
    for (const [name, schema] of Object.entries(spec.components.schemas)) {
      if (schema.properties) want[name] = Object.keys(schema.properties).sort();
    }
    assert.ok(Object.keys(want).length >= 10, 'the spec should have typed schemas');
    // Ask the generated package itself, under Debian's python3, what each model serialises.
    const run = await runPython(
      [
        '-c',
        [
          'import json, sys',
          'import tessera_client.models as models',
          'names = json.load(sys.stdin)',
          'out = {}',
          'for name in names:',
          '    cls = getattr(models, name, None)',
          '    out[name] = None if cls is None else sorted(cls.attribute_map.values())',
          'print(json.dumps(out))',
        ].join('\n'),
      ],
      30_000,
      JSON.stringify(Object.keys(want)),
    );
    assert.equal(run.code, 0, describeRun('python3', run));
    const got = JSON.parse(run.stdout) as Record<string, string[] | null>;
    assert.deepEqual(got, want);
  });
});
