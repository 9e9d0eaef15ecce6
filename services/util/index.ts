// The `Util` plugin of the model: KeyValueStorage, a small store one server's clients share
// (e.g. to hand a representation or a round number from one script to another).
//
// The model's own surface works too, so a script written for FSC's client runs unchanged:
// `create(storage='default')` gives a named storage with store/retrieve/exists/delete, and
// `delete(storage=NAME)` drops one. Tessera's set/get/delete(key)/keys act on the storage named
// 'default', so both surfaces see the same values. All storages share one set of limits.

import { BadInputError, LimitError, NotFoundError } from '../errors.js';
import { SERVER_OBJECT, type Member, type Microservice, type ServerObject } from '../microservice.js';
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
  const DEFAULT = 'default';
  const storages = new Map<string, Map<string, { value: unknown; bytes: number }>>([[DEFAULT, new Map()]]);
  let totalKeys = 0;
  let totalBytes = 0;

  const storageNamed = (name: string): Map<string, { value: unknown; bytes: number }> => {
    const store = storages.get(name);
    if (store === undefined) throw new NotFoundError(`no storage '${name}'`, { where: 'storage' });
    return store;
  };

  const put = (store: Map<string, { value: unknown; bytes: number }>, key: string, value: unknown): void => {
    const bytes = value instanceof TensorSet ? value.byteLength : jsonSize(value);
    if (bytes > maxValueBytes) {
      throw new BadInputError(`value of ${bytes} bytes is larger than the limit of ${maxValueBytes}`, { where: 'value' });
    }
    const previous = store.get(key);
    if (previous === undefined && totalKeys >= maxKeys) {
      throw new LimitError(`at most ${maxKeys} keys; delete some first`, { where: 'key' });
    }
    const nextTotal = totalBytes - (previous?.bytes ?? 0) + bytes;
    if (nextTotal > maxTotalBytes) {
      throw new LimitError(`the storage would hold more than ${maxTotalBytes} bytes`, { where: 'value' });
    }
    store.set(key, { value, bytes });
    if (previous === undefined) totalKeys += 1;
    totalBytes = nextTotal;
  };

  const drop = (store: Map<string, { value: unknown; bytes: number }>, key: string): void => {
    const found = store.get(key);
    if (found === undefined) throw new NotFoundError(`no key '${key}'`, { where: 'key' });
    store.delete(key);
    totalKeys -= 1;
    totalBytes -= found.bytes;
  };

  const emptied = (store: Map<string, { value: unknown; bytes: number }>): void => {
    for (const { bytes } of store.values()) totalBytes -= bytes;
    totalKeys -= store.size;
    store.clear();
  };

  const defaultStore = storages.get(DEFAULT)!;

  const set: Member = (args, kwargs) => {
    const bound = bindArguments('set', [{ name: 'key' }, { name: 'value' }], args, kwargs);
    put(defaultStore, requireString(bound, 'key'), requirePresent(bound, 'value'));
    return undefined;
  };

  const get: Member = (args, kwargs) => {
    const key = requireString(bindArguments('get', [{ name: 'key' }], args, kwargs), 'key');
    const found = defaultStore.get(key);
    if (found === undefined) throw new NotFoundError(`no key '${key}'`, { where: 'key' });
    // null is a legitimate stored value, but `undefined` would answer {"type": "none"}.
    return found.value;
  };

  // delete(key) removes a key of the default storage; delete(storage=NAME), the model's form,
  // removes a whole storage (the default one is emptied instead, as set/get keep using it).
  const remove: Member = (args, kwargs) => {
    if (args.length === 0 && Object.hasOwn(kwargs, 'storage')) {
      const name = requireString(bindArguments('delete', [{ name: 'storage' }], args, kwargs), 'storage');
      emptied(storageNamed(name));
      if (name !== DEFAULT) storages.delete(name);
      return undefined;
    }
    drop(defaultStore, requireString(bindArguments('delete', [{ name: 'key' }], args, kwargs), 'key'));
    return undefined;
  };

  const keys: Member = (args, kwargs) => {
    bindArguments('keys', [], args, kwargs);
    return [...defaultStore.keys()].sort();
  };

  /** The model's KVStorage: looked up by name at every call, so a deleted storage answers 404. */
  const namedStorage = (name: string): ServerObject => {
    const keyOf = (member: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): string =>
      requireString(bindArguments(member, [{ name: 'key' }], args, kwargs), 'key');
    const members: Record<string, Member> = {
      store: (args, kwargs) => {
        const bound = bindArguments('store', [{ name: 'key' }, { name: 'value' }], args, kwargs);
        put(storageNamed(name), requireString(bound, 'key'), requirePresent(bound, 'value'));
        return undefined;
      },
      // The model answers none for a key it does not hold, rather than an error.
      retrieve: (args, kwargs) => {
        const key = keyOf('retrieve', args, kwargs);
        return storageNamed(name).get(key)?.value;
      },
      exists: (args, kwargs) => storageNamed(name).has(keyOf('exists', args, kwargs)),
      delete: (args, kwargs) => {
        drop(storageNamed(name), keyOf('delete', args, kwargs));
        return undefined;
      },
    };
    return { [SERVER_OBJECT]: true, members: Object.freeze(members) };
  };

  const create: Member = (args, kwargs) => {
    const bound = bindArguments('create', [{ name: 'storage' }], args, kwargs);
    const name = bound.has('storage') ? requireString(bound, 'storage') : DEFAULT;
    if (!storages.has(name)) {
      // Each storage costs a map even when empty: count it against the key limit too.
      if (storages.size >= maxKeys) throw new LimitError(`at most ${maxKeys} storages`, { where: 'storage' });
      storages.set(name, new Map());
    }
    return namedStorage(name);
  };

  return {
    [SERVER_OBJECT]: true,
    description: KEY_VALUE_STORAGE_DESCRIPTION,
    members: Object.freeze({ set, get, delete: remove, keys, create }),
    close() {
      storages.clear();
      storages.set(DEFAULT, defaultStore);
      defaultStore.clear();
      totalKeys = 0;
      totalBytes = 0;
    },
  };
}
