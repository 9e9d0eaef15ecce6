// Secure vector sum: every party holds a vector of group elements (several "lanes", each on its
// own ring or field, e.g. exact fixed-point reals and 64-bit counts); every party learns the
// element-wise sum over all parties and nothing else.
//
// Construction, from MASKED_FROM (4) parties on (below it, additive sharing: sharedSum at the
// end of this file): pairwise-masked aggregation (Ács and Castelluccia, "I Have a DREAM!", IH 2011;
// Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning", CCS
// 2017, §4 without its dropout recovery), with party 0 as the aggregator. Three stages, 3(n−1)
// messages in all where additive sharing between every pair needed 2n(n−1):
//   nonce:  the aggregator draws 32 fresh bytes and sends them to every party;
//   masked: party i ≠ 0 sends the aggregator y_i = v_i + Σ_{j ∉ {0, i}} ±PRG(k_ij), the sign +
//           when i < j and − when i > j, on each lane's own ring or field, followed by its key
//           checks (keyChecks), which the aggregator compares pair by pair (checkPairKeys);
//   total:  the aggregator adds its own v_0 and every y_i, and sends the total to every party.
// Each pair's masks appear once with each sign, so they cancel: Σ_i y_i + v_0 = Σ_i v_i.
//
// The pair key k_ij is Session.pairSecret(j, context): both parties derive it with no message
// from their long-term key agreement (server/peer/pair-secrets.ts), bound to the uuid, the terms,
// the stage name and run number, and the aggregator's nonce. The nonce is what makes masks fresh:
// a network uuid is reused for retries and for new computations, and a mask used twice would show
// the aggregator the difference of a party's two inputs. The aggregator's fresh draw costs one
// stage; no value both parties already hold is fresh per attempt (the instance nonces each party
// draws travel only with its own messages, which in this star reach the aggregator alone).
//
// What a coalition of up to n−1 parties learns (SECURITY.md "Secure vector sum"):
// - without the aggregator: the nonce and the total, i.e. the output;
// - with the aggregator: every y_i. For an honest party h, y_h carries ±PRG(k_hg) for every other
//   honest non-aggregator g, and those keys are unknown to the coalition. With two or more honest
//   parties the honest y_h are uniform given their sum (the masks of honest pairs form a connected
//   graph, Bonawitz et al. §4 Thm 6.2), and that sum follows from the output and the coalition's
//   own inputs; with one honest party the output alone determines its input anyway.
// Masks with the aggregator would be pointless (it knows k_i0), so none are drawn: with n = 2
// party 1's vector reaches party 0 unmasked, inside the sealed envelope, as the output reveals it.
// The pseudo-randomness is AES-256-CTR keyed by k_ij (prg.ts); a field element is drawn by
// rejection, a ring element by dropping the bits above k, both exactly uniform on its group.
// This assumes semi-honest parties, as every protocol here: an aggregator that sent the same nonce
// twice could subtract two masked vectors. The lanes' lengths are public (every party passes the
// same shape); a different length at a peer fails as a malformed message naming it.
//
// A microprotocol runs it as a sub-protocol under its own id (stages.ts subProtocol) and may run
// it several times in one session, numbering the runs with `seq`.
//
// The last stage's sends (partials; the total, and a leaf's masked vector) are tracked rather than
// awaited inside the sum (deliveries.ts): a caller that passes its own tracker goes on with the
// totals as soon as the peers' messages are in and awaits the receipts later (StatisticsUnivariate
// opens its extremes meanwhile); without one, the sum awaits them before it returns, as before.
// The first stage still awaits its receipts before the second goes out, so one sender's messages
// of a sum never overtake one another and never share a time limit: tried without that wait, a
// party's partials were sent while its shares to the same peer were still in flight, and under
// load the fault tests' 2-second limit saw the partials time out (docs/performance.md, "The
// vector sum's stages without receipts"); between warm servers that wait costs nothing anyway,
// since a peer's shares are taken only once our own shares' receipt has confirmed that peer.

