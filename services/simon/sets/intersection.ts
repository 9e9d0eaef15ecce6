// SetIntersection and SetIntersectionSize: n parties, each with a set of strings; every party
// learns the intersection (or only its size). docs/set-protocols.md gives the constructions and
// the arguments; SECURITY.md the leakage.
//
// SetIntersection runs on OPRFs from OT extension: two parties by KKRT's batched OPRF
// (two-party.ts), three or more by KMPRT's programmed OPRFs with a conditional zero-sharing
// (multi-party.ts). In both the leader P0 learns which of its items are in every set — the output
// — and publishes them.
//
// SetIntersectionSize must not tell P0 which of its items are shared, so it keeps the
// Diffie–Hellman ring below, in the style of Meadows (1986) and Huberman, Franklin and Hogg
// (EC 1999), in which P0 only counts. Every party hashes its items onto the group (group.ts) and
// each list travels once around the ring P0 → P1 → … → Pn−1 → P0, every party raising each
// element to its secret exponent and putting the list in sorted order (for pseudorandom elements,
// a fresh random order). Exponents: P0 has a (blinds its own list), b (finishes it) and c = a·b
// (for every other list); Pi has k_i, and k_i² for P0's list. Every other list ends under
// K = a·b·K' (K' = k1⋯kn−1), P0's own list under K·K'. No list of another party ever carries a
// k_i twice, so nobody — P0 included, with any coalition that lacks one party — can bring it to
// P0's exponent; only the intersection gets there.
//   hop-1 … hop-(n−1): the ring; after hop h party i holds the list that started at i − h.
//   return:  Pn−1 hands P0's list back; P0 applies b.
//   combine: every complete list of a party j ≥ 1 goes to the combiner P1, which intersects them
//            and pads the result with dummy elements to the smallest of those sets' sizes.
//   matches: that padded intersection passes P1 → … → Pn−1 → P0, each adding k_i once more; P0
//            counts how many of its own elements it meets.
//   result:  P0 publishes the count.
// With the keyword max_set_size (a public bound B, agreed in the terms) every party first pads its
// own list with dummies to B elements (both constructions size every message by B), so the
// message lengths, which every party sees, no longer tell the set sizes.

