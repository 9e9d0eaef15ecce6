// Boolean multiplication triples (Beaver, "Efficient Multiparty Protocols Using Circuit
// Randomization", CRYPTO 1991) over XOR shares, made by the parties themselves: no dealer.
//
// Each party i draws a_i, b_i at random. The triple's product c = (⊕a_i)(⊕b_i) expands to
// ⊕_i a_i b_i ⊕ ⊕_{i≠j} a_i b_j; party i computes its own a_i b_i, and every cross term a_i b_j
// is split into XOR shares by one oblivious transfer between i and j (the bit version of
// Gilboa's product-sharing, CRYPTO 1999): with a random OT whose sender holds pads (p0, p1) and
// whose receiver chose r = b_j and got p_r, the sender sends f = p0 ⊕ p1 ⊕ a_i; the receiver's
// share p_r ⊕ r·f and the sender's share p0 XOR to r·a_i. Per pair (i < j), party i is the
// OT-extension sender and j the receiver; OT 2t shares a_i·b_j (j chooses b_j) and OT 2t+1
// shares b_i·a_j (j chooses a_j). The receiver's choices stay hidden by the OT, and f is a_i
// masked by the pad p_{1−r} the receiver never learns, so neither side learns the other's bits.
//
// Messages per pair: ot-base-a (j→i, one point), ot-base-b (i→j, KAPPA points), ot-ext (j→i,
// KAPPA·2T bits, in chunks), ot-fix (i→j, 2T bits).

import { createHash, randomBytes } from 'node:crypto';
import { randomBits, type Bits, pack, unpack, xor, and, concat } from './bits.js';
import { BaseOtSender, baseOtReceive, iknpReceive, iknpSend, KAPPA, columnBytes } from './ot.js';
import type { Session } from '../../peer.js';
import { partyName, otherParties } from '../../common/stages.js';
import { PeerError, TesseraError } from '../../errors.js';

export interface Triples {
  readonly a: Bits;
  readonly b: Bits;
  readonly c: Bits;
}

/** Largest ot-ext chunk: well under the peer layer's message and inbox limits. */
const EXT_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * One pair's base OTs. They are the expensive, public-key part (KAPPA = 128 Chou–Orlandi OTs,
 * about half a second of CPU per party on a 2-core machine), and IKNP needs them only once per
 * pair of parties: every later extension only has to expand the base keys with fresh PRG streams
 * (Ishai et al. 2003, §1.2: "a small number of base OTs … extended to any polynomial number").
 * So a server keeps one base per (itself, peer, role) in memory, like its other long-term secrets,
 * and every session between the two reuses it under a fresh 16-byte nonce that the extension
 * receiver draws. The nonce enters every PRG label and the hash tweak (ot.ts labelSalt), so no
 * PRG stream and no (tweak, row) pair of the correlation-robust hash is ever used twice.
 */
type PairBase =
  | { readonly role: 'sender'; readonly s: Bits; readonly keys: Buffer[]; readonly id: Uint8Array; readonly nonce: string }
  | { readonly role: 'receiver'; readonly k0: Buffer[]; readonly k1: Buffer[]; readonly id: Uint8Array; readonly nonce: string };

type CachedBase = Omit<Extract<PairBase, { role: 'sender' }>, 'nonce'> | Omit<Extract<PairBase, { role: 'receiver' }>, 'nonce'>;

/** Bases kept per (own node, peer node, role); a bounded map, oldest evicted first. */
const BASE_CACHE = new Map<string, CachedBase>();
const BASE_CACHE_LIMIT = 1024;
const ID_BYTES = 32;
const NONCE_BYTES = 16;

function cacheKey(session: Session, peer: number, role: PairBase['role']): string {
  return `${session.nodes[session.myself]}\u0000${session.nodes[peer]}\u0000${role}`;
}

function remember(key: string, base: CachedBase): void {
  BASE_CACHE.delete(key);
  BASE_CACHE.set(key, base);
  if (BASE_CACHE.size > BASE_CACHE_LIMIT) BASE_CACHE.delete(BASE_CACHE.keys().next().value!);
}

