// The SIMON linear statistics across three real servers over real HTTP: the contract's examples
// (the numbers FSC gave), plaintext references, the inputs that break FSC, bad inputs, the float
// bytes on the wire, the disclosure policy, keyword checks and the 501 for names not yet here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TesseraApiError, type Api } from '../../../clients/typescript/index.js';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { within } from '../../within.js';
import { assertClose, bivariateReference, FSC_UNIVARIATE_EXAMPLE, univariateReference } from './reference.js';

type Outcome = { ok: true; value: { inputs: number; result: Record<string, unknown> }; text: string } | { ok: false; error: TesseraApiError };

/** Every party computes on its own server; returns each party's download (parsed and raw text). */
async function computeAll(cluster: Cluster, microprotocol: string, data: unknown[], extra: Record<string, unknown>[] = []): Promise<Outcome[]> {
  const uuid = randomUUID();
  return within(
    60_000,
    microprotocol,
    Promise.all(
      data.map(async (d, myself): Promise<Outcome> => {
        const api = cluster.apis[myself] as Api;
        const network = { nodes: cluster.nodes, uuid, myself };
        try {
          const simon = await api.create({ protocol: 'Simon' });
          const compute = await simon.attribute('compute');
          const result = await api.call(compute, { microprotocol, data: d, network, ...extra[myself] });
          const response = await fetch(`${cluster.nodes[myself]}/representation/${result!.uuid}`);
          const text = await response.text();
          await api.release(result);
          return { ok: true, value: (JSON.parse(text) as { object: { inputs: number; result: Record<string, unknown> } }).object, text };
        } catch (error) {
          if (error instanceof TesseraApiError) return { ok: false, error };
          throw error;
        }
      }),
    ),
  );
}

function results(outcomes: Outcome[]): { inputs: number; result: Record<string, unknown> }[] {
  return outcomes.map((o, i) => {
    if (!o.ok) throw new Error(`party ${i} failed: ${o.error.message}`);
    return o.value;
  });
}

/** The same result at every party. */
function agreed(outcomes: Outcome[]): { inputs: number; result: Record<string, unknown> } {
  const all = results(outcomes);
  for (const r of all) assert.deepEqual(r, all[0]);
  return all[0]!;
}

