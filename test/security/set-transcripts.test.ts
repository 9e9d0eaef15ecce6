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
import { hashToGroup, elementAt, countOf, indexElements, elementKey } from '../../services/simon/sets/group.js';
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

const PSI_DST = 'tessera/simon/set-intersection/v1 curve25519_XMD:SHA-512_ELL2_RO_';
const CV_DST = 'tessera/simon/contingency-vertical/v1 curve25519_XMD:SHA-512_ELL2_RO_';

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

  test('SetIntersectionSize: every list the leader gets back is in a fresh order, so it cannot link its items to the count', async () => {
    const { hub, results } = await run(setIntersectionSize, inputs);
    assert.ok(results.every((r) => r.status === 'fulfilled'));
    const toLeader = hub.log.filter((m) => m.to === 0 && ['return', 'matches'].includes(m.stage) || (m.to === 0 && m.stage.startsWith('hop-')));
    assert.ok(toLeader.some((m) => m.stage === 'return'));
    for (const m of toLeader) assert.ok(isSorted(m.payload!), `stage ${m.stage} reaches the leader sorted`);
  });

  test('the intersection of the non-leaders\' sets travels padded to their smallest size: only P1 sees its size', async () => {
    // SetIntersectionSize's ring (SetIntersection has no combiner). |X1 ∩ X2| is 3 in one run and
    // 1 in the other; every matches message has 3 elements in both.
    for (const x2 of [['a', 'b', 'c', 'z'], ['a', 'd', 'e', 'z']]) {
      const { hub, results } = await run(setIntersectionSize, [[['a', 'q']], [['a', 'b', 'c']], [[...x2]]]);
      for (const r of results) assert.equal((r as PromiseFulfilledResult<{ result: { size_intersection: number } }>).value.result.size_intersection, 1);
      const matches = hub.log.filter((m) => m.stage === 'matches');
      assert.deepEqual(matches.map((m) => [m.from, m.to]).sort(), [[1, 2], [2, 0]]);
      for (const m of matches) assert.equal(countOf(m.payload!), 3, `matches ${m.from} → ${m.to}`);
    }
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
        // The ring's lists hold exactly B elements each; the OPRF path's messages are sized by B.
        if (name === 'SetIntersectionSize') for (const m of hub.log.filter((m) => m.stage !== 'result')) assert.equal(countOf(m.payload!), 6, `${name} ${m.stage} ${m.from} → ${m.to}`);
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
    // Party 1 replaces the first element of what it forwards in hop 1 with u = 1 (order 4).
    const tamper = (i: number, net: PeerNetwork): PeerNetwork =>
      i !== 1
        ? net
        : wrapNetwork(net, (s) => ({
            send: (to, stage, payload, seq) => {
              const bad = Uint8Array.from(payload);
              if (stage === 'hop-1') bad.set(Uint8Array.from({ length: 32 }, (_, k) => (k === 0 ? 1 : 0)), 0);
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

describe("attacks on P0's items with the parties' own keys (SetIntersectionSize's ring)", { timeout: 300_000 }, () => {
  // X0 ∩ X1 and X0 ∩ X2 are large, X0 ∩ X1 ∩ X2 is empty: any match below is a leak.
  const sets = [
    ['a', 'b', 'c', 'd', 'e', 'f'],
    ['a', 'b', 'c', 'x'],
    ['d', 'e', 'f', 'x'],
  ];

  async function runWithKeys() {
    const hub = new MemoryHub(sets.map((_, i) => `http://party-${i}.test`), 60_000);
    hub.capture = true;
    const keys: PartyKeys[] = [];
    const results = await within(
      60_000,
      'intersection',
      Promise.all(
        sets.map(async (items, me) => {
          const session = await hub.network(me).open({ uuid: 'u', myself: me, terms: { microprotocol: 'SetIntersectionSize', nodes: hub.nodes }, stages: intersectionStages(3) });
          return runIntersection(session, () => items, true, (i) => (keys[i] = freshKeys(i)));
        }),
      ),
    );
    return { hub, keys, results };
  }

  function common(a: Uint8Array, b: Uint8Array): number {
    const index = indexElements(b);
    let n = 0;
    for (let i = 0; i < countOf(a); i++) if (index.has(elementKey(a, i))) n += 1;
    return n;
  }

  test('P0 alone cannot test its items against the last list it forwards (P1\'s, under k1·k2)', async () => {
    const { hub, keys, results } = await runWithKeys();
    assert.equal(results[0]!.size, 0);
    const p0 = keys[0]!;
    const returned = hub.log.find((m) => m.to === 0 && m.stage === 'return')!.payload!;
    const ones = hub.log.find((m) => m.to === 0 && m.stage === 'hop-2')!.payload!; // origin 1
    const own = await p0.leader!.b.apply(returned, 'test');
    // Raise P1's list to a, to c, or to c then b: none meets P0's list before or after b.
    for (const candidate of [await p0.key.apply(ones, 't'), await p0.leader!.c.apply(ones, 't')]) {
      assert.equal(common(candidate, returned), 0);
      assert.equal(common(candidate, own), 0);
    }
  });

  test('P0 with the combiner P1 cannot test P0\'s items against P2\'s list', async () => {
    const { hub, keys } = await runWithKeys();
    const [p0, p1] = [keys[0]!, keys[1]!];
    const own = await p0.leader!.b.apply(hub.log.find((m) => m.to === 0 && m.stage === 'return')!.payload!, 't');
    // P2's list as P1 receives it in hop 2: under k2·c. Complete it with k1, and with k1 twice.
    const twos = hub.log.find((m) => m.to === 1 && m.stage === 'hop-2')!.payload!;
    const once = await p1.key.apply(twos, 't');
    const twice = await p1.square!.apply(twos, 't');
    assert.equal(common(once, own), 0, 'X0 ∩ X2 would show here if P0\'s list carried each k_i once');
    assert.equal(common(twice, own), 0);
  });
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
