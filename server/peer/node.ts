// The peer node: opens sessions (services/peer.ts) and serves the peer endpoint (identity,
// deliver). Its parts, each in its own file: the lanes (lanes.ts: one open at a time per uuid),
// the early-message buffer (early-messages.ts), the inbound path (inbound.ts: envelope checks and
// routing to sessions) and the outbound path (outbound.ts: sealing and sending, with its retries).
// Carriers (transport.ts) move the sealed bytes; the node does not know which one did.

import { randomBytes } from 'node:crypto';
import { abortAsPeersJoin } from '../../services/abort.js';
import { BadInputError, LimitError, PeerError, TesseraError } from '../../services/errors.js';
import type { Logger } from '../../services/microservice.js';
import type { OpenOptions, PeerEndpoint, PeerNetwork, Session, Terms } from '../../services/peer.js';
import { configDefault } from '../config.js';
import { canonicalJson, fromBase64Url, normaliseNodeUrl } from './codec.js';
import { PeerDirectory, proofTick, type PeerIdentity } from './directory.js';
import { EarlyMessages } from './early-messages.js';
import { ChannelKeys, MAX_HEADER_BYTES } from './envelope.js';
import type { Identity } from './identity.js';
import { InboundPath, REPLAY_WINDOW_MS } from './inbound.js';
import { Lanes } from './lanes.js';
import { NO_OBSERVER, type PeerObserver } from './observer.js';
import { OutboundPath } from './outbound.js';
import { PairSecrets } from './pair-secrets.js';
import { ABORT_STAGE, PeerSession, type SessionHost } from './session.js';
import { HttpTransport, type PeerTransport } from './transport.js';
import type { Trust } from './trust.js';

export { BOOT_CHANGED, REPLAY_WINDOW_MS } from './inbound.js';

/**
 * How long a wanted confirmation waits for the receipts of this session's sends in flight to that
 * party before it asks the party's identity anyway (a send held by the receiver's backpressure may
 * take long; the identity request never waits for anything of ours).
 */
const CONFIRM_GRACE_MS = 1000;
/** How many node URL spellings normalisedNode remembers. */
const MAX_NODE_SPELLINGS = 4096;

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

export class PeerNode implements PeerNetwork, PeerEndpoint, SessionHost {
  readonly stageTimeoutMs: number;
  readonly maxInboxBytes: number;
  readonly directory: PeerDirectory;
  private readonly self: Identity;
  private readonly trust: Trust;
  private readonly log: Logger;
  private readonly limits: PeerLimits;
  private readonly transport: PeerTransport;
  private readonly observer: PeerObserver;
  private readonly sessions = new Map<string, PeerSession>();
  private readonly lanes = new Lanes();
  private readonly early: EarlyMessages;
  private readonly inbound: InboundPath;
  private readonly outbound: OutboundPath;
  private readonly pairSecrets: PairSecrets;
  /** Per peer URL, the open sessions still waiting for a proof of that peer's current run. */
  private readonly unconfirmed = new Map<string, Set<PeerSession>>();
  private active = 0;
  /** Node URLs as clients spell them, normalised (normalisedNode), and the normalised ones that are trusted. */
  private readonly nodeSpellings = new Map<string, string>();
  private readonly trustedNodes = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;

