// The one binary envelope of every peer message (POST /peer/messages):
//
//   "TSPM" | version (1 byte) | header length (uint32 BE) | header (UTF-8 JSON)
//          | nonce (12 bytes) | AES-256-GCM ciphertext of the payload | tag (16 bytes)
//
// The header travels in clear but is the GCM associated data, so it is authenticated with the
// payload (NIST SP 800-38D). The per-direction key is
//   HKDF-SHA256(ikm = X25519(own private, peer public)           -- RFC 7748 section 6.1
//               salt = trust salt (trust.ts),                     -- RFC 5869 section 2.2
//               info = "tessera/v1/message" || senderPub || receiverPub || senderBoot || receiverBoot)
// so a key is bound to both identities, the direction, and both processes' boots: an envelope
// recorded before either side restarted never decrypts afterwards.
//
// The same HKDF, expanded to 64 bytes, gives a second key per direction and pair of boots: the
// receipt key. HKDF-Expand's first block does not depend on the output length (RFC 5869 section
// 2.3: T(1) = HMAC(PRK, info | 0x01)), so the message key is unchanged and the receipt key is its
// second block T(2), independent of it. A receiver that opened an envelope answers with a receipt,
// HMAC-SHA256(receipt key, nonce | tag) (RFC 2104): only the two holders of the pair's private keys,
// in these two runs, can compute it, and the nonce the sender just drew makes it fresh. The sender
// thus learns from the answer to a real message that the receiver's run it sealed to is running
// now, which is what a fresh identity challenge proved (directory.ts, node.ts).

import { release } from '../../services/common/release.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../services/common/json.js';
import { createCipheriv, createDecipheriv, createHash, createHmac, createPublicKey, diffieHellman, hkdfSync, randomFillSync, timingSafeEqual, type DecipherGCM, type KeyObject } from 'node:crypto';
import { BadInputError, UnauthenticatedError } from '../../services/errors.js';
import type { Terms } from '../../services/peer.js';
import { fromBase64Url } from './codec.js';
import type { Identity } from './identity.js';
import type { Trust } from './trust.js';

export const MAGIC = Buffer.from('TSPM', 'latin1');
export const VERSION = 1;
const PREFIX_BYTES = MAGIC.length + 1 + 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const ENVELOPE_OVERHEAD = PREFIX_BYTES + NONCE_BYTES + TAG_BYTES;
export const MAX_HEADER_BYTES = 1 << 20;
const MESSAGE_INFO = Buffer.from('tessera/v1/message');
/**
 * Bytes per cipher call on the large-envelope path. Node's cipher.update allocates its output; at
 * 64 KiB that output comes from the malloc heap and stays in cache, where 1–2 MiB outputs are fresh
 * mmaps the kernel must fault in and zero. AES-256-GCM through node:crypto measured about 1.2 GB/s
 * per core at 64 KiB per call and 0.75 GB/s at 2 MiB on the development machine (docs/performance.md).
 */
const SLICE_BYTES = 64 * 1024;
/**
 * Payloads above this size take the large-envelope path: sealed as parts (no contiguous copy of
 * the ciphertext) and, when the receiver owns the bytes (a POST's body, a channel frame), opened in
 * place. The channel builds its frame from the same parts (channel-frames.ts requestFrame).
 */
export const LARGE_PAYLOAD_BYTES = 256 * 1024;

/** A sealed envelope as the parts it is written in; their concatenation is the envelope. */
export interface SealedParts {
  readonly parts: readonly Buffer[];
  readonly length: number;
  /** What the receiver's receipt is computed over: the nonce and the GCM tag (receiptFor). */
  readonly id: Buffer;
}

export interface EnvelopeHeader {
  readonly v: 1;
  /** The network uuid the clients chose. */
  readonly uuid: string;
  /** The sender's computation instance (16 random bytes, base64url). */
  readonly instance: string;
  readonly stage: string;
  readonly seq: number;
  readonly from: number;
  readonly to: number;
  /** Sender's clock, ms since the epoch (replay window). */
  readonly ts: number;
  readonly senderKey: string;
  readonly senderBoot: string;
  readonly receiverKey: string;
  readonly receiverBoot: string;
  /**
   * The agreed terms (microprotocol, node list, protocol parameters), as the sender states them.
   * A header carries either these or `termsDigest` (termsOf / termsDigestOf).
   */
  readonly terms?: Terms;
  /**
   * base64url of SHA-256 over the canonical JSON of the terms (termsDigest): what a sender writes
   * instead of the terms once its receiver's run has taken an envelope of this computation that
   * stated them in full (outbound.ts). Authenticated exactly as the terms are: the header is the
   * GCM associated data, and equal digests mean equal terms (SHA-256 collision resistance).
   */
  readonly termsDigest?: string;
  /**
   * The receiver's computation instance as the sender has bound it ("" while the sender has heard
   * nothing from the receiver). A receiver uses it to tell a message meant for the computation it
   * runs from one meant for an earlier one that ended (inbound.ts route).
   */
  readonly peer?: string;
}

