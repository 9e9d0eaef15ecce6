// The union of the parties' labels (category names), without revealing which party holds which.
//
// Construction: a decryption mix-net (Chaum, "Untraceable electronic mail, return addresses,
// and digital pseudonyms", CACM 1981). Every party draws a fresh X25519 key pair for this run
// and broadcasts the public key (stage "keys"). Each party pads each of its distinct labels and
// wraps it in n layers of public-key encryption, outermost for party 0 and innermost for party
// n−1 (one layer: an ephemeral X25519 key agreement with that party's key, HKDF-SHA-256,
// AES-256-GCM; RFC 7748, RFC 5869, NIST SP 800-38D), and sends the onions to party 0
// ("submit"). Party k removes its layer from every onion, shuffles the batch uniformly and
// passes it to party k+1 ("mix"); party n−1's layer is the last, so it holds the padded labels,
// deduplicates them, sorts them and broadcasts the union ("union").
//
// What it reveals (semi-honest parties, any coalition that leaves at least two parties honest):
//   - to everyone: the union of the labels (the agreed leakage; FSC reveals each party's list);
//   - to party 0: how many distinct labels each party holds (the size of its batch), and to
//     every mixer the length class of each label (labels are padded to a power of two ≥ 32 bytes);
//   - to party n−1: for each label, how many parties hold it (duplicates reach it before they
//     are removed).
// Who holds which label stays hidden: linking an onion to its sender needs every honest mixer's
// permutation, and each layer is fresh public-key ciphertext under a key only its mixer has.
// With one honest party the coalition learns the honest party's labels from the union anyway.

import { createPublicKey, createCipheriv, createDecipheriv, diffieHellman, hkdfSync, randomInt, type KeyObject } from 'node:crypto';
import { BadInputError, PeerError } from '../errors.js';
import type { Session } from '../peer.js';
import { freshX25519, SPKI_X25519 } from './x25519.js';
import { broadcast, defineStages, gather, otherParties, partyName, scatter, subProtocol, type SubStages } from './stages.js';

export const LABEL_UNION_STAGES = defineStages(['keys', 'submit', 'mix', 'union'] as const);
export type LabelUnionStages = SubStages<typeof LABEL_UNION_STAGES.all>;

export function labelUnionStages(id: string): LabelUnionStages {
  return subProtocol(id, LABEL_UNION_STAGES);
}

/** Labels longer than this (in UTF-8) are refused. */
export const MAX_LABEL_BYTES = 4096;
/** Distinct labels per party. */
export const MAX_LABELS = 100_000;

const INFO = Buffer.from('tessera label-union layer v1');
const TAG = 16;

function publicFromRaw(raw: Uint8Array, where: string): KeyObject {
  if (raw.length !== 32) throw new PeerError(`expected a 32-byte X25519 public key, got ${raw.length} bytes`, { where });
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
  } catch {
    throw new PeerError('invalid X25519 public key', { where });
  }
}

/** Key of one layer: HKDF over the X25519 shared secret, bound to both public keys. */
function layerKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), INFO, 32));
}

/** One layer for `recipient`: ephemeral public key ‖ AES-256-GCM(message) ‖ tag. The key is single-use, so a zero nonce is safe. */
function seal(message: Buffer, recipient: KeyObject, recipientRaw: Buffer): Buffer {
  const eph = freshX25519();
  const ephRaw = eph.publicRaw;
  const key = layerKey(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), ephRaw, recipientRaw);
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12));
  const body = Buffer.concat([cipher.update(message), cipher.final()]);
  return Buffer.concat([ephRaw, body, cipher.getAuthTag()]);
}

function open(onion: Buffer, own: KeyObject, ownRaw: Buffer, where: string): Buffer {
  if (onion.length < 32 + TAG) throw new PeerError('malformed onion', { where });
  const ephRaw = onion.subarray(0, 32);
  try {
    const key = layerKey(diffieHellman({ privateKey: own, publicKey: publicFromRaw(ephRaw, where) }), ephRaw, ownRaw);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.alloc(12));
    decipher.setAuthTag(onion.subarray(onion.length - TAG));
    return Buffer.concat([decipher.update(onion.subarray(32, onion.length - TAG)), decipher.final()]);
  } catch (err) {
    if (err instanceof PeerError) throw err;
    throw new PeerError('an onion layer does not decrypt', { where });
  }
}

/** u32 length prefix, the UTF-8 label, zero padding to a power of two ≥ 32 bytes. */
function pad(label: string): Buffer {
  const bytes = Buffer.from(label, 'utf8');
  let size = 32;
  while (size < bytes.length + 4) size *= 2;
  const out = Buffer.alloc(size);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}
