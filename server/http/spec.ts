// The contract, loaded once from the openapi.yaml at the repository root, and the list of its
// operations. The handler map is typed by the operations generated from the same file
// (server/http/operations.ts); createApp checks at startup that the loaded spec declares exactly
// those, so a spec edited without regenerating cannot drift from the code silently.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// The operation ids are the generated `operations`' keys (server/http/operations.ts).
export { OPERATION_IDS, type OperationId } from './operations.js';

export const SPEC_PATH = new URL('../../openapi.yaml', import.meta.url);

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface SpecOperation {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** The OpenAPI path template, e.g. /representation/{representation_uuid}. */
  readonly path: string;
}

export interface LoadedSpec {
  readonly yamlText: string;
  /** The parsed document. Treat as read-only: hand the validator a structuredClone. */
  readonly document: Record<string, unknown>;
  readonly operations: readonly SpecOperation[];
  readonly version: string;
}

let cached: LoadedSpec | undefined;

export function loadSpec(): LoadedSpec {
  if (cached !== undefined) return cached;
  const yamlText = readFileSync(SPEC_PATH, 'utf8');
  const document = parse(yamlText) as Record<string, unknown>;
  const operations: SpecOperation[] = [];
  const paths = (document.paths ?? {}) as Record<string, Record<string, unknown>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as { operationId?: unknown } | undefined;
      if (op === undefined) continue;
      operations.push({ operationId: typeof op.operationId === 'string' ? op.operationId : '', method, path });
    }
  }
  const info = (document.info ?? {}) as { version?: unknown };
  cached = Object.freeze({
    yamlText,
    document,
    operations: Object.freeze(operations),
    version: typeof info.version === 'string' ? info.version : '0.0.0',
  });
  return cached;
}

/** /representation/{representation_uuid} -> /representation/:representation_uuid */
export function expressPath(template: string): string {
  return template.replace(/\{([^}]+)\}/g, ':$1');
}

/**
 * A path template as an anchored, case-sensitive pattern: `{param}` matches one non-empty segment,
 * nothing else varies (one trailing slash is allowed). Authentication and body limits both match
 * requests to operations with it, so they can never disagree about which operation a path is.
 */
export function templatePattern(template: string): RegExp {
  const body = template
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${body}/?$`);
}
