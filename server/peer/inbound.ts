// The inbound path: what happens to an envelope that arrives (POST /peer/messages, or any other
// carrier of the same bytes). It is bounded in size, addressed to this server's current run,
// opened (authenticated decryption: the header is the associated data), checked against the
// replay window and the sender's current boot, then routed to the session it belongs to, or
// parked in the early-message buffer until that session opens.

import { ConflictError, ForbiddenError, LimitError, TesseraError, TooLargeError, UnauthenticatedError } from '../../services/errors.js';
import { INFLIGHT_BUSY } from '../http/body.js';
import { handOver } from '../../services/common/release.js';
import type { Logger } from '../../services/microservice.js';
import { normaliseNodeUrl } from './codec.js';
import type { PeerDirectory } from './directory.js';
import type { EarlyMessages } from './early-messages.js';
import { ENVELOPE_OVERHEAD, envelopeId, LARGE_PAYLOAD_BYTES, MAX_HEADER_BYTES, parseEnvelope, type ChannelKeys, type EnvelopeHeader } from './envelope.js';
import type { Identity } from './identity.js';
import type { PeerObserver } from './observer.js';
import { ABORT_STAGE, type PeerSession } from './session.js';
import type { Trust } from './trust.js';

/** Envelopes outside this window of the receiver's clock are refused (replays of old traffic). */
export const REPLAY_WINDOW_MS = 5 * 60 * 1000;
/** Members of the 401 a receiver answers after a restart, so the sender refetches and retries. */
export const BOOT_CHANGED = 'receiver-boot-changed';
const MAX_FINISHED = 100_000;
const MAX_SENDER_URLS = 4096;
/** Messages up to this size from a peer whose identity is being confirmed are held, not waited on. */
const HOLD_UNCONFIRMED_BYTES = 64 * 1024;

export interface InboundConfig {
  readonly self: Identity;
  readonly trust: Trust;
  readonly keys: ChannelKeys;
  readonly directory: PeerDirectory;
  readonly early: EarlyMessages;
  readonly maxMessageBytes: number;
  readonly log: Logger;
  readonly observer: PeerObserver;
  /** The open session of a uuid here, if any. */
  readonly session: (uuid: string) => PeerSession | undefined;
  /** A message of party `from` waits for that party's confirmation: have it confirmed (node.ts). */
  readonly wantConfirmation: (session: PeerSession, from: number) => void;
}

export class InboundPath {
  /** uuid|senderKey|instance of computations that ended here, until the replay window passes. */
  private readonly finished = new Map<string, number>();
  /** Node URLs as senders' terms spell them, normalised and trusted (or null): trustedSenderUrl. */
  private readonly senderUrls = new Map<string, string | null>();

  constructor(private readonly config: InboundConfig) {}

  /** Sender instances remembered as finished. */
  get finishedCount(): number {
    return this.finished.size;
  }

  /**
   * `owned`: nobody else holds `envelope`, so a large one is opened in place (envelope.ts openInPlace).
   * Resolves with the receipt the carrier answers with (envelope.ts receiptFor): proof to the
   * sender that this run of this server opened its envelope.
   */
  async deliver(envelope: Buffer, owned = false): Promise<string> {
    const { maxMessageBytes, keys, log, observer } = this.config;
    let header: EnvelopeHeader | undefined;
    try {
      if (envelope.length > maxMessageBytes + ENVELOPE_OVERHEAD + MAX_HEADER_BYTES) {
        throw new TooLargeError(`peer message of ${envelope.length} bytes exceeds the limit of ${maxMessageBytes}`, { where: 'envelope' });
      }
      const parsed = parseEnvelope(envelope);
      header = parsed.header;
      if (parsed.ciphertext.length > maxMessageBytes) {
        throw new TooLargeError(`peer message payload exceeds the limit of ${maxMessageBytes} bytes`, { where: 'envelope' });
      }
      this.checkAddress(header);
      const id = envelopeId(parsed);
      const payload = owned && parsed.ciphertext.length > LARGE_PAYLOAD_BYTES ? keys.openInPlace(parsed, envelope) : keys.open(parsed);
      // Its buffer is this delivery's alone (an owned body, or the copying open's fresh output): its consumer may free it.
      handOver(payload);
      // Authentic from here on: the header was the associated data.
      if (Math.abs(Date.now() - header.ts) > REPLAY_WINDOW_MS) {
        throw new UnauthenticatedError('peer message timestamp is outside the replay window', { where: 'envelope.header.ts' });
      }
      if (this.finished.has(`${header.uuid}|${header.senderKey}|${header.instance}`)) {
        // The notice of an instance that already ended here (or that we never joined) changes nothing.
        if (header.stage === ABORT_STAGE) return keys.receiptFor(header, id);
        throw new ConflictError('this computation already finished or was aborted here (replayed message)', { where: 'envelope.header.instance' });
      }
      await this.route(header, payload, id);
      observer.message('in', envelope.length);
      return keys.receiptFor(header, id);
    } catch (err) {
      if (err instanceof TesseraError) {
        // Never the payload: sender, uuid and stage are enough to investigate.
        log.warn(
          { status: err.status, sender: header?.senderKey, from: header?.from, uuid: header?.uuid, stage: header?.stage, where: err.where, err: err.message },
          'peer message rejected',
        );
      }
      throw err;
    }
  }

