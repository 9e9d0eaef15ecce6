// SetIntersection for two parties from the batched OPRF of kkrt.ts (Kolesnikov, Kumaresan,
// Rosulek, Trieu, CCS 2016, §5): symmetric-key operations per item instead of the ring's
// exponentiations. The leader P0 is the OPRF receiver, P1 the sender; docs/set-protocols.md §3.
//
//   ot-base-a … ot-fix  the CODE_BITS random OTs, P1 choosing s (pair-ots.ts: they ride in the
//                       IKNP extension of ../order/triples.ts on the pair's cached base OTs, so only
//                       the first computation between two servers pays for public-key base OTs).
//   oprf-query  P0 → P1: the bins, the salt, and u (a row per bin), in chunks.
//   oprf-values P1 → P0: F_{h_i(x)}(x‖i) for every item x of P1 and i = 0, 1, 2, sorted (a random
//                       order for pseudorandom values), padded with random values to the bound.
// P0 then holds its items whose value is among P1's: the intersection, which it publishes.

import { randomBytes } from 'node:crypto';
import { PeerError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { gather, partyName, scatter } from '../../common/stages.js';
import { CODE_BYTES, HASHES, OprfReceiver, OprfSender, SALT_BYTES, VALUE_BYTES, binsFor, itemIds } from './kkrt.js';
import { OT_STAGES, pairSeeds } from './pair-ots.js';
import { MAX_ITEMS } from './input.js';

const QUERY = 'oprf-query';
const VALUES = 'oprf-values';
/** The stages of the two-party OPRF path, before the result. */
export const TWO_PARTY_STAGES: readonly string[] = [...Object.values(OT_STAGES), QUERY, VALUES];

/** Bytes per chunk of a long message: well below the peer layer's message limit (32 MiB by default). */
const CHUNK_BYTES = 4 * 1024 * 1024;
const LABEL = 'tessera/simon/sets/kkrt/v1';
const RECEIVER = 0;
const SENDER = 1;

export async function sendChunked(session: Session, to: number, stage: string, head: Uint8Array, body: Uint8Array): Promise<void> {
  const chunks = Math.ceil(body.length / CHUNK_BYTES);
  await Promise.all([
    scatter(session, stage, () => head, { to: [to] }),
    ...Array.from({ length: chunks }, (_, k) =>
      scatter(session, stage, () => body.subarray(k * CHUNK_BYTES, Math.min(body.length, (k + 1) * CHUNK_BYTES)), { to: [to], seq: k + 1 }),
    ),
  ]);
}

export async function receiveChunked(session: Session, from: number, stage: string, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const chunks = Math.ceil(length / CHUNK_BYTES);
  await Promise.all(
    Array.from({ length: chunks }, async (_, k) => {
      const expected = Math.min(CHUNK_BYTES, length - k * CHUNK_BYTES);
      const part = (
        await gather(session, stage, [from], (p) => {
          if (p.length !== expected) throw new PeerError(`chunk ${k} has ${p.length} bytes, expected ${expected}`, { where: partyName(session, from) });
          return p;
        }, { seq: k + 1 })
      ).get(from)!;
      out.set(part, k * CHUNK_BYTES);
    }),
  );
  return out;
}

/**
 * Runs the two-party OPRF intersection. P0 gets the positions (in `items`) of its items that P1
 * also holds; P1 gets undefined. `bound` (max_set_size): the bins and P1's list are sized for it,
 * so no message depends on a set size.
 */
export async function twoPartyMatches(session: Session, items: readonly string[], bound?: number): Promise<number[] | undefined> {
  const where = partyName(session, session.myself === RECEIVER ? SENDER : RECEIVER);
  const seeds = (await pairSeeds(session, OT_STAGES, LABEL, false)).get(session.myself === RECEIVER ? SENDER : RECEIVER)!;
  if (seeds.asReceiver !== undefined) {
    const receiver = new OprfReceiver(itemIds(items), binsFor(bound ?? items.length));
    const u = receiver.query(seeds.asReceiver.seeds0, seeds.asReceiver.seeds1, LABEL);
    const head = new Uint8Array(4 + SALT_BYTES);
    new DataView(head.buffer).setUint32(0, receiver.bins);
    head.set(receiver.salt, 4);
    await sendChunked(session, SENDER, QUERY, head, u);
    const count = (
      await gather(session, VALUES, [SENDER], (p) => {
        if (p.length !== 4) throw new PeerError(`malformed value count of ${p.length} bytes`, { where });
        const n = new DataView(p.buffer, p.byteOffset, 4).getUint32(0);
        if (n % HASHES !== 0 || n > HASHES * MAX_ITEMS || (bound !== undefined && n !== HASHES * bound)) {
          throw new PeerError(`unexpected number of OPRF values: ${n}`, { where });
        }
        return n;
      })
    ).get(SENDER)!;
    const values = await receiveChunked(session, SENDER, VALUES, count * VALUE_BYTES);
    const set = new Set<string>();
    for (let i = 0; i < count; i++) set.add(Buffer.from(values.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES)).toString('latin1'));
    return receiver.matches(set);
  }

  const head = (
    await gather(session, QUERY, [RECEIVER], (p) => {
      if (p.length !== 4 + SALT_BYTES) throw new PeerError(`malformed OPRF query head of ${p.length} bytes`, { where });
      const bins = new DataView(p.buffer, p.byteOffset, 4).getUint32(0);
      if (bins < binsFor(0) || bins > binsFor(MAX_ITEMS) || (bound !== undefined && bins !== binsFor(bound))) {
        throw new PeerError(`unexpected number of bins: ${bins}`, { where });
      }
      return { bins, salt: p.slice(4) };
    })
  ).get(RECEIVER)!;
  const u = await receiveChunked(session, RECEIVER, QUERY, head.bins * CODE_BYTES);
  const sender = new OprfSender(seeds.asSender!.s, seeds.asSender!.seeds, u, head.bins, head.salt, LABEL, where);
  const own = sender.evaluate(itemIds(items)).values[0]!;
  // Padding to the bound: random values, which match nothing (except with probability 2^-128 each).
  const total = HASHES * (bound ?? items.length);
  const list = new Uint8Array(total * VALUE_BYTES);
  list.set(own);
  if (total > HASHES * items.length) list.set(randomBytes(list.length - own.length), own.length);
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, total);
  await sendChunked(session, RECEIVER, VALUES, count, sortValues(list, total));
  return undefined;
}

/** The values in ascending byte order: for pseudorandom values a uniformly random order, so the list says nothing of which item (or hash) gave which. */
function sortValues(list: Uint8Array, count: number): Uint8Array {
  const keys = Array.from({ length: count }, (_, i) => Buffer.from(list.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES)));
  keys.sort(Buffer.compare);
  const out = new Uint8Array(list.length);
  keys.forEach((k, i) => out.set(k, i * VALUE_BYTES));
  return out;
}
