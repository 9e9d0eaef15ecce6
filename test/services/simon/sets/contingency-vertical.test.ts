// StatisticsContingencyVertical across two real servers over real HTTP, against a plaintext
// reference: the SIMON example, '_' and any characters in categories, replaced ids, unmatched
// ids, an empty join, mode ties; exactly two nodes; bad input at one party.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TesseraApiError, type Api } from '../../../../clients/typescript/index.js';
import { startCluster, type Cluster } from '../../../support/cluster.js';
import { within } from '../../../within.js';

type Table = Record<string, Record<string, number>>;
type Outcome = { inputs: number; result: { table: Table; mode: [string, string] } };
type Pairs = [string, string][];

async function computeOne(api: Api, data: unknown, network: { nodes: string[]; uuid: string; myself: number }): Promise<Outcome> {
  const rep = await api.compute('StatisticsContingencyVertical', data, network);
  try {
    return await api.download<Outcome>(rep);
  } finally {
    await api.release(rep).catch(() => undefined);
  }
}

/** The plaintext reference: join on id (later pairs replace), count, FSC's mode order. */
function reference(p0: Pairs, p1: Pairs): Outcome['result'] {
  const x = new Map(p0);
  const y = new Map(p1);
  const rows = [...new Set(x.values())];
  const columns = [...new Set(y.values())];
  const table: Table = {};
  for (const r of rows) {
    Object.defineProperty(table, r, { value: {}, enumerable: true, writable: true, configurable: true });
    for (const c of columns) Object.defineProperty(table[r]!, c, { value: 0, enumerable: true, writable: true, configurable: true });
  }
  for (const [id, r] of x) {
    const c = y.get(id);
    if (c !== undefined) table[r]![c]! += 1;
  }
  let mode: [string, string] = [rows[0]!, columns[0]!];
  let best = -1;
  for (const r of rows) for (const c of columns) if (table[r]![c]! > best) [best, mode] = [table[r]![c]!, [r, c]];
  return { table, mode };
}

