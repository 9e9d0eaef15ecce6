// SetIntersection and SetIntersectionSize: n parties, each with a set of strings; every party
// learns the intersection (or only its size). docs/set-protocols.md gives the constructions and
// the arguments; SECURITY.md the leakage.
//
// SetIntersection runs on OPRFs from OT extension: two parties by KKRT's batched OPRF
// (two-party.ts), three or more by KMPRT's programmed OPRFs with a conditional zero-sharing
// (multi-party.ts). In both the leader P0 learns which of its items are in every set — the output
// — and publishes them.
//
// SetIntersectionSize must not tell anyone (nor any coalition of up to n − 1 parties) more than
// the size, so it first makes every party's items unlinkable to the party itself, then runs the
// same OPRF intersection on what is left:
//   mix-1 … mix-n:  a shuffle through every party, in the style of the commutative-encryption
//                   rings of Huberman, Franklin and Hogg (EC 1999). Every party hashes its items
//                   onto the group (group.ts), blinds them with a fresh exponent β_i and sends
//                   the list once around the ring P_i → P_i+1 → … → P_i−1 → P_i; every party on
//                   the way raises it to its key k_j and puts it in sorted order (for
//                   pseudorandom elements, a fresh random order). Back home the list gets
//                   k_i·β_i⁻¹ in one exponentiation: P_i now holds Y_i = {H(x)^K : x ∈ X_i},
//                   K = k_0⋯k_n−1, in an order every other party chose, and nobody else ever held
//                   Y_i. The same item gives the same element at every party, but no party can
//                   tell which of its elements came from which of its items.
//   the OPRF stages: SetIntersection's path on the elements Y_i as items: P0 learns which of its
//                   elements are in every Y_i, i.e. only how many.
//   result:         P0 publishes the count.
// With the keyword max_set_size (a public bound B, agreed in the terms) every party first pads its
// own list with dummies to B elements (both constructions size every message by B), so the
// message lengths, which every party sees, no longer tell the set sizes.

