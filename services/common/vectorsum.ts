// Secure vector sum: every party holds a vector of group elements (several "lanes", each on its
// own ring or field, e.g. exact fixed-point reals and 64-bit counts); every party learns the
// element-wise sum over all parties and nothing else.
//
// Construction: additive secret sharing (Cramer, Damgård, Nielsen, "Secure Multiparty Computation
// and Secret Sharing", 2015, §3.3), two stages:
//   shares:   party i splits its vector v_i into n uniform additive sharings and sends share j to
//             party j (keeping its own);
//   partials: party j adds the shares it holds and broadcasts that partial sum;
//   every party adds the n partial sums: Σ_j Σ_i s_ij = Σ_i v_i.
// Any n−1 shares of v_i are independent and uniform, so a coalition of up to n−1 parties sees
// uniform values, and the honest parties' partial sums, which together with the coalition's own
// shares determine nothing beyond the total. The lanes' lengths are public (every party passes
// the same shape); a different length at a peer fails as a malformed message naming it.
//
// A microprotocol runs it as a sub-protocol under its own id (stages.ts subProtocol) and may run
// it several times in one session, numbering the runs with `seq`.

import { PeerError } from '../errors.js';
import type { Session } from '../peer.js';
import type { AdditiveGroup } from './field.js';
import { Ring } from './ring.js';
import { EXACT_SCALAR } from './fixedpoint.js';
import { broadcast, defineStages, gather, otherParties, partyName, scatter, subProtocol, type SubStages } from './stages.js';

export const VECTOR_SUM_STAGES = defineStages(['shares', 'partials'] as const);
export type VectorSumStages = SubStages<typeof VECTOR_SUM_STAGES.all>;

/** The stages of one vector-sum sub-protocol named `id` ("moments" → "moments.shares", …). */
export function vectorSumStages(id: string): VectorSumStages {
  return subProtocol(id, VECTOR_SUM_STAGES);
}

/** One lane of the vector: its elements and the group they live in. */
export interface Lane {
  readonly group: AdditiveGroup;
  readonly values: readonly bigint[];
}

/** Counts (samples, histogram cells) are summed in Z_2^64, exact for any count below 2^63. */
export const COUNT_RING = new Ring(64);
/** Reals (sums of values, of powers, …) on the exact fixed-point ring SecureSum uses. */
export const REAL_RING = EXACT_SCALAR.ring;

function width(lanes: readonly Lane[]): number {
  return lanes.reduce((n, lane) => n + lane.values.length * lane.group.byteLength, 0);
}

function encode(lanes: readonly Lane[], vectors: readonly (readonly bigint[])[]): Uint8Array {
  const out = new Uint8Array(width(lanes));
  let at = 0;
  lanes.forEach((lane, l) => {
    for (const x of vectors[l]!) {
      out.set(lane.group.encodeBytes(x), at);
      at += lane.group.byteLength;
    }
  });
  return out;
}

function decode(lanes: readonly Lane[], payload: Uint8Array, where: string): bigint[][] {
  const expected = width(lanes);
  if (payload.length !== expected) {
    throw new PeerError(`malformed vector-sum message of ${payload.length} bytes (expected ${expected}: do the parties agree on the shape?)`, { where });
  }
  let at = 0;
  return lanes.map((lane) =>
    lane.values.map(() => {
      const x = lane.group.decodeBytes(payload.subarray(at, at + lane.group.byteLength), where);
      at += lane.group.byteLength;
      return x;
    }),
  );
}

function addInto(lanes: readonly Lane[], acc: bigint[][], term: readonly (readonly bigint[])[]): void {
  lanes.forEach((lane, l) => {
    const a = acc[l]!;
    const t = term[l]!;
    for (let k = 0; k < a.length; k++) a[k] = lane.group.add(a[k]!, t[k]!);
  });
}

/**
 * Runs one secure vector sum on an open session and returns the element-wise totals, lane by
 * lane. Sending and receiving of a stage run together, so a stage costs one delivery.
 */
export async function secureVectorSum(
  session: Session,
  stages: VectorSumStages,
  lanes: readonly Lane[],
  options: { readonly seq?: number } = {},
): Promise<bigint[][]> {
  const n = session.parties;
  const seq = options.seq ?? 0;
  const others = otherParties(session);
  // Stage "shares": shares[j][l][k] is party j's share of lane l, element k.
  const shares: bigint[][][] = Array.from({ length: n }, () => lanes.map(() => []));
  lanes.forEach((lane, l) => {
    for (const value of lane.values) {
      let rest = lane.group.reduce(value);
      for (let j = 0; j < n; j++) {
        if (j === session.myself) continue;
        const r = lane.group.random();
        shares[j]![l]!.push(r);
        rest = lane.group.sub(rest, r);
      }
      shares[session.myself]![l]!.push(rest);
    }
  });
  const [, received] = await Promise.all([
    scatter(session, stages.shares, (to) => encode(lanes, shares[to]!), { seq }),
    gather(session, stages.shares, others, (p, from) => decode(lanes, p, partyName(session, from)), { seq }),
  ]);
  const partial = shares[session.myself]!.map((lane) => [...lane]);
  for (const term of received.values()) addInto(lanes, partial, term);

  // Stage "partials": publish the sum of the held shares; the sum of all partials is the total.
  const [, partials] = await Promise.all([
    broadcast(session, stages.partials, encode(lanes, partial), { seq }),
    gather(session, stages.partials, others, (p, from) => decode(lanes, p, partyName(session, from)), { seq }),
  ]);
  const total = partial.map((lane) => [...lane]);
  for (const term of partials.values()) addInto(lanes, total, term);
  return total;
}
