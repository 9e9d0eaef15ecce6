// The stage machine on top of a peer Session (services/peer.ts). A protocol declares its stages
// once (defineStages); each stage is a scatter/broadcast of this party's messages and a gather
// that completes when it holds exactly one valid message from each expected sender — senders are
// counted by party, not messages (duplicates are resolved by the Session: an identical one is
// ignored, a conflicting one refused). A gather fails fast on the first failing sender and its
// error names that party; runProtocol turns any failure into an abort the other parties see at
// once instead of waiting for their timeout.

import { BadInputError, ConflictError, PeerError, TesseraError, TimeoutError, TooLargeError } from '../errors.js';
import type { Session } from '../peer.js';
import { abortAsPeersJoin } from '../abort.js';
import type { Deliveries } from './deliveries.js';

/** The ordered stage list (`all`, for Session OpenOptions.stages) and one constant per stage. */
export type Stages<N extends readonly string[]> = { readonly all: N } & { readonly [K in N[number]]: K };
/** The union of a protocol's stage names: `StageOf<typeof SECURE_SUM_STAGES>`. */
export type StageOf<S extends { readonly all: readonly string[] }> = S['all'][number];

/** A stage name, or a sub-protocol's stage under its id: "sum.shares", "minmax.partials". */
const STAGE_NAME = /^[a-z][A-Za-z0-9_-]*(\.[a-z][A-Za-z0-9_-]*)*$/;

export function defineStages<const N extends readonly string[]>(names: N): Stages<N> {
  const seen = new Set<string>();
  for (const name of names) {
    if (!STAGE_NAME.test(name) || name === 'all' || seen.has(name)) {
      throw new BadInputError(`invalid or repeated stage name ${JSON.stringify(name)}`, { where: 'stages' });
    }
    seen.add(name);
  }
  if (seen.size === 0) throw new BadInputError('a protocol needs at least one stage', { where: 'stages' });
  const stages: Record<string, unknown> = { all: Object.freeze([...names]) };
  for (const name of names) stages[name] = name;
  return Object.freeze(stages) as Stages<N>;
}

/**
 * A sub-protocol's stages under a deterministic id, so one microprotocol can run several
 * sub-protocols in one session without their messages meeting: `subProtocol('moments',
 * VECTOR_SUM_STAGES)` names its stages "moments.shares" and "moments.partials". The id is chosen
 * by the calling code (never by a peer), as FSC derives a sub-task's id from its parent's and JIFF
 * its operation ids from a counter every party advances alike. A sub-protocol that runs several
 * times (the rounds of a search) numbers its runs with `seq`.
 */
export type SubStages<N extends readonly string[]> = { readonly all: readonly string[] } & { readonly [K in N[number]]: string };

export function subProtocol<const N extends readonly string[]>(id: string, stages: Stages<N>): SubStages<N> {
  const named: Record<string, unknown> = {};
  const all = stages.all.map((stage) => `${id}.${stage}`);
  defineStages(all); // the same rules: valid, distinct names
  stages.all.forEach((stage, i) => {
    named[stage] = all[i];
  });
  named['all'] = Object.freeze(all);
  return Object.freeze(named) as SubStages<N>;
}

/**
 * The order in which one sender's messages may arrive, declared once per protocol (Flower's
 * secure aggregation checks every message's stage against its state machine the same way).
 * Stages are in protocol order: after a message of stage i, a sender may send stage i again
 * (another chunk or another party's share), or any later stage (it may send us nothing in the
 * stages between), or, along a declared `loop` edge [last, first], start a sub-protocol's next
 * run. Anything else — an earlier stage, a stage of a finished loop's past — is out of order.
 * A block whose steps await their sends' receipts before the next stage delivers, per sender, in
 * the order it sent. A block that does not wait (deliveries.ts: the order blocks, the secure
 * vector sum's last stage, in StatisticsUnivariate) may have its next stage's message overtake the
 * last one on the way; it names each such overtaking as a `loop` edge (order/stages.ts circuitLoops), so
 * an honest party never trips this check and everything else stays refused.
 */
