// Sync.Broadcast: one client of a server sends a value under a name, the others receive it.
// The latest value stays until deleted; receiving does not consume it. `receive` with a
// timeout_seconds waits for a value (504 when none comes); without, it answers at once
// (none when nothing was sent), as the model's Broadcast does.

import { BadInputError, LimitError } from '../errors.js';
import { SERVER_OBJECT, type Member, type Microservice } from '../microservice.js';
import { TensorSet } from '../common/tensors.js';
import { bindArguments, jsonSize, optionalSeconds, requirePresent, requireString } from '../util/args.js';
import { boundedWait, type Waiter } from './wait.js';
import type { SyncLimits } from './barrier.js';

export const BROADCAST_DESCRIPTION = Object.freeze({
  namespace: 'federatedsecure',
  plugin: 'Sync',
  version: '0.6.0',
  microservice: 'Broadcast',
});

export interface BroadcastLimits extends SyncLimits {
  /** Bytes of one value. Default 16 MiB. */
  maxValueBytes?: number;
}

export function createBroadcast(limits: BroadcastLimits = {}): Microservice {
  const maxNames = limits.maxNames ?? 1000;
  const maxTimeoutSeconds = limits.maxTimeoutSeconds ?? 3600;
  const maxValueBytes = limits.maxValueBytes ?? 16 * 1024 * 1024;
  const values = new Map<string, unknown>();
  const receivers = new Map<string, Set<Waiter<unknown>>>();

  const send: Member = (args, kwargs) => {
    const bound = bindArguments('send', [{ name: 'name', aliases: ['uuid'] }, { name: 'value', aliases: ['message'] }], args, kwargs);
    const name = requireString(bound, 'name');
    const value = requirePresent(bound, 'value');
    const bytes = value instanceof TensorSet ? value.byteLength : jsonSize(value);
    if (bytes > maxValueBytes) {
      throw new BadInputError(`value of ${bytes} bytes is larger than the limit of ${maxValueBytes}`, { where: 'value' });
    }
    if (!values.has(name) && values.size >= maxNames) {
      throw new LimitError(`at most ${maxNames} broadcast names`, { where: 'name' });
    }
    values.set(name, value);
    const waiting = receivers.get(name);
    receivers.delete(name);
    for (const w of waiting ?? []) w.settle(value);
    return undefined;
  };

  const receive: Member = async (args, kwargs, ctx) => {
    const bound = bindArguments('receive', [{ name: 'name', aliases: ['uuid'] }, { name: 'timeout_seconds' }], args, kwargs);
    const name = requireString(bound, 'name');
    const timeoutMs = optionalSeconds(bound, 'timeout_seconds', maxTimeoutSeconds);
    if (values.has(name)) return values.get(name);
    if (timeoutMs === undefined) return undefined;
    let waiting = receivers.get(name);
    if (waiting === undefined) {
      if (receivers.size >= maxNames) throw new LimitError(`at most ${maxNames} broadcast names`, { where: 'name' });
      waiting = new Set();
      receivers.set(name, waiting);
    }
    const set = waiting;
    const waiter = boundedWait<unknown>({
      timeoutMs,
      signal: ctx.signal,
      where: name,
      timeoutMessage: () => `nothing was broadcast as '${name}' within ${timeoutMs / 1000} s`,
      onGiveUp: () => {
        set.delete(waiter);
        if (set.size === 0 && receivers.get(name) === set) receivers.delete(name);
      },
    });
    set.add(waiter);
    return waiter.promise;
  };

  const create: Member = (args, kwargs) => {
    // The model creates a channel before use; here channels exist on first send.
    requireString(bindArguments('create', [{ name: 'name', aliases: ['uuid'] }], args, kwargs), 'name');
    return undefined;
  };

  const remove: Member = (args, kwargs) => {
    const name = requireString(bindArguments('delete', [{ name: 'name', aliases: ['uuid'] }], args, kwargs), 'name');
    values.delete(name);
    return undefined;
  };

  return {
    [SERVER_OBJECT]: true,
    description: BROADCAST_DESCRIPTION,
    members: Object.freeze({ send, receive, create, delete: remove }),
    close() {
      values.clear();
      receivers.clear();
    },
  };
}