export interface ParsedEnvelope {
  readonly header: EnvelopeHeader;
  readonly headerBytes: Buffer;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function bad(message: string, field?: string): BadInputError {
  return new BadInputError(message, { where: field ? `envelope.header.${field}` : 'envelope' });
}

/**
 * Base64url strings already checked: a computation's envelopes repeat the same keys, boots and
 * instances in every header, so each is decoded and re-encoded (fromBase64Url) once, not per
 * message. Bounded; the check is the same either way.
 */
const validBase64 = new Set<string>();
const MAX_VALID_BASE64 = 4096;
function isBase64Url(v: unknown, length: number): boolean {
  if (typeof v !== 'string') return false;
  const key = length === 32 ? v : `${v}.`;
  if (validBase64.has(key)) return true;
  if (fromBase64Url(v, length) === undefined) return false;
  if (validBase64.size >= MAX_VALID_BASE64) validBase64.delete(validBase64.values().next().value!);
  validBase64.add(key);
  return true;
}
const B64_16 = (v: unknown) => isBase64Url(v, 16);
const B64_32 = (v: unknown) => isBase64Url(v, 32);
const INDEX = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < 1 << 16;
const SHORT_STRING = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 256;

const HEADER_FIELDS: Record<Exclude<keyof EnvelopeHeader, 'v' | 'peer' | 'terms' | 'termsDigest'>, (v: unknown) => boolean> = {
  uuid: SHORT_STRING,
  instance: B64_16,
  stage: SHORT_STRING,
  seq: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
  from: INDEX,
  to: INDEX,
  ts: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0,
  senderKey: B64_32,
  senderBoot: B64_16,
  receiverKey: B64_32,
  receiverBoot: B64_16,
};

function validTerms(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) &&
    typeof (v as Record<string, unknown>).microprotocol === 'string' &&
    Array.isArray((v as Record<string, unknown>).nodes);
}

/**
 * The digest a header states the terms by: base64url(SHA-256(canonical JSON of the terms)). A
 * session computes it once from its canonical terms JSON (session.ts termsDigest).
 */
export function termsDigest(termsJson: string): string {
  return createHash('sha256').update(termsJson, 'utf8').digest('base64url');
}

