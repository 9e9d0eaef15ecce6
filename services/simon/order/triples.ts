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
// Messages per pair, with a reused base: ot-base-a (j→i: an offer of a cached base, one point and
// the extension matrix, KAPPA·2T bits) and ot-base-b (i→j: "accepted" and the 2T derandomization
// bits); after fresh base OTs: ot-base-a, ot-base-b (KAPPA points), ot-ext (the matrix), ot-fix
// (the bits). See crossTerms.

import { createHash, randomBytes } from 'node:crypto';
import { randomBits, type Bits, pack, unpack, xor, and, concat } from './bits.js';
import { BaseOtSender, baseOtReceive, iknpChoose, iknpPrepare, iknpReceive, iknpSend, KAPPA, columnBytes, type PreparedExtension, type WideKeys } from './ot.js';
import type { Session } from '../../peer.js';
import { partyName, otherParties } from '../../common/stages.js';
import { PeerError, TesseraError } from '../../errors.js';
import type { Deliveries } from '../../common/deliveries.js';

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
type CachedBase =
  | { readonly role: 'sender'; readonly s: Bits; readonly keys: Buffer[]; readonly id: Uint8Array }
  | { readonly role: 'receiver'; readonly k0: Buffer[]; readonly k1: Buffer[]; readonly id: Uint8Array };

/** Bases kept per (own node, peer node, role); a bounded map, oldest evicted first. */
const BASE_CACHE = new Map<string, CachedBase>();
const BASE_CACHE_LIMIT = 1024;
const ID_BYTES = 32;
const NONCE_BYTES = 16;
const POINT_BYTES = 32;

function cacheKey(session: Session, peer: number, role: CachedBase['role']): string {
  return `${session.nodes[session.myself]}\u0000${session.nodes[peer]}\u0000${role}`;
}

function remember(key: string, base: CachedBase): void {
  BASE_CACHE.delete(key);
  BASE_CACHE.set(key, base);
  if (BASE_CACHE.size > BASE_CACHE_LIMIT) BASE_CACHE.delete(BASE_CACHE.keys().next().value!);
  // Extensions prepared under the base this one replaces (the peer restarted) are never used.
  for (const [shape, ready] of PREPARED) if (ready.base === key) PREPARED.delete(shape);
}

/**
 * IKNP receivers' extensions prepared for the next computation (prepareExtensions), one per
 * (base, pair label without its nonce, number of OTs, wide keys), each under its own fresh nonce
 * and bound to the base's id: the next offer of that base with that shape takes it out and uses
 * it once (crossTerms); one prepared under a base since replaced is dropped.
 */
interface Prepared {
  /** The cache key of the receiver base it was prepared under, and that base's id. */
  readonly base: string;
  readonly id: Uint8Array;
  readonly nonce: Buffer;
  readonly extension: PreparedExtension;
}
const PREPARED = new Map<string, Prepared>();

/**
 * Chou–Orlandi first messages S = yG not yet answered, per (own node, peer): an offer of a cached
 * base carries one in case the peer refuses, and a peer that accepts never uses it, so the next
 * offer carries the same S instead of paying a fresh scalar multiplication every computation. A
 * spare is taken out while an offer is pending (concurrent offers draw fresh ones) and dropped
 * once answered: each y serves at most one base.
 */
const SPARE_SENDERS = new Map<string, BaseOtSender>();

/** Forgets the cached bases (of one role only, if given: tests of a one-sided restart). */
export function forgetBaseOts(role?: CachedBase['role']): void {
  for (const [key, base] of BASE_CACHE) if (role === undefined || base.role === role) BASE_CACHE.delete(key);
  if (role !== 'sender') {
    SPARE_SENDERS.clear();
    PREPARED.clear();
  }
}