  constructor(config: PeerNodeConfig) {
    this.self = config.identity;
    this.trust = config.trust;
    this.log = config.log;
    this.limits = config.limits;
    this.stageTimeoutMs = config.stageTimeoutMs;
    this.maxInboxBytes = config.limits.maxInboxBytes;
    const keys = new ChannelKeys(this.self, this.trust);
    this.transport = config.transport ?? new HttpTransport();
    this.observer = config.observer ?? NO_OBSERVER;
    this.pairSecrets = new PairSecrets(this.self, this.trust);
    this.directory = new PeerDirectory(this.self, this.trust, this.pairSecrets, this.stageTimeoutMs, this.transport);
    this.directory.onProof = (identity, tick) => this.proven(identity, tick);
    this.early = new EarlyMessages(this.limits, this.stageTimeoutMs);
    this.inbound = new InboundPath({
      self: this.self, trust: this.trust, keys, directory: this.directory, early: this.early,
      maxMessageBytes: this.limits.maxMessageBytes, log: this.log, observer: this.observer,
      session: (uuid) => this.sessions.get(uuid),
      wantConfirmation: (session, from) => this.wantConfirmation(session, from, true),
    });
    this.outbound = new OutboundPath({ self: this.self, keys, directory: this.directory, transport: this.transport, observer: this.observer });
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.stageTimeoutMs)).unref();
  }

  get publicKey(): string {
    return this.self.publicKey;
  }

  stats(): PeerStats {
    return {
      sessions: this.sessions.size,
      active: this.active,
      bufferedMessages: this.early.count,
      bufferedBytes: this.early.bytes,
      finished: this.inbound.finishedCount,
    };
  }

  warn(obj: object, msg: string): void {
    this.log.warn(obj, msg);
  }

  debug(obj: object, msg: string): void {
    this.log.debug(obj, msg);
  }

  // ---------------------------------------------------------------- GET /peer/identity

  /**
   * The identity answer: this server's key and run, with the proof a `challenge` asks for. With the
   * asker's public key (`asker`), `pairProof` (pair-secrets.ts identityProof): "I hold the private
   * key of `publicKey`, run `bootId`, and answer this challenge of yours", which only the two
   * servers can compute, with or without a secret. Else, with a network secret, `proof` (trust.ts):
   * "I hold the secret". An asker this server's peers file does not pin gets no pair proof: it could
   * not compute with this server anyway, and a stranger's key costs an X25519 (SECURITY.md "Peers").
   */
  identity(challenge: string | undefined, asker?: string): Record<string, unknown> {
    const answer: Record<string, unknown> = { publicKey: this.self.publicKey, bootId: this.self.bootId };
    if (challenge === undefined || challenge === '') return answer;
    const bytes = fromBase64Url(challenge);
    if (!bytes || bytes.length < 16 || bytes.length > 64) {
      throw new BadInputError('challenge must be 16 to 64 bytes of base64url', { where: 'challenge' });
    }
    const askerKey = asker === undefined || asker === '' ? undefined : fromBase64Url(asker, 32);
    if (asker !== undefined && asker !== '' && askerKey === undefined) {
      throw new BadInputError('asker must be a base64url X25519 public key (32 bytes)', { where: 'asker' });
    }
    if (askerKey !== undefined && this.trust.mayBeSender(asker!)) {
      try {
        answer.pairProof = this.pairSecrets.identityProof(asker!, askerKey, this.self.publicKeyBytes, this.self.bootIdBytes, bytes).toString('base64url');
      } catch {
        // agreeX25519 refuses a key that is no X25519 point or a small-order one.
        throw new BadInputError('asker is not a usable X25519 public key', { where: 'asker' });
      }
      // With a secret, the pair key's salt is derived from it: the pair proof proves the secret too
      // (SECURITY.md "Peers"), and an asker that names itself checks that one.
      return answer;
    }
    const proof = this.trust.proof(this.self.publicKeyBytes, this.self.bootIdBytes, bytes);
    if (proof) answer.proof = proof.toString('base64url');
    return answer;
  }

  // ---------------------------------------------------------------- POST /peer/messages

  /** One envelope from any carrier: the inbound path checks and routes it (inbound.ts). */
  deliver(envelope: Buffer, options: { readonly owned?: boolean } = {}): Promise<string> {
    return this.inbound.deliver(envelope, options.owned === true);
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
    // The agreed terms carry the normalised node list, whatever spelling the client used; their
    // canonical JSON is made once here, for this check and for the session (its digest, its headers).
    const agreed: Terms = { ...terms, nodes };
    const termsJson = canonicalJson(agreed);
    if (termsJson.length > MAX_HEADER_BYTES / 2) throw new BadInputError('terms are too large', { where: 'terms' });
    if (!Array.isArray(stages) || stages.length === 0 || new Set(stages).size !== stages.length ||
        stages.some((s) => typeof s !== 'string' || s.length === 0 || s.length > 256 || s === ABORT_STAGE)) {
      throw new BadInputError(`stages must be distinct non-empty names other than "${ABORT_STAGE}"`, { where: 'stages' });
    }
    const timeoutMs = options.timeoutMs ?? this.stageTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new BadInputError('timeoutMs must be positive', { where: 'timeoutMs' });
    // Trust before contact: a client must not make this server talk to arbitrary URLs.
    nodes.forEach((url, i) => {
      if (!this.trustedNodes.has(url) && !this.trust.isTrustedUrl(url)) {
        throw new BadInputError(`${url} is not a trusted peer (this server accepts ${this.trust.allowDescription})`, {
          where: `kwargs.network.nodes[${i}]`,
        });
      }
    });
    if (this.active >= this.limits.maxSessions) {
      throw new LimitError(`this server already runs ${this.active} computations (limit ${this.limits.maxSessions})`, { where: 'kwargs.network.uuid' });
    }
    this.active += 1;
    // Only proofs of a peer's run drawn after this point confirm it for this computation.
    const openedTick = proofTick();
    const ticket = this.lanes.enqueue(uuid);
    let granted = false;
    try {
      const party = (i: number) => `party ${i} (${nodes[i]})`;
      // A computation takes messages from a peer's run only once that run is proven current after
      // the computation opened, so an envelope recorded before a peer restarted is never taken for
      // this computation's (hardening finding 5). The first time this server meets a peer, that
      // proof is the answer to a fresh identity challenge (one GET each, before the computation
      // starts). Once every peer has been authenticated before, the computation asks nobody: it
      // starts with the identities last proven (sealing to a peer that restarted since is answered
      // 401, and outbound.ts then learns its new run) and holds every message from a peer, buffered
      // or arriving, until a proof of that peer's current run drawn after this open has confirmed or
      // replaced its identity (confirmPeer). The proof is normally the receipt of this computation's
      // own first message to that peer (envelope.ts receiptFor); only a peer this computation wants
      // a message from before it has sent that peer anything is asked its identity
      // (wantConfirmation). What is taken into the computation is exactly what it was with a fresh
      // identity request per peer and computation, at no extra round trip.
      // A peer the peers file pins counts as known too, even before this server ever met it
      // (directory.ts known): its key is the pinned one, its run is learnt from the first proof
      // (outbound.ts asks it before the first envelope to it; a message from it is held until its
      // run is proven, as above). So with pinned peers a first contact asks only the peers this
      // computation exchanges messages with, each once, not every party of the node list; a
      // secure sum's star asks 2(n − 1) identities, not n(n − 1) (docs/relay.md).
      const cached = nodes.map((url, i) => (i === myself ? undefined : this.directory.known(url)));
      const warm = cached.every((c, i) => i === myself || c !== undefined);
      const identities = warm
        ? await Promise.all(nodes.map((url, i) => (cached[i] !== undefined ? Promise.resolve(cached[i]) : this.directory.get(url, party(i), false))))
        : await Promise.all(nodes.map((url, i) => (i === myself ? this.directory.get(url, party(i), false) : this.directory.get(url, party(i), true))));
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
              await abortAsPeersJoin(session, `BadInputError: invalid input at kwargs.network.myself (${party(actual)} was called with the wrong index)`, { slug: 'bad-input', where: 'kwargs.network.myself' });
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
        agreed,
        stages,
        timeoutMs,
        randomBytes(16).toString('base64url'),
        termsJson,
      );
      session.order = options.order;
      session.openedTick = openedTick;
      if (warm) {
        nodes.forEach((url, i) => {
          if (i === myself) return;
          session.awaitConfirmation(i);
          let waiting = this.unconfirmed.get(url);
          if (waiting === undefined) this.unconfirmed.set(url, (waiting = new Set()));
          waiting.add(session);
        });
      } else {
        this.adopt(session);
      }
      this.sessions.set(uuid, session);
      return session;
    } catch (err) {
      this.active -= 1;
      if (granted) this.lanes.release(uuid);
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
      const url = this.normalisedNode(node, where);
      const earlier = seen.get(url);
      if (earlier !== undefined) throw new BadInputError(`${url} is listed twice (also at nodes[${earlier}])`, { where });
      seen.set(url, i);
      return url;
    });
  }

  /**
   * normaliseNodeUrl, remembered per spelling: a client names the same few node URLs in every
   * computation, and parsing each (new URL) at every open was 3% of a 10-party sum's server CPU
   * (docs/performance.md). Only spellings that normalise are kept, so an error is thrown afresh
   * each time with its own `where`; the trust check of the result is remembered with it
   * (trustedNodes: trust does not change while the server runs). Both bounded.
   */
  private normalisedNode(node: unknown, where: string): string {
    if (typeof node === 'string') {
      const known = this.nodeSpellings.get(node);
      if (known !== undefined) return known;
    }
    const url = normaliseNodeUrl(node, where);
    if (this.nodeSpellings.size >= MAX_NODE_SPELLINGS) this.nodeSpellings.delete(this.nodeSpellings.keys().next().value!);
    this.nodeSpellings.set(node as string, url);
    if (this.trust.isTrustedUrl(url)) {
      if (this.trustedNodes.size >= MAX_NODE_SPELLINGS) this.trustedNodes.delete(this.trustedNodes.values().next().value!);
      this.trustedNodes.add(url);
    }
    return url;
  }

  /**
   * A peer's fresh identity answered for a session that started with the cached one: adopt what it
   * proves (the peer restarted, or was set up anew, while nothing of it was taken yet), then take
   * its buffered messages. Until this ran, the inbound path held that peer's messages.
   */
  private confirmPeer(session: PeerSession, i: number, identity: { publicKey: string; bootId: string }): void {
    // From here on the inbound path routes this peer's messages to the session itself.
    session.confirmed(i);
    this.unconfirmed.get(session.nodes[i]!)?.delete(session);
    if (this.unconfirmed.get(session.nodes[i]!)?.size === 0) this.unconfirmed.delete(session.nodes[i]!);
    if (session.signal.aborted) return;
    if (identity.publicKey !== session.nodeKeys[i] || identity.bootId !== session.nodeBoots[i]) {
      const clash = identity.publicKey === this.self.publicKey || session.nodeKeys.some((k, j) => j !== i && k === identity.publicKey);
      if (clash) {
        session.fail(new PeerError(`${session.party(i)} now presents the key of another party of this computation`, { where: session.party(i) }));
        return;
      }
      session.nodeKeys[i] = identity.publicKey;
      session.nodeBoots[i] = identity.bootId;
    }
    this.adopt(session, i);
  }

  /**
   * A proof of the run of the peer at `identity.url` (directory.ts: a fresh identity answer, or a
   * verified receipt), drawn at `tick`: it confirms that peer for every session opened before it.
   */
  private proven(identity: PeerIdentity, tick: number): void {
    const waiting = this.unconfirmed.get(identity.url);
    if (waiting === undefined) return;
    for (const session of [...waiting]) {
      const i = session.nodes.indexOf(identity.url);
      if (tick > session.openedTick && i >= 0 && session.confirmations[i] !== undefined) this.confirmPeer(session, i, identity);
    }
  }

  /**
   * Party `i` of `session` is still unconfirmed and a message of it is wanted. The receipt of a
   * send of ours to it in flight will confirm it: wait for that (at most CONFIRM_GRACE_MS), unless
   * `urgent` (a delivery of that party is held for it, which our own send to it may be waiting on
   * in turn: asking never waits for anything of ours, so two parties cannot wait on each other).
   * Otherwise ask the party's identity, once; a fetch that began before this session opened does
   * not count (proven), so a second one is made then.
   */
  wantConfirmation(session: PeerSession, i: number, urgent = false): void {
    if (session.confirmations[i] === undefined || session.confirmAsking[i] || session.signal.aborted) return;
    if (!urgent && session.sendsInFlight[i]! > 0) {
      if (session.confirmWanted[i]) return;
      session.confirmWanted[i] = true;
      setTimeout(() => this.wantConfirmation(session, i, true), CONFIRM_GRACE_MS).unref();
      return;
    }
    if (!urgent) {
      // A receive that comes just before the send to the same party (same tick): let the send start.
      setImmediate(() => {
        if (session.sendsInFlight[i] === 0) this.wantConfirmation(session, i, true);
        else this.wantConfirmation(session, i);
      });
      return;
    }
    session.confirmAsking[i] = true;
    const url = session.nodes[i]!;
    const party = session.party(i);
    this.directory.get(url, party, true)
      .then(() => (session.confirmations[i] !== undefined && !session.signal.aborted ? this.directory.get(url, party, true) : undefined))
      .catch((err: unknown) => {
        if (session.confirmations[i] === undefined) return;
        session.fail(err instanceof TesseraError ? err : new PeerError(`cannot authenticate ${party}`, { where: party }));
      });
  }

  sendsEnded(session: PeerSession, i: number): void {
    if (!session.confirmWanted[i] || session.confirmations[i] === undefined) return;
    session.confirmWanted[i] = false;
    // The sends ended without a receipt that verified (else the party would be confirmed): ask.
    this.wantConfirmation(session, i, true);
  }

  /**
   * A new session takes, per sender, the first buffered instance for its uuid and everything of
   * that instance (of sender `only`, once that sender's identity is confirmed).
   */
  private adopt(session: PeerSession, only?: number): void {
    // In arrival order: a sender's first message binds its instance, later ones must match it.
    // A message that outlived its hold time is not taken: its sender may have given up since.
    const now = Date.now();
    const adopted = this.early.take(session.uuid, ({ header, expiresAt }) => {
      const from = header.from;
      if (only !== undefined && from !== only) return false;
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

  sessionClosed(session: PeerSession): void {
    const record = session.record();
    this.observer.computationEnded(record);
    // A computation that failed vouches for no key it never confirmed: a peer whose key it derived
    // pair secrets with while unconfirmed (one leaf of the vector sum's star for another, which it
    // never hears from) may have been replaced by a server with a new key at its URL, and that is
    // a cause of such a failure (vectorsum.ts checkPairKeys). Its cached identity is dropped, so
    // the next computation with it asks every peer's current identity (open, not warm).
    if (record.outcome !== 'ok') {
      for (const i of session.unconfirmedPairKeys) {
        if (session.confirmations[i] !== undefined) this.directory.forget(session.nodes[i]!, session.nodeKeys[i]!);
      }
    }
    session.nodes.forEach((url, i) => {
      if (session.confirmations[i] === undefined) return;
      const waiting = this.unconfirmed.get(url);
      waiting?.delete(session);
      if (waiting?.size === 0) this.unconfirmed.delete(url);
    });
    if (this.sessions.get(session.uuid) === session) this.sessions.delete(session.uuid);
    const expiresAt = Date.now() + REPLAY_WINDOW_MS;
    // A peer still unconfirmed at the end: what it sent was held for this computation (the first
    // instance of it buffered here, as adopt() would have bound it), so that instance ends here too
    // rather than wait in the buffer for the next computation on this uuid.
    session.confirmations.forEach((pending, i) => {
      if (pending === undefined) return;
      session.confirmations[i] = undefined;
      let first: string | undefined;
      this.early.take(session.uuid, ({ header }) => {
        if (header.from !== i || header.senderKey !== session.nodeKeys[i] || header.senderBoot !== session.nodeBoots[i]) return false;
        first ??= header.instance;
        return false;
      });
      if (first !== undefined && session.bound[i] === undefined) session.bound[i] = first;
    });
    session.bound.forEach((instance, i) => {
      if (instance !== undefined) this.inbound.finish(session.uuid, session.nodeKeys[i]!, instance, expiresAt);
    });
    this.active -= 1;
    this.lanes.release(session.uuid);
  }

  private sweep(): void {
    const now = Date.now();
    for (const m of this.early.expire(now)) {
      this.log.warn({ uuid: m.header.uuid, stage: m.header.stage, sender: m.header.senderKey }, 'dropped a buffered peer message no computation claimed in time');
    }
    this.inbound.forget(now);
  }

  // ---------------------------------------------------------------- sending

  /** One message of a session to party `to`: the outbound path seals and sends it (outbound.ts). */
  post(session: PeerSession, to: number, stage: string, seq: number, payload: Uint8Array, signal: AbortSignal, timeoutMs: number): Promise<void> {
    return this.outbound.send(session, to, stage, seq, payload, signal, timeoutMs);
  }

  /**
   * A carrier lost its connection (the NATS relay, server/peer/relay.ts): every open computation
   * with a party reached through it fails now with `reason`, where: 'relay'. Its parties would
   * otherwise wait for their stage timeout and blame a peer whose messages the carrier dropped.
   * runProtocol then tells the peers it can still reach; the others fail the same way.
   */
  carrierLost(reason: string, carries: (node: string) => boolean): void {
    const err = new PeerError(`${reason}; computations through it cannot continue`, { where: 'relay' });
    for (const session of this.sessions.values()) {
      if (session.nodes.some(carries)) session.fail(err);
    }
  }

  pairSecret(peerKey: string, info: Uint8Array): Uint8Array {
    return this.pairSecrets.secret(peerKey, info);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    const err = new PeerError('the server is shutting down', { where: 'server' });
    for (const session of this.sessions.values()) session.fail(err);
    this.early.clear();
    this.transport.close();
  }
}
