// The request validator: express-openapi-validator, configured strictly (no type coercion, no
// unknown query parameters), with its per-request and per-server costs that are not validation
// removed:
//
// - Its route lookup (middlewares/openapi.metadata.js, lookupRoute) asks path-to-regexp for every
//   route of the spec on every request before it matches one, fifteen compilations per client
//   request here (upstream knows it: cdimascio/express-openapi-validator pull request #1217,
//   "perf: cache route matchers", open). Here every route is compiled once when the spec is
//   loaded (openApiMetadata).
// - Each of its middlewares awaits the loaded spec on every request; here they are built once
//   and called directly (requestValidator).
// - It compiles the OpenAPI meta-schema once per server; here once per process
//   (cacheSpecValidator).
//
// What is checked is the validator's own code, unchanged: the request validator and the
// response validator are its classes, built with the same options in the same order.
// test/server/validator.test.ts sends the same requests through this and through the stock
// `middleware()` and compares every answer.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { LoadedSpec } from './spec.js';

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
  /** The app's 'case sensitive routing' and 'strict routing' settings, which route matching follows. */
  readonly caseSensitive: boolean;
  readonly strict: boolean;
}

type Middleware = (req: Request, res: Response, next: NextFunction) => unknown;

/** What express-openapi-validator's classes look like from here (its dist/, read once). */
interface ValidatorInternals {
  OpenApiValidator: new (options: Record<string, unknown>) => {
    options: Record<string, unknown> & { validateApiSpec: boolean; $refParser: unknown; ignorePaths?: unknown; ignoreUndocumented?: boolean; useRequestUrl?: boolean; validateSecurity: unknown; validateResponses: unknown };
    ajvOpts: { preprocessor: unknown };
    installPathParams(app: unknown, context: OpenApiContext): void;
    multipartMiddleware(apiDoc: unknown): Middleware;
    requestValidationMiddleware(apiDoc: unknown): Middleware;
    responseValidationMiddleware(apiDoc: unknown, serial: number): Middleware;
  };
  OpenApiSpecLoader: new (opts: { apiDoc: unknown; validateApiSpec: boolean; $refParser: unknown }) => { load(): Promise<LoadedValidatorSpec> };
  OpenApiContext: new (spec: LoadedValidatorSpec, ignorePaths: unknown, ignoreUndocumented?: boolean, useRequestUrl?: boolean) => OpenApiContext;
  SchemaPreprocessor: new (apiDoc: unknown, ajvOpts: unknown, resOpts: unknown) => { preProcess(): { apiDocRes: ApiDoc | null } };
  pathToRegexp: (path: string, options: { sensitive: boolean; strict: boolean }) => { regexp: RegExp; keys: { name: string }[] };
  errors: { BadRequest: new (o: { path: string; message: string }) => Error; NotFound: new (o: { path: string; message: string }) => Error; MethodNotAllowed: new (o: { path: string; message: string; headers: Record<string, string> }) => Error };
  httpMethods: ReadonlySet<string>;
}
interface ApiDoc { paths: Record<string, Record<string, unknown>> }
interface LoadedValidatorSpec { apiDoc: ApiDoc; basePaths: string[]; routes: unknown[]; serial: number }
interface OpenApiContext {
  apiDoc: ApiDoc;
  serial: number;
  expressRouteMap: Record<string, Record<string, unknown> & { basePath: string }>;
  openApiRouteMap: Record<string, Record<string, unknown>>;
  routePair(route: string): { expressRoute: string; openApiRoute: string } | null;
  isManagedRoute(path: string): boolean;
  shouldIgnoreRoute(path: string): boolean | undefined;
}

function validatorInternals(): ValidatorInternals {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('express-openapi-validator'));
  const from = <T>(...parts: string[]): T => require(join(dist, ...parts)) as T;
  const types = from<ValidatorInternals['errors']>('framework', 'types.js');
  return {
    OpenApiValidator: from<{ OpenApiValidator: ValidatorInternals['OpenApiValidator'] }>('openapi.validator.js').OpenApiValidator,
    OpenApiSpecLoader: from<{ OpenApiSpecLoader: ValidatorInternals['OpenApiSpecLoader'] }>('framework', 'openapi.spec.loader.js').OpenApiSpecLoader,
    OpenApiContext: from<{ OpenApiContext: ValidatorInternals['OpenApiContext'] }>('framework', 'openapi.context.js').OpenApiContext,
    SchemaPreprocessor: from<{ SchemaPreprocessor: ValidatorInternals['SchemaPreprocessor'] }>('middlewares', 'parsers', 'schema.preprocessor.js').SchemaPreprocessor,
    httpMethods: from<{ httpMethods: ReadonlySet<string> }>('middlewares', 'parsers', 'schema.preprocessor.js').httpMethods,
    pathToRegexp: (require(require.resolve('path-to-regexp', { paths: [require.resolve('express-openapi-validator')] })) as { pathToRegexp: ValidatorInternals['pathToRegexp'] }).pathToRegexp,
    errors: { BadRequest: types.BadRequest, NotFound: types.NotFound, MethodNotAllowed: types.MethodNotAllowed },
  };
}

/**
 * express-openapi-validator's request matching (middlewares/openapi.metadata.js), with the work
 * it repeats per request done once: its lookupRoute walks every route of the spec on every
 * request and, per route, looks up the route's schema by string operations, reads two app
 * settings and asks path-to-regexp for the route's pattern. Here each route's pattern, parameter
 * names and schema per method are computed when the spec is loaded; per request what is left is
 * the same walk, in the same order, with the same first match, the same decoded parameters and
 * the same 404, 405 (with its Allow header) and 400 for a malformed escape.
 */