/** The nonces of the receiver extensions prepared and not yet used, in hex (tests). */
export function preparedNonces(): string[] {
  return [...PREPARED.values()].map((ready) => ready.nonce.toString('hex'));
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

/**
 * Chosen-input OTs that ride in one pair's extension, beside the triples' random OTs: the
 * receiver's choice bits are its own input bits, and the sender answers in its OT answer (ot-base-b or ot-fix) with
 * a payload built from both keys of every such OT (garbled.ts: the input labels of the
 * receiver's key bits, each under one key, and the garbled comparison). They cost no message and no round of their own. Per pair, the lower index is the
 * sender, as for the triples.
 */
export interface RiderOts {
  /** OTs with `peer` (the same at both ends of a pair; pairs may differ). */
  count(peer: number): number;
  /** 16-byte blocks per key. */
  readonly blocks: number;
  /**
   * How many of the OTs with `peer` (the first ones) get wide keys; default all. The others get
   * only their one-bit pads (the triples' hash, which the extension computes for every OT anyway),
   * passed as `pads0`/`pads1` and `pads`, one bit per rider OT.
   */
  wideCount?(peer: number): number;
  /** The sender's payload length for the pair with `peer` (public: both ends compute it). */
  payloadBytes(peer: number): number;
  /** Receiver: its choice bits for the OTs with `peer` (count of them). */
  choices(peer: number): Bits;
  /** Sender: the payload for `peer`, given both keys of each wide OT (16·blocks bytes each) and both one-bit pads of every rider OT. */
  payload(peer: number, keys0: Uint8Array, keys1: Uint8Array, pads0: Bits, pads1: Bits): Uint8Array;
  /** Receiver: reads the sender's payload with the key of each chosen message (and the one-bit pad of every rider OT). */
  receive(peer: number, keys: Uint8Array, payload: Uint8Array, pads: Bits): void;
}

export async function receiveFrom(session: Session, from: number, stage: string, seq = 0): Promise<Uint8Array> {
  try {
    return await session.receive(from, stage, seq);
  } catch (err) {
    if (err instanceof TesseraError) throw err;
    throw new PeerError(`stage ${stage}: receiving from ${partyName(session, from)} failed`, { where: partyName(session, from) });
  }
}

/** Sends chunks `from`… of `bytes` in `stage`, chunk k at seq offset + k (chunk 0 always exists). */
async function sendChunked(session: Session, to: number, stage: string, bytes: Uint8Array, offset: number, from = 0): Promise<void> {
  const sends: Promise<void>[] = [];
  const chunks = Math.max(1, Math.ceil(bytes.length / EXT_CHUNK_BYTES));
  for (let k = from; k < chunks; k++) {
    sends.push(session.send(to, stage, bytes.subarray(k * EXT_CHUNK_BYTES, Math.min(bytes.length, (k + 1) * EXT_CHUNK_BYTES)), offset + k));
  }
  await Promise.all(sends);
}

/**
 * Receives a matrix of `length` bytes in chunks of EXT_CHUNK_BYTES, chunk k from `stage` at seq
 * offset + k; chunk 0 may have come already (`first`, inside the offer).
 */
async function receiveChunked(session: Session, from: number, stage: string, length: number, offset: number, first?: Uint8Array): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const chunks = Math.max(1, Math.ceil(length / EXT_CHUNK_BYTES));
  const check = (k: number, part: Uint8Array): void => {
    if (part.length !== Math.min(EXT_CHUNK_BYTES, length - k * EXT_CHUNK_BYTES)) {
      throw new PeerError(`stage ${stage}: chunk ${k} has ${part.length} bytes`, { where: partyName(session, from) });
    }
    out.set(part, k * EXT_CHUNK_BYTES);
  };
  if (first !== undefined) check(0, first);
  await Promise.all(
    Array.from({ length: chunks }, async (_, k) => {
      if (k === 0 && first !== undefined) return;
      check(k, await receiveFrom(session, from, stage, offset + k));
    }),
  );
  return out;
}

/** The receiver's choice bits: OT 2t chooses by b_t (shares a_i·b_j), OT 2t+1 by a_t (b_i·a_j). */
function choicesFor(a: Bits, b: Bits): Bits {
  const choices = new Uint8Array(2 * a.length);
  for (let t = 0; t < a.length; t++) {
    choices[2 * t] = b[t]!;
    choices[2 * t + 1] = a[t]!;
  }
  return choices;
}

function pairLabel(session: Session, peer: number, label: string, nonce: string): string {
  return `${label}/${Math.min(session.myself, peer)}-${Math.max(session.myself, peer)}/${nonce}`;
}

