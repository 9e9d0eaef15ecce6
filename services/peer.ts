// The peer transport as protocols see it. Implemented in server/peer/ (PeerNode); protocols in
// services/ only use these interfaces, so they never see HTTP, keys or envelopes.
//
// Matching computations: each call to `open` draws a fresh random instance id (the party's
// computation nonce). Every message carries (network uuid, sender instance); a receiver binds,
// per sender, the first instance it sees for its session on that uuid, and buffers messages for
// a uuid it has no session for yet (bounded in count, bytes and time). Calls with the same uuid
// on one server are served one after the other (FIFO), so the i-th call at each party meet.
// Every message also names the receiver's instance as the sender has bound it (empty before it
// heard from the receiver): a receiver refuses a message naming an instance of its own that ended,
// and an abort notice from an instance that never joined a computation at the receiver only marks
// that instance dead there. So a failed attempt on a uuid never fails the next one (server/peer/inbound.ts).

import type { Json } from './microservice.js';

/** What every party must agree on before any secret-dependent data is used. */
export interface Terms {
  readonly microprotocol: string;
  readonly nodes: readonly string[];
  /** Protocol parameters (ring width, tensor manifest, …); compared key by key. */
  readonly [param: string]: Json | readonly string[];
}

export interface OpenOptions {
  /** The network uuid the clients chose (may be reused for consecutive computations). */
  readonly uuid: string;
  /** This party's index in terms.nodes. */
  readonly myself: number;
  readonly terms: Terms;
  /** The stages this protocol declares, in order; messages for any other stage are rejected. */
  readonly stages: readonly string[];
  /** Per-wait timeout; defaults to the server's --stage-timeout. */
  readonly timeoutMs?: number;
  /**
   * The order a sender's messages may arrive in (services/common/stages.ts StageOrder). When
   * given, a message for a stage out of order is refused at delivery, naming the sender.
   */
  readonly order?: StageOrderCheck;
}

/** Whether a sender whose last message was for `previous` may now send `next`. */
export interface StageOrderCheck {
  allows(previous: string | undefined, next: string): boolean;
}

export interface Session {
  readonly uuid: string;
  readonly myself: number;
  /** Number of parties n. */
  readonly parties: number;
  readonly nodes: readonly string[];
  /** The per-wait timeout a receive has unless it names its own (OpenOptions.timeoutMs, else the server's). */
  readonly timeoutMs: number;
  /** Fires when the session fails (a peer aborted or disagreed on the terms, or it was closed). */
  readonly signal: AbortSignal;
  /**
   * Encrypt, authenticate and deliver one message to party `to`. Resolves when the peer has
   * accepted it; rejects with PeerError/TimeoutError naming the party. `seq` numbers chunks of a
   * streamed stage (default 0). The receiver applies backpressure: send waits while its inbox is full.
   */
  send(to: number, stage: string, payload: Uint8Array, seq?: number): Promise<void>;
  /**
   * The payload of (stage, seq) from party `from`. A duplicate identical message is ignored; a
   * conflicting one is rejected at delivery. Rejects with TimeoutError naming the missing party,
   * or PeerError when the session failed (abort, terms mismatch).
   */
  receive(from: number, stage: string, seq?: number, timeoutMs?: number): Promise<Uint8Array>;
  /**
   * Tell every peer this party gives up (they fail promptly, naming it) and fail local waits.
   * `cause` is the typed error behind it: a timeout travels as a timeout, so every party's
   * problem names the party that never arrived, not the one that gave up first.
   */
  abort(reason: string, cause?: AbortCause): Promise<void>;
  /**
   * Tells party `peer` alone, now, that this party gives up (the notice `abort` sends), without
   * failing local waits; a later `abort` does not tell that peer again. For a party that tells
   * each peer as soon as that peer has joined (services/abort.ts abortAsPeersJoin).
   */
  tell(peer: number, reason: string, cause?: AbortCause): Promise<void>;
  /**
   * Resolves true once every other party has joined this computation (sent it a message), or with
   * `peer` once that party has, false after `timeoutMs` (default: the stage timeout) or when the
   * session closes. A party that fails on its own input waits for this before it tells a peer, so
   * its notice reaches a computation that peer has joined rather than waiting at a server whose
   * client has not called yet.
   */
  whenJoined(timeoutMs?: number, peer?: number): Promise<boolean>;
  /**
   * A 32-byte secret that this party and party `peer` alone can compute, with no message: derived
   * from the pair's long-term key agreement (server/peer/pair-secrets.ts) and bound to this
   * computation's uuid and terms and to `context`. The same (pair, uuid, terms, context) always
   * gives the same secret, so `context` MUST hold a value both parties agree on that is fresh for
   * this computation (e.g. a nonce one party drew and sent): a uuid is reused for retries and new
   * computations, and a mask that repeats across computations reveals the difference of inputs.
   */
  pairSecret(peer: number, context: Uint8Array): Uint8Array;
  /** Free everything the session holds; later messages of this instance are rejected as replays. */
  close(): void;
}

/** Why a party aborted, as far as the other parties need to know it (never a secret). */
export interface AbortCause {
  /** The TesseraError slug, e.g. "timeout", "bad-input", "conflict". */
  readonly slug: string;
  /** For a timeout: the party that did not arrive ("party 2 (http://…)"). */
  readonly where?: string;
}

export interface PeerNetwork {
  /**
   * Validate the network (nodes are URLs, distinct, trusted; nodes[myself] is this server),
   * authenticate every peer, and open a session. Throws BadInputError naming the field
   * (e.g. "kwargs.network.nodes[2]") for a malformed or untrusted node.
   */
  open(options: OpenOptions): Promise<Session>;
  readonly stageTimeoutMs: number;
}

/** The server side of the peer API, mounted by the HTTP layer without knowing its internals. */
export interface PeerEndpoint {
  /**
   * GET /peer/identity: this server's public identity, and for a challenge its proofs: of the
   * network secret, if one is set; for the asking server's public key `asker`, of this server's key
   * and run (server/peer/node.ts).
   */
  identity(challenge: string | undefined, asker?: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  /**
   * POST /peer/messages: one sealed envelope. Throws a TesseraError when rejected. `owned`: the
   * caller hands the buffer over (a request body read for this call), so a large envelope may be
   * decrypted in place and its bytes destroyed (server/peer/envelope.ts openInPlace). Resolves
   * with the receipt every carrier answers an accepted envelope with (server/peer/envelope.ts
   * receiptFor; HTTP: the Tessera-Receipt header of the 204), if it gives one.
   */
  deliver(envelope: Buffer, options?: { readonly owned?: boolean }): Promise<string | void>;
}