export class StageOrder {
  readonly #index: ReadonlyMap<string, number>;
  readonly #loops: ReadonlySet<string>;

  constructor(
    readonly stages: readonly string[],
    loops: readonly (readonly [from: string, to: string])[] = [],
  ) {
    this.#index = new Map(stages.map((s, i) => [s, i]));
    for (const [from, to] of loops) {
      const a = this.#index.get(from);
      const b = this.#index.get(to);
      if (a === undefined || b === undefined || b > a) {
        throw new BadInputError(`loop ${from} -> ${to} must go back to an earlier declared stage`, { where: 'stages' });
      }
    }
    this.#loops = new Set(loops.map(([from, to]) => `${from}\u0000${to}`));
  }

  /** Whether a sender whose last message was for `previous` (undefined: none yet) may send `next`. */
  allows(previous: string | undefined, next: string): boolean {
    const j = this.#index.get(next);
    if (j === undefined) return false;
    if (previous === undefined) return true;
    const i = this.#index.get(previous);
    if (i === undefined) return false;
    return j >= i || this.#loops.has(`${previous}\u0000${next}`);
  }

  /** A per-session tracker: `accept(from, stage)` throws ConflictError on an out-of-order message. */
  tracker(describe: (party: number) => string): (from: number, stage: string) => void {
    const last = new Map<number, string>();
    return (from, stage) => {
      const previous = last.get(from);
      if (!this.allows(previous, stage)) {
        throw new ConflictError(
          `${describe(from)} sent a "${stage}" message after "${previous ?? '(none)'}": out of order for this protocol`,
          { where: describe(from) },
        );
      }
      last.set(from, stage);
    };
  }
}

/** "party 2 (http://127.0.0.1:55503)": how errors name a peer. */
export function partyName(session: Session, index: number): string {
  return `party ${index} (${session.nodes[index] ?? 'unknown node'})`;
}

export interface StageOptions {
  /** Chunk number within a streamed stage (default 0). */
  readonly seq?: number;
  /** Overrides the session's per-wait timeout. */
  readonly timeoutMs?: number;
  /**
   * Sends that are not awaited (deliveries.ts). scatter/broadcast then resolve once their sends
   * are under way, tracked there, instead of on their receipts; gather fails with the first
   * tracked send that failed (a message that was never delivered would only show as the peer's
   * silence) as well as with its own failures. Whoever made the tracker awaits its settled()
   * before the session closes. The session's stage order must then allow the overtakings this
   * makes possible (a sender's next stage may arrive before its last one).
   */
  readonly deliveries?: Deliveries;
}

/** Every party but this one, in index order. */
export function otherParties(session: Session): number[] {
  return Array.from({ length: session.parties }, (_, i) => i).filter((i) => i !== session.myself);
}

function checkPeers(session: Session, peers: readonly number[], stage: string): void {
  const seen = new Set<number>();
  for (const p of peers) {
    if (!Number.isInteger(p) || p < 0 || p >= session.parties || p === session.myself || seen.has(p)) {
      throw new BadInputError(`stage ${stage}: invalid or repeated peer index ${p}`, { where: 'stages' });
    }
    seen.add(p);
  }
}

/**
 * Errors keep their type when they already name a place; anything else (a decoder's own error,
 * a bare Error from a transport) becomes a PeerError naming the party, so the problem a client
 * sees always says which party failed.
 */
function blame(err: unknown, session: Session, from: number, stage: string, what: string): TesseraError {
  const party = partyName(session, from);
  if (err instanceof TesseraError && err.where !== undefined && !(err instanceof BadInputError)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof TimeoutError) {
    return new TimeoutError(`stage ${stage}: ${party} did not send in time`, { where: party, extra: { missing: [from] } });
  }
  return new PeerError(`stage ${stage}: ${what} ${party}: ${message}`, { where: party });
}

/**
 * Rejects with the session's failure once its signal fires, so a wait (a gather, a party waiting
 * for its own model) does not outlive an abort. `dispose` removes the listener when the wait ends.
 */
