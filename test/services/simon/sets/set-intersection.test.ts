// SetIntersection and SetIntersectionSize across three real servers over real HTTP, against a
// plaintext reference: the SIMON examples, the edge cases (nothing shared, an empty set,
// Unicode, '_', duplicates, exact matching), two parties, and bad input at one party.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TesseraApiError, type Api } from '../../../../clients/typescript/index.js';
import { startCluster, type Cluster } from '../../../support/cluster.js';
import { within } from '../../../within.js';

type Outcome = { inputs: number; result: Record<string, unknown> };

async function computeOne(api: Api, microprotocol: string, data: unknown, network: { nodes: string[]; uuid: string; myself: number }): Promise<Outcome> {
  const rep = await api.compute(microprotocol, data, network);
  try {
    return await api.download<Outcome>(rep);
  } finally {
    await api.release(rep).catch(() => undefined);
  }
}

function computeAll(cluster: Cluster, microprotocol: string, inputs: unknown[], nodes = cluster.nodes): Promise<Outcome[]> {
  const uuid = randomUUID();
  // A hang guard: the first SetIntersection between two servers pays for their base OTs.
  return within(180_000, microprotocol, Promise.all(inputs.map((data, myself) => computeOne(cluster.apis[myself]!, microprotocol, data, { nodes, uuid, myself }))));
}

