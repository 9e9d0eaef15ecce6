// An in-memory PeerNetwork: n parties in one process, no HTTP, no transport encryption. It is
// simulation mode's network (services/simulation/index.ts) and the tests' one in-memory double.
// It keeps the contract's semantics that protocols rely on — messages matched by (from, stage,
// seq), early messages buffered until the receiver opens its session, terms compared on every
// message (a mismatch fails both sides naming the key), abort fails the peers naming the party,
// per-wait timeouts — and counts the bytes each party sends. Transport security is
// server/peer's job and is tested there.

import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { ConflictError, PeerError, TimeoutError, BadInputError } from '../errors.js';
import type { AbortCause, OpenOptions, PeerNetwork, Session, StageOrderCheck, Terms } from '../peer.js';
import { abortError, abortNotice } from '../abort.js';
import { canonicalJson } from '../../shared/json.js';

interface Message {
  from: number;
  stage: string;
  seq: number;
  payload: Uint8Array;
  terms: string;
  abort?: boolean;
}

function party(nodes: readonly string[], i: number): string {
  return `party ${i} (${nodes[i]})`;
}

const digest = (payload: Uint8Array): string => createHash('sha256').update(payload).digest('base64');

/** One message on its way, as a fault hook sees it (parties are the hub's indices). */
export interface InFlight {
  readonly uuid: string;
  readonly from: number;
  readonly to: number;
  readonly stage: string;
  readonly seq: number;
  /** An abort notice rather than a protocol message. */
  readonly abort: boolean;
  readonly payload: Uint8Array;
}

/**
 * What the network does to one message (MemoryHub.fault), the faults a real network or a real
 * peer can cause, so the tests of the stage machinery and the protocols need no fake session:
 * - drop: lost on the way; the sender's send still resolves (lost after the transport took it);
 * - hang: the send never settles and nothing arrives (a peer that never answers);
 * - delay: delivered `ms` later;
 * - duplicate: delivered, then delivered again (with `payload`, a conflicting resend); the
 *   second delivery's answer is the sender's;
 * - reorder: held back and delivered right after the next message to the same party;
 * - replace: delivered with another payload (a tampering network or a buggy peer);
 * - abort: instead of this message, the sender gives up: its session aborts with `reason`, so
 *   the others fail naming it (a peer that aborts mid-protocol).
 */
export type Fault =
  | { readonly kind: 'drop' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'duplicate'; readonly payload?: Uint8Array }
  | { readonly kind: 'reorder' }
  | { readonly kind: 'replace'; readonly payload: Uint8Array }
  | { readonly kind: 'abort'; readonly reason: string };

class MemorySession implements Session {
  readonly parties: number;
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #inbox = new Map<string, Uint8Array>();
  readonly #waiters = new Map<string, { resolve(p: Uint8Array): void; reject(e: Error): void }>();
  #failure: Error | undefined;
  #closed = false;
  readonly #lastStage = new Map<number, string>();
  /** Digests of consumed messages, so a late duplicate is told apart from a conflicting resend. */
  readonly #consumed = new Map<string, string>();
  /** The parties heard from in this computation (any message, an abort too): whenJoined. */
  readonly #joined = new Set<number>();
  readonly #joinWaiters = new Set<() => void>();
  /** Peers told of this party's abort already (tell), whom `abort` does not tell again. */
  readonly #told = new Set<number>();
  #recorded = false;
  readonly termsJson: string;

  constructor(
    readonly hub: MemoryHub,
    readonly uuid: string,
    readonly myself: number,
    readonly nodes: readonly string[],
    terms: Terms,
    readonly stages: ReadonlySet<string>,
    readonly timeoutMs: number,
    readonly order?: StageOrderCheck,
  ) {
    this.parties = nodes.length;
    this.signal = this.#controller.signal;
    // As server/peer/session.ts does: every concurrent wait listens on this signal.
    setMaxListeners(0, this.signal);
    // As server/peer does: canonical at every depth (a replacer array would also drop nested keys).
    this.termsJson = canonicalJson(terms);
  }

  get open(): boolean {
    return !this.#closed && this.#failure === undefined;
  }

