// Transcripts of the set protocols: every peer payload each party receives, recorded on the
// in-memory network (the protocol code is the servers' own; transport encryption is tested in
// server/peer). Checks: no item, id or category travels in clear (except the published output),
// nor its plain hash (our hash onto the group, SHA-256, or FSC's SHA3-256); the lists a party gets
// back are in a fresh order (so the size-only leader cannot link its items to the result) and
// its ElGamal tags come back re-randomised; and a peer's invalid group element is refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import pino from 'pino';
import { MemoryHub } from '../../services/simulation/network.js';
import type { CallContext } from '../../services/microservice.js';
import type { PeerNetwork } from '../../services/peer.js';
import { BadInputError, PeerError } from '../../services/errors.js';
import { freshKeys, intersectionStages, runIntersection, setIntersection, setIntersectionSize, type PartyKeys } from '../../services/simon/sets/intersection.js';
import { statisticsContingencyVertical } from '../../services/simon/sets/contingency-vertical.js';
import { ExponentKey, hashToGroup, elementAt, countOf, elementKey } from '../../services/simon/sets/group.js';
import { ITEM_DST } from '../../services/simon/sets/intersection.js';
import { ID_DST } from '../../services/simon/sets/contingency-vertical.js';
import { within } from '../within.js';
import { contains } from '../support/transcript.js';
import { wrapNetwork } from '../support/network.js';

const silent = pino({ level: 'silent' });
const ctxFor = (peers: PeerNetwork): CallContext => ({ signal: new AbortController().signal, peers, log: silent });
type Entry = (kwargs: Record<string, unknown>, ctx: CallContext) => Promise<unknown>;

async function run(entry: Entry, inputs: unknown[], wrap: (i: number, net: PeerNetwork) => PeerNetwork = (_, net) => net, options: Record<string, unknown> = {}) {
  const hub = new MemoryHub(inputs.map((_, i) => `http://party-${i}.test`), 60_000);
  hub.capture = true;
  const results = await within(
    // A hang guard: the first SetIntersection between two parties pays for their base OTs (public-key
    // work in JavaScript), tens of seconds on a loaded two-core machine.
    180_000,
    'protocol',
    Promise.allSettled(inputs.map((data, myself) => entry({ ...options, data, network: { nodes: hub.nodes, uuid: 'u', myself } }, ctxFor(wrap(myself, hub.network(myself)))))),
  );
  return { hub, results };
}

/** Every form of `value` that must not reach another party. */
async function forms(value: string, dsts: string[]): Promise<Uint8Array[]> {
  const bytes = Buffer.from(value, 'utf8');
  return [
    bytes,
    createHash('sha256').update(bytes).digest(),
    createHash('sha3-256').update(bytes).digest(),
    ...(await Promise.all(dsts.map(async (dst) => elementAt(await hashToGroup([value], dst), 0)))),
  ];
}

// The protocols' own tags, so that a new hash version cannot leave this test searching for elements no transcript holds.
const PSI_DST = ITEM_DST;
const CV_DST = ID_DST;

function isSorted(list: Uint8Array): boolean {
  for (let i = 1; i < countOf(list); i++) if (Buffer.compare(elementAt(list, i - 1), elementAt(list, i)) > 0) return false;
  return true;
}

