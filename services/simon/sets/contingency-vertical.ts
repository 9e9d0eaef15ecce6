// StatisticsContingencyVertical (two parties): P0 holds [id, x] records, P1 holds [id, y]
// records; both learn the table |{id : x0(id) = x, y1(id) = y}| over the ids both hold, for
// every pair of P0's and P1's categories, and its mode. A private join-and-compute (Ion et al.,
// "On Deploying Secure Computing: Private Intersection-Sum-with-Cardinality", EuroS&P 2020),
// extended to attributes on both sides: neither party learns which ids are in the join, nor
// anything about the other's records beyond their number and the table.
//
//   categories: each party sends its category labels (they are the table's keys: output) and
//               an ElGamal public key (elgamal.ts).
//   records:    P0 sends [H(id)^a, Enc0(row index of x)]; P1 sends [H(id)^b, Enc1(one-hot of y)],
//               each list sorted by its first column (a fresh random order).
//   joined:     P1 raises P0's ids to b, re-randomises P0's row tags, sorts, and sends them back.
//               P0 raises P1's ids to a; equal H(id)^ab values are the join. For each match P0
//               decrypts the row tag (which says only "some joined id has row x": the table's row
//               sums say as much) and adds P1's encrypted one-hot column vector to row x.
//   cells:      P0 re-randomises the |X|·|Y| sums and sends them; P1 decrypts the counts.
//   table:      P1 sends the counts back; both build the same result.
// FSC ran one SetIntersectionSize per cell, whose message sizes gave away each party's whole
// per-category histogram, unmatched ids included.

import { BadInputError, PeerError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { defineStages, gather, scatter, runProtocol, partyName } from '../../common/stages.js';
import { microprotocol } from '../engine.js';
import { ELEMENT_BYTES, ExponentKey, ITEM_HASH, checkElements, countOf, elementAt, elementKey, hashToGroup, indexElements, type Elements } from './group.js';
import { CIPHERTEXT_BYTES, ElGamal, ZERO_CIPHERTEXT, encodeCiphertexts, type Ciphertext, type ElGamalPublicKey } from './elgamal.js';
import { parseVerticalInput, type VerticalRecords } from './input.js';

export const CONTINGENCY_VERTICAL_STAGES = defineStages(['categories', 'records', 'joined', 'cells', 'table'] as const);
export const ID_DST = 'tessera/simon/contingency-vertical/v2 ristretto255_XMD:SHA-512_R255MAP_RO_';
/** Each cell costs P1 one ciphertext per record; beyond this many the table is refused. */
const MAX_CELLS = 10_000;
const ROWS = 0;
const COLUMNS = 1;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export interface ContingencyVerticalResult {
  inputs: 2;
  result: { table: Record<string, Record<string, number>>; mode: [string, string] };
}

/** One list of records: a group element per id and its ciphertexts, in the element's order. */
interface Records {
  readonly ids: Elements;
  readonly ciphertexts: Ciphertext[][];
}

/** Sorts the records by id element (a fresh random order for pseudorandom elements) and packs them. */
function encodeRecords(ids: Elements, ciphertexts: readonly Ciphertext[][], perRecord: number): Uint8Array {
  const count = countOf(ids);
  const order = Array.from({ length: count }, (_, i) => i).sort((i, j) => Buffer.compare(elementAt(ids, i), elementAt(ids, j)));
  const width = ELEMENT_BYTES + perRecord * CIPHERTEXT_BYTES;
  const out = new Uint8Array(count * width);
  order.forEach((from, to) => {
    out.set(elementAt(ids, from), to * width);
    encodeCiphertexts(ciphertexts[from]!, out, to * width + ELEMENT_BYTES);
  });
  return out;
}

function decodeRecords(group: ElGamal, payload: Uint8Array, perRecord: number, where: string, expected?: number): Records {
  const width = ELEMENT_BYTES + perRecord * CIPHERTEXT_BYTES;
  if (payload.length % width !== 0) throw new PeerError(`records of ${payload.length} bytes are not whole ${width}-byte records`, { where });
  const count = payload.length / width;
  if (expected !== undefined && count !== expected) throw new PeerError(`expected ${expected} records, got ${count}`, { where });
  const ids = new Uint8Array(count * ELEMENT_BYTES);
  const ciphertexts: Ciphertext[][] = [];
  for (let i = 0; i < count; i++) {
    const record = payload.subarray(i * width, (i + 1) * width);
    ids.set(record.subarray(0, ELEMENT_BYTES), i * ELEMENT_BYTES);
    ciphertexts.push(group.decodeCiphertexts(record.subarray(ELEMENT_BYTES), perRecord, where));
  }
  return { ids: checkElements(ids, where), ciphertexts };
}

interface Announcement {
  readonly categories: string[];
  readonly publicKey: ElGamalPublicKey;
}

function decodeAnnouncement(group: ElGamal, payload: Uint8Array, where: string): Announcement {
  const value = JSON.parse(utf8Decoder.decode(payload)) as { categories?: unknown; publicKey?: unknown };
  const { categories, publicKey } = value;
  if (!Array.isArray(categories) || categories.length === 0 || !categories.every((c) => typeof c === 'string') || new Set(categories).size !== categories.length) {
    throw new PeerError('categories must be a non-empty list of distinct strings', { where });
  }
  if (typeof publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(publicKey)) throw new PeerError('publicKey must be 32 bytes in hex', { where });
  return { categories: categories as string[], publicKey: group.publicKey(Buffer.from(publicKey, 'hex'), where) };
}

/** The table keyed by the pair (never by a joined string: FSC's `_` tags collided), and its mode. */
export function buildTable(rows: readonly string[], columns: readonly string[], counts: readonly number[]): ContingencyVerticalResult['result'] {
  // Object.fromEntries defines own properties, so a category such as "__proto__" is a key too.
  const table = Object.fromEntries(rows.map((x, i) => [x, Object.fromEntries(columns.map((y, j) => [y, counts[i * columns.length + j]!]))]));
  // FSC's order: the first strict maximum, rows in P0's order of first appearance, then columns.
  let mode: [string, string] = [rows[0]!, columns[0]!];
  let best = -1;
  rows.forEach((x, i) =>
    columns.forEach((y, j) => {
      const count = counts[i * columns.length + j]!;
      if (count > best) [best, mode] = [count, [x, y]];
    }),
  );
  return { table, mode };
}

function encodeCounts(counts: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * counts.length);
  const view = new DataView(out.buffer);
  counts.forEach((c, i) => view.setUint32(4 * i, c));
  return out;
}