  async send(to: number, stage: string, payload: Uint8Array, seq = 0): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (!this.stages.has(stage)) throw new BadInputError(`undeclared stage ${stage}`, { where: 'stage' });
    this.hub.bytesSent[this.myself] = (this.hub.bytesSent[this.myself] ?? 0) + payload.length;
    // A copy, as a real transport would deliver: the sender may reuse its buffer afterwards.
    await this.hub.deliver(this.uuid, to, this.nodes, { from: this.myself, stage, seq, payload: Uint8Array.from(payload), terms: this.termsJson });
  }

  receive(from: number, stage: string, seq = 0, timeoutMs = this.timeoutMs): Promise<Uint8Array> {
    const key = `${from}/${stage}/${seq}`;
    const ready = this.#inbox.get(key);
    if (ready) {
      this.#inbox.delete(key);
      this.#consumed.set(key, digest(ready));
      return Promise.resolve(ready);
    }
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(new TimeoutError(`${party(this.nodes, from)} sent no "${stage}" message within ${timeoutMs} ms`, { where: party(this.nodes, from) }));
      }, timeoutMs);
      this.#waiters.set(key, {
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  accept(m: Message): void {
    // As server/peer binds a sender on its first message, before the session judges it.
    if (m.from !== this.myself && !this.#joined.has(m.from)) {
      this.#joined.add(m.from);
      for (const wake of [...this.#joinWaiters]) wake();
    }
    if (!this.open) {
      if (m.abort) return;
      // As server/peer/session.ts does: a sender that arrives after the failure learns its cause.
      const failure = this.#failure;
      const why = failure ? `: ${failure.message}` : '';
      const where = failure instanceof PeerError && failure.where !== undefined ? failure.where : party(this.nodes, this.myself);
      throw new ConflictError(`computation ${this.uuid} is already finished or aborted here${why}`.slice(0, 1000), { where });
    }
    if (m.abort) {
      // The real session's notice and error (server/peer/session.ts): a timeout passed on stays a
      // 504 naming the party that never arrived; any other abort is a 502 naming the aborter.
      this.fail(abortError(party(this.nodes, m.from), m.from, Buffer.from(m.payload)));
      return;
    }
    if (m.terms !== this.termsJson) {
      const ours = JSON.parse(this.termsJson) as Record<string, unknown>;
      const theirs = JSON.parse(m.terms) as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(ours), ...Object.keys(theirs)])].sort();
      // As server/peer does: microprotocol and nodes first, then alphabetical.
      keys.sort((a, b) => Number(b === 'microprotocol') - Number(a === 'microprotocol') || Number(b === 'nodes') - Number(a === 'nodes'));
      const key = keys.find((k) => JSON.stringify(ours[k]) !== JSON.stringify(theirs[k]));
      const err = new ConflictError(`${party(this.nodes, m.from)} disagrees on ${key}`, { where: party(this.nodes, m.from) });
      this.fail(err);
      void this.abort(err.message);
      throw err;
    }
    if (!this.stages.has(m.stage)) {
      throw new BadInputError(`stage ${JSON.stringify(m.stage)} is not declared by this protocol`, { where: 'envelope.header.stage' });
    }
    // As server/peer/session.ts does: a stage out of the protocol's declared order is refused.
    if (this.order !== undefined) {
      const previous = this.#lastStage.get(m.from);
      if (!this.order.allows(previous, m.stage)) {
        throw new ConflictError(`${party(this.nodes, m.from)} sent a "${m.stage}" message after "${previous ?? '(none)'}": out of order for this protocol`, {
          where: party(this.nodes, m.from),
        });
      }
      this.#lastStage.set(m.from, m.stage);
    }
    const key = `${m.from}/${m.stage}/${m.seq}`;
    if (this.#isDuplicate(key, m.payload)) return;
    const waiter = this.#waiters.get(key);
    if (waiter) {
      this.#waiters.delete(key);
      this.#consumed.set(key, digest(m.payload));
      waiter.resolve(m.payload);
    } else {
      this.#inbox.set(key, m.payload);
      this.hub.peakInbox = Math.max(this.hub.peakInbox, this.#inbox.size);
    }
  }

  /** As server/peer/session.ts does: an identical resend is ignored, a different one refused naming its sender. */
  #isDuplicate(key: string, payload: Uint8Array): boolean {
    const held = this.#inbox.get(key);
    const seen = held === undefined ? this.#consumed.get(key) : undefined;
    if (held === undefined && seen === undefined) return false;
    if (held !== undefined ? Buffer.from(held).equals(payload) : seen === digest(payload)) return true;
    const [from, stage, seq] = key.split('/');
    throw new ConflictError(`${party(this.nodes, Number(from))} sent two different "${stage}" messages with seq ${seq}`, {
      where: party(this.nodes, Number(from)),
    });
  }

  fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#controller.abort(err);
    for (const w of this.#waiters.values()) w.reject(err);
    this.#waiters.clear();
    this.#inbox.clear();
  }

  #hasEveryone(): boolean {
    return this.#joined.size === this.parties - 1;
  }

  /**
   * As server/peer/session.ts decides it: true once every other party has sent this computation a
   * message, false after `timeoutMs` or once the session closes. An open session at a peer is not
   * enough: a failing party that told a peer before the peer had sent anything would fail it
   * differently from real servers (its first message would meet a closed session, a 409).
   */
  whenJoined(timeoutMs: number = this.timeoutMs, peer?: number): Promise<boolean> {
    const joined = peer === undefined ? () => this.#hasEveryone() : () => this.#joined.has(peer);
    if (joined()) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer);
        this.#joinWaiters.delete(wake);
        resolve(result);
      };
      // Woken at every first message from a party and at close: a waiter for one peer checks that peer.
      const wake = (): void => {
        if (this.#closed || joined()) done(joined());
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#joinWaiters.add(wake);
    });
  }

  async abort(reason: string, cause?: AbortCause): Promise<void> {
    const first = this.#failure === undefined;
    this.fail(new PeerError(`this party aborted the computation: ${reason}`, { where: party(this.nodes, this.myself) }));
    if (!first && this.hub.abortsSent.has(`${this.uuid}/${this.myself}`)) return;
    for (let i = 0; i < this.parties; i++) await this.tell(i, reason, cause);
  }

  async tell(peer: number, reason: string, cause?: AbortCause): Promise<void> {
    if (peer === this.myself || this.#told.has(peer)) return;
    this.#told.add(peer);
    // One record per session that aborts, however many peers it tells and when.
    if (!this.#recorded) {
      this.#recorded = true;
      this.hub.abortsSent.add(`${this.uuid}/${this.myself}`);
      this.hub.aborts.push({ uuid: this.uuid, from: this.myself, reason });
    }
    await this.hub
      .deliver(this.uuid, peer, this.nodes, { from: this.myself, stage: 'abort', seq: 0, payload: abortNotice(reason, cause), terms: this.termsJson, abort: true })
      .catch(() => {});
  }

  /**
   * In memory the hub stands in for the pair's key agreement: one random root per pair of
   * servers, expanded with the same bindings as server/peer/pair-secrets.ts (uuid, terms, the two
   * indices, the caller's context).
   */
  pairSecret(peer: number, context: Uint8Array): Uint8Array {
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.parties || peer === this.myself) {
      throw new BadInputError(`peer must be the index of another party (0..${this.parties - 1}, not ${this.myself})`, { where: 'peer' });
    }
    const root = this.hub.pairRoot(this.nodes[this.myself]!, this.nodes[peer]!);
    const info = JSON.stringify([this.uuid, this.termsJson, Math.min(this.myself, peer), Math.max(this.myself, peer), Buffer.from(context).toString('hex')]);
    return new Uint8Array(hkdfSync('sha256', root, Buffer.alloc(0), info, 32));
  }

  close(): void {
    if (this.#closed) return;
    this.fail(new PeerError(`computation ${this.uuid} is closed`));
    this.#closed = true;
    for (const wake of this.#joinWaiters) wake();
    this.hub.closed.push(`${this.uuid}/${this.myself}`);
  }
}

export class MemoryHub {
  readonly sessions = new Map<string, MemorySession>();
  readonly pending = new Map<string, Message[]>();
  readonly bytesSent: number[] = [];
  readonly closed: string[] = [];
  readonly abortsSent = new Set<string>();
  peakInbox = 0;
  /** Every message sent: who, to whom, which stage and chunk, and (when `capture`) its payload. */
  readonly log: { from: number; to: number; stage: string; seq: number; bytes: number; payload?: Uint8Array }[] = [];
  capture = false;
  /** Party `party` dies (sends nothing more) after sending `messages` messages. */
  dieAfter: { party: number; messages: number } | undefined;
  /** Parties whose messages are dropped from now on (a dead server). */
  readonly dead = new Set<number>();
  /** What happens to each message on its way (undefined: delivered as sent); see Fault. */
  fault: ((message: InFlight) => Fault | undefined) | undefined;
  /** Every party that told its peers it gives up (once per party), and the reason they were told. */
  readonly aborts: { uuid: string; from: number; reason: string }[] = [];
  /** Reordered messages held back, by receiver: delivered after the next message to it. */
  readonly #held = new Map<number, (() => Promise<void>)[]>();

  readonly #pairRoots = new Map<string, Buffer>();

  constructor(readonly nodes: readonly string[], readonly timeoutMs = 5000) {}

  /** The long-term secret of two servers (by URL), drawn once per hub. */
  pairRoot(a: string, b: string): Buffer {
    const key = JSON.stringify(a < b ? [a, b] : [b, a]);
    let root = this.#pairRoots.get(key);
    if (root === undefined) {
      root = randomBytes(32);
      this.#pairRoots.set(key, root);
    }
    return root;
  }

  /**
   * `to` and `m.from` are indices into the session's `nodes`, which may be a subset of the hub's
   * (a FedAvg restart among the survivors); parties are the hub's, found by node URL.
   */
  async deliver(uuid: string, to: number, nodes: readonly string[], m: Message): Promise<void> {
    const hubFrom = this.nodes.indexOf(nodes[m.from]!);
    const hubTo = this.nodes.indexOf(nodes[to]!);
    if (this.dieAfter && hubFrom === this.dieAfter.party && !m.abort && --this.dieAfter.messages < 0) this.dead.add(hubFrom);
    if (this.dead.has(hubFrom)) return new Promise(() => {}); // a dead server sends nothing, ever
    const fault = this.fault?.({ uuid, from: hubFrom, to: hubTo, stage: m.stage, seq: m.seq, abort: m.abort === true, payload: m.payload });
    if (fault?.kind === 'abort') {
      const sender = this.sessions.get(`${uuid}/${hubFrom}`);
      await sender?.abort(fault.reason);
      throw new PeerError(`this party aborted the computation: ${fault.reason}`, { where: party(nodes, m.from) });
    }
    if (fault?.kind === 'replace') m = { ...m, payload: fault.payload };
    if (!m.abort) this.log.push({ from: hubFrom, to: hubTo, stage: m.stage, seq: m.seq, bytes: m.payload.length, ...(this.capture ? { payload: m.payload } : {}) });
    if (fault?.kind === 'hang') return new Promise(() => {});
    if (fault?.kind === 'drop') return;
    // As the real transport words it (server/peer/transport.ts transportFailure).
    if (this.dead.has(hubTo)) throw new PeerError(`cannot reach ${party(nodes, to)}: the server is gone`, { where: party(nodes, to) });
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const arrive = async (message: Message): Promise<void> => {
      await new Promise((resolve) => setImmediate(resolve)); // asynchronous, like a network
      const session = this.sessions.get(`${uuid}/${hubTo}`);
      if (session) session.accept(message);
      else {
        const list = this.pending.get(`${uuid}/${hubTo}`) ?? [];
        list.push(message);
        this.pending.set(`${uuid}/${hubTo}`, list);
      }
    };
    if (fault?.kind === 'reorder') {
      // Its sender's send resolves now; what the receiver answers later reaches nobody, as with a
      // transport that acknowledged it and delivered it late.
      const held = this.#held.get(hubTo) ?? [];
      held.push(() => arrive(m).catch(() => {}));
      this.#held.set(hubTo, held);
      return;
    }
    const overtaken = this.#held.get(hubTo) ?? [];
    this.#held.delete(hubTo);
    try {
      await arrive(m);
    } finally {
      for (const late of overtaken) await late();
    }
    if (fault?.kind === 'duplicate') await arrive({ ...m, payload: fault.payload ?? m.payload });
  }

  network(myself: number): PeerNetwork {
    return {
      stageTimeoutMs: this.timeoutMs,
      open: async (options: OpenOptions) => {
        if (options.terms.nodes[options.myself] !== this.nodes[myself]) throw new BadInputError('myself is not this server', { where: 'kwargs.network.myself' });
        const key = `${options.uuid}/${myself}`;
        const session = new MemorySession(this, options.uuid, options.myself, options.terms.nodes, options.terms, new Set(options.stages), options.timeoutMs ?? this.timeoutMs, options.order);
        this.sessions.set(key, session);
        for (const m of this.pending.get(key) ?? []) {
          try {
            session.accept(m);
          } catch {
            // the mismatch already failed the session
          }
        }
        this.pending.delete(key);
        return session;
      },
    };
  }
}
