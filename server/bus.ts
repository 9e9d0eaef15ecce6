// The representation bus: the server-side objects a client holds by UUID (docs/architecture.md §2).
//
// An entry is one of
// - a microservice alias: `create` answers a fresh uuid that points at the registered root
//   object, so releasing it never removes the microservice;
// - a bound member: `GET /representation/{uuid}/{name}` on a microservice or server object;
// - a value: an upload (JSON or TensorSet) or a call's result (JSON, TensorSet, or a server
//   object such as a prepared computation).
//
// Nothing is reachable by reflection on a name a client sent: members are looked up with
// Object.hasOwn on a service's explicit `members` map, JSON values by own property only, and
// prototype or private names are refused before any lookup.

import { randomUUID } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { BadInputError, ForbiddenError, LimitError, NotFoundError, TooLargeError } from '../services/errors.js';
import {
  isServerObject,
  type CallContext,
  type CallLimits,
  type Description,
  type Logger,
  type Member,
  type Microservice,
  type ServerObject,
} from '../services/microservice.js';
import type { PeerNetwork } from '../services/peer.js';
import { TensorSet } from '../services/common/tensors.js';
import { configDefault } from './config.js';
import type { Registry } from './registry.js';

export interface BusLimits {
  /** Live representations at most; one more is a 429 problem. Default 10000. */
  maxRepresentations?: number;
  /** A representation unused for this long expires (404 afterwards). Default 1 hour. */
  representationTtlMs?: number;
  /** How often expired entries are swept. Default min(ttl, 60 s). */
  sweepIntervalMs?: number;
  /** Nesting depth at which `{"representation_uuid": …}` arguments are still resolved. Default 32. */
  maxArgumentDepth?: number;
  /**
   * Memory all live representations may take together, in bytes (estimated: tensor data exactly,
   * JSON values by what V8 spends on them). One more is a 429 problem, one larger than all of it
   * a 413. Default: a quarter of the JavaScript heap limit, at most 1 GiB.
   */
  maxRepresentationBytes?: number;
  /** Largest model a FedAvg call may declare, in its tensors' own bytes (413 beyond). Default 512 MiB. */
  maxModelBytes?: number;
}

/** A quarter of this process's heap limit, at most 1 GiB: uploads can never exhaust the heap. */
export const DEFAULT_REPRESENTATION_BYTES = Math.min(2 ** 30, Math.floor(getHeapStatistics().heap_size_limit / 4));

export const DEFAULT_BUS_LIMITS: Required<Omit<BusLimits, 'sweepIntervalMs'>> = {
  maxRepresentations: configDefault('limits.maxRepresentations'),
  maxRepresentationBytes: DEFAULT_REPRESENTATION_BYTES,
  representationTtlMs: configDefault('limits.representationTtlMs'),
  maxArgumentDepth: 32,
  maxModelBytes: 512 * 1024 * 1024,
};

/** What a representation names. */
export type Entry =
  | { readonly kind: 'service'; readonly service: Microservice }
  | { readonly kind: 'member'; readonly owner: ServerObject; readonly name: string; readonly member: Member }
  | { readonly kind: 'value'; readonly value: unknown };

interface Slot {
  readonly entry: Entry;
  /** What this entry counts against the byte budget (estimatedBytes). */
  readonly bytes: number;
  lastUsed: number;
}

/** What a download yields: a JSON value or named tensors. */
export type Downloadable = { readonly kind: 'json'; readonly value: unknown } | { readonly kind: 'tensors'; readonly value: TensorSet };

export interface BusOptions {
  registry: Registry;
  peers: PeerNetwork;
  log: Logger;
  limits?: BusLimits;
  /** Clock for expiry (tests). */
  now?: () => number;
}

/** Attribute names refused whatever the object: prototype plumbing and private members. */
export function isForbiddenName(name: string): boolean {
  return name.startsWith('_') || name === 'constructor' || name === 'prototype' || name === '__proto__';
}

