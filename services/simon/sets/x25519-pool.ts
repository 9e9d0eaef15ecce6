// X25519 on every core: a small pool of worker threads (x25519-worker.mjs) that ExponentKey.apply
// hands long lists to, cut into one contiguous piece per worker.
//
// Why: an exponentiation through Node's X25519 costs tens of microseconds, almost all of it inside
// OpenSSL (EVP key and context set-up, then the ladder), and the set protocols apply a key to
// 10⁴–10⁶ elements at a time; the main thread would do them one after another on one core while
// the others idle (and could serve no other request meanwhile). The workers share nothing but the
// message: the private key (PKCS #8, in this process's memory only, as on the main thread) and
// the packed elements, copied in and transferred back.
//
// Workers start on first use and stay; they hold the process open only while they have work.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

/** Lists shorter than this are done on the calling thread: a round trip to a worker costs more. */
export const POOL_THRESHOLD = 256;
const ELEMENT_BYTES = 32;
const SIZE = Math.max(1, Math.min(8, availableParallelism()));
const WORKER_URL = new URL('./x25519-worker.mjs', import.meta.url);

/** Element `index` (within the whole list) has small order; the caller names the sender. */
export class SmallOrderElement extends Error {
  constructor(readonly index: number) {
    super(`element ${index} is a point of small order`);
  }
}

interface Pending {
  readonly resolve: (out: Uint8Array) => void;
  readonly reject: (err: Error) => void;
  readonly offset: number;
}

type Reply = { id: number; out: Uint8Array } | { id: number; bad: number } | { id: number; failed: string };

class PooledWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  dead = false;

  constructor() {
    this.#worker = new Worker(WORKER_URL);
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => this.#settle(reply));
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', () => this.#fail(new Error('an X25519 worker exited')));
  }

  run(pkcs8: Uint8Array, list: Uint8Array, offset: number): Promise<Uint8Array> {
    const id = this.#next++;
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, offset });
      this.#worker.postMessage({ id, pkcs8, list });
    });
  }

  #settle(reply: Reply): void {
    const task = this.#pending.get(reply.id);
    if (task === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if ('out' in reply) task.resolve(reply.out);
    else if ('bad' in reply) task.reject(new SmallOrderElement(task.offset + reply.bad));
    else task.reject(new Error(reply.failed));
  }

  #fail(err: Error): void {
    this.dead = true;
    for (const task of this.#pending.values()) task.reject(err);
    this.#pending.clear();
  }
}

const workers: PooledWorker[] = [];

function worker(i: number): PooledWorker {
  let w = workers[i];
  if (w === undefined || w.dead) {
    w = new PooledWorker();
    workers[i] = w;
  }
  return w;
}

/**
 * X25519(scalar, u) for every element of `list`, across the pool, in order. Rejects with
 * SmallOrderElement for the first element (by position) of small order.
 */
export async function applyOnPool(pkcs8: Uint8Array, list: Uint8Array): Promise<Uint8Array> {
  const count = list.length / ELEMENT_BYTES;
  const per = Math.ceil(count / SIZE);
  const pieces: Promise<Uint8Array>[] = [];
  for (let i = 0, start = 0; start < count; i++, start += per) {
    const end = Math.min(count, start + per);
    pieces.push(worker(i).run(pkcs8, list.subarray(start * ELEMENT_BYTES, end * ELEMENT_BYTES), start));
  }
  const settled = await Promise.allSettled(pieces);
  const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as Error);
  if (failed.length > 0) {
    // The first small-order element by position, so the answer does not depend on timing.
    const small = failed.filter((e): e is SmallOrderElement => e instanceof SmallOrderElement).sort((a, b) => a.index - b.index);
    throw small[0] ?? failed[0]!;
  }
  const out = new Uint8Array(list.length);
  let at = 0;
  for (const s of settled as PromiseFulfilledResult<Uint8Array>[]) {
    out.set(s.value, at);
    at += s.value.length;
  }
  return out;
}