  /** Remembers a sender instance as ended here, so its replays are refused; drops what it had buffered. */
  finish(uuid: string, senderKey: string, instance: string, expiresAt: number): void {
    if (this.finished.size >= MAX_FINISHED) this.finished.delete(this.finished.keys().next().value!);
    this.finished.set(`${uuid}|${senderKey}|${instance}`, expiresAt);
    // Nothing of a finished instance stays buffered.
    this.config.early.take(uuid, (m) => m.header.senderKey === senderKey && m.header.instance === instance);
  }

  /** Forgets finished instances whose replay window has passed. */
  forget(now: number): void {
    for (const [key, expiresAt] of this.finished) {
      if (expiresAt <= now) this.finished.delete(key);
    }
  }

  /**
   * The sender's boot must be the run of that server that is running now: an envelope recorded
   * before the sender restarted (and never consumed here) is a replay, refused even though this
   * server can still open it. Asks the sender's URL from the authenticated terms when in doubt.
   */
  private async checkSenderBoot(header: EnvelopeHeader): Promise<void> {
    // A header that states the terms by digest names no URL: the sender is then known here (it
    // stated them in full to this run first, and that envelope's boot check recorded its run).
    const url = header.terms !== undefined ? this.trustedSenderUrl(header.terms.nodes[header.from]) : this.config.directory.urlOf(header.senderKey);
    if (!(await this.config.directory.isCurrentBoot(header.senderKey, header.senderBoot, url, `party ${header.from} (${url ?? 'unknown URL'})`))) {
      throw new UnauthenticatedError('peer message was sealed by an earlier run of its sender, which has restarted since (a replay)', {
        where: 'envelope.header.senderBoot',
      });
    }
  }

  /**
   * The sender's node URL as the terms give it, normalised, if it is a trusted URL; else undefined.
   * Every envelope of a computation names the same few URLs: each is parsed (new URL) once, not
   * per message. Bounded; trust does not change while the server runs.
   */
  private trustedSenderUrl(node: unknown): string | undefined {
    if (typeof node !== 'string') return undefined;
    const known = this.senderUrls.get(node);
    if (known !== undefined) return known === null ? undefined : known;
    let url: string | null;
    try {
      url = normaliseNodeUrl(node, 'envelope.header.terms.nodes');
    } catch {
      url = null;
    }
    if (url !== null && !this.config.trust.isTrustedUrl(url)) url = null;
    if (this.senderUrls.size >= MAX_SENDER_URLS) this.senderUrls.delete(this.senderUrls.keys().next().value!);
    this.senderUrls.set(node, url);
    return url ?? undefined;
  }

  private checkAddress(header: EnvelopeHeader): void {
    const { self, trust } = this.config;
    if (header.receiverKey !== self.publicKey) {
      throw new UnauthenticatedError('peer message is sealed for another server', { where: 'envelope.header.receiverKey' });
    }
    if (header.receiverBoot !== self.bootId) {
      throw new UnauthenticatedError('peer message is sealed for an earlier run of this server; fetch its identity again', {
        where: 'envelope.header.receiverBoot',
        extra: { reason: BOOT_CHANGED, bootId: self.bootId },
      });
    }
    if (header.senderKey === self.publicKey || !trust.mayBeSender(header.senderKey)) {
      throw new UnauthenticatedError('peer message from an unknown sender', { where: 'envelope.header.senderKey' });
    }
  }

  /**
   * A sender whose key is not the one this session knows for its index may be that party after
   * it was set up anew (new data dir) while our cache still held its old key. Ask its URL once;
   * adopt the new key only if the URL now authenticates with it and nothing came from the old one.
   */
  private async refreshPeerKey(session: PeerSession, from: number, senderKey: string): Promise<void> {
    if (session.bound[from] !== undefined || this.config.trust.pinnedKey(session.nodes[from]!) !== undefined) return;
    try {
      const fresh = await this.config.directory.get(session.nodes[from]!, session.party(from), true);
      if (fresh.publicKey === senderKey && session.bound[from] === undefined) {
        session.nodeKeys[from] = fresh.publicKey;
        session.nodeBoots[from] = fresh.bootId;
      }
    } catch {
      // unreachable or unproven: the message is refused as not part of this computation
    }
  }