function openApiMetadata(x: ValidatorInternals, context: OpenApiContext, responseApiDoc: ApiDoc | null, options: ValidatorOptions): Middleware {
  const routes = Object.entries(context.expressRouteMap).map(([expressRoute, methods]) => {
    const openApiRoute = context.routePair(expressRoute)!.openApiRoute;
    const pathKey = openApiRoute.substring(methods.basePath.length);
    const compiled = x.pathToRegexp(expressRoute, { sensitive: options.caseSensitive, strict: options.strict });
    return {
      expressRoute,
      openApiRoute,
      regexp: compiled.regexp,
      keys: compiled.keys.map((k) => k.name),
      schemas: context.apiDoc.paths[pathKey] ?? {},
      responseSchemas: responseApiDoc?.paths[pathKey],
    };
  });
  return (req, _res, next) => {
    // Base path is empty here (the app is mounted at the root): req.path as the validator sees it.
    const path = req.path.startsWith(req.baseUrl) ? req.path : `${req.baseUrl}/${req.path}`;
    if (context.shouldIgnoreRoute(path)) {
      next();
      return;
    }
    const url = req.originalUrl;
    const q = url.indexOf('?');
    const requestPath = q === -1 ? url : url.slice(0, q);
    const method = req.method.toLowerCase();
    for (const route of routes) {
      const matched = route.regexp.exec(requestPath);
      if (matched === null) continue;
      const pathParams: Record<string, string> = {};
      try {
        route.keys.forEach((key, i) => {
          pathParams[key] = decodeURIComponent(matched[i + 1]!);
        });
      } catch {
        throw new x.errors.BadRequest({ path: req.path, message: "malformed uri'" });
      }
      const schema = route.schemas[method];
      if (!schema) {
        throw new x.errors.MethodNotAllowed({
          path: req.path,
          message: `${req.method} method not allowed`,
          headers: { Allow: Object.keys(context.openApiRouteMap[route.openApiRoute] ?? {}).filter((key) => x.httpMethods.has(key.toLowerCase())).join(', ') },
        });
      }
      const openapi: Record<string, unknown> = { expressRoute: route.expressRoute, openApiRoute: route.openApiRoute, pathParams, schema, serial: context.serial };
      if (responseApiDoc !== null) openapi._responseSchema = route.responseSchemas?.[method];
      (req as Request & { openapi?: unknown }).openapi = openapi;
      req.params = pathParams;
      next();
      return;
    }
    if (context.isManagedRoute(path)) throw new x.errors.NotFound({ path: req.path, message: 'not found' });
    next();
  };
}

/**
 * The request validator as one Express middleware. express-openapi-validator's `middleware()`
 * gives five, each of which waits on the loaded spec (`await`ing a settled promise: a trip
 * through the microtask queue and two promise allocations per middleware per request) before it
 * runs; here the same middlewares of the same classes, built with the same options in the same
 * order, are built once when the spec is loaded and then called directly, one after the other.
 * Only the route matching is this file's own (openApiMetadata, above). Nothing about what is
 * checked changes: security is not validated here (clientAuthentication does it), as before.
 */
export function requestValidator(spec: LoadedSpec, options: ValidatorOptions): RequestHandler {
  cacheSpecValidator(createRequire(import.meta.url).resolve('express-openapi-validator'));
  const x = validatorInternals();
  const oav = new x.OpenApiValidator({
    // A copy: the validator annotates the document it is given.
    apiSpec: structuredClone(spec.document),
    validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false },
    validateResponses: options.validateResponses === true ? { removeAdditional: false } : false,
    validateSecurity: false,
    validateFormats: true,
  });
  const loaded = new x.OpenApiSpecLoader({ apiDoc: structuredClone(spec.document), validateApiSpec: oav.options.validateApiSpec, $refParser: oav.options.$refParser }).load();
  let pathParamsInstalled = false;
  let chain: Middleware[] | undefined;
  let failed: unknown;
  const ready = loaded.then((validatorSpec) => {
    const apiDoc = validatorSpec.apiDoc;
    const preprocessed = new x.SchemaPreprocessor(apiDoc, oav.ajvOpts.preprocessor, oav.options.validateResponses).preProcess();
    const context = new x.OpenApiContext(validatorSpec, oav.options.ignorePaths, oav.options.ignoreUndocumented, oav.options.useRequestUrl);
    const built: Middleware[] = [
      (req, _res, next) => {
        // As the validator does on its first request: path parameters through app.param.
        if (!pathParamsInstalled) {
          oav.installPathParams(req.app, context);
          pathParamsInstalled = true;
        }
        next();
      },
      openApiMetadata(x, context, preprocessed.apiDocRes, options),
      oav.multipartMiddleware(context.apiDoc),
      oav.requestValidationMiddleware(context.apiDoc),
    ];
    if (oav.options.validateResponses) built.push(oav.responseValidationMiddleware(preprocessed.apiDocRes, context.serial));
    chain = built;
  }).catch((err: unknown) => {
    // Every request then fails with why (as the stock middleware does), none waits.
    failed = err ?? new Error('the OpenAPI document could not be loaded');
  });
  const run = (middlewares: Middleware[], i: number, req: Request, res: Response, next: NextFunction): void => {
    const middleware = middlewares[i];
    if (middleware === undefined) {
      next();
      return;
    }
    try {
      const result = middleware(req, res, (err?: unknown) => (err === undefined ? run(middlewares, i + 1, req, res, next) : next(err)));
      // The multipart middleware is async: what it rejects with goes to the problem mapper.
      if (result instanceof Promise) result.catch(next);
    } catch (err) {
      next(err);
    }
  };
  return (req, res, next) => {
    if (chain !== undefined) return run(chain, 0, req, res, next);
    void ready.then(() => (chain !== undefined ? run(chain, 0, req, res, next) : next(failed)));
  };
}