import { BadInputError, PeerError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { defineStages, gather, scatter, broadcast, runProtocol, partyName } from '../../common/stages.js';
import { microprotocol } from '../engine.js';
import { ELEMENT_BYTES, ExponentKey, ITEM_HASH, checkElements, randomElement, countOf, hashToGroup, sortElements, type Elements } from './group.js';
import { MAX_ITEMS, compareCodePoints, parseSetInput } from './input.js';
import { TWO_PARTY_STAGES, twoPartyMatches } from './two-party.js';
import { MULTI_PARTY_STAGES, multiPartyMatches } from './multi-party.js';

/** Domain separation for the item hash: another protocol (or version) hashes the same item elsewhere. */
export const ITEM_DST = 'tessera/simon/set-intersection/v2 ristretto255_XMD:SHA-512_R255MAP_RO_';
const LEADER = 0;
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

const STAGE = { result: 'result' } as const;
const mix = (h: number) => `mix-${h}`;

/** The OPRF stages for n parties: KKRT for two, KMPRT for more. */
function oprfStages(parties: number): readonly string[] {
  return parties === 2 ? TWO_PARTY_STAGES : MULTI_PARTY_STAGES;
}

/**
 * SetIntersectionSize's stages for n parties, declared when the session opens: the shuffle has n
 * hops (the last one brings each list home), then the OPRF path on the shuffled elements.
 */
export function intersectionStages(parties: number): readonly string[] {
  return defineStages([...Array.from({ length: parties }, (_, h) => mix(h + 1)), ...oprfStages(parties), STAGE.result]).all;
}

/**
 * SetIntersection's stages: the OPRF paths (two-party.ts, multi-party.ts), in which P0 learns which
 * of its items are in every set — the output of SetIntersection, more than SetIntersectionSize's,
 * which therefore keeps the ring.
 */
export function setIntersectionStages(parties: number): readonly string[] {
  return defineStages([...oprfStages(parties), STAGE.result]).all;
}

/** What one party holds for the shuffle: its key, and the blinding of its own list. */
export interface PartyKeys {
  /** k_i, applied to every other party's list as it passes. */
  readonly key: ExponentKey;
  /** β_i, applied to this party's own hashed items before they leave it. */
  readonly blind: ExponentKey;
  /** k_i·β_i⁻¹, applied to this party's own list when it comes home. */
  readonly finish: ExponentKey;
}

/** Fresh exponents for a party, from the operating system's CSPRNG. */
export function freshKeys(_me: number): PartyKeys {
  const key = ExponentKey.random();
  return { key, ...key.withBlinding() };
}

function mod(i: number, n: number): number {
  return ((i % n) + n) % n;
}

/**
 * Runs one SetIntersection(Size) on an open session. `sizeOnly`: the shuffle first, so that no
 * party can tell which of its items are in the intersection, and only the count is published;
 * otherwise the OPRF paths alone. `keys` serve the shuffle only.
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

/** SetIntersection takes the OPRF paths; SetIntersectionSize the shuffle, then the same paths. */
function dispatch(
  session: Session,
  items: string[],
  sizeOnly: boolean,
  keys: (me: number) => PartyKeys,
  bound?: number,
  timeoutMs?: number,
): Promise<{ items: string[]; size: number }> {
  return sizeOnly ? shuffledSize(session, items, keys, bound, timeoutMs) : fromOprf(session, items, bound);
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

/** SetIntersectionSize on an open session (inside the engine's or runIntersection's runProtocol). */
async function shuffledSize(
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

  // Own list: hashed, padded to the public bound if there is one, blinded, and sorted. A dummy is a
  // fresh X25519 public key [s]·B, which the exponents turn into [s·K]·B: under DDH as random a
  // point of the group as a real H(x)^K, and equal to none (except with probability about 2⁻²⁵⁰),
  // so it never joins the intersection.
  const hashed = await hashToGroup(items, ITEM_DST);
  const own = bound === undefined ? hashed : withDummies(hashed, bound);
  let current: Elements = sortElements(await party.blind.apply(own, 'own items', timeoutMs));

  // The shuffle: in hop h this party receives the list that started at party me − h (at h = n its
  // own); each list it forwards it has raised to its key and sorted, so the next party cannot
  // link its positions to the ones it had. Every list passes through every party, so each knows
  // every set's size (a named leakage) or, with max_set_size, only the bound.
  for (let h = 1; h <= n; h++) {
    const stage = mix(h);
    const outgoing = current;
    const home = h === n;
    const [, received] = await Promise.all([
      scatter(session, stage, () => outgoing, { to: [next] }),
      gather(session, stage, [previous], (p, from) => checkElements(p, partyName(session, from), home ? countOf(own) : bound)),
    ]);
    const list = received.get(previous)!;
    const from = partyName(session, previous);
    current = home ? await party.finish.apply(list, from, timeoutMs) : sortElements(await party.key.apply(list, from, timeoutMs));
  }

  // Y_me: this party's items (and dummies) under K, in an order the others chose. As items of the
  // OPRF path they are the elements' bytes in hex (the path hashes every item to its id).
  const shuffled = Array.from({ length: countOf(current) }, (_, i) => Buffer.from(current.buffer, current.byteOffset + i * ELEMENT_BYTES, ELEMENT_BYTES).toString('hex'));
  const found = await (n === 2 ? twoPartyMatches : multiPartyMatches)(session, shuffled, bound);
  if (found !== undefined) {
    // P0 learns which of its elements are in every set, and cannot tell which of its items they
    // came from: only their number is its to publish.
    await broadcast(session, STAGE.result, encodeCount(found.length));
    return { items: [], size: found.length };
  }
  return receivePublished(session, true);
}

/** `list` followed by fresh X25519 public keys up to `length` elements. */
function withDummies(list: Elements, length: number): Elements {
  const out = new Uint8Array(length * ELEMENT_BYTES);
  out.set(list);
  for (let i = countOf(list); i < length; i++) out.set(randomElement(), i * ELEMENT_BYTES);
  return out;
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
  // The hash is an agreed term: parties that hash items differently would silently find no
  // common item; with it they fail at once (409).
  publicTerms: (data, kwargs) => ({ ...boundTerm(data, kwargs), item_hash: ITEM_HASH }),
  async run({ session, data, kwargs, stageTimeoutMs }) {
    const { size } = await shuffledSize(session, parseSetInput(data), freshKeys, parseBound(kwargs), stageTimeoutMs);
    return { inputs: session.parties, result: { size_intersection: size } };
  },
});
