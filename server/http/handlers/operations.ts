// The operations API (tag `operations`): health and readiness, metrics, the specification and
// its Swagger UI. Open to anyone who reaches the port, so nothing here names a path or a value.

import type { Response } from 'express';
import swaggerUi from 'swagger-ui-express';
import { NotImplementedError } from '../../../services/errors.js';
import type { HandlerMap } from '../operations.js';
import type { HandlerDeps } from './context.js';

type OperationsHandlers = Pick<HandlerMap, 'getHealth' | 'getMetrics' | 'getRoot' | 'getOpenApiYaml' | 'getOpenApiJson' | 'getDocs'>;

export function operationsHandlers({ bus, spec, startedAt, metrics, readiness }: Pick<HandlerDeps, 'bus' | 'spec' | 'startedAt' | 'metrics' | 'readiness'>): OperationsHandlers {
  const docsHtml = swaggerUi
    .generateHTML(undefined, { swaggerUrl: '/openapi.json', customSiteTitle: 'Tessera API' })
    // The page is served at /docs (no trailing slash), so its relative asset URLs must be rooted.
    .replace(/(href|src)="\.\//g, '$1="/docs/');
  // The JSON copy (the one Swagger UI loads) lists "this server" first: a relative server URL
  // resolves against where the document was fetched (OpenAPI 3.0.3, Server Object), so "Try it
  // out" calls the server that served the page, whatever port it runs on. The YAML stays the file.
  const specJson = JSON.stringify({
    ...spec.document,
    servers: [{ url: '/', description: 'This server' }, ...((spec.document.servers as unknown[] | undefined) ?? [])],
  });

  return {
    async getHealth(_req, res) {
      const checks: Record<string, { status: 'ok' | 'failing'; detail?: string }> = {};
      await Promise.all(
        Object.entries(readiness).map(async ([name, check]) => {
          try {
            await check();
            checks[name] = { status: 'ok' };
          } catch (err) {
            // The error code (ENOENT, EACCES) rather than the message: /health is open to anyone
            // who reaches the port, and a file system message carries the data directory's path.
            const code = (err as { code?: unknown }).code;
            checks[name] = { status: 'failing', detail: typeof code === 'string' ? code : (err instanceof Error ? err.message : String(err)).slice(0, 300) };
          }
        }),
      );
      const ready = Object.values(checks).every((c) => c.status === 'ok');
      res.status(ready ? 200 : 503).json({
        status: ready ? 'ok' : 'unavailable',
        version: spec.version,
        uptimeSeconds: Math.max(0, (Date.now() - startedAt) / 1000),
        representations: bus.size,
        checks,
      });
    },
    async getMetrics(_req, res) {
      if (metrics === undefined) throw new NotImplementedError('this server keeps no metrics', { where: 'path' });
      const text = await metrics.text();
      res.setHeader('Content-Type', metrics.contentType);
      res.send(text);
    },
    getRoot(_req, res) {
      // A browser pointed at the server's address lands on its API documentation.
      res.type('text/html').send(ROOT_PAGE);
    },
    getOpenApiYaml(_req, res) {
      res.type('application/yaml').send(spec.yamlText);
    },
    getOpenApiJson(_req, res) {
      // The document serialised once, above: sent as it is, hence the untyped send.
      (res as Response).type('application/json').send(specJson);
    },
    getDocs(_req, res) {
      res.type('text/html').send(docsHtml);
    },
  };
}

const ROOT_PAGE =
  '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Tessera</title>' +
  '<meta http-equiv="refresh" content="0; url=/docs"></head>' +
  '<body><p>This is a Tessera server. Its API documentation is at <a href="/docs">/docs</a>.</p></body></html>';
