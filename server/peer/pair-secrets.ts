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
// is cached per peer (one X25519 per peer and process, not per computation); the second HKDF
// binds the computation (uuid, the agreed terms, the two indices) and the caller's context, which
// the caller must make fresh per computation (services/peer.ts says why).

import { createHash, hkdfSync } from 'node:crypto';
import { fromBase64Url } from './codec.js';
import { agreeX25519 } from './envelope.js';
import type { Identity } from './identity.js';
import type { Trust } from './trust.js';

const ROOT_INFO = Buffer.from('tessera/v1/pair-root');
const SECRET_INFO = Buffer.from('tessera/v1/pair-secret');
const MAX_CACHED = 4096;

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
    createHash('sha256').update(termsJson, 'utf8').digest(),
    index(Math.min(a, b)),
    index(Math.max(a, b)),
    field(context),
  ]);
}

export class PairSecrets {
  readonly #roots = new Map<string, Buffer>();

  constructor(
    private readonly identity: Identity,
    private readonly trust: Trust,
  ) {}

  /** The pair secret shared with the party whose public key is `peerKey`, for `info` (pairSecretInfo). */
  secret(peerKey: string, info: Uint8Array): Uint8Array {
    return new Uint8Array(hkdfSync('sha256', this.#root(peerKey), Buffer.alloc(0), info, 32));
  }

  #root(peerKey: string): Buffer {
    const cached = this.#roots.get(peerKey);
    if (cached !== undefined) return cached;
    const shared = agreeX25519(this.identity, peerKey, 'pair secret');
    const peerBytes = fromBase64Url(peerKey, 32)!; // agreeX25519 checked it
    const own = this.identity.publicKeyBytes;
    const [low, high] = Buffer.compare(own, peerBytes) < 0 ? [own, peerBytes] : [peerBytes, own];
    const root = Buffer.from(hkdfSync('sha256', shared, this.trust.messageSalt, Buffer.concat([ROOT_INFO, low, high]), 32));
    if (this.#roots.size >= MAX_CACHED) this.#roots.delete(this.#roots.keys().next().value!);
    this.#roots.set(peerKey, root);
    return root;
  }
}
