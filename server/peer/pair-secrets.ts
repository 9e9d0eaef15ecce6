// Pair secrets (services/peer.ts Session.pairSecret): a key that two parties of a computation
// derive alone, with no message, for protocols whose pairs of parties need shared randomness
// (the pairwise masks of the secure vector sum, services/common/vectorsum.ts).
//
//   root(i, j)   = HKDF-SHA256(ikm  = X25519(own private, peer public),        -- RFC 7748 §6.1
//                              salt = trust salt (trust.ts),
//                              info = "tessera/v1/pair-root" ‖ lower key ‖ higher key)
//   secret(ctx)  = HKDF-SHA256(ikm  = root(i, j), salt = empty,
//                              info = "tessera/v1/pair-secret" ‖ len ‖ uuid ‖ SHA-256(terms)
//                                     ‖ lower index ‖ higher index ‖ len ‖ context)
//
// The static key agreement is the envelope keys' own (envelope.ts agreeX25519), under a
// distinct HKDF info, so the two keys are independent (RFC 5869 §3.2); in the secret trust modes
// the secret salt keeps the pair secrets from anyone without the network secret, as it does the
// message keys. The keys enter the root ordered, so both parties derive the same root. The root
// is derived once per peer and process (one X25519, not one per computation; its Extract step
// below is what is cached); the second HKDF
// binds the computation (uuid, the agreed terms, the two indices) and the caller's context, which
// the caller must make fresh per computation (services/peer.ts says why).
//
// Cost: a secure vector sum of n parties derives (n−1)(n−2) pair secrets per computation (2352 at
// 50 parties), so the second HKDF is computed in its parts. HKDF(ikm, salt = empty, info, 32) is
// Extract, PRK = HMAC(salt, ikm) with the empty salt standing for HashLen zero bytes (RFC 5869
// §2.2), then Expand, whose output for L ≤ HashLen is its first block T(1) = HMAC(PRK, info ‖ 0x01)
// (§2.3). The PRK depends on the root alone, so it is computed once per peer and cached with it;
// each secret is then one HMAC with Node's own. The bytes are exactly hkdfSync's (a test checks
// it), at a quarter of its cost: hkdfSync builds a key object and a job per call. The SHA-256 of
// the terms is computed once per terms, not once per pair.

