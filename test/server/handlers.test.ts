// Startup fails when openapi.yaml and the handler map disagree, in either direction.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHandlersMatchSpec, type Handler } from '../../server/app.js';
import { OPERATION_IDS, loadSpec, expressPath } from '../../server/http/spec.js';
import { BadInputError, NotImplementedError } from '../../services/errors.js';

const noop: Handler = () => {};
const all = Object.fromEntries(OPERATION_IDS.map((id) => [id, noop]));

test('the spec declares exactly the operations the handler map is typed by', () => {
  assert.deepEqual(loadSpec().operations.map((o) => o.operationId).sort(), [...OPERATION_IDS].sort());
  checkHandlersMatchSpec(all, OPERATION_IDS);
});

test('an operation without a handler fails startup, naming it', () => {
  const { getHealth: _dropped, ...missing } = all;
  assert.throws(() => checkHandlersMatchSpec(missing, OPERATION_IDS), (err: unknown) => err instanceof NotImplementedError && /getHealth/.test(err.message));
});

test('a handler without an operation fails startup, naming it', () => {
  assert.throws(
    () => checkHandlersMatchSpec({ ...all, getStatistics: noop }, OPERATION_IDS),
    (err: unknown) => err instanceof BadInputError && /getStatistics/.test(err.message),
  );
});

test('path templates become Express routes', () => {
  for (const [template, route] of [
    ['/representations', '/representations'],
    ['/representation/{representation_uuid}', '/representation/:representation_uuid'],
    ['/representation/{representation_uuid}/{attribute_name}', '/representation/:representation_uuid/:attribute_name'],
  ] as const) {
    assert.equal(expressPath(template), route);
  }
});