export function whenAborted(session: Session): { promise: Promise<never>; dispose: () => void } {
  let dispose = () => {};
  const promise = new Promise<never>((_, reject) => {
    const fail = () => {
      const reason: unknown = session.signal.reason;
      reject(reason instanceof TesseraError ? reason : new PeerError(`session failed: ${reason instanceof Error ? reason.message : String(reason)}`));
    };
    if (session.signal.aborted) return fail();
    session.signal.addEventListener('abort', fail, { once: true });
    dispose = () => session.signal.removeEventListener('abort', fail);
  });
  promise.catch(() => {}); // the race below reports it; never an unhandled rejection
  return { promise, dispose };
}

/**
 * Receives this stage's message from every sender concurrently and decodes each. Resolves with
 * one decoded value per sender (in `senders` order) once all have arrived; rejects on the first
 * failure — a timeout, an abort, or a message `decode` refuses — naming the party.
 */
export async function gather<T>(
  session: Session,
  stage: string,
  senders: readonly number[],
  decode: (payload: Uint8Array, from: number) => T,
  options: StageOptions = {},
): Promise<Map<number, T>> {
  checkPeers(session, senders, stage);
  const aborted = whenAborted(session);
  try {
    const received = senders.map(async (from): Promise<[number, T]> => {
      let payload: Uint8Array;
      try {
        payload = await session.receive(from, stage, options.seq ?? 0, options.timeoutMs);
      } catch (err) {
        throw blame(err, session, from, stage, 'receiving from');
      }
      try {
        return [from, decode(payload, from)];
      } catch (err) {
        throw blame(err, session, from, stage, 'invalid message from');
      }
    });
    const all = Promise.race([allOrEveryMissing(received, session, stage, senders), aborted.promise]);
    return new Map(await (options.deliveries === undefined ? all : options.deliveries.race(all)));
  } finally {
    aborted.dispose();
  }
}

/**
 * All results, or the first failure; but when the first failure is a timeout, the error names
 * every sender that did not arrive, not only the first (their waits started together with one
 * timeout, so the others settle within moments): a client learns at once which parties to chase.
 */
async function allOrEveryMissing<T>(received: Promise<T>[], session: Session, stage: string, senders: readonly number[]): Promise<T[]> {
  try {
    return await Promise.all(received);
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    const outcomes = await Promise.allSettled(received);
    const missing = senders.filter((_, k) => {
      const o = outcomes[k]!;
      return o.status === 'rejected' && o.reason instanceof TimeoutError;
    });
    if (missing.length <= 1) throw err;
    const names = missing.map((p) => partyName(session, p)).join(', ');
    // Keep the session's hint when nothing at all came from some party (their clients did not start).
    const hint = /; nothing at all has come from .*/s.exec(err.message)?.[0] ?? '';
    throw new TimeoutError(`stage ${stage}: ${names} did not send in time${hint}`, { where: names, extra: { missing } });
  }
}

/**
 * Sends `payloadFor(to)` to each of `to` (default: every other party) concurrently; resolves on
 * their receipts, or at once with `options.deliveries` (the sends are tracked there).
 */
export async function scatter(
  session: Session,
  stage: string,
  payloadFor: (to: number) => Uint8Array,
  options: StageOptions & { readonly to?: readonly number[] } = {},
): Promise<void> {
  const recipients = options.to ?? otherParties(session);
  checkPeers(session, recipients, stage);
  const sending = Promise.all(
    recipients.map(async (to) => {
      const payload = payloadFor(to);
      try {
        await session.send(to, stage, payload, options.seq ?? 0);
      } catch (err) {
        throw blame(err, session, to, stage, 'sending to');
      }
    }),
  ).then(() => undefined);
  if (options.deliveries !== undefined) options.deliveries.track(sending);
  else await sending;
}

/** The same payload to every other party. */
export function broadcast(session: Session, stage: string, payload: Uint8Array, options: StageOptions = {}): Promise<void> {
  return scatter(session, stage, () => payload, options);
}

/** Failures every party raises by itself (see raisedByEveryParty). */
const everyPartyRaises = new WeakSet<object>();

