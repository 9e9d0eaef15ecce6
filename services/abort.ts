// The "abort" message's payload, as every session speaks it: the peer layer's (server/peer/session.ts)
// and the in-memory network's (services/simulation/network.ts). A party that gives up sends the
// reason and its cause; the others turn it into the error they answer with.

import { PeerError, TimeoutError, type TesseraError } from './errors.js';
import type { AbortCause, Session } from './peer.js';

const MAX_REASON_CHARS = 1000;

/** The payload of an "abort" message. */
export interface AbortNotice {
  reason: string;
  slug?: string;
  where?: string;
}

/** The payload of the "abort" message: the reason, cut short, and its cause (slug, where). */
export function abortNotice(reason: string, cause?: AbortCause): Buffer {
  const notice: AbortNotice = { reason: String(reason).slice(0, MAX_REASON_CHARS), ...cause };
  return Buffer.from(JSON.stringify(notice), 'utf8');
}

/**
 * The error a party raises when a peer aborts. A peer that gave up waiting for someone passes the
 * timeout on: every party answers 504 naming the party that never arrived (whoever timed out
 * first). Any other abort is the aborting party's failure: 502 naming it.
 */
export function abortError(party: string, from: number, payload: Buffer): TesseraError {
  let notice: AbortNotice = { reason: payload.toString('utf8') };
  try {
    const parsed = JSON.parse(notice.reason) as unknown;
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as AbortNotice).reason === 'string') notice = parsed as AbortNotice;
  } catch {
    // A plain-text reason.
  }
  const reason = notice.reason.slice(0, MAX_REASON_CHARS);
  if (notice.slug === 'timeout' && typeof notice.where === 'string' && /^party \d+ \(/.test(notice.where)) {
    // Every party the notice names as missing, as indices a client can act on (problem extra).
    const missing = [...notice.where.matchAll(/party (\d+) \(/g)].map((m) => Number(m[1]));
    return new TimeoutError(`${party} gave up waiting: ${reason}`, { where: notice.where.slice(0, 300), extra: { party: from, missing } });
  }
  // A party that failed because of another one names it (a party passing on an abort it was told,
  // as the vector sum's aggregator does for its leaves, or one refusing a peer's message): the
  // problem names that party, which the client can act on, and the detail says who passed it on.
  const culprit = typeof notice.where === 'string' ? /^party (\d+) \(/.exec(notice.where) : null;
  if (culprit !== null) {
    return new PeerError(`${party} aborted the computation: ${reason}`, { where: notice.where!.slice(0, 300), extra: { party: Number(culprit[1]) } });
  }
  return new PeerError(`${party} aborted the computation: ${reason}`, { where: party, extra: { party: from } });
}

/** `promise`, or nothing once `ms` have passed (undefined: no bound); never rejects. */
async function bounded(promise: Promise<void>, ms: number | undefined): Promise<void> {
  const settled = promise.catch(() => {});
  if (ms === undefined) return settled;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Tells every other party that this party gives up, each peer as soon as it has joined this
 * computation (sent it a message), then aborts: local waits fail and the peers not told yet (those
 * that did not join within `joinWaitMs`, default the stage timeout) are told. Each notice is
 * bounded by `graceMs` once sent. Never rejects.
 *
 * Why wait at all: a notice reaches a computation only where that peer's client has called, and
 * a peer that has sent us something has. Why per peer: a peer that never sends this party anything
 * in the protocol (one leaf to another in the vector sum's star) must not hold up the notice to
 * those that do; the star's aggregator hears it at once, fails, and tells the other leaves itself.
 */
export async function abortAsPeersJoin(session: Session, reason: string, cause: AbortCause | undefined, joinWaitMs?: number, graceMs?: number): Promise<void> {
  const others = Array.from({ length: session.parties }, (_, i) => i).filter((i) => i !== session.myself);
  // Once the session fails meanwhile (a peer told us it aborted, typically passing our own notice
  // on), that peer has told every party it could: waiting longer for the others gains nothing.
  let stopWaiting = (): void => {};
  const failed = new Promise<false>((resolve) => (stopWaiting = () => resolve(false)));
  if (session.signal.aborted) stopWaiting();
  else session.signal.addEventListener('abort', stopWaiting, { once: true });
  try {
    await Promise.all(
      others.map(async (peer) => {
        const joined = await Promise.race([session.whenJoined(joinWaitMs, peer).catch(() => false), failed]);
        if (joined) await bounded(session.tell(peer, reason, cause), graceMs);
      }),
    );
  } finally {
    session.signal.removeEventListener('abort', stopWaiting);
  }
  await bounded(session.abort(reason, cause), graceMs);
}
