// SetIntersection for n ≥ 3 parties from programmed OPRFs: Kolesnikov, Matania, Pinkas, Rosulek
// and Trieu, "Practical Multi-party Private Set Intersection from Symmetric-Key Techniques",
// CCS 2017, §5 (the semi-honest protocol with a conditional zero-sharing). docs/set-protocols.md
// §3 gives the argument.
//
// A programmed OPRF (OPPRF) from P_a to P_b: P_a holds points (x, v_x) for x ∈ X_a; P_b queries
// its items y and learns v_y where y ∈ X_a and a pseudorandom value otherwise, without learning
// which. Built here from one KKRT batch (kkrt.ts, P_b the receiver) and a hint: a key-value table
// (okvs.ts) in which the key (x, i) decodes to F_{h_i(x)}(x‖i) ⊕ v_x; P_b decodes the key of its
// item y (in bin b under hash i) and XORs F_b(y‖i), its own OPRF value.
//
//   oprf-ot-*     random OTs for both batches of every pair (pair-ots.ts).
//   oprf-query    every party to every other: its OPRF query (kkrt.ts) for the batch it receives.
//   opprf-shares  the conditional zero-sharing: each P_a draws, per item x, shares s_a,b(x) for
//                 every b ≠ a and keeps s_a,a(x) = ⊕_b s_a,b(x); it programs s_a,b into the OPPRF
//                 to P_b. P_b's value is S_b(y) = s_b,b(y) ⊕ ⊕_a ŝ_b,a(y), where ŝ_b,a(y) is
//                 what it got from P_a. If y is in every set, ⊕_b S_b(y) = ⊕_a ⊕_b s_a,b(y) ⊕
//                 s_a,a(y) = 0; otherwise the S_b(y) are independent and uniform (§3).
//   opprf-final   every P_a (a ≥ 1) programs S_a into an OPPRF to P0 (a second function of the
//                 same batch, tag 1); P0 finds its items y with S_0(y) ⊕ ⊕_a Ŝ_a(y) = 0.

import { randomBytes } from 'node:crypto';
import { PeerError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { gather, otherParties, partyName } from '../../common/stages.js';
import { CODE_BYTES, HASHES, OprfReceiver, OprfSender, SALT_BYTES, binsFor, itemIds } from './kkrt.js';
import { CELL_BYTES, decode, encode, fromBytes, okvsBytes, okvsCells, toBytes } from './okvs.js';
import { OT_STAGES, pairSeeds } from './pair-ots.js';
import { receiveChunked, sendChunked } from './two-party.js';
import { MAX_ITEMS } from './input.js';

const QUERY = 'oprf-query';
const SHARES = 'opprf-shares';
const FINAL = 'opprf-final';
/** The stages of the multi-party path, before the result. */
export const MULTI_PARTY_STAGES: readonly string[] = [...Object.values(OT_STAGES), QUERY, SHARES, FINAL];

const LABEL = 'tessera/simon/sets/kkrt-multi/v1';
const LEADER = 0;
/** The OPRF tags of one batch: the zero-sharing's, and the final OPPRF to the leader's. */
const SHARE_TAG = 0;
const FINAL_TAG = 1;

/** v_x ⊕ F for every (x, i): the values of the hint table (perItem: one 16-byte cell per item). */
function hintValues(evaluations: Uint8Array, perItem: Uint8Array): Uint8Array {
  const out = new Uint8Array(evaluations);
  const o = new Int32Array(out.buffer);
  const v = int32(perItem);
  for (let x = 0; x < perItem.length / CELL_BYTES; x++) {
    for (let i = 0; i < HASHES; i++) {
      const at = 4 * (HASHES * x + i);
      for (let w = 0; w < 4; w++) o[at + w]! ^= v[4 * x + w]!;
    }
  }
  return out;
}

/** A 32-bit view of `bytes` (copied first if it is not 4-byte aligned), to XOR cells four bytes at a time. */
function int32(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Int32Array(Uint8Array.from(bytes).buffer);
}

/** A hint on the wire: the number of keys (public: 3 × the set size or the bound), then the table. */
async function sendHint(session: Session, to: number, stage: string, keyCount: number, bytes: Uint8Array): Promise<void> {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, keyCount);
  await sendChunked(session, to, stage, head, bytes);
}

async function receiveHint(session: Session, from: number, stage: string, bound: number | undefined) {
  const where = partyName(session, from);
  const keys = (
    await gather(session, stage, [from], (p) => {
      if (p.length !== 4) throw new PeerError(`malformed key count of ${p.length} bytes`, { where });
      const n = new DataView(p.buffer, p.byteOffset, 4).getUint32(0);
      if (n % HASHES !== 0 || n > HASHES * MAX_ITEMS || (bound !== undefined && n !== HASHES * bound)) throw new PeerError(`unexpected number of keys: ${n}`, { where });
      return n;
    })
  ).get(from)!;
  const cells = okvsCells(keys);
  return fromBytes(await receiveChunked(session, from, stage, okvsBytes(cells)), cells, where);
}

