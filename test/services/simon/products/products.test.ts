// SecureMatrixMultiplication and StatisticsRegressionOLSVertical on two real servers over real
// HTTP, against plaintext references: SIMON's worked examples, the edge cases (1×1, square X,
// negative and fractional entries, reals, a large OLS), every bad input and shape mismatch.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Api, TesseraApiError } from '../../../../clients/typescript/index.js';
import { EXACT_SCALAR } from '../../../../services/common/fixedpoint.js';
import { startCluster, type Cluster } from '../../../support/cluster.js';
import { within } from '../../../within.js';

type Outcome = { inputs: number; result: Record<string, number[][]> } | TesseraApiError;

/** Both parties call `name` with their data at once; each party's result or error. */
async function computeBoth(cluster: Cluster, name: string, data: [unknown, unknown], nodes = cluster.nodes): Promise<Outcome[]> {
  const uuid = randomUUID();
  // A product is CPU-bound for seconds to minutes on a loaded machine: wait longer than the
  // cluster's default client timeout (every wait is still bounded).
  const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 480_000 }));
  return within(
    500_000,
    name,
    Promise.all(
      data.map(async (d, myself) => {
        const api = apis[myself]!;
        try {
          const rep = await api.compute(name, d, { nodes, uuid, myself });
          try {
            return await api.download<{ inputs: number; result: Record<string, number[][]> }>(rep);
          } finally {
            await api.release(rep).catch(() => undefined);
          }
        } catch (err) {
          if (err instanceof TesseraApiError) return err;
          throw err;
        }
      }),
    ),
  );
}

function ok(outcome: Outcome | undefined): { inputs: number; result: Record<string, number[][]> } {
  if (outcome instanceof TesseraApiError || outcome === undefined) assert.fail(`expected a result, got ${String(outcome)}`);
  return outcome;
}

function failed(outcome: Outcome | undefined): TesseraApiError {
  assert.ok(outcome instanceof TesseraApiError, `expected an error, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** The exact product of doubles (every double is an integer at scale 2^1074), rounded once. */
function exactProduct(X: number[][], Y: number[][]): number[][] {
  const enc = (x: number) => EXACT_SCALAR.ring.toSigned(EXACT_SCALAR.encode(x, 'reference'));
  return X.map((row) =>
    Y[0]!.map((_, j) => {
      let s = 0n;
      row.forEach((x, k) => (s += enc(x) * enc(Y[k]![j]!)));
      return EXACT_SCALAR.decode(EXACT_SCALAR.ring.reduce(s >> 1074n), 'reference');
    }),
  );
}

function assertClose(actual: number[][], expected: number[][], relative: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: rows`);
  actual.forEach((row, i) => {
    assert.equal(row.length, expected[i]!.length, `${what}: columns of row ${i}`);
    row.forEach((a, j) => {
      const e = expected[i]![j]!;
      assert.ok(Math.abs(a - e) <= relative * Math.max(Math.abs(e), 1e-300), `${what}[${i}][${j}]: ${a} vs ${e}`);
    });
  });
}

