// Who is at a peer URL: fetches GET <url>/peer/identity?challenge=<fresh random>&asker=<our key>,
// checks the answer against the trust mode (the pinned key, if any) and its proof over the key,
// the boot id and our challenge, so an answer cannot be replayed from another exchange: the pair
// proof (pair-secrets.ts identityProof, a key only the peer and we derive), or, from a peer that
// gives none, the HMAC proof of the network secret where one is set. Without a secret an answer
// without a pair proof is refused: it would prove nothing (SECURITY.md "Peers"). The identity is
// cached per URL until the peer says its boot changed.
//
// Proofs are ordered by `proofTick()`: a computation that opens takes a tick, every identity
// challenge and every sealed envelope takes one when its random value is drawn, and a proof counts
// for a computation only if its tick is later (node.ts): the peer's run was alive after the
// computation opened. Two kinds of proof exist: the answer to a fresh identity challenge (here),
// and the receipt of a delivered envelope (`proven`, from outbound.ts; envelope.ts receiptFor).

import { timingSafeEqual } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { entropy } from '../../services/common/field.js';
import { PeerError } from '../../services/errors.js';
import { fromBase64Url } from './codec.js';
import type { Identity } from './identity.js';
import type { PairSecrets } from './pair-secrets.js';
import { HttpTransport, transportFailure, type PeerTransport } from './transport.js';
import type { Trust } from './trust.js';

export interface PeerIdentity {
  readonly url: string;
  readonly publicKey: string;
  readonly bootId: string;
}

const MAX_IDENTITY_BYTES = 16 * 1024;
/**
 * An identity challenge: 32 bytes from the CSPRNG, cut from a pool (field.ts entropy: each byte
 * handed out once, a fresh pool when it is used up), since one randomBytes call costs 10-25 µs here
 * and a first contact of n parties draws n(n − 1) challenges.
 */
const CHALLENGE_BYTES = 32;
const MAX_CACHED = 1024;

/** How many (key, boot) pairs found stale are remembered, so their replays cost no identity fetch. */
const MAX_STALE_BOOTS = 10_000;

let ticks = 0;
/** The next value of the process-wide order of proofs and computations (see the top of this file). */
export function proofTick(): number {
  ticks += 1;
  return ticks;
}

/**
 * The boot id of a peer whose key the peers file pins but whose run this server has not met yet
 * (PeerDirectory.known): no envelope is sealed to it (outbound.ts asks the run first), no message
 * is compared with it (the session holds that peer's messages until its run is proven, node.ts).
 */
export const UNKNOWN_BOOT = '';

/** Told of every proof of a peer's current run: its identity, and the tick its fresh value was drawn at. */
export type ProofListener = (identity: PeerIdentity, tick: number) => void;

export class PeerDirectory {
  private readonly cache = new Map<string, PeerIdentity>();
  private readonly inflight = new Map<string, Promise<PeerIdentity>>();
  /** Per public key, the boot id its server last proved (fresh challenge) it runs now. */
  private readonly boots = new Map<string, string>();
  /** `key|boot` of runs known to have ended: their envelopes are refused without asking again. */
  private readonly staleBoots = new Set<string>();
  /** Set by the node (node.ts): confirms the peer for the computations waiting for a proof of it. */
  onProof: ProofListener = () => undefined;
  /**
   * The signal of this directory's identity requests, which no caller ends: each is bounded by its
   * time limit (timeoutMs), which the carriers honour without a signal of its own per request.
   */
  readonly #requests = new AbortController();

