// The peer node: opens sessions (services/peer.ts), serves the peer endpoint (identity, deliver),
// and routes each authenticated envelope to the session it belongs to, or buffers it (bounded in
// count, bytes and time) until that session opens.

import { randomBytes } from 'node:crypto';
import {
  BadInputError,
  ConflictError,
  ForbiddenError,
  LimitError,
  PeerError,
  TesseraError,
  TimeoutError,
  TooLargeError,
  UnauthenticatedError,
} from '../../services/errors.js';
import type { Logger } from '../../services/microservice.js';
import type { OpenOptions, PeerEndpoint, PeerNetwork, Session } from '../../services/peer.js';
import { configDefault } from '../config.js';
import { canonicalJson, fromBase64Url, normaliseNodeUrl } from './codec.js';
import { PeerDirectory } from './directory.js';
import { ChannelKeys, ENVELOPE_OVERHEAD, MAX_HEADER_BYTES, parseEnvelope, type EnvelopeHeader } from './envelope.js';
import type { Identity } from './identity.js';
import { NO_OBSERVER, type PeerObserver } from './observer.js';
import { ABORT_STAGE, PeerSession, type SessionHost } from './session.js';
import { HttpTransport, transportFailure, type PeerResponse, type PeerTransport } from './transport.js';
import type { Trust } from './trust.js';

export interface PeerLimits {
  readonly maxBufferedMessages: number;
  readonly maxBufferedBytes: number;
  readonly maxInboxBytes: number;
  readonly maxMessageBytes: number;
  readonly maxParties: number;
  readonly maxSessions: number;
}

/** The limits with flags take their defaults from server/config.ts; the inbox bound has no flag. */
export const DEFAULT_LIMITS: PeerLimits = {
  maxBufferedMessages: configDefault('peer.limits.maxBufferedMessages'),
  maxBufferedBytes: configDefault('peer.limits.maxBufferedBytes'),
  maxInboxBytes: 64 * 1024 * 1024,
  maxMessageBytes: configDefault('peer.limits.maxMessageBytes'),
  maxParties: configDefault('peer.limits.maxParties'),
  maxSessions: configDefault('peer.limits.maxSessions'),
};

export interface PeerStats {
  /** Open sessions. */
  readonly sessions: number;
  /** Open sessions plus opens still authenticating peers or waiting for their uuid's turn. */
  readonly active: number;
  /** Early messages held for computations that have not started here. */
  readonly bufferedMessages: number;
  readonly bufferedBytes: number;
  /** Sender instances remembered as finished, to refuse their replays. */
  readonly finished: number;
}

/** Envelopes outside this window of the receiver's clock are refused (replays of old traffic). */
export const REPLAY_WINDOW_MS = 5 * 60 * 1000;
/** Members of the 401 a receiver answers after a restart, so the sender refetches and retries. */
export const BOOT_CHANGED = 'receiver-boot-changed';
const MAX_FINISHED = 100_000;
const MAX_PROBLEM_CHARS = 2000;

interface Buffered {
  readonly header: EnvelopeHeader;
  readonly payload: Buffer;
  readonly expiresAt: number;
}

/** FIFO of opens per network uuid: the i-th open here meets the i-th open at every other party. */
interface Lane {
  busy: boolean;
  readonly queue: (() => void)[];
}

export interface PeerNodeConfig {
  readonly identity: Identity;
  readonly trust: Trust;
  readonly log: Logger;
  readonly stageTimeoutMs: number;
  readonly limits: PeerLimits;
  /** How peers are reached (node:http/https with the configured CAs). Default: well-known CAs only. */
  readonly transport?: PeerTransport;
  /** Told of every message and of every computation's end (metrics, the computation log line). */
  readonly observer?: PeerObserver;
}

/** A 429 whose problem says `reason: "busy"`: the receiver's in-flight envelope budget was full. */
function isBusy(text: string): boolean {
  try {
    return (JSON.parse(text) as { reason?: unknown }).reason === 'busy';
  } catch {
    return false;
  }
}

