// One party's side of one computation: its inbox of authenticated payloads, the instance it bound
// per sender, duplicate detection, backpressure, failure (abort, terms mismatch) and timeouts.
// The inbound path (inbound.ts) routes envelopes here; protocols see only the Session interface.

import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  BadInputError,
  ConflictError,
  LimitError,
  PeerError,
  TesseraError,
  TimeoutError,
} from '../../services/errors.js';
import type { AbortCause, Session, StageOrderCheck, Terms } from '../../services/peer.js';
import { canonicalJson } from './codec.js';
import { LARGE_PAYLOAD_BYTES, termsDigest, type EnvelopeHeader } from './envelope.js';
import type { ComputationRecord } from './observer.js';
import { pairSecretInfo } from './pair-secrets.js';
import { abortError, abortNotice } from '../../services/abort.js';

// The abort message's format lives in services/ (the in-memory network speaks it too); re-exported
// here for the code that has always imported it from the session.
export { abortError, abortNotice };

export const ABORT_STAGE = 'abort';

/** What a session needs from its node. */
export interface SessionHost {
  readonly maxInboxBytes: number;
  post(session: PeerSession, to: number, stage: string, seq: number, payload: Uint8Array, signal: AbortSignal, timeoutMs: number): Promise<void>;
  /** The pair secret shared with the party of public key `peerKey` for `info` (pair-secrets.ts). */
  pairSecret(peerKey: string, info: Uint8Array): Uint8Array;
  sessionClosed(session: PeerSession): void;
  /**
   * A message of party `i`, whose identity this session has not confirmed yet, is wanted
   * (`urgent`: a delivery of it is waiting). The node gets it confirmed (node.ts wantConfirmation).
   */
  wantConfirmation(session: PeerSession, i: number, urgent?: boolean): void;
  /** The last of this session's sends to party `i` in flight has ended (node.ts: a wanted confirmation may go ahead). */
  sendsEnded(session: PeerSession, i: number): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

interface Waiter {
  resolve(payload: Buffer): void;
  reject(err: Error): void;
}

function slot(from: number, stage: string, seq: number): string {
  return `${from}\u0000${stage}\u0000${seq}`;
}

function digest(payload: Uint8Array): Buffer {
  return createHash('sha256').update(payload).digest();
}

/**
 * What a session remembers of a payload it consumed, to tell a late duplicate from a conflicting
 * message in the same slot. A large payload (the bulk of SecureFedAvg: megabytes per message) is
 * known by its envelope, the nonce and GCM tag (`id`, envelope.ts envelopeId), not by a hash of its
 * bytes: that costs nothing per byte, where SHA-256 of every consumed payload cost a SecureFedAvg
 * party 0.16 s of CPU at 25M parameters (190 MiB; docs/performance.md, "The bulk path"). Under the pair's direction key the tag
 * authenticates the ciphertext for that nonce, so another ciphertext with the same nonce and tag
 * would be a GCM forgery (NIST SP 800-38D §5.2.1.2, §8.3), and the same ciphertext under the same
 * key and nonce is the same plaintext: equal ids mean the same message. Every honest resend of an
 * envelope is the same envelope (a carrier's retry, outbound.ts; a replay); a large payload sealed
 * afresh for a slot already consumed is refused like any other second message, whatever it holds.
 * Small payloads (and one delivered without its id: early-messages.ts) keep their SHA-256, so a
 * small message sent twice by a protocol stays an idempotent duplicate; one no longer than that
 * digest (a sum's 8-byte element, its 32-byte nonce) is kept as a copy of its bytes, which tells
 * the same apart exactly, for no hash per message.
 */
type Fingerprint = { readonly envelope: Buffer } | { readonly sha256: Buffer } | { readonly bytes: Buffer };
const DIGEST_BYTES = 32;

function fingerprint(payload: Uint8Array, id: Buffer | undefined): Fingerprint {
  if (payload.byteLength <= DIGEST_BYTES) return { bytes: Buffer.from(payload) };
  return id !== undefined && payload.byteLength > LARGE_PAYLOAD_BYTES ? { envelope: id } : { sha256: digest(payload) };
}

function sameMessage(seen: Fingerprint, payload: Uint8Array, id: Buffer | undefined): boolean {
  if ('envelope' in seen) return id !== undefined && seen.envelope.equals(id);
  if ('bytes' in seen) return seen.bytes.equals(payload);
  return seen.sha256.equals(digest(payload));
}

function shortJson(value: unknown): string {
  const text = value === undefined ? 'nothing' : canonicalJson(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export class PeerSession implements Session {
  readonly parties: number;
  readonly signal: AbortSignal;
  readonly termsJson: string;
  /** SHA-256 of termsJson, base64url: how this party's envelopes state the terms once the receiver has them (envelope.ts). */
  readonly termsDigest: string;
  /**
   * Per party, the boot of its run that is known to hold this computation's terms: it took an
   * envelope of ours that stated them in full (its receipt verified, outbound.ts), or it sent us
   * one whose terms agreed with ours (accept). Envelopes to that run state them by digest.
   */
  private readonly termsStated: (string | undefined)[];
  /** The sender instance bound per party (undefined until its first message). */
  readonly bound: (string | undefined)[];
  /**
   * Per party, while its current run is not yet proven since this session opened (node.ts open
   * with cached identities): settles once it is (or the session failed); its messages wait for it.
   */
  readonly confirmations: (Promise<void> | undefined)[] = [];
  private readonly confirmResolvers: ((() => void) | undefined)[] = [];
  /**
   * The parties a pair secret was derived with while their key was still unconfirmed here (the one
   * this server last knew): if this computation fails before confirming them, node.ts
   * sessionClosed drops those keys, so the next computation asks for the current ones.
   */
  readonly unconfirmedPairKeys = new Set<number>();
  /** The proof tick (directory.ts proofTick) at which this session opened: only later proofs confirm a party. */
  openedTick = 0;
  /** Per party: this session's sends to it still in flight (their receipts may confirm it). */
  readonly sendsInFlight: number[];
  /** Per party, node.ts bookkeeping: a confirmation was wanted while sends were in flight; an identity request is under way. */
  readonly confirmWanted: boolean[];
  readonly confirmAsking: boolean[];
  /** Deliveries waiting for a confirmation now (bounded by the inbound path). */
  confirmWaits = 0;
  private readonly controller = new AbortController();
  private readonly stageSet: Set<string>;
  private readonly inbox = new Map<string, Buffer>();
  /** The envelope ids (nonce | tag) of the inbox's payloads that came with one. */
  private readonly inboxIds = new Map<string, Buffer>();
  private inboxBytes = 0;
  private readonly consumed = new Map<string, Fingerprint>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly spaceWaiters = new Set<() => void>();
  private failure: TesseraError | undefined;
  /** The typed cause this party gave when it aborted (its own failure, as the others learn it). */
  private abortCause: AbortCause | undefined;
  private readonly joinWaiters = new Set<() => void>();
  private closed = false;
  /** Peers told of this party's abort already (tell), whom `abort` does not tell again. */
  private readonly told = new Set<number>();
  /** What the computation's log line and metrics report: sizes and counts, never contents. */
  private readonly openedAt = Date.now();
  private readonly traffic = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };
  /** Stages this party has begun sending, for the debug log of a long computation's progress. */
  private readonly stagesBegun = new Set<string>();
  private finalRecord: ComputationRecord | undefined;

  constructor(
    private readonly host: SessionHost,
    readonly uuid: string,
    readonly myself: number,
    readonly nodes: readonly string[],
    /** The authenticated public key and boot of every party (ours at `myself`). */
    readonly nodeKeys: string[],
    readonly nodeBoots: string[],
    readonly terms: Terms,
    stages: readonly string[],
    readonly timeoutMs: number,
    /** This party's computation nonce for this session (16 random bytes, base64url). */
    readonly instance: string,
    /** canonicalJson(terms), when the opener has it already (node.ts open). */
    termsJson: string = canonicalJson(terms),
  ) {
    this.parties = nodes.length;
    this.signal = this.controller.signal;
    // Every concurrent wait (one per party and streamed chunk) listens on this signal: with many
    // parties that legitimately exceeds Node's default of 10 listeners.
    setMaxListeners(0, this.signal);
    this.termsJson = termsJson;
    this.termsDigest = termsDigest(termsJson);
    this.termsStated = nodes.map(() => undefined);
    this.stageSet = new Set(stages);
    this.bound = nodes.map(() => undefined);
    this.sendsInFlight = nodes.map(() => 0);
    this.confirmWanted = nodes.map(() => false);
    this.confirmAsking = nodes.map(() => false);
  }

  /**
   * How the next envelope to party `to` states the terms: in full until that party's current run
   * (as this session knows it, nodeBoots) is known to hold them, then by their digest. Known in
   * one of two ways. (a) It took an envelope of ours that stated them: every envelope it takes
   * from us after that one is compared after it (a delivery is answered only once routed or held,
   * and held ones are adopted in arrival order, node.ts adopt), so our full terms are compared
   * first and a disagreement is reported with what differs (termsConflict). (b) It sent us an
   * envelope whose terms agreed with ours: its terms are ours, so our digest is its digest (had
   * they differed, we would have refused that envelope, naming what differs, and failed).
   */
  termsFor(to: number): { readonly terms: Terms } | { readonly termsDigest: string } {
    return this.termsStated[to] !== undefined && this.termsStated[to] === this.nodeBoots[to] ? { termsDigest: this.termsDigest } : { terms: this.terms };
  }

  /** The receipt of `header`, sealed by this session to party `to`, verified: its run has the terms if the header stated them. */
  delivered(to: number, header: EnvelopeHeader): void {
    if (header.terms !== undefined) this.termsStated[to] = header.receiverBoot;
  }

  /** Party `i`'s messages wait (inbound.ts) until `confirmed(i)` or this session fails. */
  awaitConfirmation(i: number): void {
    this.confirmations[i] = new Promise<void>((resolve) => {
      this.confirmResolvers[i] = resolve;
    });
  }

  /** Party `i`'s current run is proven: its waiting messages go on. */
  confirmed(i: number): void {
    this.confirmations[i] = undefined;
    this.confirmResolvers[i]?.();
    this.confirmResolvers[i] = undefined;
  }

  party(i: number): string {
    return `party ${i} (${this.nodes[i]})`;
  }

  /** Binds party `from`'s computation instance (its first message of this computation). */
  bind(from: number, instance: string): void {
    if (this.bound[from] !== undefined) return;
    this.bound[from] = instance;
    for (const wake of [...this.joinWaiters]) wake();
  }

  private hasEveryone(): boolean {
    return this.bound.every((b, i) => b !== undefined || i === this.myself);
  }

  whenJoined(timeoutMs: number = this.timeoutMs, peer?: number): Promise<boolean> {
    const joined = peer === undefined ? () => this.hasEveryone() : () => this.bound[peer] !== undefined;
    if (joined()) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    // A party not yet confirmed may have messages held for it here: have it confirmed.
    this.bound.forEach((b, i) => {
      if (b === undefined && i !== this.myself && (peer === undefined || i === peer) && this.confirmations[i] !== undefined) this.host.wantConfirmation(this, i);
    });
    return new Promise<boolean>((resolve) => {
      const done = (result: boolean) => {
        clearTimeout(timer);
        this.joinWaiters.delete(wake);
        resolve(result);
      };
      // Woken at every bind and at close: a waiter for one peer checks that peer.
      const wake = () => {
        if (this.closed || joined()) done(joined());
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.joinWaiters.add(wake);
    });
  }

  private checkPeer(index: unknown, field: string): number {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= this.parties || index === this.myself) {
      throw new BadInputError(`${field} must be the index of another party (0..${this.parties - 1}, not ${this.myself})`, { where: field });
    }
    return index;
  }

  /** The protocol's declared order, if any (OpenOptions.order), and each sender's last stage. */
  order: StageOrderCheck | undefined;
  private readonly lastStage = new Map<number, string>();

  private checkOrder(from: number, stage: string): void {
    if (this.order === undefined) return;
    const previous = this.lastStage.get(from);
    if (!this.order.allows(previous, stage)) {
      throw new ConflictError(`${this.party(from)} sent a "${stage}" message after "${previous ?? '(none)'}": out of order for this protocol`, {
        where: this.party(from),
      });
    }
    this.lastStage.set(from, stage);
  }

  private checkStage(stage: unknown, field: string): string {
    if (typeof stage !== 'string' || !this.stageSet.has(stage)) {
      throw new BadInputError(`stage ${JSON.stringify(stage)} is not declared by this protocol (${[...this.stageSet].join(', ')})`, { where: field });
    }
    return stage;
  }

  private checkSeq(seq: unknown): number {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      throw new BadInputError('seq must be a non-negative integer', { where: 'seq' });
    }
    return seq;
  }

  async send(to: number, stage: string, payload: Uint8Array, seq = 0): Promise<void> {
    this.checkPeer(to, 'to');
    this.checkStage(stage, 'stage');
    this.checkSeq(seq);
    if (this.failure) throw this.failure;
    if (!this.stagesBegun.has(stage)) {
      this.stagesBegun.add(stage);
      this.host.debug(
        { uuid: this.uuid, party: this.myself, stage, stagesDone: this.stagesBegun.size - 1, stages: this.stageSet.size, ms: Date.now() - this.openedAt },
        `computation ${this.uuid}: stage ${stage}`,
      );
    }
    this.sendsInFlight[to] = (this.sendsInFlight[to] ?? 0) + 1;
    try {
      await this.host.post(this, to, stage, seq, payload, this.signal, this.timeoutMs);
    } finally {
      this.sendsInFlight[to] -= 1;
      if (this.sendsInFlight[to] === 0) this.host.sendsEnded(this, to);
    }
    this.traffic.bytesSent += payload.byteLength;
    this.traffic.messagesSent += 1;
  }

  receive(from: number, stage: string, seq = 0, timeoutMs = this.timeoutMs): Promise<Uint8Array> {
    try {
      this.checkPeer(from, 'from');
      this.checkStage(stage, 'stage');
      this.checkSeq(seq);
    } catch (err) {
      return Promise.reject(err);
    }
    const key = slot(from, stage, seq);
    const ready = this.inbox.get(key);
    if (ready) return Promise.resolve(this.take(key, ready));
    if (this.failure) return Promise.reject(this.failure);
    if (this.confirmations[from] !== undefined) this.host.wantConfirmation(this, from);
    if (this.waiters.has(key)) {
      return Promise.reject(new BadInputError(`already waiting for ${stage}[${seq}] from ${this.party(from)}`, { where: 'stage' }));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(
          new TimeoutError(`${this.party(from)} sent no "${stage}" message within ${timeoutMs} ms${this.silentParties()}`, {
            where: this.party(from),
            extra: { party: from, stage, missing: [from] },
          }),
        );
      }, timeoutMs);
      this.waiters.set(key, {
        resolve: (payload) => {
          clearTimeout(timer);
          resolve(payload);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  pairSecret(peer: number, context: Uint8Array): Uint8Array {
    this.checkPeer(peer, 'peer');
    if (this.confirmations[peer] !== undefined) this.unconfirmedPairKeys.add(peer);
    return this.host.pairSecret(this.nodeKeys[peer]!, pairSecretInfo(this.uuid, this.termsJson, this.myself, peer, context));
  }

  /**
   * The parties nothing at all has come from in this computation, for a timeout's message: the
   * usual cause is that their clients have not started it (the parties must run together).
   */
  private silentParties(): string {
    const silent = this.nodes.map((_, i) => i).filter((i) => i !== this.myself && this.bound[i] === undefined);
    if (silent.length === 0) return '';
    return `; nothing at all has come from ${silent.map((i) => this.party(i)).join(', ')}: every party's client must start this computation (same nodes and uuid) at about the same time`;
  }

  private take(key: string, payload: Buffer): Buffer {
    this.inbox.delete(key);
    this.inboxBytes -= payload.length;
    // Remember what was consumed, so a late duplicate is told apart from a conflicting resend.
    this.consumed.set(key, fingerprint(payload, this.inboxIds.get(key)));
    this.inboxIds.delete(key);
    for (const wake of this.spaceWaiters) wake();
    return payload;
  }

  /**
   * Accepts one authenticated message of this session's bound instance from party `from`.
   * `buffered` messages were already counted against the node's buffer: never wait for them.
   * Throws (the sender sees it) on a terms mismatch, an undeclared stage or a conflicting duplicate.
   * `from` is the sender's index here: `header.from` unless its node list is not ours (inbound.ts
   * senderIndex), when only the terms conflict can follow. `id`: the envelope's nonce | tag, by
   * which a large payload is remembered once consumed (Fingerprint).
   */
  async accept(header: EnvelopeHeader, payload: Buffer, buffered = false, from = header.from, id?: Buffer): Promise<void> {
    if (this.closed || this.failure) {
      if (header.stage === ABORT_STAGE) return;
      // Say why: a sender that arrives after the failure must learn its cause, not blame us.
      const why = this.failure ? `: ${this.failure.message}` : '';
      throw new ConflictError(`computation ${this.uuid} is already finished or aborted here${why}`.slice(0, 1000), {
        where: this.failure?.where ?? this.party(this.myself),
      });
    }
    if (header.stage === ABORT_STAGE) {
      this.fail(abortError(this.party(from), from, payload));
      return;
    }
    if (!this.agreesWith(header)) {
      const err = header.terms !== undefined ? this.termsConflict(from, header.terms) : this.digestConflict(from, header.termsDigest);
      this.fail(err);
      void this.abort(err.message);
      throw err;
    }
    // Its run holds our terms: what we send it from now on states them by digest (termsFor).
    if (from === header.from) this.termsStated[from] = header.senderBoot;
    if (header.to !== this.myself) {
      throw new BadInputError(`message addressed to party ${header.to}, but this server is party ${this.myself}`, { where: 'envelope.header.to' });
    }
    this.checkStage(header.stage, 'envelope.header.stage');
    this.checkOrder(from, header.stage);
    const key = slot(from, header.stage, header.seq);
    if (this.isDuplicate(key, payload, id)) return;
    // Backpressure: while the inbox holds more than its limit of unconsumed bytes, hold the
    // sender's request (bounded by the stage timeout) unless a receive is waiting for exactly this.
    if (!buffered) {
      const deadline = Date.now() + this.timeoutMs;
      // Each held delivery keeps its (already read) body in memory: hold a few, refuse the rest,
      // so a sender that fires its chunks in parallel cannot defeat the bound.
      const mustWait = () => !this.waiters.has(key) && this.inboxBytes > 0 && this.inboxBytes + payload.length > this.host.maxInboxBytes;
      if (mustWait() && this.spaceWaiters.size >= 2 * this.parties) {
        throw new LimitError(`the inbox of computation ${this.uuid} is full; send chunks one after the other`, { where: this.party(from) });
      }
      while (mustWait()) {
        await this.waitForSpace(deadline, from);
        if (this.failure) throw new ConflictError(`computation ${this.uuid} was aborted here`, { where: this.party(this.myself) });
        if (this.isDuplicate(key, payload, id)) return;
      }
    }
    this.traffic.bytesReceived += payload.length;
    this.traffic.messagesReceived += 1;
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      this.consumed.set(key, fingerprint(payload, id));
      waiter.resolve(payload);
      return;
    }
    this.inbox.set(key, payload);
    if (id !== undefined) this.inboxIds.set(key, id);
    this.inboxBytes += payload.length;
  }

  /**
   * Whether accept() would take this message as far as its header says (same terms, addressed to
   * this party, a declared stage, session running): what the inbound path checks before it holds
   * a message of a sender still being confirmed, so a message accept() refuses is refused to its sender.
   */
  /** Whether `header` states this session's terms (in full or by digest), as every party of it must. */
  agreesWith(header: EnvelopeHeader): boolean {
    return header.terms !== undefined ? canonicalJson(header.terms) === this.termsJson : header.termsDigest === this.termsDigest;
  }

  wouldTake(header: EnvelopeHeader): boolean {
    return !this.closed && this.failure === undefined && header.to === this.myself && this.stageSet.has(header.stage) &&
      this.agreesWith(header);
  }

  /** True for an identical resend (accepted idempotently); throws for a conflicting one. */
  private isDuplicate(key: string, payload: Buffer, id: Buffer | undefined): boolean {
    const held = this.inbox.get(key);
    const seen = held === undefined ? this.consumed.get(key) : undefined;
    if (held === undefined && seen === undefined) return false;
    const same = held !== undefined ? held.equals(payload) : sameMessage(seen!, payload, id);
    if (same) return true;
    const [from, stage, seq] = key.split('\u0000');
    throw new ConflictError(`${this.party(Number(from))} sent two different "${stage}" messages with seq ${seq}`, {
      where: this.party(Number(from)),
    });
  }

  private waitForSpace(deadline: number, from: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        this.spaceWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.spaceWaiters.delete(wake);
        reject(new LimitError(`the inbox of computation ${this.uuid} stayed full; ${this.party(from)} must wait`, { where: this.party(from) }));
      }, Math.max(0, deadline - Date.now()));
      this.spaceWaiters.add(wake);
    });
  }

  private termsConflict(from: number, theirs: Terms): ConflictError {
    const ours = this.terms as Record<string, unknown>;
    const other = theirs as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ours), ...Object.keys(other)])].sort();
    // microprotocol and nodes first: they explain most disagreements.
    keys.sort((a, b) => Number(b === 'microprotocol') - Number(a === 'microprotocol') || Number(b === 'nodes') - Number(a === 'nodes'));
    const key = keys.find((k) => canonicalJson(ours[k]) !== canonicalJson(other[k])) ?? 'terms';
    return new ConflictError(
      `${this.party(from)} disagrees on ${key}: ${shortJson(ours[key])} here, ${shortJson(other[key])} there`,
      { where: this.party(from), extra: { party: from, term: key } },
    );
  }

  /**
   * A header that states the terms by a digest that is not ours. An honest sender states them by
   * digest only after this run took an envelope of it stating them in full, which was compared
   * first (termsFor), and what differs was reported then. So this one came from a sender that did
   * not follow that order: all that can be said is that the digests differ, and what ours are of.
   */
  private digestConflict(from: number, theirs: string | undefined): ConflictError {
    return new ConflictError(
      `${this.party(from)} disagrees on the terms: its message states them by the digest ${theirs ?? 'nothing'}, ` +
        `the terms here have the digest ${this.termsDigest} (SHA-256 of ${shortJson(this.terms)})`,
      { where: this.party(from), extra: { party: from, term: 'termsDigest' } },
    );
  }

  /** Fails every local wait with `err` and frees the inbox; the first failure wins. */
  fail(err: TesseraError): void {
    if (this.failure) return;
    this.failure = err;
    this.controller.abort(err);
    // Deliveries waiting for a confirmation go on, and are refused with this failure (accept).
    // The pending confirmations stay set: sessionClosed reads them.
    for (const resolve of this.confirmResolvers) resolve?.();
    this.confirmResolvers.length = 0;
    for (const waiter of this.waiters.values()) waiter.reject(err);
    this.waiters.clear();
    for (const wake of this.spaceWaiters) wake();
    this.inbox.clear();
    this.inboxIds.clear();
    this.inboxBytes = 0;
  }

  async abort(reason: string, cause?: AbortCause): Promise<void> {
    this.abortCause ??= cause ?? { slug: 'peer-failed' };
    this.fail(new PeerError(`this party aborted the computation: ${reason}`, { where: this.party(this.myself) }));
    await Promise.all(this.nodes.map((_, i) => this.tell(i, reason, cause)));
  }

  async tell(peer: number, reason: string, cause?: AbortCause): Promise<void> {
    if (peer === this.myself || this.told.has(peer)) return;
    this.told.add(peer);
    this.abortCause ??= cause ?? { slug: 'peer-failed' };
    const timeoutMs = Math.min(this.timeoutMs, 5000);
    try {
      await this.host.post(this, peer, ABORT_STAGE, 0, abortNotice(reason, cause), AbortSignal.timeout(timeoutMs), timeoutMs);
    } catch (err) {
      this.host.warn({ uuid: this.uuid, party: this.party(peer), err: (err as Error).message }, 'could not deliver abort');
    }
  }

  /** This computation as the operations side sees it (server/peer/observer.ts). */
  record(): ComputationRecord {
    if (this.finalRecord !== undefined) return this.finalRecord;
    const cause = this.abortCause ?? this.failure;
    return {
      uuid: this.uuid,
      microprotocol: this.terms.microprotocol,
      myself: this.myself,
      nodes: this.nodes,
      durationMs: Date.now() - this.openedAt,
      ...this.traffic,
      outcome: cause === undefined ? 'ok' : (cause.slug ?? 'peer-failed'),
      ...(cause?.where !== undefined ? { where: cause.where } : {}),
    };
  }

  close(): void {
    if (this.closed) return;
    // The outcome is read before close() records its own "closed" failure.
    this.finalRecord = this.record();
    this.fail(new PeerError(`computation ${this.uuid} is closed`, { where: this.party(this.myself) }));
    this.closed = true;
    for (const wake of this.joinWaiters) wake();
    this.consumed.clear();
    this.host.sessionClosed(this);
  }
}
