// Modular exponentiations on every core: a pool of worker threads (modexp-worker.mjs) for the
// Paillier products (services/simon/products/product.ts, paillier.ts).
//
// Why: a product's cost is its exponentiations — p·n·⌈q/S⌉ short ones and p·⌈q/S⌉ randomisers at
// party 0, the randomisers and decryptions at party 1 — each a fraction of a millisecond to
// several milliseconds inside OpenSSL, one after another on the main thread while the other cores
// idle (and the server answered nothing else meanwhile). They are independent of each other, so
// they split across threads with no change to what is computed: the workers return exactly the
// powers the main thread would have (the pool's test compares them with ModExp's). The workers
// get the public modulus, bases and exponents; a key owner's decryption hands them its primes'
// squares and p − 1, q − 1, which stay in this process's memory, as on the main thread.
//
// The pool's failure semantics (no piece can hang; a failed worker is a PoolFailure, the next
// call gets a fresh one) are services/common/worker-pool.ts's.

import { ModExp } from './modexp.js';
import { DEFAULT_PIECE_TIMEOUT_MS, WorkerPool, type PoolOptions } from './worker-pool.js';

const WORKER_URL = new URL('./modexp-worker.mjs', import.meta.url);

/** Fewer exponentiations than this are done on the calling thread: a round trip to a worker costs about as much as one. */
export const MODEXP_POOL_THRESHOLD = 4;

export class ModExpPool {
  readonly #pool: WorkerPool;

  constructor(options: PoolOptions = {}) {
    this.#pool = new WorkerPool({ url: options.workerUrl ?? WORKER_URL, name: 'a modexp worker', size: options.size, workerData: options.workerData });
  }

  /** Worker threads: how many exponentiations run at once. */
  get size(): number {
    return this.#pool.size;
  }

  /**
   * base_i^exponent_i mod m for every i, in order; `exponents` holds one exponent per base or a
   * single one for all. Long lists are cut into one contiguous piece per worker, on at most
   * `threads` of them (background work takes one). Rejects with PoolFailure when a worker fails or
   * does not answer within `timeoutMs`.
   */
  async powAll(m: bigint, bases: readonly bigint[], exponents: readonly bigint[], timeoutMs = DEFAULT_PIECE_TIMEOUT_MS, threads = this.#pool.size): Promise<bigint[]> {
    if (exponents.length !== 1 && exponents.length !== bases.length) throw new RangeError('one exponent per base, or one for all');
    if (bases.length < MODEXP_POOL_THRESHOLD) {
      const modexp = new ModExp(m);
      return bases.map((b, i) => modexp.pow(b, exponents.length === 1 ? exponents[0]! : exponents[i]!));
    }
    const per = Math.ceil(bases.length / Math.max(1, Math.min(threads, this.#pool.size)));
    const pieces: Promise<bigint[]>[] = [];
    for (let i = 0, start = 0; start < bases.length; i++, start += per) {
      const end = Math.min(bases.length, start + per);
      const message = { modulus: m, bases: bases.slice(start, end), exponents: exponents.length === 1 ? exponents : exponents.slice(start, end) };
      pieces.push(this.#pool.run(i, message, [], timeoutMs).then((reply) => reply['out'] as bigint[]));
    }
    return (await Promise.all(pieces)).flat();
  }

  /** Terminates the workers (the next call starts fresh ones). */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** The pool this process's Paillier operations use. */
export const defaultModExpPool = new ModExpPool();