import { BadInputError, PeerError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { defineStages, gather, scatter, broadcast, runProtocol, partyName } from '../../common/stages.js';
import { microprotocol } from '../engine.js';
import { ELEMENT_BYTES, ExponentKey, checkElements, randomElement, countOf, elementAt, elementKey, hashToGroup, indexElements, sortElements, type Elements } from './group.js';
import { MAX_ITEMS, compareCodePoints, parseSetInput } from './input.js';
import { TWO_PARTY_STAGES, twoPartyMatches } from './two-party.js';
import { MULTI_PARTY_STAGES, multiPartyMatches } from './multi-party.js';

/** Domain separation for the item hash: another protocol (or version) hashes the same item elsewhere. */
const DST = 'tessera/simon/set-intersection/v1 curve25519_XMD:SHA-512_ELL2_RO_';
const LEADER = 0;
const COMBINER = 1;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export interface SetIntersectionResult {
  inputs: number;
  result: { intersection: string[]; size_intersection: number };
}
export interface SetIntersectionSizeResult {
  inputs: number;
  result: { size_intersection: number };
}

const STAGE = { return: 'return', combine: 'combine', matches: 'matches', result: 'result' } as const;
const hop = (h: number) => `hop-${h}`;

/** The stages for n parties, declared when the session opens: the ring has n − 1 hops. */
export function intersectionStages(parties: number): readonly string[] {
  return defineStages([...Array.from({ length: parties - 1 }, (_, h) => hop(h + 1)), ...Object.values(STAGE)]).all;
}

/**
 * SetIntersection's stages: the OPRF paths (two-party.ts, multi-party.ts), in which P0 learns which
 * of its items are in every set — the output of SetIntersection, more than SetIntersectionSize's,
 * which therefore keeps the ring.
 */
export function setIntersectionStages(parties: number): readonly string[] {
  return defineStages([...(parties === 2 ? TWO_PARTY_STAGES : MULTI_PARTY_STAGES), STAGE.result]).all;
}

/** What one party holds: its exponent(s). */
export interface PartyKeys {
  /** Pi's k_i; for P0 `a`, which blinds its own list. */
  readonly key: ExponentKey;
  /** P0 only: b finishes its own list, c = a·b keys every other list. */
  readonly leader?: { readonly b: ExponentKey; readonly c: ExponentKey };
  /** Pi (i ≥ 1) only: k_i², applied to P0's list. */
  readonly square?: ExponentKey;
}

/** Fresh exponents for party `me`, from the operating system's CSPRNG. */
export function freshKeys(me: number): PartyKeys {
  if (me === LEADER) {
    const key = ExponentKey.random();
    const { second, product } = key.withSecond();
    return { key, leader: { b: second, c: product } };
  }
  const { key, square } = ExponentKey.randomWithSquare();
  return { key, square };
}

function mod(i: number, n: number): number {
  return ((i % n) + n) % n;
}

/**
 * Runs one SetIntersection(Size) on an open session. `sizeOnly`: the ring, in which P0's own list
 * is shuffled by every other party, so P0 cannot tell which of its items are in the intersection,
 * and only the count is published; otherwise the OPRF paths. `keys` serve the ring only.
 */
export async function runIntersection(
  session: Session,
  readItems: () => string[],
  sizeOnly: boolean,
  // The security tests pass a function that also hands them a party's keys, to mount attacks.
  keys: (me: number) => PartyKeys = freshKeys,
  bound?: number,
  /** Bounds each wait for the X25519 workers (the engine passes its stage timeout). */
  timeoutMs?: number,
): Promise<{ items: string[]; size: number }> {
  return runProtocol(session, () => dispatch(session, readItems(), sizeOnly, keys, bound, timeoutMs));
}

/** SetIntersection takes the OPRF paths; SetIntersectionSize the ring. */
function dispatch(
  session: Session,
  items: string[],
  sizeOnly: boolean,
  keys: (me: number) => PartyKeys,
  bound?: number,
  timeoutMs?: number,
): Promise<{ items: string[]; size: number }> {
  return sizeOnly ? ringSize(session, items, keys, bound, timeoutMs) : fromOprf(session, items, bound);
}

/** By OPRFs (two-party.ts, multi-party.ts): P0 learns which of its items every party holds and publishes them. */
async function fromOprf(session: Session, items: string[], bound?: number): Promise<{ items: string[]; size: number }> {
  if (bound !== undefined && items.length > bound) {
    throw new BadInputError(`this party's set has more items than max_set_size (${bound}) allows`, { where: 'kwargs.data' });
  }
  const found = await (session.parties === 2 ? twoPartyMatches : multiPartyMatches)(session, items, bound);
  if (found !== undefined) return publishItems(session, found.map((i) => items[i]!));
  return receivePublished(session, false);
}

/** P0 publishes the items in every set, in code-point order. */
async function publishItems(session: Session, inAll: string[]): Promise<{ items: string[]; size: number }> {
  inAll.sort(compareCodePoints);
  await broadcast(session, STAGE.result, utf8.encode(JSON.stringify(inAll)));
  return { items: inAll, size: inAll.length };
}

/** Every other party reads P0's published result. */
async function receivePublished(session: Session, sizeOnly: boolean): Promise<{ items: string[]; size: number }> {
  const published = (await gather(session, STAGE.result, [LEADER], (p, from) => (sizeOnly ? decodeCount(p, partyName(session, from)) : decodeItems(p, partyName(session, from))))).get(LEADER)!;
  return typeof published === 'number' ? { items: [], size: published } : { items: published, size: published.length };
}

/**
 * `max_set_size`, the public bound every list is padded to (undefined: no padding). Read inside
 * the session, so a bad value is a 400 at its party and the others abort at once.
 */
export function parseBound(kwargs: Readonly<Record<string, unknown>>): number | undefined {
  const value = kwargs['max_set_size'];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ITEMS) {
    throw new BadInputError(`max_set_size must be an integer from 1 to ${MAX_ITEMS}`, { where: 'kwargs.max_set_size' });
  }
  return value;
}

/** The bound as an agreed term (parties that pass different bounds fail at once, 409); never throws. */
function boundTerm(_data: unknown, kwargs: Readonly<Record<string, unknown>>): { max_set_size: number | null } {
  const value = kwargs['max_set_size'];
  return { max_set_size: typeof value === 'number' && Number.isSafeInteger(value) ? value : null };
}

