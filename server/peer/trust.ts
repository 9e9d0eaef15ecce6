// Whom this server trusts, and how (docs/architecture.md §5):
//   "pinned peers"      a peers file pins each peer URL to its X25519 public key;
//   "network secret"    every party holds one secret; peers prove they hold it;
//   "local user secret" no configuration: the secret of one OS user on one machine
//                       (identity.ts), and loopback URLs only.
// The trust mode also decides the HKDF salt of every message key (envelope.ts): in the secret
// modes it is derived from the secret, so without the secret no message key can be computed.

import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BadInputError } from '../../services/errors.js';
import { isLoopbackUrl } from '../loopback.js';
import { fromBase64Url, normaliseNodeUrl } from './codec.js';

export type TrustMode = 'pinned peers' | 'network secret' | 'local user secret';

const SECRET_SALT = Buffer.from('tessera/v1/network-secret');
const PINNED_SALT = Buffer.from('tessera/v1/pinned-peers');
const IDENTITY_LABEL = Buffer.from('tessera/v1/identity');
export const MIN_SECRET_BYTES = 16;

/**
 * The network secret as people handle it: `tessera secret` prints 32 random bytes with a prefix
 * and a checksum, `tessera-secret-v1.<base64url(secret || check)>`, and nothing else is accepted.
 * Why: GET /peer/identity proves knowledge of the secret with an HMAC over a challenge anyone may
 * choose, so whoever sees one proof can test guesses offline at memory speed (a 28-character
 * passphrase fell in 0.18 s; hardening finding 6). Against 256 random bits that search is
 * hopeless, and a secret a person typed (a passphrase, or anything not made by the tool) fails
 * the prefix and checksum. A PAKE (CPace, SPAKE2) would also resist low-entropy secrets, but there
 * is no audited JavaScript implementation to use; SECURITY.md argues the choice.
 */
export const SECRET_PREFIX = 'tessera-secret-v1.';
const SECRET_BYTES = 32;
const CHECK_BYTES = 4;

function secretCheck(secret: Buffer): Buffer {
  return createHash('sha256').update('tessera/v1/network-secret-check').update(secret).digest().subarray(0, CHECK_BYTES);
}

/** A new network secret in the one accepted form (`tessera secret`), or `secret` (32 bytes) in that form. */
export function formatNetworkSecret(secret: Buffer = randomBytes(SECRET_BYTES)): string {
  if (secret.length !== SECRET_BYTES) throw new BadInputError(`a network secret is ${SECRET_BYTES} bytes`, { where: 'networkSecret' });
  return SECRET_PREFIX + Buffer.concat([secret, secretCheck(secret)]).toString('base64url');
}

/** The 32 secret bytes of a formatted network secret; refuses anything else, saying how to make one. */
export function parseNetworkSecret(text: string, where = '--network-secret'): Buffer {
  const trimmed = text.trim();
  if (!trimmed.startsWith(SECRET_PREFIX)) {
    throw new BadInputError(
      'the network secret must be one that `tessera secret` printed (a chosen passphrase can be guessed offline from any identity proof); run `tessera secret` and give its output to every party',
      { where },
    );
  }
  const bytes = fromBase64Url(trimmed.slice(SECRET_PREFIX.length), SECRET_BYTES + CHECK_BYTES);
  const secret = bytes?.subarray(0, SECRET_BYTES);
  if (bytes === undefined || secret === undefined || !timingSafeEqual(bytes.subarray(SECRET_BYTES), secretCheck(secret))) {
    throw new BadInputError('the network secret is damaged (its length or checksum is wrong): copy the whole line `tessera secret` printed', { where });
  }
  return Buffer.from(secret);
}

/** One allowlist entry: a URL prefix ("https://lab.example", "http://10.0.0.5:8080/tessera") or a glob with `*`. */
/** A normalised relay node URL (codec.ts normaliseNodeUrl). */
function isRelayUrl(url: string): boolean {
  return url.startsWith('relay://');
}

export function compileUrlPattern(pattern: string): (url: string) => boolean {
  const trimmed = pattern.trim().replace(/\/+$/, '');
  const authority = trimmed.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0] ?? '';
  const hasPort = authority.replace(/\[[^\]]*\]/g, '').includes(':');
  if (trimmed.includes('*')) {
    // `*` never crosses a path separator, so "http://*.lab.example" cannot match another host's path.
    const body = trimmed
      .toLowerCase()
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*');
    const re = new RegExp(`^${body}${hasPort ? '' : '(?::\\d+)?'}(?:/.*)?$`);
    return (url) => re.test(url);
  }
  let prefix = trimmed;
  try {
    prefix = normaliseNodeUrl(trimmed, 'allowPeerUrls');
  } catch {
    // A partial prefix ("http://10.0.0."), compared as written.
  }
  return (url) => {
    if (url === prefix) return true;
    if (!url.startsWith(prefix)) return false;
    // Match only at a boundary: "http://127.0.0.1" must not admit "http://127.0.0.1.evil.example".
    const next = url[prefix.length];
    return next === '/' || (next === ':' && !hasPort) || prefix.endsWith('.') || prefix.endsWith('/');
  };
}

