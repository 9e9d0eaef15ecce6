// One bounded wait: resolves when `settle` is called, rejects on timeout (504 naming `where`) or
// when the caller's signal aborts (client gone, server shutting down). Every wait in Sync ends.

import { PeerError, TimeoutError } from '../errors.js';

export interface Waiter<T> {
  readonly promise: Promise<T>;
  settle(value: T): void;
}

export function boundedWait<T>(opts: {
  timeoutMs: number;
  signal: AbortSignal;
  where: string;
  timeoutMessage: () => string;
  /** Called once when the wait ends without being settled (timeout or abort), to leave queues. */
  onGiveUp: () => void;
}): Waiter<T> {
  let settle!: (value: T) => void;
  const promise = new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      opts.onGiveUp();
      reject(new TimeoutError(opts.timeoutMessage(), { where: opts.where }));
    }, opts.timeoutMs);
    const onAbort = (): void => {
      if (done) return;
      finish();
      opts.onGiveUp();
      reject(new PeerError('the wait was cancelled (client gone or server shutting down)', { where: opts.where }));
    };
    settle = (value: T) => {
      if (done) return;
      finish();
      resolve(value);
    };
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, settle };
}