  constructor(
    private readonly self: Identity,
    private readonly trust: Trust,
    private readonly pairs: PairSecrets,
    private readonly timeoutMs: number,
    private readonly transport: PeerTransport = new HttpTransport(),
  ) {
    // The HTTP carrier listens on a request's signal while it is in flight: a first contact asks
    // every peer at once, so this one signal has a listener per peer (each removed when answered).
    setMaxListeners(0, this.#requests.signal);
  }

  /** The authenticated identity at `url` (trusted, normalised); `where` names the party in errors. */
  async get(url: string, where: string, refresh = false): Promise<PeerIdentity> {
    // A peers file that pins this URL to our own key names us: no need to ask ourselves.
    if (this.trust.pinnedKey(url) === this.self.publicKey) {
      return { url, publicKey: this.self.publicKey, bootId: this.self.bootId };
    }
    if (!refresh) {
      const cached = this.cache.get(url);
      if (cached) return cached;
    }
    let pending = this.inflight.get(url);
    if (!pending) {
      pending = this.fetchIdentity(url, where).finally(() => this.inflight.delete(url));
      this.inflight.set(url, pending);
    }
    return pending;
  }

  /**
   * The identity last proven at `url` (pinned to our own key: ours), without asking; undefined
   * when this server has never authenticated it. It may be stale (the peer restarted since):
   * PeerNode.open uses it to start a computation at once and holds every message from that peer
   * until a fresh `get(url, where, true)` has confirmed or replaced it.
   */
  cached(url: string): PeerIdentity | undefined {
    if (this.trust.pinnedKey(url) === this.self.publicKey) return { url, publicKey: this.self.publicKey, bootId: this.self.bootId };
    return this.cache.get(url);
  }

  /**
   * Drops the identity cached for `url` if it still has `publicKey` (a computation that failed
   * found it suspect, node.ts sessionClosed): the next computation with that peer asks for it.
   */
  forget(url: string, publicKey: string): void {
    if (this.cache.get(url)?.publicKey === publicKey) this.cache.delete(url);
  }

  /**
   * What this server knows of the peer at `url` without asking: the identity last proven there
   * (cached), else, when the peers file pins `url`, the pinned key with its run not known yet
   * (bootId UNKNOWN_BOOT). The pinned key is what any answer at `url` would have to present
   * (fetchIdentity refuses another), so asking adds nothing to who the peer is; what a fresh
   * answer adds, a proof that its current run is alive after a computation opened, is drawn later
   * and only for the peers a computation exchanges messages with (node.ts open, docs/relay.md
   * "First contact with pinned peers").
   */
  known(url: string): PeerIdentity | undefined {
    const cached = this.cached(url);
    if (cached !== undefined) return cached;
    const pinned = this.trust.pinnedKey(url);
    return pinned === undefined ? undefined : { url, publicKey: pinned, bootId: UNKNOWN_BOOT };
  }

  /**
   * Is `bootId` the run of the server with `publicKey` that is running now? Known: answered at
   * once. Unknown: the server at `url` (where the sender says it runs) is asked, with a fresh
   * challenge, so only that server's current run can confirm it; a boot it does not confirm is
   * remembered as stale. An envelope recorded before its sender restarted thus never opens
   * afterwards (hardening finding 5), even at a receiver that never restarted.
   */
  async isCurrentBoot(publicKey: string, bootId: string, url: string | undefined, where: string): Promise<boolean> {
    if (this.boots.get(publicKey) === bootId) return true;
    if (this.staleBoots.has(`${publicKey}|${bootId}`) || url === undefined) return false;
    try {
      await this.get(url, where, true);
    } catch {
      return false; // unreachable or unproven: not confirmed (and not remembered: it may be transient)
    }
    if (this.boots.get(publicKey) === bootId) return true;
    if (this.boots.has(publicKey)) this.markStale(publicKey, bootId);
    return false;
  }

  /**
   * The receipt of an envelope sealed for `identity` at `tick` verified (outbound.ts): that run of
   * the server at `url` opened it, so it was running after `tick`. Recorded as a fresh identity
   * answer would be; the receipt's key was derived from the key this directory authenticated.
   */
  proven(identity: PeerIdentity, tick: number): void {
    this.record(identity);
    this.onProof(identity, tick);
  }

  /**
   * The URL whose last proven identity has this public key, if any: for an envelope that names no
   * URL (its header states the terms by digest, inbound.ts). A scan of the bounded cache; it runs
   * only when the sender's boot is not the one recorded for its key.
   */
  urlOf(publicKey: string): string | undefined {
    for (const identity of this.cache.values()) if (identity.publicKey === publicKey) return identity.url;
    return undefined;
  }

  private record(identity: PeerIdentity): void {
    const previous = this.boots.get(identity.publicKey);
    if (previous !== undefined && previous !== identity.bootId) this.markStale(identity.publicKey, previous);
    this.boots.delete(identity.publicKey);
    this.boots.set(identity.publicKey, identity.bootId);
    if (this.boots.size > MAX_CACHED) this.boots.delete(this.boots.keys().next().value!);
    this.cache.delete(identity.url);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(identity.url, identity);
  }

  private markStale(publicKey: string, bootId: string): void {
    if (this.staleBoots.size >= MAX_STALE_BOOTS) this.staleBoots.delete(this.staleBoots.values().next().value!);
    this.staleBoots.add(`${publicKey}|${bootId}`);
  }

  /** Is `proof` the pair proof (pair-secrets.ts identityProof) of the server with `peerKey` for our `challenge`? */
  private verifyPairProof(peerKey: string, peerKeyBytes: Buffer, bootId: Buffer, challenge: Buffer, proof: Buffer | undefined): boolean {
    if (proof === undefined) return false;
    let expected: Buffer;
    try {
      expected = this.pairs.identityProof(peerKey, this.self.publicKeyBytes, peerKeyBytes, bootId, challenge);
    } catch {
      return false; // agreeX25519 refused the key: no point, or a small-order one
    }
    return timingSafeEqual(proof, expected);
  }

  private async fetchIdentity(url: string, where: string): Promise<PeerIdentity> {
    const tick = proofTick();
    const challenge = entropy(CHALLENGE_BYTES);
    let response: { status: number; text: string };
    try {
      response = await this.transport.request(`${url}/peer/identity?challenge=${challenge.toString('base64url')}&asker=${this.self.publicKey}`, {
        method: 'GET',
        headers: { accept: 'application/json' },
        signal: this.#requests.signal,
        timeoutMs: this.timeoutMs,
        maxResponseBytes: MAX_IDENTITY_BYTES,
        idempotent: true,
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERESPONSETOOLARGE') throw new PeerError(`${where} sent an oversized identity`, { where });
      throw transportFailure(err, where, `${where} did not answer its identity request within ${this.timeoutMs} ms`);
    }
    // The transport already refused an answer longer than MAX_IDENTITY_BYTES.
    const { text } = response;
    if (response.status < 200 || response.status > 299) throw new PeerError(`${where} answered its identity request with HTTP ${response.status}`, { where });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new PeerError(`${where} sent an identity that is not JSON`, { where });
    }
    // `null`, a number or a list is JSON too: a garbage answer must be a PeerError, not a TypeError.
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PeerError(`${where} sent a malformed identity`, { where });
    const publicKey = fromBase64Url(body.publicKey, 32);
    const bootId = fromBase64Url(body.bootId, 16);
    if (!publicKey || !bootId) throw new PeerError(`${where} sent a malformed identity`, { where });
    const pinned = this.trust.pinnedKey(url);
    if (pinned !== undefined && pinned !== body.publicKey) {
      throw new PeerError(`${where} presented a public key that is not the one pinned in the peers file`, { where });
    }
    if (body.pairProof !== undefined || !this.trust.holdsSecret) {
      if (body.pairProof === undefined) {
        throw new PeerError(`${where} answered its identity request without a proof for this server's key (it runs an older Tessera, or its peers file does not list this server)`, { where });
      }
      if (!this.verifyPairProof(body.publicKey as string, publicKey, bootId, challenge, fromBase64Url(body.pairProof, 32))) {
        // With a secret, that is the usual cause: the pair key's salt is derived from it (trust.ts).
        const what = this.trust.holdsSecret ? 'it holds the network secret (its pair proof does not verify)' : 'its key and current run to this server';
        throw new PeerError(`${where} could not prove ${what}`, { where });
      }
    } else {
      const proof = body.proof === undefined ? undefined : fromBase64Url(body.proof, 32);
      if (!this.trust.verifyProof(publicKey, bootId, challenge, proof)) {
        throw new PeerError(`${where} could not prove it holds the network secret`, { where });
      }
    }
    const identity: PeerIdentity = { url, publicKey: body.publicKey as string, bootId: body.bootId as string };
    this.record(identity);
    this.onProof(identity, tick);
    return identity;
  }
}
