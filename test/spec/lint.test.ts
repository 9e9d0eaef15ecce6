// The contract passes Redocly's recommended rules with no error and no warning, and every
// operation carries what generated clients and the docs need.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadSpec, OPERATION_IDS } from '../../server/http/spec.js';

test('redocly lint openapi.yaml: no errors, no warnings', () => {
  const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
  const run = spawnSync(process.execPath, [cli, 'lint', 'openapi.yaml', '--format', 'json'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  assert.equal(run.error, undefined, String(run.error));
  const start = run.stdout.indexOf('{');
  assert.ok(start >= 0, `no JSON report: ${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(run.stdout.slice(start)) as { totals: { errors: number; warnings: number }; problems: { message: string }[] };
  assert.deepEqual(report.totals, { ...report.totals, errors: 0, warnings: 0 }, report.problems.map((p) => p.message).join('\n'));
  assert.equal(run.status, 0);
});

test('every operation has an operationId, a summary, a description, a tag and an example response', () => {
  const doc = loadSpec().document as { paths: Record<string, Record<string, Record<string, unknown>>> };
  const ids: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const where = `${method.toUpperCase()} ${path}`;
      assert.equal(typeof op.operationId, 'string', where);
      ids.push(op.operationId as string);
      assert.equal(typeof op.summary, 'string', where);
      assert.equal(typeof op.description, 'string', where);
      assert.ok(Array.isArray(op.tags) && op.tags.length === 1, where);
      const responses = op.responses as Record<string, unknown>;
      assert.ok(Object.keys(responses).some((code) => code.startsWith('2')), `${where}: a success response`);
      assert.ok('default' in responses, `${where}: a problem for any other status`);
    }
  }
  assert.deepEqual([...ids].sort(), [...OPERATION_IDS].sort());
});

test('the v0.6 wire contract: exact paths and methods', () => {
  const ops = loadSpec().operations.map((o) => `${o.method.toUpperCase()} ${o.path} ${o.operationId}`).sort();
  for (const expected of [
    'GET /representations listRepresentations',
    'POST /representations createRepresentation',
    'PUT /representations uploadRepresentation',
    'GET /representation/{representation_uuid} downloadRepresentation',
    'PATCH /representation/{representation_uuid} callRepresentation',
    'DELETE /representation/{representation_uuid} releaseRepresentation',
    'GET /representation/{representation_uuid}/{attribute_name} createAttribute',
  ]) {
    assert.ok(ops.includes(expected), expected);
  }
});

test('every error response is application/problem+json with the Problem schema', () => {
  const doc = loadSpec().document as { components: { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> } };
  for (const [name, response] of Object.entries(doc.components.responses)) {
    if (name === 'Uuid' || name === 'None') continue;
    assert.deepEqual(Object.keys(response.content ?? {}), ['application/problem+json'], name);
    assert.equal(response.content?.['application/problem+json']?.schema?.$ref, '#/components/schemas/Problem', name);
  }
});