import { randomBytes } from 'node:crypto';
import { PeerError } from '../errors.js';
import type { Session } from '../peer.js';
import type { AdditiveGroup } from './field.js';
import { Ring } from './ring.js';
import { EXACT_SCALAR } from './fixedpoint.js';
import { MaskStream } from './prg.js';
import { Deliveries } from './deliveries.js';
import { broadcast, defineStages, gather, otherParties, partyName, scatter, subProtocol, type SubStages } from './stages.js';

export const VECTOR_SUM_STAGES = defineStages(['shares', 'partials', 'nonce', 'masked', 'total'] as const);
export type VectorSumStages = SubStages<typeof VECTOR_SUM_STAGES.all>;

/** The stages of one vector-sum sub-protocol named `id` ("moments" → "moments.nonce", …). */
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

/** One vector per lane, each element at its ring's byte width, in lane order. */
export function encodeLanes(lanes: readonly Lane[], vectors: readonly (readonly bigint[])[]): Uint8Array {
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

/** Inverse of encodeLanes; refuses a payload of another length (a PeerError naming `where`). */
export function decodeLanes(lanes: readonly Lane[], payload: Uint8Array, where: string): bigint[][] {
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

function subInto(lanes: readonly Lane[], acc: bigint[][], term: readonly (readonly bigint[])[]): void {
  lanes.forEach((lane, l) => {
    const a = acc[l]!;
    const t = term[l]!;
    for (let k = 0; k < a.length; k++) a[k] = lane.group.sub(a[k]!, t[k]!);
  });
}

/** Who adds the masked vectors and sends the total. */
export const AGGREGATOR = 0;
const NONCE_BYTES = 32;
/** The PRG label of the masks (prg.ts): distinct from every other use of a pair secret. */
const MASK_LABEL = 'tessera/vectorsum/mask/v1';

/**
 * The context of a run's pair secrets: its stage name and run number (so two sums in one session
 * never share a key), then the aggregator's nonce (so no two attempts on one uuid do).
 */
function maskContext(stage: string, seq: number, nonce: Uint8Array): Uint8Array {
  const name = Buffer.from(stage, 'utf8');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(name.length, 0);
  head.writeUInt32BE(seq, 4);
  return Buffer.concat([head, name, nonce]);
}

/** Little-endian bytes as an unsigned integer. */
function readLE(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes).reverse().toString('hex'));
}

/** Per group, the bits an element is drawn with: bitLength(modulus − 1) (a 2176-bit toString per mask was a tenth of it). */
const drawBits = new WeakMap<AdditiveGroup, number>();
function bitsOf(group: AdditiveGroup): number {
  let bits = drawBits.get(group);
  if (bits === undefined) {
    bits = (group.modulus - 1n).toString(2).length;
    drawBits.set(group, bits);
  }
  return bits;
}

/**
 * PRG(k) laid over the lanes: one uniform element per position. The keystream is read in one piece
 * (bitLength(modulus) bits per element, the excess bits of the last byte dropped); an element at or
 * above the modulus, possible only in a field, is replaced by the next bytes of the stream. Both
 * parties of the pair run this same procedure on the same stream, so they draw the same elements.
 * With `check`, the stream's next bytes after the mask fill it: the pair's key check (keyChecks).
 */
function expandMask(lanes: readonly Lane[], seed: Uint8Array, check?: Uint8Array): bigint[][] {
  const stream = new MaskStream(seed, MASK_LABEL);
  const bytes = stream.next(width(lanes));
  let at = 0;
  const mask = lanes.map((lane) => {
    const { byteLength, modulus } = lane.group;
    const bits = bitsOf(lane.group);
    return lane.values.map(() => {
      let x = BigInt.asUintN(bits, readLE(bytes.subarray(at, at + byteLength)));
      at += byteLength;
      while (x >= modulus) x = BigInt.asUintN(bits, readLE(stream.next(byteLength)));
      return x;
    });
  });
  if (check !== undefined) check.set(stream.next(check.length));
  return mask;
}

/**
 * The mask party `session.myself` shares with party `peer` in the run (stage, seq) under the
 * aggregator's `nonce`, before its sign: PRG(k_ij) over the lanes' shape.
 */