describe('set intersection transcripts', { timeout: 300_000 }, () => {
  // Long, distinctive items, so a chance match in random bytes is impossible.
  const item = (s: string) => `item-${s}-Zürich-\u{1F600}-${'q'.repeat(8)}`;
  const inputs = [
    [[item('shared1'), item('shared2'), item('p0-only'), item('p0p1')]],
    [[item('shared1'), item('shared2'), item('p1-only'), item('p0p1'), item('p1p2')]],
    [[item('shared2'), item('shared1'), item('p2-only'), item('p1p2')]],
    [[item('shared2'), item('shared1'), item('p3-only')]],
  ];
  const shared = [item('shared1'), item('shared2')];

  for (const [name, entry] of [
    ['SetIntersection', setIntersection],
    ['SetIntersectionSize', setIntersectionSize],
  ] as const) {
    test(`${name} with four parties: no item or plain hash in any message; only the output is published`, async () => {
      const { hub, results } = await run(entry, inputs);
      for (const r of results) assert.equal(r.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
      assert.ok(hub.log.length > 0);
      for (const [owner, lists] of inputs.entries()) {
        for (const value of lists[0]!) {
          const published = name === 'SetIntersection' && shared.includes(value);
          for (const form of await forms(value, [PSI_DST])) {
            for (const m of hub.log.filter((m) => m.to !== owner)) {
              if (published && m.stage === 'result') continue; // the intersection is the output
              assert.ok(!contains(m.payload!, form), `${name}: party ${m.to} received a form of party ${owner}'s item in stage ${m.stage}`);
            }
          }
        }
      }
    });
  }

  test('SetIntersectionSize: every list a party receives in the shuffle is in a fresh order, its own included, so it cannot link its items to the count', async () => {
    const { hub, results } = await run(setIntersectionSize, inputs);
    assert.ok(results.every((r) => r.status === 'fulfilled'));
    const mixed = hub.log.filter((m) => m.stage.startsWith('mix-'));
    // Four parties: four hops, one list per party and hop; the fourth brings each list home.
    assert.equal(mixed.length, 16);
    for (const m of mixed) assert.ok(isSorted(m.payload!), `stage ${m.stage} reaches party ${m.to} sorted`);
  });

  test('with max_set_size every list travels padded to the bound: no message depends on a set size', async () => {
    // Two runs in which every set size differs (and |X1 ∩ X2| with it); the output is the same.
    const runs = [
      [[['a', 'q']], [['a', 'b', 'c']], [['a', 'b', 'c', 'd', 'e']]],
      [[['a', 'q', 'r', 's', 't']], [['a']], [['a', 'z']]],
    ];
    for (const [name, entry] of [
      ['SetIntersection', setIntersection],
      ['SetIntersectionSize', setIntersectionSize],
    ] as const) {
      const shapes: string[][] = [];
      for (const sets of runs) {
        const { hub, results } = await run(entry, sets, undefined, { max_set_size: 6 });
        for (const r of results) {
          assert.equal(r.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
          const { result } = (r as PromiseFulfilledResult<{ result: { intersection?: string[]; size_intersection: number } }>).value;
          assert.equal(result.size_intersection, 1);
          if (name === 'SetIntersection') assert.deepEqual(result.intersection, ['a']);
        }
        // The shuffle's lists hold exactly B elements each; the OPRF path's messages are sized by B.
        if (name === 'SetIntersectionSize') for (const m of hub.log.filter((m) => m.stage.startsWith('mix-'))) assert.equal(countOf(m.payload!), 6, `${name} ${m.stage} ${m.from} → ${m.to}`);
        // The OT stages are left out: their lengths depend only on whether the pair's cached base
        // OTs are reused (the first run of a pair makes them), never on a set.
        shapes.push(hub.log.filter((m) => !m.stage.startsWith('oprf-ot-')).map((m) => `${m.stage} ${m.from}→${m.to} ${m.payload!.length}`).sort());
      }
      assert.deepEqual(shapes[0], shapes[1], name);
    }
  });

  test('with max_set_size a set above the bound is a bad input at its party, naming kwargs.data; a bad bound names itself', async () => {
    const over = await run(setIntersection, [[['a', 'b', 'c']], [['a']], [['a']]], undefined, { max_set_size: 2 });
    const refused = (over.results[0] as PromiseRejectedResult).reason as BadInputError;
    assert.ok(refused instanceof BadInputError, String(refused));
    assert.equal(refused.where, 'kwargs.data');
    assert.ok(over.results.every((r) => r.status === 'rejected'), 'the others abort');
    for (const bound of [0, 2.5, '3', 1_000_001]) {
      const { results } = await run(setIntersectionSize, [[['a']], [['a']], [['a']]], undefined, { max_set_size: bound });
      for (const r of results) {
        const reason = (r as PromiseRejectedResult).reason as BadInputError;
        assert.ok(reason instanceof BadInputError && reason.where === 'kwargs.max_set_size', `${String(bound)}: ${String(reason)}`);
      }
    }
  });

  test("SetIntersectionSize: a peer's point of small order is refused, naming that peer, and every party fails", async () => {
    // Party 1 replaces the first element of what it forwards in the first hop with u = 1 (order 4).
    const tamper = (i: number, net: PeerNetwork): PeerNetwork =>
      i !== 1
        ? net
        : wrapNetwork(net, (s) => ({
            send: (to, stage, payload, seq) => {
              const bad = Uint8Array.from(payload);
              if (stage === 'mix-1') bad.set(Uint8Array.from({ length: 32 }, (_, k) => (k === 0 ? 1 : 0)), 0);
              return s.send(to, stage, bad, seq);
            },
          }));
    const { results } = await run(setIntersectionSize, inputs.slice(0, 3), tamper);
    const reason = (results[2] as PromiseRejectedResult).reason as PeerError;
    assert.ok(reason instanceof PeerError);
    assert.match(reason.message, /small order/);
    assert.match(reason.where ?? '', /party 1/);
    assert.ok(results.every((r) => r.status === 'rejected'));
  });
});

describe('what a coalition of n − 1 parties can compute from its view (SetIntersectionSize)', { timeout: 600_000 }, () => {
  // For each coalition of two of three parties, two runs in which the coalition's own sets are the
  // same and the honest party's set has the same size and the same three-way intersection, but
  // shares three items with each coalition member in one run and one in the other. The coalition
  // mounts every attack equality allows: it raises every list it holds — its own hashed items and
  // every group-element message any of its members received — to every product of its members'
  // exponents, and counts, for each pair of lists, the elements they have in common. Whatever that
  // tells it must be the same in both runs; with the construction of the previous waves (P1
  // intersecting the complete lists of P1 and P2) the coalition {P0, P1} found |X1 ∩ X2| here.
  const coalitionSets = [
    ['s', 'u1', 'u2', 'u3', 'w'],
    ['s', 'v1', 'v2', 'v3', 'w'],
  ];
  const honestSets = [
    ['s', 'u1', 'u2', 'v1', 'v2'],
    ['s', 'n1', 'n2', 'n3', 'n4'],
  ];
  /** Stages whose messages are lists of group elements, in this construction or the ring before it. */
  const ELEMENT_STAGES = /^(mix-|hop-|return$|combine$|matches$)/;

  /** Every exponent in a party's keys, whatever their shape. */
  function exponents(keys: unknown): ExponentKey[] {
    if (keys instanceof ExponentKey) return [keys];
    if (typeof keys !== 'object' || keys === null) return [];
    return Object.values(keys).flatMap(exponents);
  }

  async function view(honest: number, honestSet: string[]) {
    const coalition = [0, 1, 2].filter((i) => i !== honest);
    const sets = [0, 1, 2].map((i) => (i === honest ? honestSet : coalitionSets[coalition.indexOf(i)]!));
    const hub = new MemoryHub(sets.map((_, i) => `http://party-${i}.test`), 60_000);
    hub.capture = true;
    const keys: PartyKeys[] = [];
    const results = await within(
      180_000,
      'intersection',
      Promise.all(
        sets.map(async (items, me) => {
          const session = await hub.network(me).open({ uuid: 'u', myself: me, terms: { microprotocol: 'SetIntersectionSize', nodes: hub.nodes }, stages: intersectionStages(3) });
          return runIntersection(session, () => items, true, (i) => (keys[i] = freshKeys(i)));
        }),
      ),
    );
    for (const r of results) assert.equal(r.size, 1);
    // The lists the coalition holds, named the same way in every run.
    const lists = new Map<string, Uint8Array>();
    for (const c of coalition) lists.set(`P${c}'s hashed items`, await hashToGroup(sets[c]!, PSI_DST));
    for (const m of hub.log.filter((m) => coalition.includes(m.to) && ELEMENT_STAGES.test(m.stage))) lists.set(`${m.stage} ${m.from}→${m.to}`, m.payload!);
    const mine = coalition.flatMap((c) => exponents(keys[c]));
    // Every list under every product of the coalition's exponents: which lists each element is in.
    const holders = new Map<string, Set<string>>();
    for (const [name, list] of lists) {
      for (let subset = 0; subset < 1 << mine.length; subset++) {
        let raised = list;
        for (let k = 0; k < mine.length; k++) if (subset & (1 << k)) raised = await mine[k]!.apply(raised, 'test');
        for (let i = 0; i < countOf(raised); i++) {
          const key = elementKey(raised, i);
          holders.set(key, (holders.get(key) ?? new Set()).add(name));
        }
      }
    }
    const common = new Map<string, number>();
    for (const names of holders.values()) {
      const sorted = [...names].sort();
      for (let i = 0; i < sorted.length; i++) for (let j = i + 1; j < sorted.length; j++) common.set(`${sorted[i]} & ${sorted[j]}`, (common.get(`${sorted[i]} & ${sorted[j]}`) ?? 0) + 1);
    }
    return { coalition, common };
  }

  for (const honest of [0, 1, 2]) {
    test(`the coalition without P${honest} sees the same matches whether P${honest} shares 3 or 1 items with each of its members`, async () => {
      const [first, second] = [await view(honest, honestSets[0]!), await view(honest, honestSets[1]!)];
      // The attack works: it finds what the coalition knows, the two members' common items (s and
      // w, under every product of exponents).
      const [a, b] = first.coalition;
      assert.ok((first.common.get(`P${a}'s hashed items & P${b}'s hashed items`) ?? 0) >= 2);
      assert.deepEqual([...second.common].sort(), [...first.common].sort());
    });
  }
});

describe('StatisticsContingencyVertical transcripts', { timeout: 300_000 }, () => {
  const id = (s: string) => `patient-${s}-\u{1F600}-${'z'.repeat(8)}`;
  const p0 = [[id('1'), 'north'], [id('2'), 'south'], [id('3'), 'north'], [id('7'), 'west-only-p0']];
  const p1 = [[id('1'), 'basic'], [id('2'), 'premium'], [id('3'), 'premium'], [id('6'), 'gold-only-p1']];

  test('no id or plain hash of an id in any message; categories only in the label exchange; tags re-randomised', async () => {
    const { hub, results } = await run(statisticsContingencyVertical, [p0, p1]);
    for (const r of results) assert.equal(r.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
    for (const [owner, records] of [p0, p1].entries()) {
      for (const [value, category] of records) {
        for (const form of await forms(value!, [CV_DST])) {
          for (const m of hub.log.filter((m) => m.to !== owner)) assert.ok(!contains(m.payload!, form), `party ${m.to} got a form of an id in ${m.stage}`);
        }
        for (const m of hub.log.filter((m) => m.to !== owner && m.stage !== 'categories')) {
          assert.ok(!contains(m.payload!, Buffer.from(category!)), `a category outside the label exchange, in ${m.stage}`);
        }
      }
    }
    // P0's records come back keyed again, reordered, and with fresh ciphertexts: no 64-byte
    // ciphertext P0 sent is among those it gets back, so it cannot tell which of its ids joined.
    const sent = hub.log.find((m) => m.from === 0 && m.stage === 'records')!.payload!;
    const back = hub.log.find((m) => m.to === 0 && m.stage === 'joined')!.payload!;
    const width = 32 + 64;
    assert.equal(sent.length, back.length);
    for (let i = 0; i < sent.length / width; i++) {
      const ciphertext = sent.subarray(i * width + 32, (i + 1) * width);
      assert.ok(!contains(back, ciphertext.subarray(0, 32)) && !contains(back, ciphertext.subarray(32)), 'a row tag came back unchanged');
    }
    const ids = Uint8Array.from(Array.from({ length: back.length / width }, (_, i) => [...back.subarray(i * width, i * width + 32)]).flat());
    assert.ok(isSorted(ids));
  });

  test('the records a party receives hold one entry per id: sizes, not the histogram', async () => {
    const { hub } = await run(statisticsContingencyVertical, [p0, p1]);
    const toP0 = hub.log.find((m) => m.to === 0 && m.stage === 'records')!.payload!;
    // |I1| records of one id element and |columns| ciphertexts each, whatever P1's categories hold.
    assert.equal(toP0.length, p1.length * (32 + 64 * 3));
  });
});
