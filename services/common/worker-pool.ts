// A small pool of worker threads for CPU-bound work that a protocol hands off in pieces: the
// X25519 exponentiations of the set protocols (services/simon/sets/x25519-pool.ts) and the
// Paillier exponentiations of the products (modexp-pool.ts). Each worker is a plain .mjs script
// (a worker does not inherit the main thread's TypeScript loader) that answers every message
// `{ id, ... }` with `{ id, ... }`: `{ id, failed: message }` when it could not do the piece,
// anything else is the piece's answer, which the caller reads.
//
// Never a hang: every piece handed to a worker is settled — with the worker's answer, with its
// error (a worker that throws or exits rejects every piece it holds, and the next piece goes to a
// fresh worker), or, when the worker has not answered within the piece's deadline, with a
// PoolFailure after the worker is terminated. A protocol waiting here is therefore always woken,
// fails, and its runProtocol tells the other parties.
//
// Workers start on first use and stay; they hold the process open only while they have work.

import { Worker, type Transferable } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

/**
 * How long a worker may take for a piece before it is deemed stuck, when the caller gives no
 * deadline: far beyond any honest piece, so only a worker that will never answer reaches it. The
 * protocols pass their stage timeout (plus the work's budget) instead.
 */
export const DEFAULT_PIECE_TIMEOUT_MS = 600_000;

/**
 * The pool could not compute a piece: its worker threw, exited, could not be started, or did not
 * answer in time. A local fault, never a peer's: the party answers 500 and aborts the others.
 */
export class PoolFailure extends Error {}

/** A worker's answer to one piece, without its id. */
export type Reply = Readonly<Record<string, unknown>>;

interface Pending {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

class PooledWorker {
  readonly #worker: Worker;
  readonly #name: string;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  dead = false;

  constructor(url: URL, workerData: unknown, name: string) {
    this.#name = name;
    this.#worker = new Worker(url, { workerData });
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply & { id: number }) => this.#settle(reply));
    this.#worker.on('error', (err) => this.#fail(new PoolFailure(`${name} failed: ${err.message}`)));
    this.#worker.on('exit', (code) => this.#fail(new PoolFailure(`${name} exited (code ${code})`)));
  }

  run(message: Record<string, unknown>, transfer: readonly Transferable[], timeoutMs: number): Promise<Reply> {
    if (this.dead) return Promise.reject(new PoolFailure(`${this.#name} is gone`));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      // A worker that has not answered by the deadline is stuck (or its answer was lost): it is
      // terminated, which rejects this and every other piece it holds.
      const timer = setTimeout(() => {
        this.#fail(new PoolFailure(`${this.#name} did not answer within ${timeoutMs} ms`));
        void this.#worker.terminate();
      }, timeoutMs);
      timer.unref(); // the ref'd worker keeps the process alive while it has work; the timer need not
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.#worker.postMessage({ ...message, id }, transfer);
      } catch (err) {
        this.#take(id);
        reject(new PoolFailure(`cannot hand a piece to ${this.#name}: ${err instanceof Error ? err.message : String(err)}`));
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

  #settle({ id, ...reply }: Reply & { id: number }): void {
    const task = this.#take(id);
    if (task === undefined) return;
    if (typeof reply['failed'] === 'string') task.reject(new PoolFailure(`${this.#name} failed: ${reply['failed']}`));
    else task.resolve(reply);
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

/** What a pool's user may choose: the protocols take the defaults, the failure tests a faulty worker. */
export interface PoolOptions {
  /** Worker threads (default: one per core, at most 8). */
  readonly size?: number;
  /** The worker's script (default: the pool's own). */
  readonly workerUrl?: URL;
  /** Passed to each worker as `workerData` (the faulty test workers read their fault from it). */
  readonly workerData?: unknown;
}

export interface WorkerPoolOptions {
  /** The worker's script. */
  readonly url: URL;
  /** How errors name a worker: "an X25519 worker". */
  readonly name: string;
  /** Worker threads (default: one per core, at most 8). */
  readonly size?: number;
  /** Passed to each worker as `workerData` (the faulty test workers read their fault from it). */
  readonly workerData?: unknown;
}

export class WorkerPool {
  readonly size: number;
  readonly #url: URL;
  readonly #name: string;
  readonly #data: unknown;
  readonly #workers: PooledWorker[] = [];

  constructor(options: WorkerPoolOptions) {
    this.size = Math.max(1, options.size ?? Math.min(8, availableParallelism()));
    this.#url = options.url;
    this.#name = options.name;
    this.#data = options.workerData;
  }

  /**
   * Hands one piece to worker `i` (mod the pool's size; a dead worker is replaced first) and
   * resolves with its answer. Rejects with PoolFailure when the worker fails, cannot be started,
   * or does not answer within `timeoutMs`.
   */
  run(i: number, message: Record<string, unknown>, transfer: readonly Transferable[] = [], timeoutMs = DEFAULT_PIECE_TIMEOUT_MS): Promise<Reply> {
    const slot = i % this.size;
    let w = this.#workers[slot];
    try {
      if (w === undefined || w.dead) {
        w = new PooledWorker(this.#url, this.#data, this.#name);
        this.#workers[slot] = w;
      }
    } catch (err) {
      // new Worker can throw (e.g. too many threads); that is a failure of this call, not a hang.
      return Promise.reject(new PoolFailure(`cannot start ${this.#name}: ${err instanceof Error ? err.message : String(err)}`));
    }
    return w.run(message, transfer, timeoutMs);
  }

  /** Terminates the workers (the next piece starts fresh ones). */
  async close(): Promise<void> {
    await Promise.all(this.#workers.splice(0).map((w) => w.terminate()));
  }
}
