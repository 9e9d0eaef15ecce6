// SecureSum (SIMON semantics): every party gives a number or a list of numbers; every party
// learns the sum over all parties and the count of numbers ("samples"), nothing else.
//
// Construction: additive secret sharing over Z_2^k (Cramer, Damgård, Nielsen, "Secure
// Multiparty Computation and Secret Sharing", 2015, §3.3), two rounds:
//   shares:   party i splits its local total S_i into n uniform shares, sends share j to party j;
//   partials: party j adds the shares it holds and broadcasts that partial sum;
//   every party adds the n partial sums: Σ_j Σ_i s_ij = Σ_i S_i.
// Any n−1 shares of S_i are uniformly random, so a coalition of up to n−1 parties sees only
// uniform values and the partial sums, which (given the coalition's own shares) determine
// nothing beyond the total. Messages travel encrypted and authenticated (server/peer).
//
// Exactness: the values are encoded with EXACT_SCALAR, a fixed-point ring wide enough that every
// finite double is an exact ring element and the ring sum of the parties' totals is the exact real
// sum; it is rounded to the nearest double once, at the end.

import { BadInputError, PeerError } from '../errors.js';
import type { CallContext } from '../microservice.js';
import type { Session } from '../peer.js';
import { EXACT_SCALAR } from '../common/fixedpoint.js';
import { Ring } from '../common/ring.js';
import { share } from '../common/sharing.js';
import { defineStages, gather, broadcast, scatter, runProtocol, partyName, otherParties } from '../common/stages.js';
import { parseNetwork } from './network.js';

export const SECURE_SUM_STAGES = defineStages(['shares', 'partials'] as const);

/** The result every party downloads, exactly as the classic clients expect it. */
export interface SecureSumResult {
  inputs: number;
  result: { samples: number; sum: number };
}

const VALUES = EXACT_SCALAR;
const VALUE_RING: Ring = EXACT_SCALAR.ring;
/** Counts are shared too: how many numbers a party holds is its own business. */
const COUNT_RING = new Ring(64);
const MAX_ITEMS = 1_000_000;

/** A party's input: its exact local total and how many numbers it gave. */
interface LocalInput {
  total: bigint;
  count: bigint;
}

/** Validates `data` (a number or a list of numbers) and sums it exactly in the ring. */
export function parseSecureSumInput(data: unknown, where = 'kwargs.data'): LocalInput {
  const items = Array.isArray(data) ? data : [data];
  if (items.length > MAX_ITEMS) {
    throw new BadInputError(`at most ${MAX_ITEMS} numbers per party`, { where });
  }
  let total = 0n;
  items.forEach((item, i) => {
    const at = Array.isArray(data) ? `${where}[${i}]` : where;
    if (typeof item !== 'number') {
      throw new BadInputError(`expected a number, got ${item === null ? 'null' : typeof item}`, { where: at });
    }
    total = VALUE_RING.add(total, VALUES.encode(item, at));
  });
  return { total, count: BigInt(items.length) };
}

/** Stage "shares", outgoing: n uniform additive shares of (total, count), one per party. */
function dealShares(input: LocalInput, parties: number): Uint8Array[] {
  const totals = share(input.total, parties, VALUE_RING);
  const counts = share(input.count, parties, COUNT_RING);
  return totals.map((t, j) => encodePair(t, counts[j]!));
}

/** Stage "partials", outgoing: the sum of the shares this party holds. */
function partialSum(pairs: Iterable<[bigint, bigint]>): [bigint, bigint] {
  let total = 0n;
  let count = 0n;
  for (const [t, c] of pairs) {
    total = VALUE_RING.add(total, t);
    count = COUNT_RING.add(count, c);
  }
  return [total, count];
}

function encodePair(total: bigint, count: bigint): Uint8Array {
  const a = VALUE_RING.encodeBytes(total);
  const b = COUNT_RING.encodeBytes(count);
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function decodePair(payload: Uint8Array, where: string): [bigint, bigint] {
  const width = Math.ceil(VALUE_RING.bits / 8);
  if (payload.length !== width + Math.ceil(COUNT_RING.bits / 8)) {
    throw new PeerError(`malformed SecureSum message of ${payload.length} bytes`, { where });
  }
  return [
    VALUE_RING.decodeBytes(payload.subarray(0, width), where),
    COUNT_RING.decodeBytes(payload.subarray(width), where),
  ];
}

/** Runs both stages on an open session. */
export async function runSecureSum(session: Session, readInput: () => LocalInput): Promise<SecureSumResult> {
  return runProtocol(session, async () => {
    const input = readInput();
    const others = otherParties(session);

    // Stage "shares": deal, keep our own, exchange the rest.
    // Sending and receiving run together: a stage costs one delivery, not a delivery plus the
    // acknowledgement of our own sends.
    const dealt = dealShares(input, session.parties);
    const [, received] = await Promise.all([
      scatter(session, SECURE_SUM_STAGES.shares, (to) => dealt[to]!),
      gather(session, SECURE_SUM_STAGES.shares, others, (p, from) => decodePair(p, partyName(session, from))),
    ]);
    const own = decodePair(dealt[session.myself]!, 'own share');

    // Stage "partials": publish the sum of held shares; the sum of all partials is the result.
    const mine = partialSum([own, ...received.values()]);
    const [, partials] = await Promise.all([
      broadcast(session, SECURE_SUM_STAGES.partials, encodePair(...mine)),
      gather(session, SECURE_SUM_STAGES.partials, others, (p, from) => decodePair(p, partyName(session, from))),
    ]);
    const [total, count] = partialSum([mine, ...partials.values()]);

    return {
      inputs: session.parties,
      result: { samples: Number(count), sum: VALUES.decode(total, 'the sum of all parties') },
    };
  });
}

/** `compute(microprotocol="SecureSum", data, network)` on this party's server. */
export async function secureSum(kwargs: Record<string, unknown>, ctx: CallContext): Promise<SecureSumResult> {
  const network = parseNetwork(kwargs['network']);
  const session = await ctx.peers.open({
    uuid: network.uuid,
    myself: network.myself,
    terms: { microprotocol: 'SecureSum', nodes: network.nodes },
    stages: SECURE_SUM_STAGES.all,
  });
  // The input is checked after the session is open so that a bad input aborts the other parties
  // at once (runProtocol sends "abort"), instead of leaving them to their timeout.
  return runSecureSum(session, () => parseSecureSumInput(kwargs['data']));
}