export function pairMask(session: Session, peer: number, lanes: readonly Lane[], stage: string, seq: number, nonce: Uint8Array): bigint[][] {
  return expandMask(lanes, session.pairSecret(peer, maskContext(stage, seq, nonce)));
}

/**
 * The bytes of one key check: enough that two different pair keys give the same check with
 * probability 2^-64, which is all it is for (semi-honest parties; see keyChecks).
 */
const KEY_CHECK_BYTES = 8;

/**
 * A leaf's key checks: for every other leaf j, in ascending order, the KEY_CHECK_BYTES of the
 * pair's mask keystream that follow its mask (expandMask). Leaves i and j send the same check for
 * each other exactly when they derived the same pair key, i.e. when each knows the other's current
 * identity key; the aggregator compares them (checkPairKeys). A leaf never hears from another leaf
 * in the star, so it masks with the key it last knew for it: after a server was replaced by one
 * with a new key at the same URL, that key is out of date, the masks no longer cancel, and without
 * the checks the total would be silently wrong (or a decoded real out of range).
 *
 * What the aggregator learns from them: keystream bytes no mask element is drawn from, at other
 * counter positions of AES-256-CTR under the pair key, so nothing of any mask (AES as a
 * pseudo-random permutation), only whether each pair agrees. Taking them from the stream costs
 * nothing: a pair secret of their own per pair (one HMAC over the terms) was 15–30% of a
 * 50-party sum (docs/performance.md "The 3-party sum as the star, measured twice and not made").
 */
function keyChecks(session: Session): { readonly all: Uint8Array; of(j: number): Uint8Array } {
  const all = new Uint8Array((session.parties - 2) * KEY_CHECK_BYTES);
  return { all, of: (j) => checkOf(all, session.myself, j) };
}

/** Leaf `owner`'s check for leaf j within its checks `all`: j's place among the leaves 1…n−1 but `owner`. */
function checkOf(all: Uint8Array, owner: number, j: number): Uint8Array {
  const k = j - 1 - (j > owner ? 1 : 0);
  return all.subarray(k * KEY_CHECK_BYTES, (k + 1) * KEY_CHECK_BYTES);
}

/** What the aggregator takes from leaf i's masked message: its masked vector and its key checks. */
interface MaskedMessage {
  readonly vector: bigint[][];
  readonly checks: Uint8Array;
}

function decodeMasked(lanes: readonly Lane[], parties: number, payload: Uint8Array, where: string): MaskedMessage {
  const checkBytes = (parties - 2) * KEY_CHECK_BYTES;
  const vectorBytes = payload.length - checkBytes;
  if (vectorBytes !== width(lanes)) {
    throw new PeerError(`malformed vector-sum message of ${payload.length} bytes (expected ${width(lanes) + checkBytes}: do the parties agree on the shape?)`, { where });
  }
  return { vector: decodeLanes(lanes, payload.subarray(0, vectorBytes), where), checks: payload.subarray(vectorBytes) };
}

/**
 * The aggregator's comparison of the leaves' key checks: for every pair of leaves i < j, i's check
 * for j against j's check for i. A pair that disagrees fails the computation (a PeerError every
 * party answers 502 with), naming the party in the most such pairs (the replaced one, when there
 * are three leaves or more) and every pair, rather than return a total whose masks do not cancel.
 * The leaves drop the keys this computation did not confirm when it fails (server/peer/node.ts
 * sessionClosed), so the next computation learns each peer's current key.
 */