describe('SIMON linear statistics on three servers', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 20_000 });
  });
  after(async () => {
    await cluster.close();
  });

  test('SecureSum: the contract example with two-level lists', async () => {
    const r = agreed(await computeAll(cluster, 'SecureSum', [[12.5, -3.75], 40, [[0.125, 2], [-100]]]));
    assert.equal(r.inputs, 3);
    assert.equal(r.result['sum'], -49.125);
  });

  test('StatisticsUnivariate: the contract example, every key as FSC gave it, floats on the wire', async () => {
    const outcomes = await computeAll(cluster, 'StatisticsUnivariate', [[3.0, 1.5, 6.0], [2.0, 2.5], 4.5]);
    const r = agreed(outcomes);
    assert.equal(r.inputs, 3);
    // The numbers FSC's original server gave for this input; harmonic_mean is the exact value, FSC truncated Σ1/x.
    assertClose(r.result, FSC_UNIVARIATE_EXAMPLE);
    for (const o of outcomes) {
      assert.ok(o.ok);
      // What the Python client reads as floats: a decimal point on the wire.
      assert.match(o.text, /"samples":6\.0[,}]/);
      assert.match(o.text, /"variance":2\.875[,}]/);
      assert.match(o.text, /"inputs":3[,}]/);
    }
  });

  const univariateCases: [string, unknown[], number[]][] = [
    ['all-negative data: the maximum is −1.0 (FSC gave 2.2e-308)', [[-2.5, -7.0], [-1.0], [-4.25]], [-2.5, -7, -1, -4.25]],
    ['zero and negative values: geometric and harmonic means by their definitions', [[0.0, 3.0], [6.0], [-1.5, 12.0]], [0, 3, 6, -1.5, 12]],
    ['an empty party contributes nothing', [[1.25, 2.0], [], [3.0]], [1.25, 2, 3]],
    ['zero variance: the moment ratios are null', [[2.0], [2.0], [2.0]], [2, 2, 2]],
    ['N = 1: the N−1 forms are null', [[], [5.0], []], [5]],
    ['a party with one value, different list lengths, large offsets', [[1e6 + 0.5, 1e6 - 0.25, 1e6 + 3, 1e6], [1e6 + 1], [1e6 - 2, 1e6 + 0.125]], [1e6 + 0.5, 1e6 - 0.25, 1e6 + 3, 1e6, 1e6 + 1, 1e6 - 2, 1e6 + 0.125]],
    ['ties and integers', [[3, 8, 3], [5], [1, 2, 8]], [3, 8, 3, 5, 1, 2, 8]],
  ];
  for (const [name, given, pooled] of univariateCases) {
    test(`StatisticsUnivariate: ${name}`, async () => {
      const r = agreed(await computeAll(cluster, 'StatisticsUnivariate', given));
      assertClose(r.result, univariateReference(pooled), 1e-9, 1e-9);
      assert.equal(r.result['minimum'], Math.min(...pooled));
      assert.equal(r.result['maximum'], Math.max(...pooled));
    });
  }

  test('StatisticsBivariate: the contract example and a plaintext reference', async () => {
    const given = [[[1.0, 3.5], [2.0, 4.0]], [[4.0, 8.5], [-1.0, -0.5]], [[3.0, 5.0]]];
    const r = agreed(await computeAll(cluster, 'StatisticsBivariate', given));
    assertClose(r.result, {
      correlation_coefficient: 0.9701036919399703, covariance: 6.024999999999999, covariance_mle: 4.819999999999999,
      regression_interceipt: 1.1689189189189197, regression_slope: 1.6283783783783776, regression_slope_only: 1.9677419354838708, samples: 5.0,
    });
    assertClose(r.result, bivariateReference(given.flat() as [number, number][]));
    const negative = [[[-3, -1.5]], [], [[-7.25, -2], [-1, -9]]];
    assertClose(agreed(await computeAll(cluster, 'StatisticsBivariate', negative)).result, bivariateReference(negative.flat() as [number, number][]), 1e-9, 1e-9);
  });

  test('StatisticsFrequency: the contract example; ties go to the smallest key at every party', async () => {
    const r = agreed(await computeAll(cluster, 'StatisticsFrequency', [['cat', 'dog', 'cat'], ['bird', 'cat', 'dog', 'dog'], ['fish', 'cat']]));
    assert.deepEqual(r, { inputs: 3, result: { histogram: { bird: 1, cat: 4, dog: 3, fish: 1 }, mode: 'cat' } });
    const outcomes = await computeAll(cluster, 'StatisticsFrequency', [['p', 'q'], ['q', 'r'], ['r', 'p']]);
    assert.deepEqual(agreed(outcomes), { inputs: 3, result: { histogram: { p: 2, q: 2, r: 2 }, mode: 'p' } });
    for (const o of outcomes) assert.ok(o.ok && o.text.includes('{"p":2.0,"q":2.0,"r":2.0}'));
    assert.deepEqual(agreed(await computeAll(cluster, 'StatisticsFrequency', [[], [], []])), { inputs: 3, result: { histogram: {}, mode: null } });
    // FSC stringifies numbers; any characters work, including `_`, quotes and non-BMP.
    assert.deepEqual(agreed(await computeAll(cluster, 'StatisticsFrequency', [[1, 2, 2], [2], ['a_b', '"\u{1F600}"']])).result, {
      histogram: { '"\u{1F600}"': 1, '1': 1, '2': 3, a_b: 1 },
      mode: '2',
    });
  });

  test('StatisticsContingency: the contract example, and `_` in categories keyed by the pair', async () => {
    const given = [[['urban', 'yes'], ['rural', 'no'], ['urban', 'yes']], [['urban', 'no'], ['suburban', 'yes']], [['urban', 'yes'], ['rural', 'yes']]];
    assert.deepEqual(agreed(await computeAll(cluster, 'StatisticsContingency', given)), {
      inputs: 3,
      result: { mode: ['urban', 'yes'], table: { rural: { no: 1, yes: 1 }, suburban: { no: 0, yes: 1 }, urban: { no: 1, yes: 3 } } },
    });
    const outcomes = await computeAll(cluster, 'StatisticsContingency', [[['x_1', 'y']], [['x', '1_y']], [['x', 'y']]]);
    assert.deepEqual(agreed(outcomes).result, { table: { x: { '1_y': 1, y: 1 }, x_1: { '1_y': 0, y: 1 } }, mode: ['x', '1_y'] });
    for (const o of outcomes) assert.ok(o.ok && o.text.includes('"x_1":{"1_y":0.0,"y":1.0}'));
  });

  test('the typed TypeScript helper: api.simon(name, data, network)', async () => {
    const uuid = randomUUID();
    const given: [number, number][][] = [[[1, 2]], [[2, 4.5]], [[3, 5]]];
    const all = await within(30_000, 'api.simon', Promise.all(
      given.map((data, myself) => (cluster.apis[myself] as Api).simon('StatisticsBivariate', data, { nodes: cluster.nodes, uuid, myself })),
    ));
    for (const r of all) assertClose(r.result, bivariateReference(given.flat()));
  });

  const badInputs: [string, string, unknown, string][] = [
    ['a string among numbers', 'StatisticsUnivariate', [1, 'two', 3], 'kwargs.data[1]'],
    ['a boolean as a number', 'StatisticsUnivariate', [1, true], 'kwargs.data[1]'],
    ['a nested list', 'StatisticsUnivariate', [[1, 2]], 'kwargs.data[0]'],
    ['a bare pair', 'StatisticsBivariate', [1, 2], 'kwargs.data[0]'],
    ['a pair with a string', 'StatisticsBivariate', [[1, 'y']], 'kwargs.data[0][1]'],
    ['a list as an item', 'StatisticsFrequency', ['a', ['b']], 'kwargs.data[1]'],
    ['null as a category', 'StatisticsContingency', [['a', null]], 'kwargs.data[0][1]'],
    ['a string to SecureSum', 'SecureSum', [1, 'x'], 'kwargs.data[1]'],
  ];
  for (const [name, microprotocol, bad, where] of badInputs) {
    test(`${microprotocol}: ${name} is a 400 naming ${where} at that party, the others abort`, async () => {
      const good = microprotocol === 'StatisticsBivariate' ? [[1, 2]] : microprotocol.includes('Contingency') ? [['a', 'b']] : microprotocol === 'StatisticsFrequency' ? ['a'] : [1];
      const outcomes = await computeAll(cluster, microprotocol, [good, bad, good]);
      const [p0, p1, p2] = outcomes;
      assert.ok(p1 && !p1.ok && p1.error.status === 400, `party 1: ${p1?.ok ? 'succeeded' : p1?.error.message}`);
      assert.equal(p1.error.where, where);
      for (const other of [p0, p2]) {
        assert.ok(other && !other.ok, 'the other parties fail too');
        assert.match(other.error.message, /party 1/);
      }
    });
  }

  test('N = 0 is an error at every party', async () => {
    const outcomes = await computeAll(cluster, 'StatisticsUnivariate', [[], [], []]);
    for (const o of outcomes) assert.ok(!o.ok && o.error.status === 400 && /N = 0/.test(o.error.message));
  });

  test('an unknown keyword is refused, naming it (ring_bit is not ring_bits)', async () => {
    const outcomes = await computeAll(cluster, 'SecureSum', [1, 2, 3], [{}, { ring_bit: 32 }, {}]);
    const p1 = outcomes[1]!;
    assert.ok(!p1.ok && p1.error.status === 400 && p1.error.where === 'kwargs.ring_bit');
    assert.ok(!outcomes[0]!.ok && !outcomes[2]!.ok);
  });

  test('a name outside the SIMON family (a misspelling) is a 400 naming kwargs.microprotocol at every party', async () => {
    const outcomes = await computeAll(cluster, 'StatisticsUnivariat', [[1], [2], [3]]);
    for (const o of outcomes) assert.ok(!o.ok && o.error.status === 400 && o.error.where === 'kwargs.microprotocol');
  });
});