interface PinnedPeer {
  readonly url: string;
  readonly publicKey: string;
}

export async function readPeersFile(path: string): Promise<PinnedPeer[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new BadInputError(`cannot read the peers file ${path}: ${(err as Error).message}`, { where: 'peersFile' });
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new BadInputError('the peers file must be a JSON list of {"url", "publicKey"}', { where: 'peersFile' });
  }
  return parsed.map((entry: unknown, i) => {
    const where = `peersFile[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new BadInputError('an entry must be an object', { where });
    const { url, publicKey } = entry as Record<string, unknown>;
    if (!fromBase64Url(publicKey, 32)) {
      throw new BadInputError('publicKey must be a base64url X25519 public key (32 bytes)', { where: `${where}.publicKey` });
    }
    return { url: normaliseNodeUrl(url, `${where}.url`), publicKey: publicKey as string };
  });
}

export interface TrustOptions {
  secret?: Buffer;
  secretIsLocal?: boolean;
  pinned?: readonly PinnedPeer[];
  allowPeerUrls?: readonly string[];
}

export class Trust {
  readonly mode: TrustMode;
  /** HKDF salt of every message key (RFC 5869 section 3.1: a salt that is secret strengthens extraction). */
  readonly messageSalt: Buffer;
  private readonly proofKey: Buffer | undefined;
  private readonly pins: Map<string, string> | undefined;
  private readonly pinnedKeys: Set<string> | undefined;
  private readonly allowed: ((url: string) => boolean)[];
  readonly allowDescription: string;

  constructor(opts: TrustOptions) {
    if (opts.secret !== undefined && opts.secret.length < MIN_SECRET_BYTES) {
      throw new BadInputError(`the network secret must be at least ${MIN_SECRET_BYTES} bytes`, { where: 'networkSecret' });
    }
    if (opts.pinned) {
      this.mode = 'pinned peers';
      this.pins = new Map(opts.pinned.map((p) => [p.url, p.publicKey]));
      this.pinnedKeys = new Set(opts.pinned.map((p) => p.publicKey));
      this.allowed = [(url) => this.pins!.has(url)];
      this.allowDescription = 'the URLs of the peers file';
    } else {
      this.mode = opts.secretIsLocal ? 'local user secret' : 'network secret';
      const patterns = opts.secretIsLocal ? [] : (opts.allowPeerUrls ?? []);
      // relay://<name> leads only to the relay this server was configured with (or nowhere), never
      // to a host a client picks, so naming one cannot make this server contact arbitrary hosts;
      // who answers there must still prove the secret (docs/relay.md).
      this.allowed = [...(patterns.length > 0 ? patterns.map(compileUrlPattern) : [isLoopbackUrl]), isRelayUrl];
      this.allowDescription = patterns.length > 0 ? `the allowed peer URLs (${patterns.join(', ')}) and relay:// names` : 'loopback URLs and relay:// names';
    }
    if (opts.secret) {
      // Two independent keys from one secret (RFC 5869 section 3.2: distinct `info` per use).
      this.proofKey = Buffer.from(hkdfSync('sha256', opts.secret, SECRET_SALT, 'tessera/v1/identity-proof', 32));
      this.messageSalt = Buffer.from(hkdfSync('sha256', opts.secret, SECRET_SALT, 'tessera/v1/message-salt', 32));
    } else {
      this.proofKey = undefined;
      this.messageSalt = PINNED_SALT;
    }
  }

  /** May a client name this (normalised) URL as a node? Decided before it is ever contacted. */
  isTrustedUrl(url: string): boolean {
    return this.allowed.some((allows) => allows(url));
  }

  pinnedKey(url: string): string | undefined {
    return this.pins?.get(url);
  }

  /** In pinned mode only pinned keys may send; in the secret modes the AEAD tag decides. */
  mayBeSender(publicKey: string): boolean {
    return this.pinnedKeys === undefined || this.pinnedKeys.has(publicKey);
  }

  /** Does this server hold a network secret (or the local user's), so that identity answers can prove it? */
  get holdsSecret(): boolean {
    return this.proofKey !== undefined;
  }

  /** HMAC-SHA256(proof key, label || publicKey || bootId || challenge): "I hold the network secret, and this is my key". */
  proof(publicKey: Buffer, bootId: Buffer, challenge: Buffer): Buffer | undefined {
    if (!this.proofKey) return undefined;
    return createHmac('sha256', this.proofKey).update(IDENTITY_LABEL).update(publicKey).update(bootId).update(challenge).digest();
  }

  verifyProof(publicKey: Buffer, bootId: Buffer, challenge: Buffer, proof: Buffer | undefined): boolean {
    const expected = this.proof(publicKey, bootId, challenge);
    if (!expected) return true;
    return proof !== undefined && proof.length === expected.length && timingSafeEqual(proof, expected);
  }
}