/** Forgets every cached base (tests that compare fresh transcripts; a key rotation). */
export function forgetBaseOts(): void {
  BASE_CACHE.clear();
}

/** The id both sides give one base: SHA-256 of its two public messages. */
function baseId(first: Uint8Array, reply: Uint8Array): Uint8Array {
  return createHash('sha256').update('tessera/ot/base-id/v1\0').update(first).update(reply).digest();
}

export interface OrderStageNames {
  readonly baseA: string;
  readonly baseB: string;
  readonly ext: string;
  readonly fix: string;
}

export async function receiveFrom(session: Session, from: number, stage: string, seq = 0): Promise<Uint8Array> {
  try {
    return await session.receive(from, stage, seq);
  } catch (err) {
    if (err instanceof TesseraError) throw err;
    throw new PeerError(`stage ${stage}: receiving from ${partyName(session, from)} failed`, { where: partyName(session, from) });
  }
}

/**
 * Base OTs with one peer: the lower index becomes the OT-extension sender. Messages:
 * ot-base-a (receiver → sender): [1 | id | nonce] to reuse the base `id` it holds, or
 * [0 | 0…0 | nonce | S] for a fresh one; ot-base-b (sender → receiver): [1] if it holds `id` too,
 * [0] if not (then a fresh base follows in seq 1 of both stages), or the KAPPA reply points.
 */
async function basePair(session: Session, peer: number, stages: OrderStageNames): Promise<PairBase> {
  const where = partyName(session, peer);
  if (session.myself < peer) {
    const key = cacheKey(session, peer, 'sender');
    const head = await receiveFrom(session, peer, stages.baseA);
    if (head.length < 1 + ID_BYTES + NONCE_BYTES) throw new PeerError(`stage ${stages.baseA}: message too short`, { where });
    const nonce = Buffer.from(head.subarray(1 + ID_BYTES, 1 + ID_BYTES + NONCE_BYTES)).toString('hex');
    const cached = BASE_CACHE.get(key);
    if (head[0] === 1) {
      if (head.length !== 1 + ID_BYTES + NONCE_BYTES) throw new PeerError(`stage ${stages.baseA}: malformed reuse message`, { where });
      const id = head.subarray(1, 1 + ID_BYTES);
      if (cached !== undefined && cached.role === 'sender' && Buffer.from(cached.id).equals(id)) {
        await session.send(peer, stages.baseB, Uint8Array.of(1));
        return { ...cached, nonce };
      }
      await session.send(peer, stages.baseB, Uint8Array.of(0));
    }
    const first = head[0] === 1 ? await receiveFrom(session, peer, stages.baseA, 1) : head.subarray(1 + ID_BYTES + NONCE_BYTES);
    const s = randomBits(KAPPA);
    const { reply, keys } = await baseOtReceive(first, s, where);
    await session.send(peer, stages.baseB, reply, head[0] === 1 ? 1 : 0);
    const base = { role: 'sender' as const, s, keys, id: baseId(first, reply) };
    remember(key, base);
    return { ...base, nonce };
  }
  const key = cacheKey(session, peer, 'receiver');
  const nonceBytes = randomBytes(NONCE_BYTES);
  const nonce = nonceBytes.toString('hex');
  const cached = BASE_CACHE.get(key);
  let seq = 0;
  if (cached !== undefined && cached.role === 'receiver') {
    await session.send(peer, stages.baseA, concat([Uint8Array.of(1), cached.id, nonceBytes]));
    const answer = await receiveFrom(session, peer, stages.baseB);
    if (answer.length === 1 && answer[0] === 1) return { ...cached, nonce };
    if (answer.length !== 1 || answer[0] !== 0) throw new PeerError(`stage ${stages.baseB}: malformed answer`, { where });
    seq = 1;
  }
  const sender = new BaseOtSender();
  await session.send(peer, stages.baseA, seq === 1 ? sender.first : concat([new Uint8Array(1 + ID_BYTES), nonceBytes, sender.first]), seq);
  const reply = await receiveFrom(session, peer, stages.baseB, seq);
  const base = { role: 'receiver' as const, ...(await sender.keys(reply, where)), id: baseId(sender.first, reply) };
  remember(key, base);
  return { ...base, nonce };
}