/** β = (XᵀX)⁻¹Xᵀy in plain doubles, by Gaussian elimination on the normal equations. */
function olsReference(X: number[][], y: number[]): number[][] {
  const p = X[0]!.length;
  const A = Array.from({ length: p }, (_, i) => [
    ...Array.from({ length: p }, (_, j) => X.reduce((s, row) => s + row[i]! * row[j]!, 0)),
    X.reduce((s, row, k) => s + row[i]! * y[k]!, 0),
  ]);
  for (let c = 0; c < p; c++) {
    const pivot = A.slice(c).reduce((best, row, r) => (Math.abs(row[c]!) > Math.abs(A[best]![c]!) ? r + c : best), c);
    [A[c], A[pivot]] = [A[pivot]!, A[c]!];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= p; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  return A.map((row, i) => [row[p]! / row[i]!]);
}

/** Deterministic pseudo-random test data (a seeded LCG: test inputs, not cryptography). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('SecureMatrixMultiplication and StatisticsRegressionOLSVertical on two servers', { timeout: 900_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(2, { stageTimeoutMs: 30_000 });
  });
  after(async () => {
    await cluster.close();
  });

  test('SIMON §2.2: the exact product −11, 1.5, 4, 2.5 at both parties', async () => {
    const X = [[1, 0, -2, 3], [2, 1, 0, -1]];
    const Y = [[1, 2], [0, -1], [3, 1], [-2, 0.5]];
    const outcomes = await computeBoth(cluster, 'SecureMatrixMultiplication', [[X], [Y]]);
    for (const outcome of outcomes) {
      assert.deepEqual(ok(outcome), { inputs: 2, result: { product: [[-11, 1.5], [4, 2.5]] } });
    }
  });

  test('SIMON §2.13: the OLS example to 1e-9 at both parties', async () => {
    const X = [[1, 0.5], [1, 1.5], [1, 2.0], [1, 3.5], [1, 4.0]];
    const y = [1.2, 2.9, 4.1, 6.8, 8.3];
    const outcomes = await computeBoth(cluster, 'StatisticsRegressionOLSVertical', [[X], [y]]);
    const [a, b] = outcomes.map(ok);
    assert.equal(a!.inputs, 2);
    assert.deepEqual(Object.keys(a!.result), ['mle']);
    assertClose(a!.result['mle']!, [[0.07108433734939812], [1.9951807228915666]], 1e-9, 'mle');
    assertClose(a!.result['mle']!, olsReference(X, y), 1e-9, 'mle vs reference');
    assert.deepEqual(b, a, 'both parties get the same numbers');
  });

  const next = lcg(20261129);
  const dyadic = () => Math.round((next() - 0.5) * 2 ** 12) / 2 ** 6; // exact in fixed point
  const real = () => (next() - 0.5) * 10 ** Math.round(next() * 6 - 3); // 1e-3 … 1e3, not dyadic
  const matrix = (rows: number, cols: number, entry: () => number) => Array.from({ length: rows }, () => Array.from({ length: cols }, entry));
  const products: [string, { X: number[][]; Y: number[][]; exact: boolean }][] = [
    ['1×1 times 1×1', { X: [[-3.5]], Y: [[2.25]], exact: true }],
    ['square X (FSC sends Y in clear here)', { X: matrix(3, 3, dyadic), Y: matrix(3, 2, dyadic), exact: true }],
    ['negative and fractional entries, a zero column', { X: [[0, -0.125, 7], [0, 4.5, -1e3]], Y: [[1e6], [-0.5], [0.0078125]], exact: true }],
    ['reals that are not dyadic (within 1e-9 relative)', { X: matrix(4, 5, real), Y: matrix(5, 3, real), exact: false }],
    ['a row times a column', { X: matrix(1, 6, dyadic), Y: matrix(6, 1, dyadic), exact: true }],
    // 6 entries fit one plaintext: 8 columns are two packed blocks, the second one partial; the
    // extreme entries make every digit's sum as large as the packing allows (no carry between digits).
    [
      'rows of Y in two packed plaintexts, entries near ±2^63',
      {
        X: [[9.2e18, -9.2e18, 1], [-9.2e18, 0.5, -9.2e18]],
        Y: [
          [9.2e18, -9.2e18, 1, -1, 0, 9.2e18, -9.2e18, 3.25],
          [-9.2e18, 9.2e18, -0.5, 2, 9.2e18, 0, 7, -9.2e18],
          [9.2e18, 9.2e18, -9.2e18, 0.125, -4, 1e6, -9.2e18, 9.2e18],
        ],
        exact: true,
      },
    ],
    // The same product transposed: with 8 rows in X and 2 columns in Y, party 0 owns the key and
    // packs X's columns (8 entries, two plaintexts) instead (product.ts orientation).
    [
      'columns of X in two packed plaintexts (party 0 owns the key), entries near ±2^63',
      {
        X: [
          [9.2e18, -9.2e18, 9.2e18],
          [-9.2e18, 9.2e18, 9.2e18],
          [1, -0.5, -9.2e18],
          [-1, 2, 0.125],
          [0, 9.2e18, -4],
          [9.2e18, 0, 1e6],
          [-9.2e18, 7, -9.2e18],
          [3.25, -9.2e18, 9.2e18],
        ],
        Y: [[9.2e18, -9.2e18], [-9.2e18, 0.5], [1, -9.2e18]],
        exact: true,
      },
    ],
  ];
  for (const [name, { X, Y, exact }] of products) {
    test(`product: ${name}`, async () => {
      const outcomes = await computeBoth(cluster, 'SecureMatrixMultiplication', [[X], [Y]]);
      const [a, b] = outcomes.map(ok);
      const reference = exactProduct(X, Y);
      if (exact) assert.deepEqual(a!.result['product'], reference);
      else assertClose(a!.result['product']!, reference, 1e-9, 'product');
      assert.deepEqual(b, a, 'both parties get the same numbers');
    });
  }

  test('OLS with N = 500, p = 3 against the plaintext reference', async () => {
    const N = 500;
    const X = Array.from({ length: N }, () => [1, (next() - 0.5) * 20, next() * 100]);
    const y = X.map((row) => 3.25 - 1.5 * row[1]! + 0.02 * row[2]! + (next() - 0.5));
    const outcomes = await computeBoth(cluster, 'StatisticsRegressionOLSVertical', [[X], [y]]);
    const [a, b] = outcomes.map(ok);
    assertClose(a!.result['mle']!, olsReference(X, y), 1e-9, 'mle');
    assert.deepEqual(b, a);
  });

  // ---- Bad input: a 400 naming the field at the party that gave it, an abort at the other ----

  const badInputs: [string, { name: string; data: [unknown, unknown]; bad: 0 | 1; where: string; detail: RegExp }][] = [
    ['a bare matrix X', { name: 'SecureMatrixMultiplication', data: [[[1, 2], [3, 4]], [[[1], [2]]]], bad: 0, where: 'kwargs.data', detail: /\[X\].*bare matrix/ }],
    ['a bare y', { name: 'StatisticsRegressionOLSVertical', data: [[[[1, 0], [1, 1], [1, 2]]], [1, 2, 3]], bad: 1, where: 'kwargs.data', detail: /\[y\].*bare vector/ }],
    ['a boolean entry of Y', { name: 'SecureMatrixMultiplication', data: [[[[1, 2]]], [[[1], [true]]]], bad: 1, where: 'kwargs.data[0][1][0]', detail: /must be a number, got boolean/ }],
    ['a string entry of X', { name: 'SecureMatrixMultiplication', data: [[[['1', 2]]], [[[1], [2]]]], bad: 0, where: 'kwargs.data[0][0][0]', detail: /got string/ }],
    ['a null entry of y', { name: 'StatisticsRegressionOLSVertical', data: [[[[1, 0], [1, 1], [1, 2]]], [[1, null, 3]]], bad: 1, where: 'kwargs.data[0][1]', detail: /got null/ }],
    ['rows of different lengths', { name: 'SecureMatrixMultiplication', data: [[[[1, 2], [3]]], [[[1], [2]]]], bad: 0, where: 'kwargs.data[0][1]', detail: /same length/ }],
    ['an empty matrix', { name: 'SecureMatrixMultiplication', data: [[[[1]]], [[]]], bad: 1, where: 'kwargs.data[0]', detail: /no rows/ }],
    ['no data at all', { name: 'SecureMatrixMultiplication', data: [[[[1]]], []], bad: 1, where: 'kwargs.data', detail: /\[Y\]/ }],
    ['a value beyond the fixed-point range', { name: 'SecureMatrixMultiplication', data: [[[[1e20]]], [[[1]]]], bad: 0, where: 'kwargs.data[0][0][0]', detail: /outside the encodable range/ }],
    ['linearly dependent columns of X', { name: 'StatisticsRegressionOLSVertical', data: [[[[1, 2, 3], [1, 4, 5], [1, 6, 7], [1, 0, 1]]], [[1, 2, 3, 4]]], bad: 0, where: 'kwargs.data[0]', detail: /linearly dependent: column 2 lies in the span of columns 0–1/ }],
    ['fewer samples than columns', { name: 'StatisticsRegressionOLSVertical', data: [[[[1, 2, 3], [1, 4, 5]]], [[1, 2]]], bad: 0, where: 'kwargs.data[0]', detail: /linearly dependent/ }],
  ];
  for (const [name, { name: microprotocol, data, bad, where, detail }] of badInputs) {
    test(`bad input: ${name}`, async () => {
      const outcomes = await computeBoth(cluster, microprotocol, data);
      const err = failed(outcomes[bad]);
      assert.equal(err.status, 400, err.message);
      assert.equal(err.problem.where, where);
      assert.match(err.problem.detail ?? '', detail);
      const other = failed(outcomes[1 - bad]);
      assert.equal(other.status, 502, other.message);
      assert.match(other.problem.detail ?? '', new RegExp(`party ${bad} \\(${cluster.nodes[bad]}\\) aborted`));
    });
  }

  test('infinity (1e999 in JSON) is refused at its party, naming the entry', async () => {
    const uuid = randomUUID();
    const network = (myself: number) => ({ nodes: cluster.nodes, uuid, myself });
    const simon = await cluster.apis[1]!.create({ protocol: 'Simon' });
    const compute = await simon.attribute('compute');
    const raw = fetch(`${cluster.nodes[1]}/representation/${compute.uuid}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: `{"args": [], "kwargs": {"microprotocol": "SecureMatrixMultiplication", "data": [[[1], [1e999]]], "network": ${JSON.stringify(network(1))}}}`,
    });
    const other = cluster.apis[0]!.compute('SecureMatrixMultiplication', [[[1, 2]]], network(0)).catch((err: unknown) => err);
    const response = await within(60_000, 'infinite entry', raw);
    const problem = (await response.json()) as { where?: string; detail?: string };
    assert.equal(response.status, 400);
    assert.equal(problem.where, 'kwargs.data[0][1][0]');
    assert.match(problem.detail ?? '', /infinite/);
    const err = await within(60_000, 'party 0', other);
    assert.ok(err instanceof TesseraApiError && err.status === 502, String(err));
  });

  test('shapes that do not match fail at both parties, naming both shapes', async () => {
    const outcomes = await computeBoth(cluster, 'SecureMatrixMultiplication', [[[[1, 2, 3], [4, 5, 6]]], [[[1, 2], [3, 4]]]]);
    for (const outcome of outcomes) {
      const err = failed(outcome);
      assert.equal(err.status, 409, err.message);
      assert.match(err.problem.detail ?? '', /X at party 0 is 2×3 and Y at party 1 is 2×2/);
    }
  });

  test('an OLS with y of another length fails at both parties, naming both lengths', async () => {
    const outcomes = await computeBoth(cluster, 'StatisticsRegressionOLSVertical', [[[[1, 0], [1, 1], [1, 2]]], [[1, 2, 3, 4]]]);
    for (const outcome of outcomes) {
      const err = failed(outcome);
      assert.equal(err.status, 409, err.message);
      assert.match(err.problem.detail ?? '', /X at party 0 has 3 rows \(samples\) and y at party 1 has 4 entries/);
    }
  });

  test('a product beyond the limit of Σ terms is a 413 at both parties, before any encryption', async () => {
    const X = Array.from({ length: 200 }, () => new Array<number>(1000).fill(1));
    const Y = Array.from({ length: 1000 }, () => new Array<number>(20).fill(1));
    const outcomes = await computeBoth(cluster, 'SecureMatrixMultiplication', [[X], [Y]]);
    for (const outcome of outcomes) {
      const err = failed(outcome);
      assert.equal(err.status, 413, err.message);
      assert.match(err.problem.detail ?? '', /X 200×1000 and Y 1000×20 takes 4000000 products; at most 2000000/);
    }
  });

  test('a two-party microprotocol on three nodes is a 400 naming kwargs.network.nodes', async () => {
    const nodes = [...cluster.nodes, 'http://127.0.0.1:9'];
    for (const name of ['SecureMatrixMultiplication', 'StatisticsRegressionOLSVertical']) {
      const outcomes = await computeBoth(cluster, name, [[[[1]]], [[[1]]]], nodes);
      for (const outcome of outcomes) {
        const err = failed(outcome);
        assert.equal(err.status, 400, err.message);
        assert.equal(err.problem.where, 'kwargs.network.nodes');
        assert.match(err.problem.detail ?? '', /exactly 2 nodes/);
      }
    }
  });
});

describe('a product whose other party never arrives', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(2, { stageTimeoutMs: 3000 });
  });
  after(async () => {
    await cluster.close();
  });

  for (const [present, name] of [[0, 'SecureMatrixMultiplication'], [1, 'StatisticsRegressionOLSVertical']] as const) {
    test(`${name}: party ${present} alone fails with a 504 naming party ${1 - present}, within the stage timeout`, async () => {
      const started = Date.now();
      const data = present === 0 ? [[[1, 2], [3, 4], [5, 7]]] : [[1, 2, 3]];
      const err = await within(
        30_000,
        'a lone party',
        cluster.apis[present]!.compute(name, data, { nodes: cluster.nodes, uuid: randomUUID(), myself: present }).then(
          () => assert.fail('must not succeed alone'),
          (e: unknown) => e,
        ),
      );
      assert.ok(err instanceof TesseraApiError, String(err));
      assert.equal(err.status, 504, err.message);
      assert.equal(err.problem.where, `party ${1 - present} (${cluster.nodes[1 - present]})`);
      assert.ok(Date.now() - started < 20_000, 'fails at the stage timeout, not at a budget for work that never started');
    });
  }
});