/** The OTs of one pair's extension: 2 per triple, then the riders' (the first `wide.count` of them with wide keys). */
function extensionShape(peer: number, count: number, riders?: RiderOts): { m: number; wide: WideKeys | undefined } {
  const riderCount = riders?.count(peer) ?? 0;
  return { m: 2 * count + riderCount, wide: riders && { from: 2 * count, count: riders.wideCount?.(peer) ?? riderCount, blocks: riders.blocks } };
}

/** Where an extension prepared for this pair, label and shape waits: under the receiver base's key. */
function preparedKey(session: Session, peer: number, label: string, m: number, wide: WideKeys | undefined): string {
  return `${cacheKey(session, peer, 'receiver')}\u0000${pairLabel(session, peer, label, '')}\u0000${m}\u0000${wide ? `${wide.from},${wide.count},${wide.blocks}` : ''}`;
}

/**
 * As this party's receiver side of the next dealerFreeTriples of the same shape with the same
 * peers (count, label, riders' counts) will need, prepares each extension's choice-independent
 * part (ot.ts iknpPrepare: the column expansions and the pads, about a sixth of the min/max's CPU)
 * under a cached base and a fresh nonce, so that the next computation's offer goes out without it.
 * Call it once a computation has its output, off its critical path.
 */
export function prepareExtensions(session: Session, count: number, label: string, riders?: RiderOts): void {
  for (const peer of otherParties(session)) {
    if (peer > session.myself) continue; // the lower index is the extension's sender
    const base = BASE_CACHE.get(cacheKey(session, peer, 'receiver'));
    if (base?.role !== 'receiver') continue;
    const { m, wide } = extensionShape(peer, count, riders);
    const nonce = randomBytes(NONCE_BYTES);
    const extension = iknpPrepare(base.k0, base.k1, m, pairLabel(session, peer, label, nonce.toString('hex')), wide);
    PREPARED.set(preparedKey(session, peer, label, m, wide), { base: cacheKey(session, peer, 'receiver'), id: base.id, nonce, extension });
    if (PREPARED.size > BASE_CACHE_LIMIT) PREPARED.delete(PREPARED.keys().next().value!);
  }
}

/** The extension prepared for this offer, taken out (used once), if it was prepared under the base offered. */
function takePrepared(session: Session, peer: number, label: string, m: number, wide: WideKeys | undefined, offered: Uint8Array): Prepared | undefined {
  const key = preparedKey(session, peer, label, m, wide);
  const ready = PREPARED.get(key);
  PREPARED.delete(key);
  return ready !== undefined && Buffer.from(ready.id).equals(offered) ? ready : undefined;
}

/**
 * This party's XOR shares of a_i·b_j and a_j·b_i (interleaved, 2 per triple) with one peer: base
 * OTs (reused if both hold the same base) and one IKNP extension. The lower index is the
 * extension's sender. Messages, with seq numbers:
 *   ot-base-a[0]  receiver → sender: [1 | id | nonce | S | the extension matrix under the base `id`
 *                 (its first chunk)] offering the cached base `id`, or [0 | 0…0 | nonce | S];
 *                 S is a Chou–Orlandi first message either way (with an offer, the spare S of
 *                 earlier offers that went unanswered).
 *   ot-ext[1…]    receiver → sender, after the offer: the offered matrix's further chunks, if any.
 *   ot-base-b[0]  sender → receiver: [1 | the derandomization bits | the riders' payload] (it holds
 *                 `id` too: done), or [0 | KAPPA reply points] (a fresh base, answering S).
 *   ot-ext[c…]    after a refused offer (or none): the matrix under the fresh base, after the c
 *                 chunk numbers of the offered one.
 *   ot-fix[0]     sender → receiver, after a fresh base: the derandomization bits and the riders'
 *                 payload.
 * With a reused base that is one message each way: the offer carries the matrix and the
 * acceptance the answer, so the OTs cost one round trip and no wait for a receipt in between
 * (each further message to the same peer waits for the previous one's receipt, so that a peer
 * receives one sender's stages in order, services/common/stages.ts StageOrder).
 */
