// One table of error kinds (shared/error-kinds.ts): openapi.yaml's problem examples and its
// list of slugs, the error classes and the problem mapper all agree with it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_KINDS, HTTP_ERROR_KINDS, exitStatusOf, isErrorKind } from '../../shared/error-kinds.js';
import * as errors from '../../services/errors.js';
import { toProblem } from '../../server/http/problem.js';
import { loadSpec } from '../../server/http/spec.js';
import { memoryLog } from '../server/helpers.js';

/** Every problem document the spec shows: objects whose `type` is /problems/<slug>, with where they are. */
function specProblems(): { where: string; problem: Record<string, unknown> }[] {
  const found: { where: string; problem: Record<string, unknown> }[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${where}[${i}]`));
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.type === 'string' && record.type.startsWith('/problems/')) found.push({ where, problem: record });
    for (const [key, value] of Object.entries(record)) walk(value, `${where}.${key}`);
  };
  walk(loadSpec().document, '$');
  return found;
}

test("every problem the spec shows has a kind of the table, with the kind's status and title", () => {
  const problems = specProblems();
  assert.ok(problems.length > 0, 'no problem examples in openapi.yaml');
  for (const { where, problem } of problems) {
    const slug = (problem.type as string).slice('/problems/'.length);
    assert.ok(isErrorKind(slug) && HTTP_ERROR_KINDS.includes(slug), `${where}: /problems/${slug} is no HTTP kind of shared/error-kinds.ts`);
    const kind = ERROR_KINDS[slug];
    if (problem.status !== undefined) assert.equal(problem.status, kind.status, `${where}: status`);
    if (problem.code !== undefined) assert.equal(problem.code, kind.status, `${where}: code`);
    if (problem.title !== undefined) assert.equal(problem.title, kind.title, `${where}: title`);
  }
});

test('every HTTP kind of the table has its example response in the spec, and the spec lists exactly those slugs', () => {
  const shown = new Set(specProblems().map(({ problem }) => (problem.type as string).slice('/problems/'.length)));
  for (const kind of HTTP_ERROR_KINDS) {
    // 405 comes from the validator for a method a path does not have: no operation declares it.
    if (kind === 'method-not-allowed') continue;
    assert.ok(shown.has(kind), `openapi.yaml shows no /problems/${kind}`);
  }
  const description = String((loadSpec().document.info as { description?: unknown }).description);
  const list = /`\/problems\/<slug>`[^,]*, one of ([^.]+)\./s.exec(description);
  assert.ok(list, 'the spec names its problem slugs in info.description');
  const listed = [...list[1]!.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]);
  assert.deepEqual([...listed].sort(), [...HTTP_ERROR_KINDS].sort());
});

test('each error class is its kind, and the mapper answers its status, slug and title', () => {
  const log = memoryLog();
  const classes = (Object.values(errors) as unknown[]).filter(
    (value): value is new (message: string) => errors.TesseraError =>
      typeof value === 'function' && value.prototype instanceof errors.TesseraError,
  );
  assert.ok(classes.length >= 12);
  for (const Cls of classes) {
    const err = new Cls('what was wrong');
    assert.ok(HTTP_ERROR_KINDS.includes(err.slug), `${Cls.name}: ${err.slug}`);
    assert.equal(err.status, ERROR_KINDS[err.slug].status, Cls.name);
    const problem = toProblem(err, '/x', log);
    assert.equal(problem.type, `/problems/${err.slug}`, Cls.name);
    assert.equal(problem.status, ERROR_KINDS[err.slug].status, Cls.name);
    assert.equal(problem.title, ERROR_KINDS[err.slug].title, Cls.name);
  }
});

test("the CLI's exit statuses come from the table: a usage mistake 2, anything else 1", () => {
  assert.equal(exitStatusOf('usage'), 2);
  assert.equal(exitStatusOf('bad-input'), 1);
  assert.equal(exitStatusOf('internal'), 1);
});
