// The request validator compiles each route of the spec once (server/http/validator.ts), not on
// every request, and still validates: a request that violates the schema is a 400 problem.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { requestValidator } from '../../server/http/validator.js';
import { loadSpec } from '../../server/http/spec.js';

test("the validator's route matchers are compiled once per route and options", () => {
  requestValidator(loadSpec());
  const require = createRequire(import.meta.url);
  const { pathToRegexp } = require(require.resolve('path-to-regexp', { paths: [require.resolve('express-openapi-validator')] })) as {
    pathToRegexp: (path: string, options?: object) => { regexp: RegExp };
  };
  const first = pathToRegexp('/representation/:representation_uuid', { sensitive: true, strict: false });
  assert.equal(pathToRegexp('/representation/:representation_uuid', { sensitive: true, strict: false }), first);
  assert.notEqual(pathToRegexp('/representation/:representation_uuid', { sensitive: false, strict: false }), first);
  // The cached matcher still matches as compiled: one segment, case-sensitive.
  assert.ok(first.regexp.exec('/representation/abc'));
  assert.equal(first.regexp.exec('/REPRESENTATION/abc'), null);
});