function checkPairKeys(session: Session, masked: ReadonlyMap<number, MaskedMessage>): void {
  const check = (i: number, j: number) => Buffer.from(checkOf(masked.get(i)!.checks, i, j));
  const pairs: [number, number][] = [];
  const leaves = Array.from({ length: session.parties - 1 }, (_, k) => k + 1); // all but the aggregator, party 0
  for (const i of leaves) for (const j of leaves) if (i < j && !check(i, j).equals(check(j, i))) pairs.push([i, j]);
  if (pairs.length === 0) return;
  const count = new Map<number, number>();
  for (const pair of pairs) for (const p of pair) count.set(p, (count.get(p) ?? 0) + 1);
  const named = [...count.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const listed = pairs.slice(0, 5).map(([i, j]) => `${partyName(session, i)} and ${partyName(session, j)}`).join('; ');
  throw new PeerError(
    `parties derived different pair keys (${listed}${pairs.length > 5 ? `; ${pairs.length - 5} more pairs` : ''}). ` +
      'One of each pair masked with a key of the other that is no longer current: was the server at one of these URLs replaced? ' +
      'Each party has dropped the keys this computation did not confirm: run the computation again.',
    { where: partyName(session, named) },
  );
}

/**
 * How much longer than a stage's timeout a leaf waits for the total. The aggregator waits up to a
 * stage timeout for the masked vectors, from before any leaf's wait for the total began; a leaf
 * that never sends one is named by the aggregator's timeout, which it passes on to the others.
 * Without the margin a leaf's own timeout came within milliseconds of that notice and, when first,
 * named the aggregator instead of the party that never came (seen in test/faults/stuck-uuid.test.ts
 * with the star tried at three parties, and the race of "two parties never arrive" in
 * test/faults/bad-network.test.ts at four).
 */
function totalGraceMs(session: Session): number {
  return Math.min(session.timeoutMs, 1000);
}

function checkNonce(payload: Uint8Array, where: string): Uint8Array {
  if (payload.length !== NONCE_BYTES) {
    throw new PeerError(`malformed vector-sum nonce of ${payload.length} bytes (expected ${NONCE_BYTES})`, { where });
  }
  return payload;
}

/**
 * Below this many parties the sum runs by additive sharing between every pair (2n(n−1) messages
 * in two stages, see sharedSum): every party then hears from every other. In the star of the
 * masked sum a party hears from the aggregator alone, so notices reach the others through the
 * aggregator (a bad input: services/abort.ts abortAsPeersJoin, passed on at once; a timeout naming
 * the missing party, which a leaf's grace on the total lets arrive first: totalGraceMs) or at their
 * own timeout (a party listing the nodes in another order, refused by the aggregator), and a leaf
 * masks with the key it last knew for each other leaf, never hearing from them (caught by the key
 * checks when a server's key changed, at the cost of one failed computation: checkPairKeys). At
 * 3 parties the star halves the messages (6 against 12) but measured no faster between servers on
 * a faster machine (docs/performance.md "The 3-party sum as the star, measured twice and not
 * made"), so small networks keep the sharing's fault behaviour; from 4 parties on the message
 * count decides: 3(n−1) against 2n(n−1).
 */
export const MASKED_FROM = 4;

/** How many peer messages one secure vector sum of n parties sends (for benches and tests). */
export function vectorSumMessages(n: number): number {
  return n >= MASKED_FROM ? 3 * (n - 1) : 2 * n * (n - 1);
}

/**
 * How many of them party `from` sends party `to`: in the star the aggregator a leaf the nonce and
 * the total, a leaf the aggregator its masked vector, and one leaf another nothing; in the sharing
 * a share and a partial sum to every peer.
 */
export function vectorSumMessagesBetween(n: number, from: number, to: number): number {
  if (from === to) return 0;
  if (n < MASKED_FROM) return 2;
  return from === AGGREGATOR ? 2 : to === AGGREGATOR ? 1 : 0;
}

/**
 * Runs one secure vector sum on an open session and returns the element-wise totals, lane by
 * lane: pairwise-masked aggregation from MASKED_FROM parties on, additive sharing below (or the
 * construction `options.construction` names, for tests). Sending and receiving of a stage run
 * together, so a stage costs one delivery. Every send has been accepted when it resolves, unless
 * `options.deliveries` is given: the last stage's sends are then tracked there, the totals come
 * as soon as the peers' messages are in, and the caller awaits `deliveries.settled()` before its
 * session closes (a message of its next step may then overtake them: declare that edge).
 */
export async function secureVectorSum(
  session: Session,
  stages: VectorSumStages,
  lanes: readonly Lane[],
  options: { readonly seq?: number; readonly construction?: 'masked' | 'shared'; readonly deliveries?: Deliveries } = {},
): Promise<bigint[][]> {
  const seq = options.seq ?? 0;
  const construction = options.construction ?? (session.parties >= MASKED_FROM ? 'masked' : 'shared');
  const deliveries = options.deliveries ?? new Deliveries();
  const totals = await (construction === 'masked' ? maskedSum : sharedSum)(session, stages, lanes, seq, deliveries);
  if (options.deliveries === undefined) await deliveries.settled();
  return totals;
}

async function maskedSum(session: Session, stages: VectorSumStages, lanes: readonly Lane[], seq: number, deliveries: Deliveries): Promise<bigint[][]> {
  const own = lanes.map((lane) => lane.values.map((x) => lane.group.reduce(x)));
  const decoder = (p: Uint8Array, from: number) => decodeLanes(lanes, p, partyName(session, from));

  if (session.myself === AGGREGATOR) {
    const others = otherParties(session);
    const [, masked] = await Promise.all([
      broadcast(session, stages.nonce, randomBytes(NONCE_BYTES), { seq }),
      gather(session, stages.masked, others, (p, from) => decodeMasked(lanes, session.parties, p, partyName(session, from)), { seq, deliveries }),
    ]);
    checkPairKeys(session, masked);
    const total = own;
    for (const { vector } of masked.values()) addInto(lanes, total, vector);
    await broadcast(session, stages.total, encodeLanes(lanes, total), { seq, deliveries });
    return total;
  }

  const from = [AGGREGATOR];
  const nonce = (await gather(session, stages.nonce, from, (p) => checkNonce(p, partyName(session, AGGREGATOR)), { seq, deliveries })).get(AGGREGATOR)!;
  const masked = own;
  const context = maskContext(stages.masked, seq, nonce); // the same for every pair of this run
  const checks = keyChecks(session);
  for (let j = 0; j < session.parties; j++) {
    if (j === AGGREGATOR || j === session.myself) continue;
    const mask = expandMask(lanes, session.pairSecret(j, context), checks.of(j));
    if (session.myself < j) addInto(lanes, masked, mask);
    else subInto(lanes, masked, mask);
  }
  await scatter(session, stages.masked, () => Buffer.concat([encodeLanes(lanes, masked), checks.all]), { seq, to: from, deliveries });
  const total = await gather(session, stages.total, from, decoder, { seq, deliveries, timeoutMs: session.timeoutMs + totalGraceMs(session) });
  return total.get(AGGREGATOR)!;
}

/**
 * Additive secret sharing (Cramer, Damgård, Nielsen, "Secure Multiparty Computation and Secret
 * Sharing", 2015, §3.3) in two stages:
 *   shares:   party i splits its vector v_i into n uniform additive sharings and sends share j to
 *             party j (keeping its own);
 *   partials: party j adds the shares it holds and broadcasts that partial sum;
 *   every party adds the n partial sums: Σ_j Σ_i s_ij = Σ_i v_i.
 * Any n−1 shares of v_i are independent and uniform, so a coalition of up to n−1 parties sees
 * uniform values, and the honest parties' partial sums, which together with the coalition's own
 * shares determine nothing beyond the total. Fresh randomness from the OS per share, so nothing
 * repeats across computations on one uuid.
 */
async function sharedSum(session: Session, stages: VectorSumStages, lanes: readonly Lane[], seq: number, deliveries: Deliveries): Promise<bigint[][]> {
  const n = session.parties;
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
    scatter(session, stages.shares, (to) => encodeLanes(lanes, shares[to]!), { seq }),
    gather(session, stages.shares, others, (p, from) => decodeLanes(lanes, p, partyName(session, from)), { seq, deliveries }),
  ]);
  const partial = shares[session.myself]!.map((lane) => [...lane]);
  for (const term of received.values()) addInto(lanes, partial, term);

  // Stage "partials": publish the sum of the held shares; the sum of all partials is the total.
  await broadcast(session, stages.partials, encodeLanes(lanes, partial), { seq, deliveries });
  const partials = await gather(session, stages.partials, others, (p, from) => decodeLanes(lanes, p, partyName(session, from)), { seq, deliveries });
  const total = partial.map((lane) => [...lane]);
  for (const term of partials.values()) addInto(lanes, total, term);
  return total;
}