async function crossTerms(session: Session, peer: number, a: Bits, b: Bits, stages: OrderStageNames, label: string, riders?: RiderOts, deliveries?: Deliveries): Promise<Bits> {
  const count = a.length;
  const riderBytes = riders?.payloadBytes(peer) ?? 0;
  const { m, wide } = extensionShape(peer, count, riders);
  const fixBytes = columnBytes(2 * count);
  const where = partyName(session, peer);
  const extBytes = KAPPA * columnBytes(m);
  const chunks = Math.max(1, Math.ceil(extBytes / EXT_CHUNK_BYTES));
  const firstChunk = Math.min(extBytes, EXT_CHUNK_BYTES);
  const HEAD = 1 + ID_BYTES + NONCE_BYTES + POINT_BYTES;
  if (session.myself < peer) {
    const key = cacheKey(session, peer, 'sender');
    const head = await receiveFrom(session, peer, stages.baseA);
    const offered = head[0] === 1;
    if (head.length !== HEAD + (offered ? firstChunk : 0) || head[0]! > 1) throw new PeerError(`stage ${stages.baseA}: malformed message`, { where });
    const nonce = Buffer.from(head.subarray(1 + ID_BYTES, 1 + ID_BYTES + NONCE_BYTES)).toString('hex');
    const cached = BASE_CACHE.get(key);
    const accepted = offered && cached?.role === 'sender' && Buffer.from(cached.id).equals(head.subarray(1, 1 + ID_BYTES)) ? cached : undefined;
    let base: CachedBase;
    let u: Uint8Array;
    let refusal: Promise<void> | undefined;
    if (accepted) {
      base = accepted;
      u = await receiveChunked(session, peer, stages.ext, extBytes, 0, head.subarray(HEAD));
    } else {
      const first = head.subarray(1 + ID_BYTES + NONCE_BYTES, HEAD);
      const s = randomBits(KAPPA);
      const { reply, keys } = await baseOtReceive(first, s, where);
      refusal = session.send(peer, stages.baseB, concat([Uint8Array.of(0), reply]));
      refusal.catch(() => undefined);
      base = { role: 'sender', s, keys, id: baseId(first, reply) };
      remember(key, base);
      // The receiver sends the matrix under the fresh base after the chunk numbers of the offered one.
      [u] = await Promise.all([receiveChunked(session, peer, stages.ext, extBytes, offered ? chunks : 0), refusal]);
    }
    if (base.role !== 'sender') throw new Error('unreachable');
    const { pad0, pad1, keys0, keys1 } = iknpSend(base.keys, base.s, u, m, pairLabel(session, peer, label, nonce), where, wide);
    const fix = new Uint8Array(2 * count);
    for (let t = 0; t < count; t++) {
      fix[2 * t] = pad0[2 * t]! ^ pad1[2 * t]! ^ a[t]!;
      fix[2 * t + 1] = pad0[2 * t + 1]! ^ pad1[2 * t + 1]! ^ b[t]!;
    }
    const answer = [pack(fix), ...(riders ? [riders.payload(peer, keys0, keys1, pad0.subarray(2 * count), pad1.subarray(2 * count))] : [])];
    // Accepted: the answer is the acceptance; after a fresh base, its own message. This party's
    // shares are ready now: with `deliveries`, its next messages need not wait for the receipt.
    const sent = accepted ? session.send(peer, stages.baseB, concat([Uint8Array.of(1), ...answer])) : session.send(peer, stages.fix, concat(answer));
    if (deliveries === undefined) await sent;
    else deliveries.track(sent);
    return pad0.subarray(0, 2 * count);
  }

  /** The receiver's shares from the sender's answer: the derandomization bits, then the riders' payload. */
  const derandomize = (pads: Bits, keys: Uint8Array, choices: Bits, message: Uint8Array): Bits => {
    if (message.length !== fixBytes + riderBytes) throw new PeerError(`stage ${stages.fix}: expected ${fixBytes + riderBytes} bytes, got ${message.length}`, { where });
    const fix = unpack(message.subarray(0, fixBytes), 2 * count, where);
    riders?.receive(peer, keys, message.subarray(fixBytes), pads.subarray(2 * count));
    return xor(pads.subarray(0, 2 * count), and(choices.subarray(0, 2 * count), fix));
  };

  const key = cacheKey(session, peer, 'receiver');
  const choices = riders ? concat([choicesFor(a, b), riders.choices(peer)]) : choicesFor(a, b);
  const cached = BASE_CACHE.get(key);
  const offer = cached?.role === 'receiver' ? cached : undefined;
  // An extension prepared under the offered base comes with its own nonce; else a fresh one.
  const ready = offer && takePrepared(session, peer, label, m, wide, offer.id);
  const nonceBytes = ready?.nonce ?? randomBytes(NONCE_BYTES);
  const label2 = pairLabel(session, peer, label, nonceBytes.toString('hex'));
  const fresh = SPARE_SENDERS.get(key) ?? new BaseOtSender();
  SPARE_SENDERS.delete(key);
  // Optimistically extend under the offered base, and send the matrix inside the offer.
  const optimistic = offer && (ready ? iknpChoose(ready.extension, choices) : iknpReceive(offer.k0, offer.k1, choices, label2, wide));
  const head = [Uint8Array.of(offer ? 1 : 0), offer?.id ?? new Uint8Array(ID_BYTES), nonceBytes, fresh.first];
  const offering = session.send(peer, stages.baseA, concat(optimistic ? [...head, optimistic.u.subarray(0, firstChunk)] : head));
  offering.catch(() => undefined);
  // Further chunks only after the offer is in (a peer takes one sender's stages in order).
  const sending = optimistic && chunks > 1 ? offering.then(() => sendChunked(session, peer, stages.ext, optimistic.u, 0, 1)) : offering;
  sending.catch(() => undefined);
  // The answer comes only after the offer arrived; a failed send fails at once.
  const [answer] = await Promise.all([receiveFrom(session, peer, stages.baseB), sending]);
  if (optimistic && answer[0] === 1) {
    if (answer.length !== 1 + fixBytes + riderBytes) throw new PeerError(`stage ${stages.baseB}: expected ${1 + fixBytes + riderBytes} bytes, got ${answer.length}`, { where });
    // S went unanswered: it may ride along the next offer.
    if (SPARE_SENDERS.size < BASE_CACHE_LIMIT) SPARE_SENDERS.set(key, fresh);
    return derandomize(optimistic.pads, optimistic.keys, choices, answer.subarray(1));
  }
  if (answer.length !== 1 + KAPPA * POINT_BYTES || answer[0] !== 0) throw new PeerError(`stage ${stages.baseB}: malformed answer`, { where });
  const reply = answer.subarray(1);
  const base = { role: 'receiver' as const, ...(await fresh.keys(reply, where)), id: baseId(fresh.first, reply) };
  remember(key, base);
  const extension = iknpReceive(base.k0, base.k1, choices, label2, wide);
  const [, message] = await Promise.all([sendChunked(session, peer, stages.ext, extension.u, optimistic ? chunks : 0), receiveFrom(session, peer, stages.fix)]);
  return derandomize(extension.pads, extension.keys, choices, message);
}

/**
 * `count` Beaver triples over XOR shares, one share of each at this party, made with every peer by
 * oblivious transfer (no dealer). Every party calls it with the same count, stages and label (and
 * the same shape of `riders`: chosen-input OTs carried in the same messages). With `deliveries`,
 * an OT sender's last message (its answer) is tracked there rather than awaited (deliveries.ts),
 * so the caller's first AND layer may overtake it: its session must declare circuitLoops.
 */
export async function dealerFreeTriples(session: Session, count: number, stages: OrderStageNames, label: string, riders?: RiderOts, deliveries?: Deliveries): Promise<Triples> {
  const a = randomBits(count);
  const b = randomBits(count);
  const c = and(a, b);
  const shares = await Promise.all(otherParties(session).map((peer) => crossTerms(session, peer, a, b, stages, label, riders, deliveries)));
  for (const s of shares) {
    for (let t = 0; t < count; t++) c[t]! ^= s[2 * t]! ^ s[2 * t + 1]!;
  }
  return { a, b, c };
}