/**
 * Marks a failure that follows only from values every party already holds (for instance the
 * shapes both parties of a product received and acknowledged): each party reaches the same check
 * and raises the same error, so runProtocol tells no peer. An abort notice would race the peer's
 * own check and could replace its clear 409 or 413 with a 502 naming this party.
 */
export function raisedByEveryParty<E extends Error>(err: E): E {
  everyPartyRaises.add(err);
  return err;
}

/** How long a party whose own input is bad waits to hear from a peer before it tells that peer anyway. */
const JOIN_WAIT_MS = 3_000;

/** How long a failing party waits for its abort notices before giving up on them. */
const ABORT_GRACE_MS = 2_000;

/**
 * Runs a protocol body on an open session. On failure it tells the other parties (best effort,
 * bounded wait) so they fail promptly naming this party, and rethrows the original error; the
 * session is closed either way. The abort reason carries only our own typed error's message
 * (which names a place, never a secret value), not arbitrary exception text.
 *
 * A party that fails on its own input (a BadInputError before any peer failed) answers its client
 * at once, and sends its notice to each other party once that party has joined (bounded by
 * JOIN_WAIT_MS): a notice sent to a party whose client has not called yet would name no
 * computation there (server/peer/inbound.ts route), whereas one sent to a party that joined fails
 * it at once.
 */
export async function runProtocol<T>(
  session: Session,
  body: () => Promise<T>,
  options: { readonly abortGraceMs?: number; readonly tellPeers?: (err: unknown) => boolean } = {},
): Promise<T> {
  let result: T;
  try {
    result = await body();
  } catch (err) {
    // A failure that concerns this party alone (e.g. a FedAvg party the others left out and
    // continue without), or one every party raises by itself: close quietly, the peers must not
    // fail for it.
    if (options.tellPeers?.(err) === false || (typeof err === 'object' && err !== null && everyPartyRaises.has(err))) {
      session.close();
      throw err;
    }
    const ownInput = (err instanceof BadInputError || err instanceof TooLargeError) && !session.signal.aborted;
    const notified = abortPeers(session, err, ownInput, options.abortGraceMs ?? ABORT_GRACE_MS);
    if (!ownInput) await notified;
    throw err;
  }
  session.close();
  return result;
}

/** Tells the peers (bounded by `graceMs` once sent), then closes the session; never rejects. */
async function abortPeers(session: Session, err: unknown, waitForJoin: boolean, graceMs: number): Promise<void> {
  // Our own typed error's place and kind, so the others learn who is at fault, e.g.
  // "… (at party 2 (http://…))". A bad input is named by its field only: its message may
  // describe the value, and nothing of a party's input leaves it.
  const reason =
    err instanceof BadInputError
      ? `${err.name}: invalid input${err.where !== undefined ? ` at ${err.where}` : ''}${typeof err.extra?.element === 'number' ? `, element ${err.extra.element}` : ''}`.slice(0, 500)
      : err instanceof TesseraError
        ? `${err.name}: ${err.message}${err.where !== undefined && !err.message.includes(err.where) ? ` (at ${err.where})` : ''}`.slice(0, 500)
        : 'internal error';
  // A party this one could not reach at all is passed on like one that never arrived: every party's
  // problem then names it (a 504), and a FedAvg round with min_parties can leave it out.
  const unreachable = err instanceof PeerError && err.where !== undefined && /^cannot reach party \d+ \(/.test(err.message);
  const slug = unreachable ? 'timeout' : err instanceof TesseraError ? err.slug : undefined;
  const cause = err instanceof TesseraError ? { slug: slug!, ...(err.where !== undefined ? { where: err.where } : {}) } : undefined;
  try {
    // With waitForJoin, each peer is told once it has been heard from, so the notice reaches the
    // computation running there and fails it at once (services/abort.ts abortAsPeersJoin). The
    // wait is bounded: in a protocol whose first messages go around a ring, a party may hear from
    // some peers only late, and in the vector sum's star a leaf never hears from another leaf.
    await abortAsPeersJoin(session, reason, cause, waitForJoin ? JOIN_WAIT_MS : 0, graceMs);
  } finally {
    session.close();
  }
}