export class RepresentationBus {
  readonly #slots = new Map<string, Slot>();
  readonly #registry: Registry;
  readonly #peers: PeerNetwork;
  readonly #callLimits: CallLimits;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #maxRepresentations: number;
  readonly #maxBytes: number;
  #bytes = 0;
  readonly #ttlMs: number;
  readonly #maxDepth: number;
  readonly #shutdown = new AbortController();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: BusOptions) {
    this.#registry = options.registry;
    this.#peers = options.peers;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    const limits = { ...DEFAULT_BUS_LIMITS, ...stripUndefined(options.limits ?? {}) };
    this.#maxRepresentations = positive(limits.maxRepresentations, 'limits.maxRepresentations');
    this.#maxBytes = positive(limits.maxRepresentationBytes, 'limits.maxRepresentationBytes');
    this.#ttlMs = positive(limits.representationTtlMs, 'limits.representationTtlMs');
    this.#maxDepth = positive(limits.maxArgumentDepth, 'limits.maxArgumentDepth');
    this.#callLimits = Object.freeze({ maxModelBytes: positive(limits.maxModelBytes, 'limits.maxModelBytes') });
    const sweepMs = options.limits?.sweepIntervalMs ?? Math.min(this.#ttlMs, 60_000);
    // unref: a pending sweep never keeps the process alive.
    this.#sweeper = setInterval(() => this.sweep(), positive(sweepMs, 'limits.sweepIntervalMs'));
    this.#sweeper.unref();
  }

  /** Live representations (expired ones not yet swept may be counted until the next sweep). */
  get size(): number {
    return this.#slots.size;
  }

  /** Estimated bytes the live representations hold (see maxRepresentationBytes). */
  get bytes(): number {
    return this.#bytes;
  }

  list(): Description[] {
    return this.#registry.descriptions();
  }

  create(requirements: Readonly<Record<string, unknown>>): string {
    const service = this.#registry.match(requirements);
    return this.#insert({ kind: 'service', service });
  }

  /** A JSON value or TensorSet the client uploaded. */
  upload(value: unknown): string {
    return this.#insert({ kind: 'value', value });
  }

  attribute(uuid: string, name: string): string {
    const entry = this.#lookup(uuid, 'representation_uuid');
    if (isForbiddenName(name)) {
      throw new ForbiddenError(`attribute '${name}' is not accessible`, { where: name });
    }
    const target = entry.kind === 'service' ? entry.service : entry.kind === 'value' ? entry.value : undefined;
    if (isServerObject(target)) {
      if (!Object.hasOwn(target.members, name)) {
        throw new NotFoundError(`no member '${name}'`, { where: name });
      }
      const member = target.members[name];
      if (typeof member !== 'function') {
        throw new NotFoundError(`no member '${name}'`, { where: name });
      }
      return this.#insert({ kind: 'member', owner: target, name, member });
    }
    if (isPlainObject(target)) {
      if (!Object.hasOwn(target, name)) {
        throw new NotFoundError(`the object has no property '${name}'`, { where: name });
      }
      return this.#insert({ kind: 'value', value: (target as Record<string, unknown>)[name] });
    }
    throw new NotFoundError(`this representation has no attribute '${name}'`, { where: name });
  }