/** Runs the base OTs with every peer concurrently (or reuses the ones both sides hold). */
export async function baseOts(session: Session, stages: OrderStageNames): Promise<Map<number, PairBase>> {
  const peers = otherParties(session);
  const done = await Promise.all(peers.map(async (p) => [p, await basePair(session, p, stages)] as const));
  return new Map(done);
}

async function sendChunked(session: Session, to: number, stage: string, bytes: Uint8Array): Promise<void> {
  const sends: Promise<void>[] = [];
  for (let at = 0, seq = 0; at < bytes.length || seq === 0; at += EXT_CHUNK_BYTES, seq++) {
    sends.push(session.send(to, stage, bytes.subarray(at, Math.min(bytes.length, at + EXT_CHUNK_BYTES)), seq));
  }
  await Promise.all(sends);
}

async function receiveChunked(session: Session, from: number, stage: string, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const chunks = Math.max(1, Math.ceil(length / EXT_CHUNK_BYTES));
  await Promise.all(
    Array.from({ length: chunks }, async (_, seq) => {
      const part = await receiveFrom(session, from, stage, seq);
      const at = seq * EXT_CHUNK_BYTES;
      if (part.length !== Math.min(EXT_CHUNK_BYTES, length - at)) {
        throw new PeerError(`stage ${stage}: chunk ${seq} has ${part.length} bytes`, { where: partyName(session, from) });
      }
      out.set(part, at);
    }),
  );
  return out;
}

/** This party's XOR shares of a_i·b_j and a_j·b_i (interleaved, 2 per triple) with one peer. */
async function crossTerms(session: Session, peer: number, base: PairBase, a: Bits, b: Bits, stages: OrderStageNames, label: string): Promise<Bits> {
  const count = a.length;
  const m = 2 * count;
  const where = partyName(session, peer);
  const pairLabel = `${label}/${Math.min(session.myself, peer)}-${Math.max(session.myself, peer)}/${base.nonce}`;
  if (base.role === 'sender') {
    const u = await receiveChunked(session, peer, stages.ext, KAPPA * columnBytes(m));
    const { pad0, pad1 } = iknpSend(base.keys, base.s, u, m, pairLabel, where);
    const fix = new Uint8Array(m);
    for (let t = 0; t < count; t++) {
      fix[2 * t] = pad0[2 * t]! ^ pad1[2 * t]! ^ a[t]!;
      fix[2 * t + 1] = pad0[2 * t + 1]! ^ pad1[2 * t + 1]! ^ b[t]!;
    }
    await session.send(peer, stages.fix, pack(fix));
    return pad0;
  }
  const choices = new Uint8Array(m);
  for (let t = 0; t < count; t++) {
    choices[2 * t] = b[t]!;
    choices[2 * t + 1] = a[t]!;
  }
  const { u, pads } = iknpReceive(base.k0, base.k1, choices, pairLabel);
  const [, fixBytes] = await Promise.all([sendChunked(session, peer, stages.ext, u), receiveFrom(session, peer, stages.fix)]);
  const fix = unpack(fixBytes, m, where);
  return xor(pads, and(choices, fix));
}

/** `count` triples, one XOR share of each at this party, from the base OTs with every peer. */
export async function generateTriples(
  session: Session,
  bases: Map<number, PairBase>,
  count: number,
  stages: OrderStageNames,
  label: string,
): Promise<Triples> {
  const a = randomBits(count);
  const b = randomBits(count);
  const c = and(a, b);
  const shares = await Promise.all([...bases].map(([peer, base]) => crossTerms(session, peer, base, a, b, stages, label)));
  for (const s of shares) {
    for (let t = 0; t < count; t++) c[t]! ^= s[2 * t]! ^ s[2 * t + 1]!;
  }
  return { a, b, c };
}