describe('StatisticsContingencyVertical with two parties', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 30_000 });
  });
  after(async () => {
    await cluster.close();
  });

  const two = (p0: unknown, p1: unknown) => {
    const uuid = randomUUID();
    const nodes = cluster.nodes.slice(0, 2);
    return within(60_000, 'ContingencyVertical', Promise.all([computeOne(cluster.apis[0]!, p0, { nodes, uuid, myself: 0 }), computeOne(cluster.apis[1]!, p1, { nodes, uuid, myself: 1 })]));
  };

  test('the SIMON example', async () => {
    const results = await two(
      [['u01', 'north'], ['u02', 'south'], ['u03', 'north'], ['u04', 'east'], ['u05', 'north'], ['u07', 'south']],
      [['u01', 'basic'], ['u02', 'premium'], ['u03', 'premium'], ['u04', 'basic'], ['u05', 'premium'], ['u06', 'basic'], ['u01', 'premium']],
    );
    for (const r of results) {
      assert.deepEqual(r, {
        inputs: 2,
        result: {
          mode: ['north', 'premium'],
          table: { east: { basic: 1, premium: 0 }, north: { basic: 0, premium: 3 }, south: { basic: 0, premium: 1 } },
        },
      });
    }
  });

  const cases: [string, Pairs, Pairs][] = [
    ["'_' in categories: cells are keyed by the pair (FSC's tags collided)", [['a', 'x_1'], ['b', 'x'], ['c', 'x']], [['a', 'y'], ['b', '1_y'], ['c', 'y']]],
    ['no id in common: every cell 0, the mode is the first cell', [['a', 'r1'], ['b', 'r2']], [['c', 'c1'], ['d', 'c2']]],
    ['a tie: the first strict maximum in P0 then P1 order', [['1', 'r2'], ['2', 'r1'], ['3', 'r1'], ['4', 'r2']], [['1', 'c1'], ['2', 'c2'], ['3', 'c1'], ['4', 'c2']]],
    [
      'any characters: Unicode, separators, JSON-like and prototype names',
      [['é', '__proto__'], ['e\u0301', 'Zürich'], ['k', '{"a":1}'], ['\u{1F600}', 'constructor']],
      [['é', 'a,b'], ['e\u0301', ''], ['k', '\u{1F600}'], ['\u{1F600}', 'a,b']],
    ],
  ];
  for (const [name, p0, p1] of cases) {
    test(name, async () => {
      const want = reference(p0, p1);
      for (const r of await two(p0, p1)) assert.deepEqual(r, { inputs: 2, result: want });
    });
  }

  test('random records agree with the plaintext reference', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `id-${i}`);
    const pick = (labels: string[]) => labels[Math.floor(Math.random() * labels.length)]!;
    const p0: Pairs = ids.filter(() => Math.random() < 0.8).map((id) => [id, pick(['a', 'b', 'c'])]);
    const p1: Pairs = ids.filter(() => Math.random() < 0.7).map((id) => [id, pick(['x', 'y'])]);
    const want = reference(p0, p1);
    for (const r of await two(p0, p1)) assert.deepEqual(r.result, want);
  });

  test('more than two nodes is a 400 naming kwargs.network.nodes at every party', async () => {
    const uuid = randomUUID();
    const outcomes = await within(
      20_000,
      'three nodes',
      Promise.all([0, 1, 2].map((myself) => computeOne(cluster.apis[myself]!, [['a', 'b']], { nodes: cluster.nodes, uuid, myself }).catch((err: unknown) => err))),
    );
    for (const err of outcomes) {
      assert.ok(err instanceof TesseraApiError);
      assert.equal(err.status, 400);
      assert.equal(err.problem.where, 'kwargs.network.nodes');
    }
  });

  test('a table of more than 10,000 cells is refused at both parties', async () => {
    const p0 = Array.from({ length: 101 }, (_, i) => [`id${i}`, `row${i}`]);
    const p1 = Array.from({ length: 100 }, (_, i) => [`id${i}`, `col${i}`]);
    const uuid = randomUUID();
    const nodes = cluster.nodes.slice(0, 2);
    const outcomes = await within(
      30_000,
      'too many cells',
      Promise.all([computeOne(cluster.apis[0]!, p0, { nodes, uuid, myself: 0 }).catch((e: unknown) => e), computeOne(cluster.apis[1]!, p1, { nodes, uuid, myself: 1 }).catch((e: unknown) => e)]),
    );
    for (const err of outcomes) {
      assert.ok(err instanceof TesseraApiError);
      assert.ok([400, 502].includes(err.status), String(err.status));
    }
    assert.ok(outcomes.some((err) => err instanceof TesseraApiError && err.status === 400 && /10100 cells|101 × 100/.test(err.problem.detail ?? '')));
  });

  const badInputs: [string, unknown, string][] = [
    ['a bare pair', ['u01', 'north'], 'kwargs.data'],
    ['a non-string category', [['u01', 'north'], ['u02', 5]], 'kwargs.data[1][1]'],
    ['a triple', [['u01', 'north', 'x']], 'kwargs.data[0]'],
    ['no records', [], 'kwargs.data'],
  ];
  for (const [name, bad, where] of badInputs) {
    test(`bad input (${name}) at party 1 is a 400 naming ${where}; party 0 aborts at once`, async () => {
      const uuid = randomUUID();
      const nodes = cluster.nodes.slice(0, 2);
      const [a, refused] = await within(
        20_000,
        name,
        Promise.all([computeOne(cluster.apis[0]!, [['u01', 'north']], { nodes, uuid, myself: 0 }).catch((e: unknown) => e), computeOne(cluster.apis[1]!, bad, { nodes, uuid, myself: 1 }).catch((e: unknown) => e)]),
      );
      assert.ok(refused instanceof TesseraApiError);
      assert.equal(refused.status, 400);
      assert.equal(refused.problem.where, where);
      assert.ok(a instanceof TesseraApiError);
      assert.equal(a.status, 502);
      assert.match(a.problem.detail ?? '', new RegExp(`party 1 \\(${cluster.nodes[1]}\\) aborted`));
    });
  }
});