/** SetIntersectionSize's ring on an open session (inside the engine's or runIntersection's runProtocol). */
async function ringSize(
  session: Session,
  items: string[],
  keys: (me: number) => PartyKeys,
  bound?: number,
  timeoutMs?: number,
): Promise<{ items: string[]; size: number }> {
  const n = session.parties;
  const me = session.myself;
  const party = keys(me);
  const next = mod(me + 1, n);
  const previous = mod(me - 1, n);
  if (bound !== undefined && items.length > bound) {
    throw new BadInputError(`this party's set has more items than max_set_size (${bound}) allows`, { where: 'kwargs.data' });
  }

  // Own list: hashed, padded to the public bound if there is one, keyed, and sorted. A
  // dummy is a fresh X25519 public key [s]·B, which the key turns into [k·s]·B: under DDH as
  // random a point of the group as a real [k]·H(x), and equal to none (except with probability
  // about 2⁻²⁵⁰), so it never joins the intersection.
  const hashed = await hashToGroup(items, DST);
  const keyed = await party.key.apply(bound === undefined ? hashed : withDummies(hashed, bound), 'own items', timeoutMs);
  let current: Elements = sortElements(keyed);
  // Every list passes through every party, so each knows every list's length: every set's size
  // (a named leakage), or, with max_set_size, the bound. The padded intersection's length below
  // is a function of these lengths only.
  const sizes = new Array<number>(n).fill(0);
  sizes[me] = countOf(keyed);

  // The ring: after hop h this party holds the list that started at party me − h.
  for (let h = 1; h < n; h++) {
    const stage = hop(h);
    const outgoing = current;
    const [, received] = await Promise.all([
      scatter(session, stage, () => outgoing, { to: [next] }),
      gather(session, stage, [previous], (p, from) => checkElements(p, partyName(session, from), bound)),
    ]);
    const origin = mod(me - h, n);
    const from = partyName(session, previous);
    const list = received.get(previous)!;
    sizes[origin] = countOf(list);
    if (party.leader !== undefined) {
      current = sortElements(await party.leader.c.apply(list, from, timeoutMs));
    } else {
      current = sortElements(await (origin === LEADER ? party.square! : party.key).apply(list, from, timeoutMs));
    }
  }

  // Now this party holds the list that started at me + 1, complete under K — or, at Pn−1, P0's
  // own list under a·K'², which still lacks b.
  const holds = mod(me + 1, n);
  let leaderList: Elements | undefined;
  if (holds === LEADER) {
    await scatter(session, STAGE.return, () => current, { to: [LEADER] });
  } else if (me !== COMBINER) {
    await scatter(session, STAGE.combine, () => current, { to: [COMBINER] });
  }
  if (party.leader !== undefined) {
    const back = await gather(session, STAGE.return, [n - 1], (p, from) => checkElements(p, partyName(session, from), sizes[LEADER]));
    leaderList = await party.leader.b.apply(back.get(n - 1)!, partyName(session, n - 1), timeoutMs);
  }

  // combine: P1 intersects the complete lists of the parties 1…n−1 (under K).
  let matches: Elements | undefined;
  if (me === COMBINER) {
    const holders = Array.from({ length: n - 1 }, (_, i) => i).filter((i) => i !== COMBINER);
    const lists = [...(await gather(session, STAGE.combine, holders, (p, from) => checkElements(p, partyName(session, from), bound))).values()];
    if (holds !== LEADER) lists.push(current);
    // Padded with dummies to the smallest non-leader set's size, so that nobody after P1
    // learns |X1 ∩ … ∩ Xn−1|: a dummy is a fresh X25519 public key [s]·B, which P1's key below
    // turns into X25519(k1, [s]·B), a Diffie–Hellman shared secret of two fresh keys — what
    // every X25519 key exchange assumes is indistinguishable from a random point of the group,
    // as the real elements [k1·K]·H(x) are. A dummy meets none of P0's elements (except with
    // probability about 2⁻²⁵⁰ each), so P0's result is unchanged.
    matches = withDummies(intersect(lists), paddedLength(sizes));
  } else if (me !== LEADER) {
    matches = (await gather(session, STAGE.matches, [previous], (p, from) => checkElements(p, partyName(session, from), paddedLength(sizes)))).get(previous)!;
  }
  // matches: the intersection passes P1 → P2 → … → Pn−1 → P0, each adding its k_i once more,
  // so it arrives under K·K' = a·b·K'², the exponent of P0's own list.
  if (matches !== undefined) {
    const rekeyed = sortElements(await party.key.apply(matches, me === COMBINER ? 'the intersection' : partyName(session, previous), timeoutMs));
    await scatter(session, STAGE.matches, () => rekeyed, { to: [next] });
  }

  if (party.leader !== undefined) {
    const matches = (await gather(session, STAGE.matches, [n - 1], (p, from) => checkElements(p, partyName(session, from), paddedLength(sizes)))).get(n - 1)!;
    // P0's list came back in an order the others chose: only the count can be read off. (A dummy
    // of P0's own list meets no other set except with probability about 2⁻²⁵⁰.)
    const own = leaderList!;
    const shared = indexElements(matches);
    let count = 0;
    for (let i = 0; i < countOf(own); i++) if (shared.has(elementKey(own, i))) count++;
    await broadcast(session, STAGE.result, encodeCount(count));
    return { items: [], size: count };
  }

  return receivePublished(session, true);
}

