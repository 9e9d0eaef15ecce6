// The "abort" message's payload, as every session speaks it: the peer layer's (server/peer/session.ts)
// and the in-memory network's (services/simulation/network.ts). A party that gives up sends the
// reason and its cause; the others turn it into the error they answer with.

import { PeerError, TimeoutError, type TesseraError } from './errors.js';
import type { AbortCause } from './peer.js';

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
  return new PeerError(`${party} aborted the computation: ${reason}`, { where: party, extra: { party: from } });
}