  /**
   * Where a message goes. Computations on one uuid are told apart by their instances (services/peer.ts);
   * `header.peer` says which instance of ours the sender's computation has bound, if any:
   * - naming an instance that is not the one running here, it belongs to a computation of ours
   *   that ended: refused (409), so that sender fails at once instead of at its timeout;
   * - an abort notice fails the running computation that bound (or now binds) its instance; any
   *   other notice comes from an instance that never joined a computation here (its sender gave
   *   up before this party's client called): it marks that instance dead — its buffered messages
   *   go, later ones are refused — and fails nothing. Before this rule a stale notice waited in
   *   the buffer and failed the next computation on the uuid, whose own notice then failed the
   *   next one elsewhere: a uuid stuck in a chain of "gave up waiting" [test/faults/stuck-uuid.test.ts].
   */
  /** `id`: the envelope's nonce | tag (envelopeId), by which the session knows a large payload it consumed. */
  private async route(header: EnvelopeHeader, payload: Buffer, id?: Buffer): Promise<void> {
    // The boot check may ask the sender (an await): look the session up only after it, so a
    // session that opened meanwhile gets this message, not the buffer it has already adopted.
    if (this.config.session(header.uuid) === undefined) await this.checkSenderBoot(header);
    const session = this.config.session(header.uuid);
    const peer = header.peer ?? '';
    const isAbort = header.stage === ABORT_STAGE;
    if (peer !== '' && peer !== session?.instance) {
      if (isAbort) return this.markDead(header);
      throw new ConflictError('this message belongs to a computation that already ended here', { where: 'envelope.header.peer' });
    }
    if (session) {
      const from = senderIndex(session, header);
      // A session that started with cached identities takes nothing from a sender before that
      // sender's identity is confirmed afresh (node.ts open): its boot check below then runs
      // against the run the sender proved current for this computation.
      const confirming = from !== session.myself ? session.confirmations[from] : undefined;
      if (confirming !== undefined) {
        // A small message is answered at once and held in the early-message buffer, which the
        // session adopts from once the sender is confirmed (as for a computation that has not
        // opened here yet), so the sender's stage does not wait for our identity round trip too.
        // Anything else (an abort notice, a large message, one the session would refuse, such as
        // another sender key or other terms, so that its sender is told; a full buffer) waits for the confirmation.
        if (!isAbort && payload.length <= HOLD_UNCONFIRMED_BYTES && session.nodeKeys[from] === header.senderKey &&
            session.wouldTake(header) && this.config.early.hasRoom(payload.length)) {
          await this.checkSenderBoot(header);
          // Checked again after the await, and held in the same step: confirmPeer adopts once.
          if (session.confirmations[from] !== undefined) {
            this.config.early.hold(header, payload);
            return;
          }
        } else {
          this.config.wantConfirmation(session, from);
          // Bounded like the inbox's held deliveries (session.ts accept): each waiting request
          // keeps its body in memory. Past a few, "busy", which senders resend on after a backoff.
          if (session.confirmWaits >= 2 * session.parties) {
            throw new LimitError(`${session.party(from)} is being authenticated for computation ${session.uuid}; retry shortly`, {
              where: 'envelope',
              extra: { reason: INFLIGHT_BUSY },
            });
          }
          session.confirmWaits += 1;
          try {
            await confirming;
          } finally {
            session.confirmWaits -= 1;
          }
        }
      }
      if (session.nodeKeys[from] !== header.senderKey && from !== session.myself && from < session.parties) {
        await this.refreshPeerKey(session, from, header.senderKey);
      }
      if (session.nodeKeys[from] !== header.senderKey || from === session.myself) {
        throw new ForbiddenError(`the sender is not ${from < session.parties ? session.party(from) : `party ${from}`}: not part of this computation`, {
          where: 'envelope.header.from',
        });
      }
      await this.checkSenderBoot(header);
      // Buffered instances were adopted when the session opened, so an unbound sender has none:
      // the first instance seen now is this computation's, from the run deliver() confirmed current.
      if (session.bound[from] === undefined) {
        session.bind(from, header.instance);
        session.nodeBoots[from] = header.senderBoot;
      }
      if (session.bound[from] === header.instance) {
        await session.accept(header, payload, false, from, id);
        return;
      }
    }
    if (isAbort) return this.markDead(header);
    this.config.early.hold(header, payload);
  }

  /** An instance that gave up without joining a computation here: drop and refuse its messages. */
  private markDead(header: EnvelopeHeader): void {
    this.finish(header.uuid, header.senderKey, header.instance, Date.now() + REPLAY_WINDOW_MS);
  }
}

/**
 * The index in `session` of the party that sealed `header`: the index the sender gives itself
 * (`header.from`), except for a party of this computation whose node list is not ours (another
 * order, another spelling of a peer: its terms differ, and it counts itself at another index).
 * That sender is judged as the party it is here: held until its own current run is confirmed, then
 * refused (409) for the disagreement, which fails this computation too (session.ts accept), as any
 * party's other terms do. Judged by the index it claims it would be refused as "not party N" (403),
 * and this computation would not fail: when this party is the first to see the disagreement (it
 * is, whenever the others' messages reach it before theirs reach them confirmed), no party would
 * report the conflict, only the refusals it causes [test/services/simon/securesum.test.ts, "parties
 * that disagree on the node list"; test/server/peer/sessions.test.ts]. An abort notice keeps the
 * index it gives: it fails this computation whatever index it names.
 */
function senderIndex(session: PeerSession, header: EnvelopeHeader): number {
  const claimed = header.from;
  if (header.stage === ABORT_STAGE || session.nodeKeys[claimed] === header.senderKey || session.agreesWith(header)) return claimed;
  const here = session.nodeKeys.indexOf(header.senderKey);
  return here >= 0 && here !== session.myself ? here : claimed;
}