/** What an OPPRF's receiver gets for each of its items: decode(hint, key of y) ⊕ F(y), CELL_BYTES per item. */
function opprfOutputs(receiver: OprfReceiver, hint: ReturnType<typeof fromBytes>, tag: number): Uint8Array {
  const decoded = decode(hint, receiver.tableKeys());
  const d = int32(decoded);
  const values = int32(receiver.values(tag));
  for (let k = 0; k < d.length; k++) d[k]! ^= values[k]!;
  return decoded;
}

/**
 * Runs the multi-party intersection. P0 gets the positions (in `items`) of its items that every
 * party holds; the others get undefined. `bound` (max_set_size): every table is sized for it.
 */
export async function multiPartyMatches(session: Session, items: readonly string[], bound?: number): Promise<number[] | undefined> {
  const me = session.myself;
  const peers = otherParties(session);
  const size = bound ?? items.length;
  const seeds = await pairSeeds(session, OT_STAGES, LABEL, true);

  // oprf-query: this party receives a batch from every peer.
  const ids = itemIds(items);
  const receivers = new Map(peers.map((p) => [p, new OprfReceiver(ids, binsFor(size))]));
  const queries = peers.map(async (p) => {
    const receiver = receivers.get(p)!;
    const own = seeds.get(p)!.asReceiver!;
    const u = receiver.query(own.seeds0, own.seeds1, LABEL);
    const head = new Uint8Array(4 + SALT_BYTES);
    new DataView(head.buffer).setUint32(0, receiver.bins);
    head.set(receiver.salt, 4);
    await sendChunked(session, p, QUERY, head, u);
  });
  const senders = peers.map(async (p): Promise<[number, OprfSender]> => {
    const where = partyName(session, p);
    const head = (
      await gather(session, QUERY, [p], (m) => {
        if (m.length !== 4 + SALT_BYTES) throw new PeerError(`malformed OPRF query head of ${m.length} bytes`, { where });
        const bins = new DataView(m.buffer, m.byteOffset, 4).getUint32(0);
        if (bins < binsFor(0) || bins > binsFor(MAX_ITEMS) || (bound !== undefined && bins !== binsFor(bound))) throw new PeerError(`unexpected number of bins: ${bins}`, { where });
        return { bins, salt: m.slice(4) };
      })
    ).get(p)!;
    const u = await receiveChunked(session, p, QUERY, head.bins * CODE_BYTES);
    const mine = seeds.get(p)!.asSender!;
    return [p, new OprfSender(mine.s, mine.seeds, u, head.bins, head.salt, LABEL, where)];
  });
  const [, senderList] = await Promise.all([Promise.all(queries), Promise.all(senders)]);
  const sendersTo = new Map(senderList);

  // opprf-shares: the conditional zero-sharing.
  const shares = new Map(peers.map((p) => [p, new Uint8Array(randomBytes(items.length * CELL_BYTES))]));
  const kept = new Uint8Array(items.length * CELL_BYTES);
  for (const s of shares.values()) for (let k = 0; k < kept.length; k++) kept[k]! ^= s[k]!;
  const finals = new Map<number, { values: Uint8Array; keys: Uint8Array }>();
  const hints = peers.map(async (p) => {
    const tags = p === LEADER ? [SHARE_TAG, FINAL_TAG] : [SHARE_TAG];
    const { values: [forShares, forFinal], keys } = sendersTo.get(p)!.evaluate(ids, tags);
    if (forFinal !== undefined) finals.set(p, { values: forFinal, keys });
    const table = encode(keys, hintValues(forShares!, shares.get(p)!), okvsCells(HASHES * size));
    await sendHint(session, p, SHARES, HASHES * size, toBytes(table));
  });
  const received = peers.map(async (p): Promise<Uint8Array> => opprfOutputs(receivers.get(p)!, await receiveHint(session, p, SHARES, bound), SHARE_TAG));
  const [, fromPeers] = await Promise.all([Promise.all(hints), Promise.all(received)]);
  // S_me(y) = s_me,me(y) ⊕ ⊕_p ŝ_me,p(y).
  const value = kept;
  const valueWords = int32(value);
  for (const outputs of fromPeers) {
    const o = int32(outputs);
    for (let k = 0; k < valueWords.length; k++) valueWords[k]! ^= o[k]!;
  }

  // opprf-final: every other party programs S into its OPPRF to the leader.
  if (me !== LEADER) {
    const { values, keys } = finals.get(LEADER)!;
    const table = encode(keys, hintValues(values, value), okvsCells(HASHES * size));
    await sendHint(session, LEADER, FINAL, HASHES * size, toBytes(table));
    return undefined;
  }
  const fromAll = (await Promise.all(peers.map(async (p) => opprfOutputs(receivers.get(p)!, await receiveHint(session, p, FINAL, bound), FINAL_TAG)))).map(int32);
  const found: number[] = [];
  for (let y = 0; y < items.length; y++) {
    let nonzero = 0;
    for (let w = 4 * y; w < 4 * y + 4; w++) {
      let acc = valueWords[w]!;
      for (const outputs of fromAll) acc ^= outputs[w]!;
      nonzero |= acc;
    }
    if (nonzero === 0) found.push(y);
  }
  return found;
}