/** Expected: a party's set is the intersection of its lists; the result in code-point order. */
function reference(inputs: string[][][]): string[] {
  const sets = inputs.map((lists) =>
    lists.length === 0 ? new Set<string>() : lists.map((l) => new Set(l)).reduce((a, b) => new Set([...a].filter((x) => b.has(x)))),
  );
  return [...sets.reduce((a, b) => new Set([...a].filter((x) => b.has(x))))].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

describe('set intersection with three parties', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 90_000 });
  });
  after(async () => {
    await cluster.close();
  });

  test('the SIMON example of SetIntersection', async () => {
    const results = await computeAll(cluster, 'SetIntersection', [
      [['Zürich', 'Bern', 'Basel', 'Genf', 'Bern']],
      [['Basel', 'Genf', 'Luzern', 'Zürich']],
      [['Genf', 'Zürich', 'Lugano', 'basel'], ['Zürich', 'Genf', 'Chur']],
    ]);
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { intersection: ['Genf', 'Zürich'], size_intersection: 2 } });
  });

  test('the SIMON example of SetIntersectionSize', async () => {
    const results = await computeAll(cluster, 'SetIntersectionSize', [
      [['k1', 'k2', 'k3', 'k4', 'k5', 'k6']],
      [['k6', 'k4', 'k2', 'k8']],
      [['k2', 'k4', 'k6', 'k9'], ['k4', 'k6', 'k7']],
    ]);
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { size_intersection: 2 } });
  });

  const cases: [string, string[][][]][] = [
    ['nothing shared', [[['a', 'b']], [['c']], [['a', 'c', 'd']]]],
    ['one party holds the empty set', [[['a', 'b']], [[]], [['a', 'b']]]],
    ['a party with no lists holds the empty set', [[['a']], [], [['a']]]],
    ['everything shared, in any order and with duplicates', [[['x', 'y', 'x']], [['y', 'x']], [['x', 'y', 'y']]]],
    [
      'matching is exact: case, whitespace and Unicode normalisation as given',
      [
        [['Basel', 'basel', 'Genf ', 'é', 'e\u0301', 'Zürich']],
        [['Basel', 'Genf', 'é', 'Zürich', 'e\u0301']],
        [['basel', 'Basel', 'é', 'Zürich']],
      ],
    ],
    [
      "'_', separators and astral characters, sorted by code point (not UTF-16 unit)",
      [
        [['x_1', 'x', '1_y', '\u{1F600}', '\uFFFD', 'a,b', '{"k":1}', '']],
        [['\uFFFD', 'x_1', '\u{1F600}', 'x', 'a,b', '{"k":1}', '']],
        [['x', '\u{1F600}', 'x_1', '\uFFFD', 'a,b', '{"k":1}', '', '1_y']],
      ],
    ],
  ];
  for (const [name, inputs] of cases) {
    test(name, async () => {
      const want = reference(inputs);
      for (const r of await computeAll(cluster, 'SetIntersection', inputs)) {
        assert.deepEqual(r, { inputs: 3, result: { intersection: want, size_intersection: want.length } });
      }
      for (const r of await computeAll(cluster, 'SetIntersectionSize', inputs)) {
        assert.deepEqual(r, { inputs: 3, result: { size_intersection: want.length } });
      }
    });
  }

  test('random sets of different sizes agree with the plaintext reference', async () => {
    const universe = Array.from({ length: 120 }, (_, i) => `id-${i}`);
    for (let round = 0; round < 2; round++) {
      const inputs = [0.8, 0.6, 0.9].map((p) => [universe.filter(() => Math.random() < p)]);
      const want = reference(inputs);
      for (const r of await computeAll(cluster, 'SetIntersection', inputs)) {
        assert.deepEqual(r.result, { intersection: want, size_intersection: want.length });
      }
    }
  });

  test('two parties (the first two nodes)', async () => {
    const inputs = [[['a', 'b', 'c']], [['c', 'b', 'z']]];
    for (const r of await computeAll(cluster, 'SetIntersection', inputs, cluster.nodes.slice(0, 2))) {
      assert.deepEqual(r, { inputs: 2, result: { intersection: ['b', 'c'], size_intersection: 2 } });
    }
  });

  const badInputs: [string, unknown, string, RegExp][] = [
    ['a flat list of strings', ['ab', 'bc'], 'kwargs.data', /\[\["a", "b"\]\]/],
    ['a non-string item', [['a', 7]], 'kwargs.data[0][1]', /string/],
    ['a set that is not a list', [['a'], 'b'], 'kwargs.data[1]', /list of strings/],
    ['a bare string', 'abc', 'kwargs.data', /list of sets/],
  ];
  for (const [name, bad, where, detail] of badInputs) {
    test(`bad input (${name}) is a 400 naming ${where} at its party; the others abort at once`, async () => {
      const uuid = randomUUID();
      const inputs = [[['a']], bad, [['a']]];
      const outcomes = await within(
        20_000,
        name,
        Promise.all(
          inputs.map((data, myself) =>
            computeOne(cluster.apis[myself]!, 'SetIntersection', data, { nodes: cluster.nodes, uuid, myself }).then(
              () => undefined,
              (err: unknown) => err as TesseraApiError,
            ),
          ),
        ),
      );
      const [a, refused, c] = outcomes;
      assert.ok(refused instanceof TesseraApiError);
      assert.equal(refused.status, 400);
      assert.equal(refused.problem.where, where);
      assert.match(refused.problem.detail ?? '', detail);
      for (const other of [a, c]) {
        assert.ok(other instanceof TesseraApiError);
        assert.equal(other.status, 502);
        assert.match(other.problem.detail ?? '', new RegExp(`party 1 \\(${cluster.nodes[1]}\\) aborted`));
      }
    });
  }

  /** Every party calls compute with `max_set_size` = bounds[party]; each outcome or its error. */
  function withBounds(microprotocol: string, inputs: unknown[], bounds: number[]): Promise<(Outcome | TesseraApiError)[]> {
    const uuid = randomUUID();
    return within(
      60_000,
      'max_set_size',
      Promise.all(
        inputs.map(async (data, myself) => {
          const api = cluster.apis[myself]!;
          const network = { nodes: cluster.nodes, uuid, myself };
          try {
            const rep = await api.callSimon('compute', { microprotocol, data, network, max_set_size: bounds[myself] });
            try {
              return await api.download<Outcome>(rep);
            } finally {
              await api.release(rep).catch(() => undefined);
            }
          } catch (err) {
            return err as TesseraApiError;
          }
        }),
      ),
    );
  }

  test('max_set_size: the same results with every list padded to the bound', async () => {
    const inputs = [[['a', 'b', 'c']], [['c', 'b']], [['b', 'c', 'z', 'y']]];
    for (const r of await withBounds('SetIntersection', inputs, [5, 5, 5])) assert.deepEqual(r, { inputs: 3, result: { intersection: ['b', 'c'], size_intersection: 2 } });
    for (const r of await withBounds('SetIntersectionSize', inputs, [4, 4, 4])) assert.deepEqual(r, { inputs: 3, result: { size_intersection: 2 } });
  });

  test('max_set_size: parties that disagree on it all fail (409); a set above it is a 400 naming kwargs.data', async () => {
    const inputs = [[['a']], [['a']], [['a', 'b']]];
    const disagree = await withBounds('SetIntersection', inputs, [3, 4, 3]);
    for (const o of disagree) assert.ok(o instanceof TesseraApiError && [409, 502].includes(o.status), String(o));
    assert.ok(disagree.some((o) => o instanceof TesseraApiError && o.status === 409 && /max_set_size/.test(o.message)));
    const [a, b, over] = await withBounds('SetIntersection', inputs, [1, 1, 1]);
    assert.ok(over instanceof TesseraApiError && over.status === 400 && over.problem.where === 'kwargs.data', String(over));
    for (const other of [a, b]) assert.ok(other instanceof TesseraApiError && other.status === 502, String(other));
  });
});