describe('the disclosure policy (--min-cell-count 2) on three servers', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 20_000, config: { disclosure: { minCellCount: 2 } } });
  });
  after(async () => {
    await cluster.close();
  });

  test('a table with a non-zero cell below K is withheld at every party; zeros and cells ≥ K pass', async () => {
    const withheld = await computeAll(cluster, 'StatisticsFrequency', [['a', 'a'], ['b'], ['a']]);
    for (const o of withheld) assert.ok(!o.ok && o.error.status === 403 && /min-cell-count 2/.test(o.error.message), o.ok ? 'released' : o.error.message);
    const released = agreed(await computeAll(cluster, 'StatisticsContingency', [[['a', 'x'], ['b', 'y']], [['a', 'x']], [['b', 'y']]]));
    assert.deepEqual(released.result['table'], { a: { x: 2, y: 0 }, b: { x: 0, y: 2 } });
  });

  test('a statistic over fewer than K samples is withheld at every party', async () => {
    const outcomes = await computeAll(cluster, 'StatisticsUnivariate', [[5], [], []]);
    for (const o of outcomes) assert.ok(!o.ok && o.error.status === 403);
    assert.equal(agreed(await computeAll(cluster, 'StatisticsUnivariate', [[5], [6], []])).result['samples'], 2);
  });
});
