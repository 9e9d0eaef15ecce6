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
// Never a hang: every piece handed to a worker is settled — with the worker's answer, with its
// error (a worker that throws or exits rejects every piece it holds, and the next piece goes to a
// fresh worker), or, when the worker has not answered within the piece's deadline, with an error
// after the worker is terminated. A protocol waiting here is therefore always woken, fails, and
// its runProtocol tells the other parties (docs/set-protocols.md, "Failures").
//
// Workers start on first use and stay; they hold the process open only while they have work.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

/** Lists shorter than this are done on the calling thread: a round trip to a worker costs more. */
export const POOL_THRESHOLD = 256;
const ELEMENT_BYTES = 32;
const WORKER_URL = new URL('./x25519-worker.mjs', import.meta.url);
/**
 * How long a worker may take for a piece before it is deemed stuck, when the caller gives no
 * deadline: far beyond any honest piece (10⁶ elements at 100 µs on one core take 100 s), so only
 * a worker that will never answer reaches it. The protocols pass their stage timeout instead.
 */
export const DEFAULT_PIECE_TIMEOUT_MS = 600_000;

/** Element `index` (within the whole list) has small order; the caller names the sender. */
export class SmallOrderElement extends Error {
  constructor(readonly index: number) {
    super(`element ${index} is a point of small order`);
  }
}

/**
 * The pool could not compute a piece: its worker threw, exited, could not be started, or did not
 * answer in time. A local fault, never a peer's: the party answers 500 and aborts the others.
 */
export class PoolFailure extends Error {}

interface Pending {
  readonly resolve: (out: Uint8Array) => void;
  readonly reject: (err: Error) => void;
  readonly offset: number;
  readonly timer: NodeJS.Timeout;
}

type Reply = { id: number; out: Uint8Array } | { id: number; bad: number } | { id: number; failed: string };

class PooledWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  dead = false;

  constructor(url: URL, workerData: unknown) {
    this.#worker = new Worker(url, { workerData });
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => this.#settle(reply));
    this.#worker.on('error', (err) => this.#fail(new PoolFailure(`an X25519 worker failed: ${err.message}`)));
    this.#worker.on('exit', (code) => this.#fail(new PoolFailure(`an X25519 worker exited (code ${code})`)));
  }

  run(pkcs8: Uint8Array, list: Uint8Array, offset: number, timeoutMs: number): Promise<Uint8Array> {
    if (this.dead) return Promise.reject(new PoolFailure('an X25519 worker is gone'));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      // A worker that has not answered by the deadline is stuck (or its answer was lost): it is
      // terminated, which rejects this and every other piece it holds.
      const timer = setTimeout(() => {
        this.#fail(new PoolFailure(`an X25519 worker did not answer within ${timeoutMs} ms`));
        void this.#worker.terminate();
      }, timeoutMs);
      timer.unref(); // the ref'd worker keeps the process alive while it has work; the timer need not
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject, offset, timer });
      try {
        this.#worker.postMessage({ id, pkcs8, list });
      } catch (err) {
        this.#take(id);
        reject(new PoolFailure(`cannot hand a piece to an X25519 worker: ${err instanceof Error ? err.message : String(err)}`));
      }
    });
  }

  /** Removes a piece from the pending set and stops its timer. */
  #take(id: number): Pending | undefined {
    const task = this.#pending.get(id);
    if (task === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(task.timer);
    if (this.#pending.size === 0) this.#worker.unref();
    return task;
  }

  #settle(reply: Reply): void {
    const task = this.#take(reply.id);
    if (task === undefined) return;
    if ('out' in reply) task.resolve(reply.out);
    else if ('bad' in reply) task.reject(new SmallOrderElement(task.offset + reply.bad));
    else task.reject(new PoolFailure(`an X25519 worker failed: ${reply.failed}`));
  }

  #fail(err: PoolFailure): void {
    this.dead = true;
    for (const id of [...this.#pending.keys()]) this.#take(id)!.reject(err);
  }

  terminate(): Promise<number> {
    this.dead = true;
    return this.#worker.terminate();
  }
}

export interface PoolOptions {
  /** Worker threads (default: one per core, at most 8). */
  readonly size?: number;
  /** The worker's script (default x25519-worker.mjs; the failure tests give a faulty one). */
  readonly workerUrl?: URL;
  /** Passed to each worker as `workerData` (the faulty test worker reads its fault from it). */
  readonly workerData?: unknown;
}

/** A pool of X25519 worker threads. The protocols use `defaultPool`. */
export class X25519Pool {
  readonly #size: number;
  readonly #url: URL;
  readonly #data: unknown;
  readonly #workers: PooledWorker[] = [];

  constructor(options: PoolOptions = {}) {
    this.#size = Math.max(1, options.size ?? Math.min(8, availableParallelism()));
    this.#url = options.workerUrl ?? WORKER_URL;
    this.#data = options.workerData;
  }

  #worker(i: number): PooledWorker {
    let w = this.#workers[i];
    if (w === undefined || w.dead) {
      w = new PooledWorker(this.#url, this.#data);
      this.#workers[i] = w;
    }
    return w;
  }

  /**
   * X25519(scalar, u) for every element of `list`, across the pool, in order. Rejects with
   * SmallOrderElement for the first element (by position) of small order, with PoolFailure when
   * a worker fails or does not answer within `timeoutMs`.
   */
  async apply(pkcs8: Uint8Array, list: Uint8Array, timeoutMs = DEFAULT_PIECE_TIMEOUT_MS): Promise<Uint8Array> {
    const count = list.length / ELEMENT_BYTES;
    const per = Math.ceil(count / this.#size);
    const pieces: Promise<Uint8Array>[] = [];
    for (let i = 0, start = 0; start < count; i++, start += per) {
      const end = Math.min(count, start + per);
      // A copy of just this piece: a view would make the structured clone copy the whole list.
      const piece = list.slice(start * ELEMENT_BYTES, end * ELEMENT_BYTES);
      let run: Promise<Uint8Array>;
      try {
        run = this.#worker(i).run(pkcs8, piece, start, timeoutMs);
      } catch (err) {
        // new Worker can throw (e.g. too many threads); that is a failure of this call, not a hang.
        run = Promise.reject(new PoolFailure(`cannot start an X25519 worker: ${err instanceof Error ? err.message : String(err)}`));
      }
      pieces.push(run);
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
  async close(): Promise<void> {
    await Promise.all(this.#workers.splice(0).map((w) => w.terminate()));
  }
}

/** The pool this process's ExponentKeys use unless given another (ExponentKey.onPool). */
export const defaultPool = new X25519Pool();