/** The length of the padded intersection of the non-leaders' sets: the smallest of their sizes. */
function paddedLength(sizes: readonly number[]): number {
  return Math.min(...sizes.slice(1));
}

/** `list` followed by fresh X25519 public keys up to `length` elements. */
function withDummies(list: Elements, length: number): Elements {
  const out = new Uint8Array(length * ELEMENT_BYTES);
  out.set(list);
  for (let i = countOf(list); i < length; i++) out.set(randomElement(), i * ELEMENT_BYTES);
  return out;
}

/** The elements present in every list, sorted. */
function intersect(lists: readonly Elements[]): Elements {
  const [first, ...rest] = [...lists].sort((x, y) => x.length - y.length);
  if (first === undefined) return new Uint8Array(0);
  const others = rest.map(indexElements);
  const kept: number[] = [];
  for (let i = 0; i < countOf(first); i++) {
    const k = elementKey(first, i);
    if (others.every((o) => o.has(k))) kept.push(i);
  }
  const out = new Uint8Array(kept.length * ELEMENT_BYTES);
  kept.forEach((from, to) => out.set(elementAt(first, from), to * ELEMENT_BYTES));
  return sortElements(out);
}

function encodeCount(count: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, count);
  return out;
}

function decodeCount(payload: Uint8Array, where: string): number {
  if (payload.length !== 4) throw new PeerError(`malformed count of ${payload.length} bytes`, { where });
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
}

function decodeItems(payload: Uint8Array, where: string): string[] {
  const value: unknown = JSON.parse(utf8Decoder.decode(payload));
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new PeerError('the published intersection is not a list of strings', { where });
  }
  return value as string[];
}

/** `compute(microprotocol="SetIntersection", data, network)`, on the engine (engine.ts). */
export const setIntersection = microprotocol<SetIntersectionResult>({
  name: 'SetIntersection',
  stages: setIntersectionStages,
  minParties: 2,
  publicTerms: boundTerm,
  async run({ session, data, kwargs, stageTimeoutMs }) {
    // Read inside the engine's runProtocol: a bad input aborts the other parties at once.
    const { items, size } = await dispatch(session, parseSetInput(data), false, freshKeys, parseBound(kwargs), stageTimeoutMs);
    return { inputs: session.parties, result: { intersection: items, size_intersection: size } };
  },
});

/** `compute(microprotocol="SetIntersectionSize", data, network)`. */
export const setIntersectionSize = microprotocol<SetIntersectionSizeResult>({
  name: 'SetIntersectionSize',
  stages: intersectionStages,
  minParties: 2,
  publicTerms: boundTerm,
  async run({ session, data, kwargs, stageTimeoutMs }) {
    const { size } = await ringSize(session, parseSetInput(data), freshKeys, parseBound(kwargs), stageTimeoutMs);
    return { inputs: session.parties, result: { size_intersection: size } };
  },
});
