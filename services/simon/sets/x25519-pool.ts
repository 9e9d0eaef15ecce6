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
// The pool itself, and why no piece can hang, is services/common/worker-pool.ts.

import { WorkerPool, PoolFailure, DEFAULT_PIECE_TIMEOUT_MS, type PoolOptions } from '../../common/worker-pool.js';

export { PoolFailure, DEFAULT_PIECE_TIMEOUT_MS, type PoolOptions };

/** Lists shorter than this are done on the calling thread: a round trip to a worker costs more. */
export const POOL_THRESHOLD = 256;
const ELEMENT_BYTES = 32;
const WORKER_URL = new URL('./x25519-worker.mjs', import.meta.url);

/** Element `index` (within the whole list) has small order; the caller names the sender. */
export class SmallOrderElement extends Error {
  constructor(readonly index: number) {
    super(`element ${index} is a point of small order`);
  }
}

/** A pool of X25519 worker threads. The protocols use `defaultPool`. */
export class X25519Pool {
  readonly #pool: WorkerPool;

  constructor(options: PoolOptions = {}) {
    this.#pool = new WorkerPool({ url: options.workerUrl ?? WORKER_URL, name: 'an X25519 worker', size: options.size, workerData: options.workerData });
  }

  /**
   * X25519(scalar, u) for every element of `list`, across the pool, in order. Rejects with
   * SmallOrderElement for the first element (by position) of small order, with PoolFailure when
   * a worker fails or does not answer within `timeoutMs`.
   */
  async apply(pkcs8: Uint8Array, list: Uint8Array, timeoutMs = DEFAULT_PIECE_TIMEOUT_MS): Promise<Uint8Array> {
    const count = list.length / ELEMENT_BYTES;
    const per = Math.ceil(count / this.#pool.size);
    const pieces: Promise<Uint8Array>[] = [];
    for (let i = 0, start = 0; start < count; i++, start += per) {
      const end = Math.min(count, start + per);
      // A copy of just this piece: a view would make the structured clone copy the whole list.
      const piece = list.slice(start * ELEMENT_BYTES, end * ELEMENT_BYTES);
      pieces.push(
        this.#pool.run(i, { pkcs8, list: piece }, [], timeoutMs).then((reply) => {
          if (typeof reply['bad'] === 'number') throw new SmallOrderElement(start + reply['bad']);
          return reply['out'] as Uint8Array;
        }),
      );
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

  /** Terminates the workers (the next apply starts fresh ones). */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** The pool this process's ExponentKeys use unless given another (ExponentKey.onPool). */
export const defaultPool = new X25519Pool();
