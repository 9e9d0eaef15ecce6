// The handler map: one handler per operation of openapi.yaml, typed from the generated
// `operations` (server/http/operations.ts), grouped by the spec's tags.

import { BadInputError, NotImplementedError } from '../../../services/errors.js';
import type { HandlerMap } from '../operations.js';
import type { HandlerDeps } from './context.js';
import { operationsHandlers } from './operations.js';
import { peerHandlers } from './peer.js';
import { representationHandlers } from './representations.js';

export type { HandlerDeps, MetricsEndpoint, ReadinessCheck } from './context.js';

export function createHandlers(deps: HandlerDeps): HandlerMap {
  return {
    ...representationHandlers(deps),
    ...peerHandlers(deps),
    ...operationsHandlers(deps),
  };
}

/** Startup fails when the spec and the handler map disagree in either direction. */
export function checkHandlersMatchSpec(handlers: Readonly<Record<string, unknown>>, specOperationIds: readonly string[]): void {
  const inSpec = new Set(specOperationIds);
  for (const id of specOperationIds) {
    if (!Object.hasOwn(handlers, id)) {
      throw new NotImplementedError(`operation '${id}' in openapi.yaml has no handler`, { where: `operationId ${id}` });
    }
  }
  for (const id of Object.keys(handlers)) {
    if (!inSpec.has(id)) {
      throw new BadInputError(`handler '${id}' has no operation in openapi.yaml`, { where: `operationId ${id}` });
    }
  }
}
