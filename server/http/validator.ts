// The request validator: express-openapi-validator, configured strictly (no type coercion, no
// unknown query parameters), with one per-request cost and one per-server cost removed.
//
// Its route lookup (middlewares/openapi.metadata.js, lookupRoute) compiles every route of the
// spec with path-to-regexp on every request before it matches one: fifteen compilations per
// client request here, a visible share of a SecureSum's client path in a CPU profile. Upstream
// knows it (cdimascio/express-openapi-validator pull request #1217, "perf: cache route
// matchers", open). Until that lands, the validator's own copy of path-to-regexp compiles each
// (route, options) pair once: the result is a pure function of its arguments, and the validator
// only reads it (`regexp.exec`, without the global flag, keeps no state; `keys` is read).

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { LoadedSpec } from './spec.js';

type PathToRegexp = (path: string, options?: { sensitive?: boolean; strict?: boolean }) => unknown;

let patched = false;

/** Makes the validator's path-to-regexp compile each route once (see the file's comment). */
function cacheRouteMatchers(): void {
  if (patched) return;
  patched = true;
  const require = createRequire(import.meta.url);
  const validatorEntry = require.resolve('express-openapi-validator');
  const module = require(require.resolve('path-to-regexp', { paths: [validatorEntry] })) as { pathToRegexp: PathToRegexp };
  const compile = module.pathToRegexp;
  if (typeof compile !== 'function') return;
  // By path, then by the two options as an index 0–3: no key string is built per lookup (the
  // validator asks for every route on every request).
  const cache = new Map<string, unknown[]>();
  module.pathToRegexp = (path, options) => {
    // Only the spec's routes reach here (a bounded set); other callers keep the uncached path.
    if (typeof path !== 'string') return compile(path, options);
    let byOptions = cache.get(path);
    if (byOptions === undefined) {
      if (cache.size >= 1024) return compile(path, options);
      byOptions = [];
      cache.set(path, byOptions);
    }
    const index = (options?.sensitive === true ? 2 : 0) + (options?.strict === true ? 1 : 0);
    return (byOptions[index] ??= compile(path, options));
  };
}

type SpecValidatorClass = new (opts: { version: string; validateApiSpec: boolean }) => unknown;

let specValidatorCached = false;

/**
 * Makes the validator build its OpenAPI-document checker once per (version, mode) in a process.
 * Each middleware() builds an OpenAPISchemaValidator, whose constructor has Ajv compile the whole
 * OpenAPI 3 meta-schema (about 0.15 s of CPU), even to check a document it has checked before:
 * 100 servers in one process (test/relay/hundred-parties.test.ts) spent 14 s of CPU there in a
 * profile. The instance holds only the compiled function and its options; `validate` keeps no
 * state between calls beyond the last call's `errors`, which it reads right after.
 */
function cacheSpecValidator(validatorEntry: string): void {
  if (specValidatorCached) return;
  specValidatorCached = true;
  const require = createRequire(import.meta.url);
  const module = require(join(dirname(validatorEntry), 'framework', 'openapi.schema.validator.js')) as { OpenAPISchemaValidator?: SpecValidatorClass };
  const Original = module.OpenAPISchemaValidator;
  if (typeof Original !== 'function') return;
  const built = new Map<string, unknown>();
  // A function called with `new` that returns an object yields that object.
  module.OpenAPISchemaValidator = function CachedSpecValidator(opts: { version: string; validateApiSpec: boolean }) {
    const key = `${String(opts.validateApiSpec)} ${opts.version}`;
    let validator = built.get(key);
    if (validator === undefined) {
      validator = new Original(opts);
      built.set(key, validator);
    }
    return validator;
  } as unknown as SpecValidatorClass;
}

export interface ValidatorOptions {
  /** Validate every response against the spec too (tests turn it on). */
  readonly validateResponses?: boolean;
}

export function requestValidator(spec: LoadedSpec, options: ValidatorOptions = {}): RequestHandler[] {
  cacheRouteMatchers();
  cacheSpecValidator(createRequire(import.meta.url).resolve('express-openapi-validator'));
  return OpenApiValidator.middleware({
    // A copy: the validator annotates the document it is given.
    apiSpec: structuredClone(spec.document) as never,
    validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false },
    validateResponses: options.validateResponses === true ? { removeAdditional: false } : false,
    validateSecurity: false,
    validateFormats: true,
  }) as RequestHandler[];
}
