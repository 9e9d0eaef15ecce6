// Large message buffers, recycled: the bodies of FedAvg's 1–2 MiB peer messages are read into
// buffers that the protocol hands back once it has consumed the payload, so the next message is
// read into memory that is already mapped.
//
// Why: every fresh body is external memory V8 counts towards its next mark-compact (a FedAvg
// party receives 127–191 MiB per round), and memory touched for the first time costs a page fault
// per 4 KiB. Measured at 25M parameters (docs/performance.md, "First touches"): 2,000–3,000 fewer
// page faults per party (glibc was already reusing most of the bodies' memory) and 6–14% less
// online CPU for SecureFedAvg 64 in two alternating pairs.
//
// Only a buffer whose every holder is known can be reused. The HTTP body reader (server/http/body.ts)
// takes one for a body of RECYCLED_MIN_BYTES..RECYCLED_MAX_BYTES; the envelope is opened in place
// in it (server/peer/envelope.ts openInPlace), so the payload a protocol receives is a view of the
// same memory. A consumer that has finished with a payload (copied or added it elsewhere, and
// kept no view of it) calls `recycle(payload)`; any other payload is simply left to the garbage
// collector, as before. A buffer is recycled at most once per take, only if it came from here, and
// a reused buffer is written over its whole length by the next body before anything reads it.

/** Bodies at least this large are read into recycled buffers (smaller ones come from Node's pools anyway). */
export const RECYCLED_MIN_BYTES = 1024 * 1024;
/** And at most this large: a FedAvg chunk of 2^18 64-bit elements, with room for its envelope header. */
export const RECYCLED_MAX_BYTES = 4 * 1024 * 1024;
/** Buffers are sized in steps of this, so a round's messages (the same payload, headers of a few hundred bytes) share a size. */
const GRANULE_BYTES = 64 * 1024;
/** Free buffers kept, in bytes: enough for the messages of a round in flight at once (SEND_WINDOW per peer). */
const MAX_FREE_BYTES = 24 * 1024 * 1024;
/** Free buffers are let go once none has been taken for this long: an idle server holds none. */
const IDLE_MS = 10_000;

const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
let lastTake = 0;
let idleTimer: NodeJS.Timeout | undefined;
/** Buffers handed out and not yet recycled: only these may come back. */
const out = new WeakSet<ArrayBuffer>();

/**
 * A Buffer of exactly `length` bytes over recycled memory, or undefined for a length outside
 * RECYCLED_MIN_BYTES..RECYCLED_MAX_BYTES. Its contents are stale: the caller fills every byte.
 */
export function takeRecycled(length: number): Buffer | undefined {
  if (length < RECYCLED_MIN_BYTES || length > RECYCLED_MAX_BYTES) return undefined;
  lastTake = performance.now();
  const capacity = Math.ceil(length / GRANULE_BYTES) * GRANULE_BYTES;
  const list = free.get(capacity);
  let buffer = list?.pop();
  if (buffer !== undefined) freeBytes -= capacity;
  else buffer = new ArrayBuffer(capacity);
  out.add(buffer);
  return Buffer.from(buffer, 0, length);
}

/**
 * `view`'s memory may be reused: its consumer holds no view of it any more. A view of memory that
 * did not come from takeRecycled, or came back already, is left alone.
 */
export function recycle(view: Uint8Array): void {
  const buffer = view.buffer as ArrayBuffer;
  if (!out.has(buffer)) return;
  out.delete(buffer);
  if (freeBytes + buffer.byteLength > MAX_FREE_BYTES) return;
  let list = free.get(buffer.byteLength);
  if (list === undefined) free.set(buffer.byteLength, (list = []));
  list.push(buffer);
  freeBytes += buffer.byteLength;
  idleTimer ??= setTimeout(dropWhenIdle, IDLE_MS).unref();
}

function dropWhenIdle(): void {
  const idleFor = performance.now() - lastTake;
  if (idleFor < IDLE_MS) {
    idleTimer = setTimeout(dropWhenIdle, IDLE_MS - idleFor).unref();
    return;
  }
  idleTimer = undefined;
  free.clear();
  freeBytes = 0;
}

/** Bytes held free for reuse (for tests). */
export function recycledFreeBytes(): number {
  return freeBytes;
}