/** Splits an envelope and checks the header's shape. Nothing in it is authentic until `open` succeeds. */
export function parseEnvelope(envelope: Buffer): ParsedEnvelope {
  if (envelope.length < ENVELOPE_OVERHEAD) throw bad(`envelope truncated (${envelope.length} bytes)`);
  if (!envelope.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('not a Tessera peer envelope (bad magic)');
  const version = envelope[MAGIC.length];
  if (version !== VERSION) throw bad(`unsupported envelope version ${version}`);
  const headerLength = envelope.readUInt32BE(MAGIC.length + 1);
  if (headerLength > MAX_HEADER_BYTES || PREFIX_BYTES + headerLength + NONCE_BYTES + TAG_BYTES > envelope.length) {
    throw bad('envelope truncated or header length out of range');
  }
  const headerBytes = envelope.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength);
  let raw: unknown;
  try {
    raw = JSON.parse(headerBytes.toString('utf8'));
  } catch {
    throw bad('envelope header is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('envelope header is not an object');
  // The terms are compared by a recursive canonical serialisation: bound their depth first.
  if (nestedDeeperThan(raw, MAX_JSON_DEPTH)) throw bad(`envelope header is nested deeper than ${MAX_JSON_DEPTH} levels`);
  const fields = raw as Record<string, unknown>;
  if (fields.v !== VERSION) throw bad('header version mismatch', 'v');
  for (const [name, valid] of Object.entries(HEADER_FIELDS)) {
    if (!Object.hasOwn(fields, name) || !valid(fields[name])) throw bad(`missing or malformed ${name}`, name);
  }
  if (fields.peer !== undefined && fields.peer !== '' && !B64_16(fields.peer)) throw bad('malformed peer', 'peer');
  // The terms in full, or their digest: exactly one of the two.
  const hasTerms = Object.hasOwn(fields, 'terms');
  if (hasTerms === Object.hasOwn(fields, 'termsDigest')) throw bad('a header states either terms or termsDigest, exactly one', 'terms');
  if (hasTerms ? !validTerms(fields.terms) : !B64_32(fields.termsDigest)) throw bad(`missing or malformed ${hasTerms ? 'terms' : 'termsDigest'}`, hasTerms ? 'terms' : 'termsDigest');
  const nonceAt = PREFIX_BYTES + headerLength;
  const tagAt = envelope.length - TAG_BYTES;
  return {
    header: raw as EnvelopeHeader,
    headerBytes,
    nonce: envelope.subarray(nonceAt, nonceAt + NONCE_BYTES),
    ciphertext: envelope.subarray(nonceAt + NONCE_BYTES, tagAt),
    tag: envelope.subarray(tagAt),
  };
}

/**
 * X25519(own private, peer public) with the party whose public key is `peerKey` (base64url of 32
 * bytes), the one key agreement that message keys and pair secrets (pair-secrets.ts) start from.
 * Refuses, naming `where`, a key that is no X25519 public key, and a small-order key: RFC 7748
 * section 6.1 lets a peer force an all-zero shared secret with one, so the result is checked.
 */
export function agreeX25519(identity: Identity, peerKey: string, where: string): Buffer {
  let known = sharedSecrets.get(identity);
  const cached = known?.get(peerKey);
  if (cached !== undefined) return cached;
  if (fromBase64Url(peerKey, 32) === undefined) throw new UnauthenticatedError('the peer public key is not a valid X25519 key', { where });
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: identity.privateKey, publicKey: publicKeyObject(peerKey) });
  } catch {
    throw new UnauthenticatedError('the peer public key is not a valid X25519 key', { where });
  }
  if (shared.every((b) => b === 0)) throw new UnauthenticatedError('the peer public key is a small-order point', { where });
  if (known === undefined) sharedSecrets.set(identity, (known = new Map()));
  if (known.size >= MAX_AGREED) known.delete(known.keys().next().value!);
  known.set(peerKey, shared);
  return shared;
}

/**
 * The agreement with a peer is the same for its message keys in either direction, for every pair
 * of runs (a peer that restarts keeps its key), and for its pair secret (pair-secrets.ts), so it
 * is computed once per own identity and peer key, not once per use: a first contact of n parties
 * needed three X25519 per pair where one does. Kept no longer than the identity (WeakMap) and
 * bounded; the keys derived from it are cached in memory alike (ChannelKeys, PairSecrets).
 */
const sharedSecrets = new WeakMap<Identity, Map<string, Buffer>>();
/**
 * Peer public keys as key objects, parsed from their JWK form once per process: every server in
 * a process (the benchmarks' and tests' 100 parties) meets the same keys. Only keys that parsed
 * are kept. Bounded.
 */
const publicKeyObjects = new Map<string, KeyObject>();
const MAX_AGREED = 4096;

function publicKeyObject(peerKey: string): KeyObject {
  const known = publicKeyObjects.get(peerKey);
  if (known !== undefined) return known;
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerKey }, format: 'jwk' });
  if (publicKeyObjects.size >= MAX_AGREED) publicKeyObjects.delete(publicKeyObjects.keys().next().value!);
  publicKeyObjects.set(peerKey, key);
  return key;
}

/** Derives and caches the per-direction message keys of this server. */
interface DirectionKeys {
  /** AES-256-GCM key of the envelopes. */
  readonly message: Buffer;
  /** HMAC-SHA256 key of the receipts their receiver answers with. */
  readonly receipt: Buffer;
}

/**
 * 96-bit GCM nonces are cut from a pool of CSPRNG bytes (randomFillSync, refilled when used up),
 * each byte used once: one call into the generator per 341 nonces instead of one per message.
 * Random nonces stay fine far below 2^32 messages per key (NIST SP 800-38D section 8.3).
 */
const NONCE_POOL_BYTES = NONCE_BYTES * 341;
const noncePool = Buffer.allocUnsafe(NONCE_POOL_BYTES);
let noncePoolAt = NONCE_POOL_BYTES;