import { createHash, createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { fromBase64Url } from './codec.js';
import { agreeX25519 } from './envelope.js';
import type { Identity } from './identity.js';
import type { Trust } from './trust.js';

const ROOT_INFO = Buffer.from('tessera/v1/pair-root');
const SECRET_INFO = Buffer.from('tessera/v1/pair-secret');
/** Differs from SECRET_INFO within its first bytes, so no identity proof is ever a pair secret. */
const IDENTITY_PROOF_INFO = Buffer.from('tessera/v1/identity-pair-proof');
const MAX_CACHED = 4096;
/** The SHA-256 of the terms of the computations running now (a handful; bounded). */
const MAX_TERMS_DIGESTS = 64;
const SECRET_BYTES = 32;
/** RFC 5869 §2.2: an absent salt is HashLen zero bytes (HMAC pads a shorter key with zeros anyway). */
const EMPTY_SALT = Buffer.alloc(32);
const FIRST_BLOCK = Buffer.from([1]);
const termsDigests = new Map<string, Buffer>();

function termsDigest(termsJson: string): Buffer {
  const known = termsDigests.get(termsJson);
  if (known !== undefined) return known;
  const digest = createHash('sha256').update(termsJson, 'utf8').digest();
  if (termsDigests.size >= MAX_TERMS_DIGESTS) termsDigests.delete(termsDigests.keys().next().value!);
  termsDigests.set(termsJson, digest);
  return digest;
}

/** HKDF-SHA256-Extract(salt = empty, ikm): the PRK of RFC 5869 §2.2, as a key for Expand's HMAC. */
function extract(ikm: Uint8Array): KeyObject {
  return createSecretKey(createHmac('sha256', EMPTY_SALT).update(ikm).digest());
}

/** HKDF-SHA256-Expand(prk, info, 32): for L = HashLen it is T(1) alone (RFC 5869 §2.3). */
function expandOneBlock(prk: KeyObject, info: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', prk).update(info).update(FIRST_BLOCK).digest());
}

/** What `secret` computes, with Node's HKDF in one call: the reference the tests compare it with. */
export function referencePairSecret(root: Uint8Array, info: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', root, Buffer.alloc(0), info, SECRET_BYTES));
}

/** What `root` computes, with Node's HKDF in one call: the reference the tests compare it with. */
export function referencePairRoot(shared: Uint8Array, salt: Uint8Array, own: Uint8Array, peer: Uint8Array): Uint8Array {
  const [low, high] = Buffer.compare(own, peer) < 0 ? [own, peer] : [peer, own];
  return new Uint8Array(hkdfSync('sha256', shared, salt, Buffer.concat([ROOT_INFO, low, high]), SECRET_BYTES));
}

/** Length-prefixed (uint32 BE), so that no two different field lists encode alike. */
function field(bytes: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function index(i: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(i);
  return out;
}

/** The HKDF info of one computation's pair secret for parties `a` and `b` (either order). */
export function pairSecretInfo(uuid: string, termsJson: string, a: number, b: number, context: Uint8Array): Buffer {
  return Buffer.concat([
    SECRET_INFO,
    field(Buffer.from(uuid, 'utf8')),
    termsDigest(termsJson),
    index(Math.min(a, b)),
    index(Math.max(a, b)),
    field(context),
  ]);
}

export class PairSecrets {
  /** Per peer key, the Extract step of the second HKDF over its root (see the top of this file). */
  readonly #prks = new Map<string, KeyObject>();

  constructor(
    private readonly identity: Identity,
    private readonly trust: Trust,
  ) {}

  /** The pair secret shared with the party whose public key is `peerKey`, for `info` (pairSecretInfo). */
  secret(peerKey: string, info: Uint8Array): Uint8Array {
    return expandOneBlock(this.#prk(peerKey), info);
  }

  /**
   * The proof that the server with key `answererKey` answers, running `bootId`, the identity request
   * `challenge` of the server with key `askerKey` (one of the two keys is this server's, `peerKey`
   * the other): HKDF-Expand of the pair's root under an info that binds both keys in their roles,
   * the run and the challenge, so it holds for that one exchange only. Only the two parties derive
   * the root (X25519 of one's private key with the other's public key; in the secret trust modes the
   * secret is its salt), so nobody else can make it, and a fresh challenge makes an old one useless
   * (trust.ts, SECURITY.md "Peers"). The root is the one the pair secrets use, cached per peer: a
   * first contact derives it once for both.
   */
  identityProof(peerKey: string, askerKey: Uint8Array, answererKey: Uint8Array, bootId: Uint8Array, challenge: Uint8Array): Buffer {
    const info = Buffer.concat([IDENTITY_PROOF_INFO, askerKey, answererKey, bootId, field(challenge)]);
    return Buffer.from(expandOneBlock(this.#prk(peerKey), info));
  }

  /**
   * The pair's root (for tests: `secret` is referencePairSecret(root, info), and the root is
   * referencePairRoot's). HKDF in its two HMACs, as for the secrets (RFC 5869 §2.2–2.3: Extract
   * with the trust salt, then Expand's first block): hkdfSync's bytes without its key object and
   * job, for the n − 1 roots each party derives at its first computation with n parties.
   */
  root(peerKey: string): Buffer {
    const shared = agreeX25519(this.identity, peerKey, 'pair secret');
    const peerBytes = fromBase64Url(peerKey, 32)!; // agreeX25519 checked it
    const own = this.identity.publicKeyBytes;
    const [low, high] = Buffer.compare(own, peerBytes) < 0 ? [own, peerBytes] : [peerBytes, own];
    const prk = createHmac('sha256', this.trust.messageSalt).update(shared).digest();
    return createHmac('sha256', prk).update(ROOT_INFO).update(low).update(high).update(FIRST_BLOCK).digest();
  }

  #prk(peerKey: string): KeyObject {
    const cached = this.#prks.get(peerKey);
    if (cached !== undefined) return cached;
    const prk = extract(this.root(peerKey));
    if (this.#prks.size >= MAX_CACHED) this.#prks.delete(this.#prks.keys().next().value!);
    this.#prks.set(peerKey, prk);
    return prk;
  }
}