function unpad(padded: Buffer, where: string): string {
  const length = padded.length >= 4 ? padded.readUInt32BE(0) : -1;
  if (length < 0 || length + 4 > padded.length) throw new PeerError('malformed padded label', { where });
  return padded.subarray(4, 4 + length).toString('utf8');
}

function encodeBatch(items: readonly Buffer[]): Uint8Array {
  const out = Buffer.alloc(4 + items.reduce((n, b) => n + 4 + b.length, 0));
  out.writeUInt32BE(items.length, 0);
  let at = 4;
  for (const b of items) {
    out.writeUInt32BE(b.length, at);
    b.copy(out, at + 4);
    at += 4 + b.length;
  }
  return out;
}
function decodeBatch(payload: Uint8Array, where: string): Buffer[] {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (buf.length < 4) throw new PeerError('malformed batch', { where });
  const count = buf.readUInt32BE(0);
  const items: Buffer[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + 4 > buf.length) throw new PeerError('malformed batch', { where });
    const len = buf.readUInt32BE(at);
    if (at + 4 + len > buf.length) throw new PeerError('malformed batch', { where });
    items.push(buf.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== buf.length) throw new PeerError('malformed batch', { where });
  return items;
}

/** Sorts strings by Unicode code point (JavaScript's `<` compares UTF-16 code units). */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** A uniform permutation (Fisher–Yates with the OS CSPRNG). */
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * The sorted (code-point order) union of every party's `labels`, the same at every party. Every
 * party calls it with the same stages at the same point of its protocol.
 */
export async function labelUnion(session: Session, labels: Iterable<string>, stages: LabelUnionStages): Promise<string[]> {
  const own = [...new Set(labels)];
  if (own.length > MAX_LABELS) throw new BadInputError(`at most ${MAX_LABELS} distinct labels per party`, { where: 'kwargs.data' });
  const n = session.parties;
  const me = session.myself;
  const others = otherParties(session);
  if (n === 1) return own.sort(compareCodePoints);

  // Stage "keys": fresh key pairs for this run only.
  const mine = freshX25519();
  const mineRaw = mine.publicRaw;
  const [, theirs] = await Promise.all([
    broadcast(session, stages.keys, mineRaw),
    gather(session, stages.keys, others, (p, from) => {
      const raw = Buffer.from(p);
      return { key: publicFromRaw(raw, partyName(session, from)), raw };
    }),
  ]);
  const keys = Array.from({ length: n }, (_, i) => (i === me ? { key: mine.publicKey, raw: mineRaw } : theirs.get(i)!));

  // Stage "submit": onions to party 0, innermost layer for party n−1.
  const onions = own.map((label) => {
    let onion = pad(label);
    for (let k = n - 1; k >= 0; k--) onion = seal(onion, keys[k]!.key, keys[k]!.raw);
    return onion;
  });
  let batch: Buffer[];
  if (me === 0) {
    const submitted = await gather(session, stages.submit, others, (p, from) => decodeBatch(p, partyName(session, from)));
    batch = [...onions, ...[...submitted.values()].flat()];
  } else {
    await scatter(session, stages.submit, () => encodeBatch(onions), { to: [0] });
    const [fromPrevious] = (await gather(session, stages.mix, [me - 1], (p, from) => decodeBatch(p, partyName(session, from)))).values();
    batch = fromPrevious!;
  }
  // Stage "mix": remove our layer, shuffle, pass on.
  const where = partyName(session, me === 0 ? 0 : me - 1);
  const peeled = shuffle(batch.map((onion) => open(onion, mine.privateKey, mineRaw, where)));
  if (me < n - 1) {
    await scatter(session, stages.mix, () => encodeBatch(peeled), { to: [me + 1] });
    const [union] = (await gather(session, stages.union, [n - 1], (p, from) => decodeUnion(p, partyName(session, from)))).values();
    return union!;
  }
  // Stage "union": the last mixer holds the padded labels.
  const union = [...new Set(peeled.map((p) => unpad(p, where)))].sort(compareCodePoints);
  await broadcast(session, stages.union, Buffer.from(JSON.stringify(union)));
  return union;
}

function decodeUnion(payload: Uint8Array, where: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new PeerError('malformed union', { where });
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new PeerError('malformed union', { where });
  const union = value as string[];
  for (let i = 1; i < union.length; i++) {
    if (compareCodePoints(union[i - 1]!, union[i]!) >= 0) throw new PeerError('the union is not sorted and distinct', { where });
  }
  return union;
}