function nextNonce(): Buffer {
  if (noncePoolAt + NONCE_BYTES > NONCE_POOL_BYTES) {
    randomFillSync(noncePool);
    noncePoolAt = 0;
  }
  const nonce = Buffer.from(noncePool.subarray(noncePoolAt, noncePoolAt + NONCE_BYTES));
  noncePoolAt += NONCE_BYTES;
  return nonce;
}

export class ChannelKeys {
  private readonly cache = new Map<string, DirectionKeys>();
  private static readonly MAX_CACHED = 4096;

  constructor(
    private readonly identity: Identity,
    private readonly trust: Trust,
  ) {}

  private key(senderKey: string, receiverKey: string, senderBoot: string, receiverBoot: string): DirectionKeys {
    const id = `${senderKey}.${receiverKey}.${senderBoot}.${receiverBoot}`;
    const cached = this.cache.get(id);
    if (cached) return cached;
    const peer = senderKey === this.identity.publicKey ? receiverKey : senderKey;
    const shared = agreeX25519(this.identity, peer, 'envelope.header.senderKey');
    const info = Buffer.concat([
      MESSAGE_INFO,
      fromBase64Url(senderKey, 32)!,
      fromBase64Url(receiverKey, 32)!,
      fromBase64Url(senderBoot, 16)!,
      fromBase64Url(receiverBoot, 16)!,
    ]);
    const okm = Buffer.from(hkdfSync('sha256', shared, this.trust.messageSalt, info, 64));
    const keys: DirectionKeys = { message: okm.subarray(0, 32), receipt: okm.subarray(32) };
    if (this.cache.size >= ChannelKeys.MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, keys);
    return keys;
  }

  /**
   * The receipt for the envelope with this header and `id` (nonce | tag, SealedParts.id or
   * envelopeId): base64url of HMAC-SHA256 under the direction's receipt key. The receiver answers
   * it once the envelope opened; the sender checks it with `verifyReceipt`.
   */
  receiptFor(header: EnvelopeHeader, id: Buffer): string {
    return this.receiptBytes(header, id).toString('base64url');
  }

  private receiptBytes(header: EnvelopeHeader, id: Buffer): Buffer {
    const { receipt } = this.key(header.senderKey, header.receiverKey, header.senderBoot, header.receiverBoot);
    return createHmac('sha256', receipt).update(id).digest();
  }

  /** Whether `answer` is the receipt of the envelope we sealed with `header` and `id`. */
  verifyReceipt(header: EnvelopeHeader, id: Buffer, answer: string | undefined): boolean {
    // The one spelling of 32 bytes in base64url (fromBase64Url refuses the others); compared as bytes.
    const given = fromBase64Url(answer, 32);
    return given !== undefined && timingSafeEqual(this.receiptBytes(header, id), given);
  }

  /** Seals `payload` for the peer named in `header` (header.senderKey must be ours), as one buffer. */
  seal(header: EnvelopeHeader, payload: Uint8Array, termsJson?: string): Buffer {
    const { parts, length } = this.sealParts(header, payload, termsJson);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
  }

  /**
   * The same envelope as parts: the prefix (magic, version, header, nonce), the ciphertext in the
   * slices the cipher produced, the tag. A carrier that can write a list of buffers (a socket's
   * writev) sends a large message without ever copying its ciphertext into one buffer.
   * `termsJson`: header.terms already as JSON (a session's canonical terms), written as they are.
   */
  sealParts(header: EnvelopeHeader, payload: Uint8Array, termsJson?: string): SealedParts {
    const key = this.key(header.senderKey, header.receiverKey, header.senderBoot, header.receiverBoot).message;
    const headerBytes = Buffer.from(termsJson === undefined ? JSON.stringify(header) : headerJson(header, termsJson), 'utf8');
    const nonce = nextNonce();
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(headerBytes);
    const prefixBytes = PREFIX_BYTES + headerBytes.length + NONCE_BYTES;
    const length = prefixBytes + payload.byteLength + TAG_BYTES;
    if (payload.byteLength <= LARGE_PAYLOAD_BYTES) {
      // Small: one allocation of the final size, the ciphertext written straight behind the header.
      const envelope = Buffer.allocUnsafe(length);
      writePrefix(envelope, headerBytes, nonce);
      let at = prefixBytes;
      at += cipher.update(payload).copy(envelope, at);
      at += cipher.final().copy(envelope, at);
      const tag = cipher.getAuthTag();
      tag.copy(envelope, at);
      return { parts: [envelope], length, id: Buffer.concat([nonce, tag]) };
    }
    const prefix = Buffer.allocUnsafe(prefixBytes);
    writePrefix(prefix, headerBytes, nonce);
    const parts: Buffer[] = [prefix];
    for (let offset = 0; offset < payload.byteLength; offset += SLICE_BYTES) {
      parts.push(cipher.update(payload.subarray(offset, offset + SLICE_BYTES)));
    }
    const rest = cipher.final();
    if (rest.length > 0) parts.push(rest);
    const tag = cipher.getAuthTag();
    parts.push(tag);
    return { parts, length, id: Buffer.concat([nonce, tag]) };
  }