export class PeerRouter implements PeerNetwork, PeerEndpoint, SessionHost {
  readonly stageTimeoutMs: number;
  readonly maxInboxBytes: number;
  private readonly self: Identity;
  private readonly trust: Trust;
  private readonly log: Logger;
  private readonly limits: PeerLimits;
  private readonly keys: ChannelKeys;
  readonly directory: PeerDirectory;
  private readonly transport: PeerTransport;
  private readonly observer: PeerObserver;
  private readonly sessions = new Map<string, PeerSession>();
  private readonly lanes = new Map<string, Lane>();
  private readonly buffer = new Map<string, Buffered[]>();
  private bufferedCount = 0;
  private bufferedBytes = 0;
  /** uuid|senderKey|instance of computations that ended here, until the replay window passes. */
  private readonly finished = new Map<string, number>();
  private active = 0;
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;

  constructor(config: PeerNodeConfig) {
    this.self = config.identity;
    this.trust = config.trust;
    this.log = config.log;
    this.limits = config.limits;
    this.stageTimeoutMs = config.stageTimeoutMs;
    this.maxInboxBytes = config.limits.maxInboxBytes;
    this.keys = new ChannelKeys(this.self, this.trust);
    this.transport = config.transport ?? new HttpTransport();
    this.observer = config.observer ?? NO_OBSERVER;
    this.directory = new PeerDirectory(this.self, this.trust, this.stageTimeoutMs, this.transport);
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.stageTimeoutMs)).unref();
  }

  get publicKey(): string {
    return this.self.publicKey;
  }

  stats(): PeerStats {
    return {
      sessions: this.sessions.size,
      active: this.active,
      bufferedMessages: this.bufferedCount,
      bufferedBytes: this.bufferedBytes,
      finished: this.finished.size,
    };
  }

  warn(obj: object, msg: string): void {
    this.log.warn(obj, msg);
  }

  debug(obj: object, msg: string): void {
    this.log.debug(obj, msg);
  }

  // ---------------------------------------------------------------- GET /peer/identity

  identity(challenge: string | undefined): Record<string, unknown> {
    const answer: Record<string, unknown> = { publicKey: this.self.publicKey, bootId: this.self.bootId };
    if (challenge === undefined || challenge === '') return answer;
    const bytes = fromBase64Url(challenge);
    if (!bytes || bytes.length < 16 || bytes.length > 64) {
      throw new BadInputError('challenge must be 16 to 64 bytes of base64url', { where: 'challenge' });
    }
    const proof = this.trust.proof(this.self.publicKeyBytes, this.self.bootIdBytes, bytes);
    if (proof) answer.proof = proof.toString('base64url');
    return answer;
  }

  // ---------------------------------------------------------------- open

  async open(options: OpenOptions): Promise<Session> {
    if (this.closing) throw new PeerError('the server is shutting down', { where: 'server' });
    const { uuid, myself, terms, stages } = options;
    if (typeof uuid !== 'string' || uuid.length === 0 || uuid.length > 256) {
      throw new BadInputError('network uuid must be a non-empty string of at most 256 characters', { where: 'kwargs.network.uuid' });
    }
    const nodes = this.checkNodes(terms?.nodes);
    // A bad `myself` is reported once this server has found its own index in the node list, so
    // that the other parties can be told (below) instead of waiting for their timeout.
    const myselfInRange = typeof myself === 'number' && Number.isInteger(myself) && myself >= 0 && myself < nodes.length;
    if (typeof terms.microprotocol !== 'string') throw new BadInputError('terms need a microprotocol', { where: 'terms.microprotocol' });
    if (canonicalJson(terms).length > MAX_HEADER_BYTES / 2) throw new BadInputError('terms are too large', { where: 'terms' });
    if (!Array.isArray(stages) || stages.length === 0 || new Set(stages).size !== stages.length ||
        stages.some((s) => typeof s !== 'string' || s.length === 0 || s.length > 256 || s === ABORT_STAGE)) {
      throw new BadInputError(`stages must be distinct non-empty names other than "${ABORT_STAGE}"`, { where: 'stages' });
    }
    const timeoutMs = options.timeoutMs ?? this.stageTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new BadInputError('timeoutMs must be positive', { where: 'timeoutMs' });
    // Trust before contact: a client must not make this server talk to arbitrary URLs.
    nodes.forEach((url, i) => {
      if (!this.trust.isTrustedUrl(url)) {
        throw new BadInputError(`${url} is not a trusted peer (this server accepts ${this.trust.allowDescription})`, {
          where: `kwargs.network.nodes[${i}]`,
        });
      }
    });
    if (this.active >= this.limits.maxSessions) {
      throw new LimitError(`this server already runs ${this.active} computations (limit ${this.limits.maxSessions})`, { where: 'kwargs.network.uuid' });
    }
    this.active += 1;
    const ticket = this.enqueue(uuid);
    let granted = false;
    try {
      const party = (i: number) => `party ${i} (${nodes[i]})`;
      // Every peer's identity is asked afresh (one GET each, shared by concurrent opens): the boot
      // it proves is the run this computation accepts messages from, so an envelope recorded
      // before a peer restarted is never taken for this computation's (hardening finding 5).
      const identities = await Promise.all(nodes.map((url, i) => this.directory.get(url, party(i), i !== myself)));
      if (myselfInRange && identities[myself]!.publicKey !== this.self.publicKey) {
        // The cache may predate a change of server at that URL: ask once more before refusing.
        identities[myself] = await this.directory.get(nodes[myself]!, party(myself), true);
      }
      if (!myselfInRange || identities[myself]!.publicKey !== this.self.publicKey) {
        const err = myselfInRange
          ? new BadInputError(`nodes[${myself}] (${nodes[myself]}) is not this server`, { where: 'kwargs.network.myself' })
          : new BadInputError(`myself must be an index into nodes (0..${nodes.length - 1})`, { where: 'kwargs.network.myself' });
        const actual = identities.findIndex((p) => p.publicKey === this.self.publicKey);
        if (actual >= 0) {
          // This server is in the list, at another index: the others expect it there. Join as
          // that party just long enough to tell them (an abort naming the field), so they fail
          // at once rather than at their stage timeout.
          void this.open({ ...options, myself: actual })
            .then(async (session) => {
              await session.whenJoined();
              await session.abort(`BadInputError: invalid input at kwargs.network.myself (${party(actual)} was called with the wrong index)`, { slug: 'bad-input', where: 'kwargs.network.myself' });
              session.close();
            })
            .catch(() => undefined);
        }
        throw err;
      }
      const seen = new Map<string, number>();
      identities.forEach((peer, i) => {
        const earlier = seen.get(peer.publicKey);
        if (earlier !== undefined) {
          throw new BadInputError(`nodes[${i}] is the same server as nodes[${earlier}]`, { where: `kwargs.network.nodes[${i}]` });
        }
        seen.set(peer.publicKey, i);
      });
      await ticket.wait(timeoutMs);
      granted = true;
      if (this.closing) throw new PeerError('the server is shutting down', { where: 'server' });
      const session = new PeerSession(
        this,
        uuid,
        myself,
        nodes,
        identities.map((p) => p.publicKey),
        identities.map((p) => p.bootId),
        // The agreed terms carry the normalised node list, whatever spelling the client used.
        { ...terms, nodes },
        stages,
        timeoutMs,
        randomBytes(16).toString('base64url'),
      );
      session.order = options.order;
      this.adopt(session);
      this.sessions.set(uuid, session);
      return session;
    } catch (err) {
      this.active -= 1;
      if (granted) this.release(uuid);
      else ticket.cancel();
      // A computation that never started here still ended: count it and log it with its cause.
      this.observer.computationEnded({
        uuid, microprotocol: terms.microprotocol, myself, nodes, durationMs: 0,
        bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0,
        outcome: err instanceof TesseraError ? err.slug : 'internal',
        ...(err instanceof TesseraError && err.where !== undefined ? { where: err.where } : {}),
      });
      throw err;
    }
  }

  private checkNodes(value: unknown): string[] {
    if (!Array.isArray(value) || value.length < 2 || value.length > this.limits.maxParties) {
      throw new BadInputError(`nodes must be a list of 2 to ${this.limits.maxParties} server URLs`, { where: 'kwargs.network.nodes' });
    }
    const seen = new Map<string, number>();
    return value.map((node: unknown, i) => {
      const where = `kwargs.network.nodes[${i}]`;
      const url = normaliseNodeUrl(node, where);
      const earlier = seen.get(url);
      if (earlier !== undefined) throw new BadInputError(`${url} is listed twice (also at nodes[${earlier}])`, { where });
      seen.set(url, i);
      return url;
    });
  }

  private enqueue(uuid: string): { wait(timeoutMs: number): Promise<void>; cancel(): void } {
    let lane = this.lanes.get(uuid);
    if (!lane) {
      lane = { busy: false, queue: [] };
      this.lanes.set(uuid, lane);
    }
    const current = lane;
    if (!current.busy) {
      current.busy = true;
      return { wait: () => Promise.resolve(), cancel: () => this.release(uuid) };
    }
    let grant: () => void = () => undefined;
    let isGranted = false;
    const turn = new Promise<void>((resolve) => {
      grant = () => {
        isGranted = true;
        resolve();
      };
    });
    current.queue.push(grant);
    return {
      wait: async (timeoutMs) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new TimeoutError(`an earlier computation on network uuid ${uuid} is still running here after ${timeoutMs} ms`, { where: 'kwargs.network.uuid' })),
            timeoutMs,
          );
        });
        try {
          await Promise.race([turn, late]);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel: () => {
        if (isGranted) this.release(uuid);
        else current.queue.splice(current.queue.indexOf(grant), 1);
      },
    };
  }

  private release(uuid: string): void {
    const lane = this.lanes.get(uuid);
    if (!lane) return;
    const next = lane.queue.shift();
    if (next) next();
    else this.lanes.delete(uuid);
  }

  /** A new session takes, per sender, the first buffered instance for its uuid and everything of that instance. */
  private adopt(session: PeerSession): void {
    // In arrival order: a sender's first message binds its instance, later ones must match it.
    // A message that outlived its hold time is not taken: its sender may have given up since.
    const now = Date.now();
    const adopted = this.unbuffer(session.uuid, ({ header, expiresAt }) => {
      const from = header.from;
      const fits = session.nodeKeys[from] === header.senderKey && session.nodeBoots[from] === header.senderBoot && from !== session.myself && expiresAt > now;
      if (fits) session.bind(from, header.instance);
      return fits && session.bound[from] === header.instance;
    });
    for (const { header, payload } of adopted) {
      session.accept(header, payload, true).catch((err: Error) => {
        this.log.warn({ sender: session.party(header.from), uuid: session.uuid, stage: header.stage, err: err.message }, 'buffered peer message rejected');
      });
    }
  }

  /**
   * Takes out of the early-message buffer of `uuid` every message `take` claims (called once per
   * message, in arrival order), keeping the buffered count and bytes in step; returns them.
   */
  private unbuffer(uuid: string, take: (message: Buffered) => boolean): Buffered[] {
    const list = this.buffer.get(uuid);
    if (!list) return [];
    const keep: Buffered[] = [];
    const taken: Buffered[] = [];
    for (const message of list) (take(message) ? taken : keep).push(message);
    if (taken.length === 0) return taken;
    for (const message of taken) {
      this.bufferedCount -= 1;
      this.bufferedBytes -= message.payload.length;
    }
    if (keep.length > 0) this.buffer.set(uuid, keep);
    else this.buffer.delete(uuid);
    return taken;
  }

  sessionClosed(session: PeerSession): void {
    this.observer.computationEnded(session.record());
    if (this.sessions.get(session.uuid) === session) this.sessions.delete(session.uuid);
    const expiresAt = Date.now() + REPLAY_WINDOW_MS;
    session.bound.forEach((instance, i) => {
      if (instance !== undefined) this.markFinished(session.uuid, session.nodeKeys[i]!, instance, expiresAt);
    });
    this.active -= 1;
    this.release(session.uuid);
  }

  private markFinished(uuid: string, senderKey: string, instance: string, expiresAt: number): void {
    if (this.finished.size >= MAX_FINISHED) this.finished.delete(this.finished.keys().next().value!);
    this.finished.set(`${uuid}|${senderKey}|${instance}`, expiresAt);
    // Nothing of a finished instance stays buffered.
    this.unbuffer(uuid, (m) => m.header.senderKey === senderKey && m.header.instance === instance);
  }

  private sweep(): void {
    const now = Date.now();
    for (const uuid of [...this.buffer.keys()]) {
      for (const m of this.unbuffer(uuid, (message) => message.expiresAt <= now)) {
        this.log.warn({ uuid, stage: m.header.stage, sender: m.header.senderKey }, 'dropped a buffered peer message no computation claimed in time');
      }
    }
    for (const [key, expiresAt] of this.finished) {
      if (expiresAt <= now) this.finished.delete(key);
    }
  }

  // ---------------------------------------------------------------- POST /peer/messages

  async deliver(envelope: Buffer): Promise<void> {
    let header: EnvelopeHeader | undefined;
    try {
      if (envelope.length > this.limits.maxMessageBytes + ENVELOPE_OVERHEAD + MAX_HEADER_BYTES) {
        throw new TooLargeError(`peer message of ${envelope.length} bytes exceeds the limit of ${this.limits.maxMessageBytes}`, { where: 'envelope' });
      }
      const parsed = parseEnvelope(envelope);
      header = parsed.header;
      if (parsed.ciphertext.length > this.limits.maxMessageBytes) {
        throw new TooLargeError(`peer message payload exceeds the limit of ${this.limits.maxMessageBytes} bytes`, { where: 'envelope' });
      }
      this.checkAddress(header);
      const payload = this.keys.open(parsed);
      // Authentic from here on: the header was the associated data.
      if (Math.abs(Date.now() - header.ts) > REPLAY_WINDOW_MS) {
        throw new UnauthenticatedError('peer message timestamp is outside the replay window', { where: 'envelope.header.ts' });
      }
      if (this.finished.has(`${header.uuid}|${header.senderKey}|${header.instance}`)) {
        // The notice of an instance that already ended here (or that we never joined) changes nothing.
        if (header.stage === ABORT_STAGE) return;
        throw new ConflictError('this computation already finished or was aborted here (replayed message)', { where: 'envelope.header.instance' });
      }
      await this.route(header, payload);
      this.observer.message('in', envelope.length);
    } catch (err) {
      if (err instanceof TesseraError) {
        // Never the payload: sender, uuid and stage are enough to investigate.
        this.log.warn(
          { status: err.status, sender: header?.senderKey, from: header?.from, uuid: header?.uuid, stage: header?.stage, where: err.where, err: err.message },
          'peer message rejected',
        );
      }
      throw err;
    }
  }

  /**
   * The sender's boot must be the run of that server that is running now: an envelope recorded
   * before the sender restarted (and never consumed here) is a replay, refused even though this
   * server can still open it. Asks the sender's URL from the authenticated terms when in doubt.
   */
  private async checkSenderBoot(header: EnvelopeHeader): Promise<void> {
    let url: string | undefined;
    try {
      url = normaliseNodeUrl(header.terms.nodes[header.from], 'envelope.header.terms.nodes');
    } catch {
      url = undefined;
    }
    if (url !== undefined && !this.trust.isTrustedUrl(url)) url = undefined;
    if (!(await this.directory.isCurrentBoot(header.senderKey, header.senderBoot, url, `party ${header.from} (${url ?? 'unknown URL'})`))) {
      throw new UnauthenticatedError('peer message was sealed by an earlier run of its sender, which has restarted since (a replay)', {
        where: 'envelope.header.senderBoot',
      });
    }
  }

  private checkAddress(header: EnvelopeHeader): void {
    if (header.receiverKey !== this.self.publicKey) {
      throw new UnauthenticatedError('peer message is sealed for another server', { where: 'envelope.header.receiverKey' });
    }
    if (header.receiverBoot !== this.self.bootId) {
      throw new UnauthenticatedError('peer message is sealed for an earlier run of this server; fetch its identity again', {
        where: 'envelope.header.receiverBoot',
        extra: { reason: BOOT_CHANGED, bootId: this.self.bootId },
      });
    }
    if (header.senderKey === this.self.publicKey || !this.trust.mayBeSender(header.senderKey)) {
      throw new UnauthenticatedError('peer message from an unknown sender', { where: 'envelope.header.senderKey' });
    }
  }

  /**
   * A sender whose key is not the one this session knows for its index may be that party after
   * it was set up anew (new data dir) while our cache still held its old key. Ask its URL once;
   * adopt the new key only if the URL now authenticates with it and nothing came from the old one.
   */
  private async refreshPeerKey(session: PeerSession, from: number, senderKey: string): Promise<void> {
    if (session.bound[from] !== undefined || this.trust.pinnedKey(session.nodes[from]!) !== undefined) return;
    try {
      const fresh = await this.directory.get(session.nodes[from]!, session.party(from), true);
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
  private async route(header: EnvelopeHeader, payload: Buffer): Promise<void> {
    // The boot check may ask the sender (an await): look the session up only after it, so a
    // session that opened meanwhile gets this message, not the buffer it has already adopted.
    if (!this.sessions.has(header.uuid)) await this.checkSenderBoot(header);
    const session = this.sessions.get(header.uuid);
    const peer = header.peer ?? '';
    const isAbort = header.stage === ABORT_STAGE;
    if (peer !== '' && peer !== session?.instance) {
      if (isAbort) return this.markDead(header);
      throw new ConflictError('this message belongs to a computation that already ended here', { where: 'envelope.header.peer' });
    }
    if (session) {
      const from = header.from;
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
        await session.accept(header, payload);
        return;
      }
    }
    if (isAbort) return this.markDead(header);
    this.hold(header, payload);
  }

  /** An instance that gave up without joining a computation here: drop and refuse its messages. */
  private markDead(header: EnvelopeHeader): void {
    this.markFinished(header.uuid, header.senderKey, header.instance, Date.now() + REPLAY_WINDOW_MS);
  }

  /** Parks a message of a computation that has not started here yet (or a later one on the same uuid). */
  private hold(header: EnvelopeHeader, payload: Buffer): void {
    const list = this.buffer.get(header.uuid) ?? [];
    const twin = list.find(
      (m) => m.header.senderKey === header.senderKey && m.header.instance === header.instance &&
        m.header.stage === header.stage && m.header.seq === header.seq,
    );
    if (twin) {
      if (twin.payload.equals(payload)) return;
      throw new ConflictError(`two different "${header.stage}" messages with seq ${header.seq} from one sender`, { where: 'envelope.header.seq' });
    }
    if (this.bufferedCount + 1 > this.limits.maxBufferedMessages) {
      throw new LimitError(`this server already holds ${this.bufferedCount} early peer messages (limit)`, { where: 'envelope' });
    }
    if (this.bufferedBytes + payload.length > this.limits.maxBufferedBytes) {
      throw new TooLargeError(`early peer messages would exceed ${this.limits.maxBufferedBytes} buffered bytes`, { where: 'envelope' });
    }
    list.push({ header, payload, expiresAt: Date.now() + this.stageTimeoutMs });
    this.buffer.set(header.uuid, list);
    this.bufferedCount += 1;
    this.bufferedBytes += payload.length;
  }

  // ---------------------------------------------------------------- sending

  async post(
    session: PeerSession,
    to: number,
    stage: string,
    seq: number,
    payload: Uint8Array,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<void> {
    const party = session.party(to);
    const url = session.nodes[to]!;
    const deadline = Date.now() + timeoutMs;
    let refreshed = false;
    for (let busyWaitMs = 50; ; ) {
      const header: EnvelopeHeader = {
        v: 1,
        uuid: session.uuid,
        instance: session.instance,
        stage,
        seq,
        from: session.myself,
        to,
        ts: Date.now(),
        senderKey: this.self.publicKey,
        senderBoot: this.self.bootId,
        receiverKey: session.nodeKeys[to]!,
        receiverBoot: session.nodeBoots[to]!,
        terms: session.terms,
        peer: session.bound[to] ?? '',
      };
      const envelope = this.keys.seal(header, payload);
      let response: PeerResponse;
      try {
        response = await this.transport.request(`${url}/peer/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: envelope,
          signal: AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, deadline - Date.now()))]),
          maxResponseBytes: MAX_PROBLEM_CHARS * 8,
          idempotent: true,
        });
      } catch (err) {
        if (signal.aborted && signal.reason instanceof TesseraError) throw signal.reason;
        throw transportFailure(err, party, `${party} did not accept the "${stage}" message within ${timeoutMs} ms`, {
          onTimeout: { party: to, stage },
          onFailure: { party: to },
        });
      }
      const { text } = response;
      if (response.status >= 200 && response.status <= 299) {
        this.observer.message('out', envelope.length);
        return;
      }
      if (response.status === 429 && isBusy(text) && Date.now() + busyWaitMs < deadline && !signal.aborted) {
        // The receiver is taking in as many envelopes as it allows (server/http/body.ts
        // inflightGuard); nothing was read, so the same envelope is sent again shortly.
        await new Promise((resolve) => setTimeout(resolve, busyWaitMs));
        busyWaitMs = Math.min(busyWaitMs * 2, 1000);
        continue;
      }
      if (response.status === 401 && !refreshed) {
        refreshed = true;
        // Perhaps the peer restarted (new boot): learn its current identity and seal again, once.
        const fresh = await this.directory.get(url, party, true);
        // A new key (the peer was set up anew) is adopted only while nothing of this computation
        // came from the old one; the directory already authenticated it (pin or proof).
        const rekeyed = fresh.publicKey !== header.receiverKey && session.bound[to] === undefined;
        if (fresh.bootId !== header.receiverBoot && (fresh.publicKey === header.receiverKey || rekeyed)) {
          session.nodeKeys[to] = fresh.publicKey;
          session.nodeBoots[to] = fresh.bootId;
          continue;
        }
      }
      let detail = text.slice(0, MAX_PROBLEM_CHARS);
      try {
        const problem = JSON.parse(text) as Record<string, unknown>;
        if (typeof problem.detail === 'string') detail = problem.detail;
        else if (typeof problem.title === 'string') detail = problem.title;
      } catch {
        // not a problem document: keep the text
      }
      throw new PeerError(`${party} refused the "${stage}" message (HTTP ${response.status}): ${detail}`, {
        where: party,
        extra: { party: to, peerStatus: response.status },
      });
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    const err = new PeerError('the server is shutting down', { where: 'server' });
    for (const session of this.sessions.values()) session.fail(err);
    this.buffer.clear();
    this.bufferedCount = 0;
    this.bufferedBytes = 0;
    this.transport.close();
  }
}
