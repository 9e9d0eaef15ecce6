// The random OTs behind every OPRF batch (kkrt.ts) of a set protocol: CODE_BITS of them per batch,
// the OPRF sender choosing. They ride, as chosen-input OTs, in the IKNP extension that
// ../order/triples.ts runs between each pair of parties on the pair's cached base OTs (so only
// the first computation between two servers pays for public-key base OTs); that extension makes
// no triples here. In it the pair's lower index i holds both keys of every OT and the higher j
// chooses, which is the orientation of the batch j → i (j the OPRF sender, i the receiver):
// its CODE_BITS OTs are taken as they come.
//
// The batch i → j needs the other orientation. It is made from CODE_BITS · SEED_BITS more OTs of
// one bit each, reversed (Wolf and Wullschleger, "Oblivious Transfer Is Symmetric", EUROCRYPT
// 2006): for a random bit OT where i holds (k0, k1) and j holds (c, k_c), j's messages
// (m0, m1) = (k_c, k_c ⊕ c) form a random OT in which i chose d = k0 ⊕ k1 and got m_d = k0.
// i then asks for its wanted choice s_t instead of d (Beaver's derandomization): it sends
// e = s_t ⊕ d in the extension's payload and j swaps its pair where e = 1. Bit ℓ of the seeds of
// OT t comes from bit OT (t, ℓ). Seeds of SEED_BITS = 128 bits are stretched to the 256-bit AES
// keys of the column PRG by SHA-256.

import { createHash } from 'node:crypto';
import type { Session } from '../../peer.js';
import { PeerError } from '../../errors.js';
import { otherParties, partyName } from '../../common/stages.js';
import { dealerFreeTriples, type OrderStageNames, type RiderOts } from '../order/triples.js';
import { pack, randomBits, unpack, type Bits } from '../order/bits.js';
import { CODE_BITS } from './kkrt.js';

/** The stages of the pair's extension (ot-base-a … ot-fix of ../order/triples.ts). */
export const OT_STAGES: OrderStageNames = { baseA: 'oprf-ot-base-a', baseB: 'oprf-ot-base-b', ext: 'oprf-ot-ext', fix: 'oprf-ot-fix' };

const SEED_BITS = 128;
const KEY_BYTES = 16;
const REVERSED = CODE_BITS * SEED_BITS;

/** The receiver's side of a batch: both seeds of every OT. */
export interface ReceiverSeeds {
  readonly seeds0: Uint8Array[];
  readonly seeds1: Uint8Array[];
}
/** The sender's side: its choice bits and the chosen seeds. */
export interface SenderSeeds {
  readonly s: Bits;
  readonly seeds: Uint8Array[];
}
/** Per peer: the batch in which this party receives from the peer, and the one in which it sends to it. */
export interface PairSeeds {
  readonly asReceiver?: ReceiverSeeds;
  readonly asSender?: SenderSeeds;
}

/** A 256-bit AES key from a 128-bit seed. */
function stretch(seed: Uint8Array): Uint8Array {
  return createHash('sha256').update('tessera/simon/sets/ot-seed/v1\0').update(seed).digest();
}

function keyAt(keys: Uint8Array, t: number): Uint8Array {
  return keys.subarray(t * KEY_BYTES, (t + 1) * KEY_BYTES);
}

/** Bits b[t·SEED_BITS + ℓ] as CODE_BITS seeds of SEED_BITS. */
function seedsFromBits(bits: Bits): Uint8Array[] {
  return Array.from({ length: CODE_BITS }, (_, t) => stretch(pack(bits.subarray(t * SEED_BITS, (t + 1) * SEED_BITS))));
}

/**
 * The random OTs with every peer. `reverse`: also the batches in which the lower index sends (the
 * multi-party protocol needs both directions of every pair; two parties only j → i).
 */
export async function pairSeeds(session: Session, stages: OrderStageNames, label: string, reverse: boolean): Promise<Map<number, PairSeeds>> {
  const count = CODE_BITS + (reverse ? REVERSED : 0);
  const choices = new Map<number, Bits>();
  const out = new Map<number, PairSeeds>();
  // The wanted choices of the reversed OTs, per peer (lower index only).
  const wanted = new Map<number, Bits>();
  const riders: RiderOts = {
    count: () => count,
    blocks: 1,
    // Wide keys (the seeds) only for the CODE_BITS OTs taken as they come; a reversed OT is a bit
    // OT, for which the extension's one-bit pad is the key (no 16-byte hash for its 65,536 rows).
    wideCount: () => CODE_BITS,
    payloadBytes: () => (reverse ? REVERSED / 8 : 0),
    choices: (peer) => {
      const c = randomBits(count);
      choices.set(peer, c);
      return c;
    },
    payload: (peer, keys0, keys1, pads0, pads1) => {
      const seeds0 = Array.from({ length: CODE_BITS }, (_, t) => stretch(keyAt(keys0, t)));
      const seeds1 = Array.from({ length: CODE_BITS }, (_, t) => stretch(keyAt(keys1, t)));
      if (!reverse) {
        out.set(peer, { asReceiver: { seeds0, seeds1 } });
        return new Uint8Array(0);
      }
      const s = randomBits(CODE_BITS);
      wanted.set(peer, s);
      const mine = new Uint8Array(REVERSED);
      const e = new Uint8Array(REVERSED);
      for (let r = 0; r < REVERSED; r++) {
        const k0 = pads0[CODE_BITS + r]!;
        const k1 = pads1[CODE_BITS + r]!;
        mine[r] = k0;
        e[r] = s[Math.floor(r / SEED_BITS)]! ^ k0 ^ k1;
      }
      out.set(peer, { asReceiver: { seeds0, seeds1 }, asSender: { s, seeds: seedsFromBits(mine) } });
      return pack(e);
    },
    receive: (peer, keys, payload, pads) => {
      const c = choices.get(peer)!;
      const s = c.slice(0, CODE_BITS);
      const seeds = Array.from({ length: CODE_BITS }, (_, t) => stretch(keyAt(keys, t)));
      if (!reverse) {
        out.set(peer, { asSender: { s, seeds } });
        return;
      }
      const e = unpack(payload, REVERSED, partyName(session, peer));
      const a = new Uint8Array(REVERSED);
      const b = new Uint8Array(REVERSED);
      for (let r = 0; r < REVERSED; r++) {
        const m0 = pads[CODE_BITS + r]!;
        const m1 = m0 ^ c[CODE_BITS + r]!;
        a[r] = e[r] ? m1 : m0;
        b[r] = e[r] ? m0 : m1;
      }
      out.set(peer, { asSender: { s, seeds }, asReceiver: { seeds0: seedsFromBits(a), seeds1: seedsFromBits(b) } });
    },
  };
  await dealerFreeTriples(session, 0, stages, label, riders);
  for (const peer of otherParties(session)) {
    if (!out.has(peer)) throw new PeerError('the oblivious transfers ended without keys', { where: partyName(session, peer) });
  }
  return out;
}