  /**
   * Call the member a representation names. Arguments are resolved first; the result becomes a
   * new representation (`undefined` when the member returned nothing).
   */
  async call(uuid: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<string | undefined> {
    const entry = this.#lookup(uuid, 'representation_uuid');
    if (entry.kind !== 'member') {
      throw new BadInputError('this representation is not callable; take one of its members first', { where: 'representation_uuid' });
    }
    const resolvedArgs = this.resolve(args, 'args') as unknown[];
    const resolvedKwargs = this.resolve(kwargs, 'kwargs') as Record<string, unknown>;
    const ctx: CallContext = {
      signal: signal === undefined ? this.#shutdown.signal : AbortSignal.any([this.#shutdown.signal, signal]),
      peers: this.#peers,
      log: this.#log,
      limits: this.#callLimits,
    };
    this.#log.debug({ member: entry.name }, 'call');
    const result: unknown = await Reflect.apply(entry.member, entry.owner, [resolvedArgs, resolvedKwargs, ctx]);
    if (result === undefined) return undefined;
    checkStorable(result, entry.name);
    return this.#insert({ kind: 'value', value: result });
  }

  download(uuid: string): Downloadable {
    const entry = this.#lookup(uuid, 'representation_uuid');
    if (entry.kind === 'value' && !isServerObject(entry.value)) {
      if (entry.value instanceof TensorSet) entry.value.ensureUsable('representation_uuid');
      return entry.value instanceof TensorSet ? { kind: 'tensors', value: entry.value } : { kind: 'json', value: entry.value };
    }
    throw new BadInputError('this representation is not downloadable (a microservice, member or server object)', {
      where: 'representation_uuid',
    });
  }

  release(uuid: string): void {
    this.#lookup(uuid, 'representation_uuid');
    this.#drop(uuid);
  }

  /**
   * Replace every `{"representation_uuid": "…"}` in a JSON argument tree by the object it names.
   * `where` is the field path of `value` (errors name the exact field, e.g. "kwargs.data.tensors").
   */
  resolve(value: unknown, where: string, depth = 0): unknown {
    if (depth > this.#maxDepth) throw this.#tooDeep(where);
    if (Array.isArray(value)) {
      // A number, string, boolean or null resolves to itself: a list of a million numbers is
      // returned as it is, without a field path and a copy per item. Only objects and lists
      // inside are visited (and the list copied once one of them changes).
      if (depth + 1 > this.#maxDepth && value.length > 0) throw this.#tooDeep(`${where}[0]`);
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item === null || typeof item !== 'object') continue;
        const resolved = this.resolve(item, `${where}[${i}]`, depth + 1);
        if (resolved !== item) (out ??= value.slice())[i] = resolved;
      }
      return out ?? value;
    }
    if (!isPlainObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'representation_uuid') {
      const uuid = (value as { representation_uuid: unknown }).representation_uuid;
      if (typeof uuid !== 'string') {
        throw new BadInputError('representation_uuid must be a string', { where: `${where}.representation_uuid` });
      }
      const entry = this.#lookup(uuid, where);
      switch (entry.kind) {
        case 'service':
          return entry.service;
        case 'value':
          if (entry.value instanceof TensorSet) entry.value.ensureUsable(where);
          return entry.value;
        case 'member':
          throw new BadInputError('a bound member cannot be passed as an argument', { where });
      }
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      // defineProperty, not assignment: a JSON key "__proto__" must stay a plain own property.
      Object.defineProperty(out, key, {
        value: this.resolve((value as Record<string, unknown>)[key], `${where}.${key}`, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  #tooDeep(where: string): BadInputError {
    return new BadInputError(`arguments nested deeper than ${this.#maxDepth} levels`, { where });
  }

  /** Drop every entry unused for longer than the TTL. */
  sweep(): number {
    const cutoff = this.#now() - this.#ttlMs;
    let dropped = 0;
    for (const [uuid, slot] of this.#slots) {
      if (slot.lastUsed < cutoff) {
        this.#drop(uuid);
        dropped++;
      }
    }
    if (dropped > 0) this.#log.debug({ dropped }, 'expired representations swept');
    return dropped;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#shutdown.abort(new Error('server shutting down'));
    for (const uuid of [...this.#slots.keys()]) this.#drop(uuid);
    await this.#registry.close();
  }

  #insert(entry: Entry): string {
    const bytes = entry.kind === 'value' ? estimatedBytes(entry.value) : ENTRY_OVERHEAD_BYTES;
    if (bytes > this.#maxBytes) {
      throw new TooLargeError(`this value takes about ${bytes} bytes, more than the ${this.#maxBytes} bytes all representations may take (--max-representation-bytes)`, {
        extra: { limit: this.#maxBytes },
      });
    }
    if (this.#slots.size >= this.#maxRepresentations || this.#bytes + bytes > this.#maxBytes) this.sweep();
    if (this.#slots.size >= this.#maxRepresentations) {
      throw new LimitError(`at most ${this.#maxRepresentations} representations; release some first`, {
        extra: { limit: this.#maxRepresentations },
      });
    }
    if (this.#bytes + bytes > this.#maxBytes) {
      throw new LimitError(`representations here would take more than ${this.#maxBytes} bytes (--max-representation-bytes); release some first`, {
        extra: { limit: this.#maxBytes },
      });
    }
    const uuid = randomUUID();
    this.#slots.set(uuid, { entry, bytes, lastUsed: this.#now() });
    this.#bytes += bytes;
    return uuid;
  }

  /** Forget an entry; a server object held by value is told, so it frees what it holds. */
  #drop(uuid: string): void {
    const slot = this.#slots.get(uuid);
    if (slot !== undefined) this.#bytes -= slot.bytes;
    this.#slots.delete(uuid);
    const value = slot?.entry.kind === 'value' ? slot.entry.value : undefined;
    if (isServerObject(value) && typeof value.release === 'function') {
      try {
        value.release();
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'releasing a server object failed');
      }
    }
  }

  #lookup(uuid: string, where: string): Entry {
    const slot = this.#slots.get(uuid);
    const now = this.#now();
    if (slot === undefined || slot.lastUsed < now - this.#ttlMs) {
      if (slot !== undefined) this.#drop(uuid);
      throw new NotFoundError(`no representation ${uuid} (unknown, released or expired)`, { where });
    }
    slot.lastUsed = now;
    return slot.entry;
  }
}

/** What any entry costs besides its value: the slot, its uuid, the map entry. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * Bytes a value takes in memory, estimated from above: tensor data exactly (plus its names), and
 * for JSON what V8 spends on 64-bit hosts (a heap number 16 bytes, an array 16 plus 8 per slot, an
 * object 24 plus 16 per property, a string 16 plus its length, twice when not Latin-1). A parsed
 * JSON body takes several times its text (16 MiB of `{"a":0.5}` is ~100 MB of heap), which is
 * why the budget counts this and not the request's length. Server objects (prepared
 * computations) hold uploads counted elsewhere, and count their overhead only.
 */
export function estimatedBytes(value: unknown): number {
  if (value instanceof TensorSet) return ENTRY_OVERHEAD_BYTES + value.byteLength + 128 * value.size;
  let total = ENTRY_OVERHEAD_BYTES;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') total += 16;
    // eslint-disable-next-line no-control-regex -- the Latin-1 range (one byte per character in V8) starts at \x00
    else if (typeof v === 'string') total += 16 + (/^[\x00-\xff]*$/.test(v) ? v.length : 2 * v.length);
    else if (Array.isArray(v)) {
      total += 16 + 8 * v.length;
      for (const item of v) stack.push(item);
    } else if (isPlainObject(v)) {
      const keys = Object.keys(v);
      total += 24 + 16 * keys.length;
      for (const key of keys) {
        total += 16 + key.length;
        stack.push(v[key]);
      }
    } else total += 8;
  }
  return total;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A member's result must be something the bus can hand out later: JSON, tensors, or a server
 * object. Anything else (a function, a bigint, a class instance) is a bug in the member.
 */
function checkStorable(value: unknown, member: string): void {
  if (value instanceof TensorSet || isServerObject(value)) return;
  const walk = (v: unknown, depth: number): boolean => {
    if (depth > 256) return false;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
    if (typeof v === 'number') return Number.isFinite(v);
    if (Array.isArray(v)) return v.every((item) => walk(item, depth + 1));
    if (isPlainObject(v)) return Object.values(v).every((item) => walk(item, depth + 1));
    return false;
  };
  if (!walk(value, 0)) {
    // Not a TesseraError: this is a server bug, mapped to a generic 500 and logged.
    throw new TypeError(`member '${member}' returned a value that is neither JSON, tensors nor a server object`);
  }
}

function positive(value: number, where: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new BadInputError(`must be a positive number, got ${value}`, { where });
  }
  return value;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