function decodeCounts(payload: Uint8Array, cells: number, where: string): number[] {
  if (payload.length !== 4 * cells) throw new PeerError(`expected ${cells} counts`, { where });
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  return Array.from({ length: cells }, (_, i) => view.getUint32(4 * i));
}

export async function runContingencyVertical(session: Session, readRecords: () => VerticalRecords): Promise<ContingencyVerticalResult> {
  return runProtocol(session, () => contingencyVertical(session, readRecords()));
}

/** The protocol body on an open session (inside the engine's or runContingencyVertical's runProtocol). */
async function contingencyVertical(session: Session, records: VerticalRecords, timeoutMs?: number): Promise<ContingencyVerticalResult> {
  const S = CONTINGENCY_VERTICAL_STAGES;
  const me = session.myself;
  const other = 1 - me;
  const peer = partyName(session, other);
  const exchange = async <T>(stage: string, payload: Uint8Array, decode: (p: Uint8Array, where: string) => T): Promise<T> => {
    const [, got] = await Promise.all([scatter(session, stage, () => payload, { to: [other] }), gather(session, stage, [other], (p) => decode(p, peer))]);
    return got.get(other)!;
  };
  const group = await ElGamal.load();
  const elgamal = group.secretKey();
  const dh = ExponentKey.random();

  const theirs = await exchange(
    S.categories,
    utf8.encode(JSON.stringify({ categories: records.categories, publicKey: Buffer.from(elgamal.publicKey.toBytes()).toString('hex') })),
    (p, where) => decodeAnnouncement(group, p, where),
  );
  const rows = me === ROWS ? records.categories : theirs.categories;
  const columns = me === ROWS ? theirs.categories : records.categories;
  if (rows.length * columns.length > MAX_CELLS) {
    // Both parties see both label lists, so both refuse here, naming the same cause.
    throw new BadInputError(`the table would have ${rows.length} × ${columns.length} cells; at most ${MAX_CELLS}`, { where: 'kwargs.data' });
  }
  const rowOf = new Map(rows.map((x, i) => [x, i]));
  const columnOf = new Map(columns.map((y, j) => [y, j]));

  // records: our ids under our exponent, each with our encrypted category (under our own key).
  const ownIds = await dh.apply(await hashToGroup(records.ids, ID_DST), 'own ids', timeoutMs);
  const own = records.ids.map((id) => {
    const category = records.categoryOf.get(id)!;
    if (me === ROWS) return [elgamal.encrypt(rowOf.get(category)!)];
    const y = columnOf.get(category)!;
    return columns.map((_, j) => elgamal.encrypt(j === y ? 1 : 0));
  });
  const perRecord = (side: number) => (side === ROWS ? 1 : columns.length);
  const received = await exchange(S.records, encodeRecords(ownIds, own, perRecord(me)), (p, where) => decodeRecords(group, p, perRecord(other), where));

  if (me === COLUMNS) {
    // joined: P0's ids under a·b with re-randomised row tags, in a fresh order.
    const joinedIds = await dh.apply(received.ids, peer, timeoutMs);
    const tags = received.ciphertexts.map(([tag]) => [theirs.publicKey.rerandomize(tag!)]);
    await scatter(session, S.joined, () => encodeRecords(joinedIds, tags, 1), { to: [ROWS] });
    // cells: decrypt the counts; none can exceed the smaller of the two id lists.
    const cells = rows.length * columns.length;
    const sums = (await gather(session, S.cells, [ROWS], (p) => group.decodeCiphertexts(p, cells, peer))).get(ROWS)!;
    const decode = group.countDecoder(Math.min(countOf(received.ids), records.ids.length));
    const counts = sums.map((c) => decode(elgamal.decryptToPoint(c), peer));
    await scatter(session, S.table, () => encodeCounts(counts), { to: [ROWS] });
    return { inputs: 2, result: buildTable(rows, columns, counts) };
  }

  const joined = (await gather(session, S.joined, [COLUMNS], (p) => decodeRecords(group, p, 1, peer, records.ids.length))).get(COLUMNS)!;
  const theirIds = await dh.apply(received.ids, peer, timeoutMs);
  const position = indexElements(joined.ids);
  const rowOfTag = new Map(rows.map((_, i) => [Buffer.from(group.timesG(i)).toString('latin1'), i]));
  const sums: Ciphertext[][] = rows.map(() => columns.map(() => ZERO_CIPHERTEXT));
  for (let k = 0; k < countOf(theirIds); k++) {
    const at = position.get(elementKey(theirIds, k));
    if (at === undefined) continue;
    const tag = elgamal.decryptToPoint(joined.ciphertexts[at]![0]!);
    const x = rowOfTag.get(Buffer.from(tag).toString('latin1'));
    if (x === undefined) throw new PeerError('a re-randomised row tag does not decrypt to a row', { where: peer });
    sums[x] = sums[x]!.map((sum, y) => group.addCiphertexts(sum, received.ciphertexts[k]![y]!));
  }
  await scatter(session, S.cells, () => encodeCiphertexts(sums.flat().map((c) => theirs.publicKey.rerandomize(c))), { to: [COLUMNS] });
  const counts = (await gather(session, S.table, [COLUMNS], (p) => decodeCounts(p, rows.length * columns.length, peer))).get(COLUMNS)!;
  return { inputs: 2, result: buildTable(rows, columns, counts) };
}

/**
 * `compute(microprotocol="StatisticsContingencyVertical", data, network)`, on the engine: exactly
 * two nodes (party 0 holds the rows, party 1 the columns).
 */
export const statisticsContingencyVertical = microprotocol<ContingencyVerticalResult>({
  name: 'StatisticsContingencyVertical',
  stages: CONTINGENCY_VERTICAL_STAGES.all,
  twoParty: true,
  // Parties that hash ids differently would find no joined id and answer an empty table: the
  // hash is an agreed term, so they fail at once instead (409).
  publicTerms: () => ({ item_hash: ITEM_HASH }),
  // Read inside the engine's runProtocol: a bad input aborts the other party at once.
  run: ({ session, data, stageTimeoutMs }) => contingencyVertical(session, parseVerticalInput(data), stageTimeoutMs),
});
