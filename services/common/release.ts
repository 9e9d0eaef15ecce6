/**
 * Frees a large buffer's memory as soon as its last user is done with it, instead of when the
 * garbage collector next finds its owner dead.
 *
 * A SecureFedAvg party handles several hundred MiB of short-lived external buffers per round (the
 * masks' keystream, 64 KiB per cipher call; the message bodies it receives, 1 MiB each). An
 * ArrayBuffer whose JavaScript object was promoted to the old generation (a body that waited for
 * its consumer over two scavenges) keeps its memory until the next mark-compact, and V8 starts one
 * for external memory only about 64 MB above what the previous one left: that garbage, not the
 * protocol's buffers, is what lifted a party's peak RSS to 3x the model (docs/performance.md
 * "SecureFedAvg's peak: consumed buffers freed at once").
 *
 * `ArrayBuffer.prototype.transfer(0)` (ES2024) detaches the buffer and frees its memory at once:
 * malloc then hands the same memory to the next body or cipher output. Node 22 has it; Node 20's
 * V8 has it behind `--harmony-rab-gsab-transfer`, which V8 applies to contexts created after the
 * flag is set, so it is taken from a fresh `vm` context (a builtin's receiver may be an
 * ArrayBuffer of any context). Where neither is available, `release` does nothing and the
 * collector frees the buffer as before.
 */
import { setFlagsFromString } from 'node:v8';
import { createContext, runInContext } from 'node:vm';

type Transfer = (this: ArrayBuffer, newLength?: number) => ArrayBuffer;

/**
 * Buffers below this size are never released: Node cuts small Buffers out of shared 8 KiB pool
 * slabs (Buffer.poolSize), and freeing a slab would take its neighbours' bytes with it.
 */
export const RELEASE_MIN_BYTES = 64 * 1024;

function findTransfer(): Transfer | undefined {
  const own = (ArrayBuffer.prototype as { transfer?: Transfer }).transfer;
  if (typeof own === 'function') return own;
  try {
    setFlagsFromString('--harmony-rab-gsab-transfer');
    const fromContext: unknown = runInContext('ArrayBuffer.prototype.transfer', createContext({}));
    return typeof fromContext === 'function' ? (fromContext as Transfer) : undefined;
  } catch {
    return undefined;
  }
}

let transfer: Transfer | undefined | null = null;

/** Whether `release` frees memory in this runtime (else it is a no-op). */
export function canRelease(): boolean {
  if (transfer === null) transfer = findTransfer();
  return transfer !== undefined;
}

/**
 * Payloads a transport handed over with nothing else holding their buffer (a message body read for
 * that one delivery and opened in place, or a fresh buffer from the copying open): the consumer
 * may free them (`releaseHandedOver`). A WeakSet of the buffers, so a mark costs nothing once the
 * buffer is gone. A transport that may deliver the same bytes twice (the in-memory simulation's
 * duplicates, its captured log) never marks them, and its payloads are never freed.
 */
const handedOver = new WeakSet<ArrayBuffer>();

/** Marks `payload` as handed over: its buffer is read by nobody but the payload's consumer. */
export function handOver(payload: ArrayBufferView): void {
  if (payload.byteLength >= RELEASE_MIN_BYTES && payload.buffer instanceof ArrayBuffer) handedOver.add(payload.buffer);
}

/** `release(payload, slack)` for a payload a transport handed over (`handOver`); false for any other. */
export function releaseHandedOver(payload: ArrayBufferView, slack = 0): boolean {
  const buffer = payload.buffer;
  if (!(buffer instanceof ArrayBuffer) || !handedOver.has(buffer)) return false;
  handedOver.delete(buffer);
  return release(payload, slack);
}

/**
 * Frees the memory of the ArrayBuffer under `view` now, if it holds nothing but `view` and at most
 * `slack` more bytes (an envelope's header and tag around a payload), is at least
 * RELEASE_MIN_BYTES and is not shared. Every view of that buffer becomes empty (length 0), so the
 * caller must be its last user: call it only on a buffer this code allocated, or was handed to
 * own, and holds no other view of. Returns whether it freed anything.
 */
export function release(view: ArrayBufferView, slack = 0): boolean {
  const buffer = view.buffer;
  if (!(buffer instanceof ArrayBuffer)) return false;
  if (buffer.byteLength < RELEASE_MIN_BYTES || buffer.byteLength > view.byteLength + slack) return false;
  if (!canRelease()) return false;
  transfer!.call(buffer, 0);
  return true;
}
