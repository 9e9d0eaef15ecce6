// The `Util` plugin of the model: KeyValueStorage, a small store one server's clients share
// (e.g. to hand a representation or a round number from one script to another).

import { BadInputError, LimitError, NotFoundError } from '../errors.js';
import { SERVER_OBJECT, type Member, type Microservice } from '../microservice.js';
import { TensorSet } from '../common/tensors.js';
import { bindArguments, jsonSize, requirePresent, requireString } from './args.js';

export const KEY_VALUE_STORAGE_DESCRIPTION = Object.freeze({
  namespace: 'federatedsecure',
  plugin: 'Util',
  version: '0.6.0',
  microservice: 'KeyValueStorage',
});

export interface KeyValueLimits {
  /** Default 10000. */
  maxKeys?: number;
  /** Bytes of one value (JSON text, or tensor data). Default 16 MiB. */
  maxValueBytes?: number;
  /** Bytes of all values together. Default 256 MiB. */
  maxTotalBytes?: number;
}

export function createKeyValueStorage(limits: KeyValueLimits = {}): Microservice {
  const maxKeys = limits.maxKeys ?? 10_000;
  const maxValueBytes = limits.maxValueBytes ?? 16 * 1024 * 1024;
  const maxTotalBytes = limits.maxTotalBytes ?? 256 * 1024 * 1024;
  const store = new Map<string, { value: unknown; bytes: number }>();
  let totalBytes = 0;

  const set: Member = (args, kwargs) => {
    const bound = bindArguments('set', [{ name: 'key' }, { name: 'value' }], args, kwargs);
    const key = requireString(bound, 'key');
    const value = requirePresent(bound, 'value');
    const bytes = value instanceof TensorSet ? value.byteLength : jsonSize(value);
    if (bytes > maxValueBytes) {
      throw new BadInputError(`value of ${bytes} bytes is larger than the limit of ${maxValueBytes}`, { where: 'value' });
    }
    const previous = store.get(key);
    if (previous === undefined && store.size >= maxKeys) {
      throw new LimitError(`at most ${maxKeys} keys; delete some first`, { where: 'key' });
    }
    const nextTotal = totalBytes - (previous?.bytes ?? 0) + bytes;
    if (nextTotal > maxTotalBytes) {
      throw new LimitError(`the storage would hold more than ${maxTotalBytes} bytes`, { where: 'value' });
    }
    store.set(key, { value, bytes });
    totalBytes = nextTotal;
    return undefined;
  };

  const get: Member = (args, kwargs) => {
    const key = requireString(bindArguments('get', [{ name: 'key' }], args, kwargs), 'key');
    const found = store.get(key);
    if (found === undefined) throw new NotFoundError(`no key '${key}'`, { where: 'key' });
    // null is a legitimate stored value, but `undefined` would answer {"type": "none"}.
    return found.value;
  };

  const remove: Member = (args, kwargs) => {
    const key = requireString(bindArguments('delete', [{ name: 'key' }], args, kwargs), 'key');
    const found = store.get(key);
    if (found === undefined) throw new NotFoundError(`no key '${key}'`, { where: 'key' });
    store.delete(key);
    totalBytes -= found.bytes;
    return undefined;
  };

  const keys: Member = (args, kwargs) => {
    bindArguments('keys', [], args, kwargs);
    return [...store.keys()].sort();
  };

  return {
    [SERVER_OBJECT]: true,
    description: KEY_VALUE_STORAGE_DESCRIPTION,
    members: Object.freeze({ set, get, delete: remove, keys }),
    close() {
      store.clear();
      totalBytes = 0;
    },
  };
}
