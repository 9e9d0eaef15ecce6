// KthElement, SecureMedian and MinimumMaximum on three real servers over real HTTP: the SIMON contract's
// examples, and every bad input a 400 naming the field at its party while the others fail promptly;
// disagreements and N = 0 at every party. Edge cases of the values: order-statistics-median and
// order-statistics-ranks.test.ts (slow tests in their own files).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TesseraApiError, type Api } from '../../../../clients/typescript/index.js';
import { computeAll, startCluster, type Cluster } from '../../../support/cluster.js';
import { within } from '../../../within.js';

/** Every party's outcome: its result, or its error. */
function settle(cluster: Cluster, microprotocol: string, inputs: readonly unknown[]): Promise<(unknown | TesseraApiError)[]> {
  const uuid = randomUUID();
  return Promise.all(
    inputs.map((data, myself) =>
      (cluster.apis[myself] as Api)
        .compute(microprotocol, data, { nodes: cluster.nodes, uuid, myself })
        .then((r) => (cluster.apis[myself] as Api).download(r), (err: unknown) => err),
    ),
  );
}


describe('order statistics on three servers', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 60_000 });
  });
  after(async () => {
    await cluster.close();
  });

  test('KthElement: the SIMON example (bare record and wrapped ones)', async () => {
    const common = { rank: 3, lower_bound: -50, upper_bound: 50 };
    const results = await within(120_000, 'KthElement', computeAll(cluster, 'KthElement', [
      { array: [15, -8, 42], ...common },
      [{ array: [-30, 15], ...common }],
      [{ array: [0, 27, 15, -8], ...common }],
    ]));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { item: -8, samples: 9 } });
  });

  test('SecureMedian: the SIMON example with a duplicate at the median', async () => {
    const results = await within(120_000, 'median', computeAll(cluster, 'SecureMedian', [[7, -1.5, 3.5], [12.25], [0, 3.5, 5, 9.75, -4]]));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { median: 3.5 } });
  });

  test('MinimumMaximum: the SIMON example', async () => {
    const results = await within(120_000, 'minmax', computeAll(cluster, 'MinimumMaximum', [
      { minimum: 4, maximum: 17.5 },
      [{ minimum: -12, maximum: 3 }, { minimum: 0.25, maximum: 8 }],
      [{ minimum: 6, maximum: 6 }],
    ]));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { minimum: -12, maximum: 17.5, samples: 4 } });
  });

  const badInputs: [string, string, unknown, string][] = [
    ['SecureMedian', 'a string among the numbers', [1, 'two'], 'kwargs.data[1]'],
    ['SecureMedian', 'a boolean', true, 'kwargs.data'],
    ['MinimumMaximum', 'numbers instead of records (FSC: 500)', [3, 9], 'kwargs.data[0]'],
    ['MinimumMaximum', 'a record without maximum', [{ minimum: 1 }], 'kwargs.data[0].maximum'],
    ['KthElement', 'lower_bound above upper_bound', { array: [1], rank: 1, lower_bound: 5, upper_bound: 0 }, 'kwargs.data.upper_bound'],
    ['KthElement', 'a value outside the bounds', [{ array: [1, 99], rank: 1, lower_bound: 0, upper_bound: 10 }], 'kwargs.data[0].array[1]'],
    ['KthElement', 'a fractional rank', { array: [1], rank: 1.5, lower_bound: 0, upper_bound: 10 }, 'kwargs.data.rank'],
    ['KthElement', 'an empty list', [], 'kwargs.data'],
  ];
  for (const [microprotocol, name, bad, where] of badInputs) {
    test(`${microprotocol}: ${name} is a 400 naming ${where}, and the others fail promptly`, async () => {
      const good: Record<string, unknown> = {
        SecureMedian: [1, 2],
        MinimumMaximum: [{ minimum: 1, maximum: 2 }],
        KthElement: bad !== null && typeof bad === 'object' && !Array.isArray(bad)
          ? { array: [1], rank: (bad as { rank: number }).rank, lower_bound: (bad as { lower_bound: number }).lower_bound, upper_bound: (bad as { upper_bound: number }).upper_bound }
          : { array: [1], rank: 1, lower_bound: 0, upper_bound: 10 },
      };
      const outcomes = await within(30_000, name, settle(cluster, microprotocol, [good[microprotocol], bad, good[microprotocol]]));
      const [first, own, third] = outcomes;
      assert.ok(own instanceof TesseraApiError, 'the bad party fails');
      assert.equal(own.status, 400);
      assert.equal(own.where, where);
      for (const other of [first, third]) {
        assert.ok(other instanceof TesseraApiError, 'every other party fails too');
        assert.ok([400, 409, 502].includes(other.status), other.message);
      }
    });
  }

  test('KthElement: parties that disagree on the rank all fail naming it (409)', async () => {
    const outcomes = await within(30_000, 'rank mismatch', settle(cluster, 'KthElement', [
      { array: [1], rank: 1, lower_bound: 0, upper_bound: 10 },
      { array: [2], rank: 2, lower_bound: 0, upper_bound: 10 },
      { array: [3], rank: 1, lower_bound: 0, upper_bound: 10 },
    ]));
    for (const o of outcomes) {
      assert.ok(o instanceof TesseraApiError, 'every party fails');
      assert.ok([409, 502].includes(o.status), o.message);
    }
    assert.ok(outcomes.some((o) => o instanceof TesseraApiError && o.status === 409 && /rank/.test(o.message)));
  });

  test('KthElement: a rank above N is an error at every party', async () => {
    const outcomes = await within(30_000, 'rank > N', settle(cluster, 'KthElement', [0, 1, 2].map((i) => ({ array: [i], rank: 4, lower_bound: 0, upper_bound: 10 }))));
    for (const o of outcomes) {
      assert.ok(o instanceof TesseraApiError && o.status === 400, String(o));
      assert.match(o.message, /outside 1…N/);
    }
  });

  test('SecureMedian with no values at any party is an error at every party', async () => {
    const outcomes = await within(30_000, 'N = 0', settle(cluster, 'SecureMedian', [[], [], []]));
    for (const o of outcomes) {
      assert.ok(o instanceof TesseraApiError && o.status === 400, String(o));
      assert.match(o.message, /N = 0/);
    }
  });
});