  /** Verifies and decrypts; throws UnauthenticatedError when the tag does not verify. */
  open(parsed: ParsedEnvelope): Buffer {
    const decipher = this.decipher(parsed);
    const body = decipher.update(parsed.ciphertext);
    const rest = finalOrRefuse(decipher);
    return rest.length === 0 ? body : Buffer.concat([body, rest]);
  }

  /**
   * Verifies and decrypts into the envelope's own memory: the plaintext is written, slice by slice,
   * over the ciphertext already consumed, starting at the 8-byte boundary at or below the
   * ciphertext (so ring vectors read it without a copy, vector.ts wordsOf). No second buffer of
   * the message's size exists. Only for an envelope nobody else holds (a request body read for
   * this delivery): its bytes are destroyed. The plaintext is returned only after the tag
   * verified; on failure the buffer holds unauthenticated bytes and is dropped with the error.
   */
  openInPlace(parsed: ParsedEnvelope, envelope: Buffer): Buffer {
    const decipher = this.decipher(parsed);
    const ciphertext = parsed.ciphertext;
    const from = ciphertext.byteOffset - envelope.byteOffset;
    // Absolute alignment: the envelope may itself sit at any offset of its ArrayBuffer.
    const to = from - ((envelope.byteOffset + from) % 8);
    let at = to;
    for (let offset = 0; offset < ciphertext.length; offset += SLICE_BYTES) {
      // The output is a fresh buffer, so writing it at or below its source never reads a byte
      // already overwritten: `at` trails the next unread ciphertext byte by at most 7 bytes.
      const slice = decipher.update(ciphertext.subarray(offset, offset + SLICE_BYTES));
      at += slice.copy(envelope, at);
      release(slice);
    }
    at += finalOrRefuse(decipher).copy(envelope, at);
    return envelope.subarray(to, at);
  }

  private decipher(parsed: ParsedEnvelope): DecipherGCM {
    const { header } = parsed;
    const key = this.key(header.senderKey, header.receiverKey, header.senderBoot, header.receiverBoot).message;
    const decipher = createDecipheriv('aes-256-gcm', key, parsed.nonce);
    decipher.setAAD(parsed.headerBytes);
    decipher.setAuthTag(parsed.tag);
    return decipher;
  }
}

/** The bytes a receipt is computed over (nonce | tag), copied: opening in place overwrites the nonce's tail. */
export function envelopeId(parsed: ParsedEnvelope): Buffer {
  return Buffer.concat([parsed.nonce, parsed.tag]);
}

/**
 * The header as JSON with its terms given as JSON already: the terms are most of a header, and a
 * session's canonical terms (the same value, keys sorted) are written once per computation, not
 * serialised again per message. The receiver parses whichever JSON it gets (parseEnvelope).
 */
function headerJson(header: EnvelopeHeader, termsJson: string): string {
  // A header that states the terms by their digest has nothing to splice in.
  if (header.terms === undefined) return JSON.stringify(header);
  const { terms, ...rest } = header;
  void terms;
  const text = JSON.stringify(rest);
  return `${text.slice(0, -1)},"terms":${termsJson}}`;
}

function writePrefix(target: Buffer, headerBytes: Buffer, nonce: Buffer): void {
  MAGIC.copy(target, 0);
  target[MAGIC.length] = VERSION;
  target.writeUInt32BE(headerBytes.length, MAGIC.length + 1);
  headerBytes.copy(target, PREFIX_BYTES);
  nonce.copy(target, PREFIX_BYTES + headerBytes.length);
}

function finalOrRefuse(decipher: DecipherGCM): Buffer {
  try {
    return decipher.final();
  } catch {
    throw new UnauthenticatedError('envelope does not authenticate (wrong key, wrong secret, or tampered)', {
      where: 'envelope',
    });
  }
}
