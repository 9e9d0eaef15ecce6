// The local parts of the products: reading [X] / [y] (bare forms refused with the expected shape,
// every bad element named), the fixed-point encoding, and (XᵀX)⁻¹Xᵀ by QR with its singularity
// check naming the dependent column; which party owns the key for given shapes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BadInputError, TooLargeError } from '../../../../services/errors.js';
import { decodeProduct, encodeMatrix, leastSquaresOperator, parseMatrixData, parseVectorData } from '../../../../services/simon/products/matrix.js';
import { orientation, packingFor } from '../../../../services/simon/products/product.js';

function refuses(f: () => unknown, where: string, detail: RegExp, type: new (...a: never[]) => Error = BadInputError): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof type, String(err));
    assert.equal((err as BadInputError).where, where);
    assert.match((err as Error).message, detail);
    return true;
  });
}

describe('reading [X] and [y]', () => {
  test('a wrapped matrix and vector; a later unit replaces an earlier one (SIMON §1.4)', () => {
    assert.deepEqual(parseMatrixData([[[1, 2], [3, 4]]], 'X'), [[1, 2], [3, 4]]);
    assert.deepEqual(parseMatrixData([[[1]], [[5, 6]]], 'X'), [[5, 6]]);
    assert.deepEqual(parseVectorData([[1.5, -2]], 'y'), [1.5, -2]);
    assert.deepEqual(parseVectorData([[1], [7, 8]], 'y'), [7, 8]);
  });

  const matrices: [string, unknown, string, RegExp][] = [
    ['a number', 5, 'kwargs.data', /must be \[X\]/],
    ['an empty list', [], 'kwargs.data', /must be \[X\]/],
    ['a bare matrix', [[1, 2], [3, 4]], 'kwargs.data', /bare matrix .*wrap it: \[X\]/],
    ['an object unit', [{ a: 1 }], 'kwargs.data[0]', /got object/],
    ['a unit with no rows', [[]], 'kwargs.data[0]', /with no rows/],
    ['an empty row', [[[1], []]], 'kwargs.data[0][1]', /non-empty list of numbers/],
    ['a ragged matrix', [[[1, 2], [3]]], 'kwargs.data[0][1]', /has 1 entries but row 0 has 2/],
    ['a boolean', [[[1, true]]], 'kwargs.data[0][0][1]', /got boolean/],
    ['a string', [[['1']]], 'kwargs.data[0][0][0]', /got string/],
    ['NaN', [[[NaN]]], 'kwargs.data[0][0][0]', /is NaN/],
    ['-Infinity', [[[1], [-Infinity]]], 'kwargs.data[0][1][0]', /is infinite/],
  ];
  for (const [name, data, where, detail] of matrices) {
    test(`matrix: ${name} is refused at ${where}`, () => refuses(() => parseMatrixData(data, 'X'), where, detail));
  }

  const vectors: [string, unknown, string, RegExp][] = [
    ['a bare y', [1.2, 2.9], 'kwargs.data', /bare vector .*wrap it: \[y\]/],
    ['a column given as a matrix', [[[1], [2]]], 'kwargs.data[0][0]', /got a list/],
    ['an empty y', [[]], 'kwargs.data[0]', /with no entries/],
    ['null', [[1, null]], 'kwargs.data[0][1]', /got null/],
  ];
  for (const [name, data, where, detail] of vectors) {
    test(`vector: ${name} is refused at ${where}`, () => refuses(() => parseVectorData(data, 'y'), where, detail));
  }

  test('a matrix beyond the size limit is a 413, not a slow computation', () => {
    refuses(() => parseVectorData([new Array(1_000_001).fill(0)], 'y'), 'kwargs.data[0]', /at most 1000000/, TooLargeError);
  });
});

describe('fixed point', () => {
  test('an entry is exact when it is a multiple of 2^-64; the product of two has scale 2^-128', () => {
    const [[a, b]] = encodeMatrix([[1.5, -0.25]], () => 'x') as [[bigint, bigint]];
    assert.equal(a, 3n << 63n);
    assert.equal(b, -(1n << 62n));
    assert.equal(decodeProduct(a * b, 'p'), -0.375);
  });

  test('any entry is within 2^-65 of its encoding', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e15, max: 1e15, noNaN: true }), (x) => {
        const [[e]] = encodeMatrix([[x]], () => 'x') as [[bigint]];
        const back = decodeProduct(e << 64n, 'x');
        assert.ok(Math.abs(back - x) <= 2 ** -65 + Math.abs(x) * Number.EPSILON, `${x} → ${back}`);
      }),
    );
  });

  test('a value beyond |x| < 2^63 is refused naming its place', () => {
    refuses(() => encodeMatrix([[1], [2 ** 63]], (r, c) => `kwargs.data[0][${r}][${c}]`), 'kwargs.data[0][1][0]', /outside the encodable range \|x\| < 2\^63/);
  });
});

describe('(XᵀX)⁻¹Xᵀ by QR', () => {
  const times = (A: number[][], B: number[][]) => A.map((row) => B[0]!.map((_, j) => row.reduce((s, a, k) => s + a * B[k]![j]!, 0)));

  test('M·X = I (a left inverse) and M·y is the SIMON §2.13 β', () => {
    const X = [[1, 0.5], [1, 1.5], [1, 2.0], [1, 3.5], [1, 4.0]];
    const M = leastSquaresOperator(X, 'kwargs.data[0]');
    times(M, X).forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-12)));
    const beta = times(M, [1.2, 2.9, 4.1, 6.8, 8.3].map((v) => [v]));
    assert.ok(Math.abs(beta[0]![0]! - 0.07108433734939812) < 1e-12);
    assert.ok(Math.abs(beta[1]![0]! - 1.9951807228915666) < 1e-12);
  });

  test('M·X = I for random integer designs (or a refusal naming a dependent column)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -10, max: 10 }), fc.integer({ min: -10, max: 10 })), { minLength: 3, maxLength: 30 }), (pairs) => {
        const X = pairs.map(([a, b]) => [1, a, b]);
        let M: number[][];
        try {
          M = leastSquaresOperator(X, 'x');
        } catch (err) {
          assert.match((err as Error).message, /linearly dependent/);
          return;
        }
        times(M, X).forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-9, `${i},${j}: ${v}`)));
      }),
      { numRuns: 100 },
    );
  });

  const singular: [string, number[][], RegExp][] = [
    ['a zero column', [[1, 0], [1, 0], [1, 0]], /column 1 is all zeros/],
    ['a multiple of another column', [[1, 2], [2, 4], [3, 6]], /column 1 lies in the span of column 0/],
    ['a sum of two columns', [[1, 2, 3], [1, 4, 5], [1, 6, 7], [1, 0, 1]], /column 2 lies in the span of columns 0–1/],
    ['fewer rows than columns', [[1, 2, 3], [4, 5, 6]], /fewer rows than columns/],
  ];
  for (const [name, X, detail] of singular) {
    test(`singular XᵀX: ${name}`, () => refuses(() => leastSquaresOperator(X, 'kwargs.data[0]'), 'kwargs.data[0]', detail));
  }
});

describe('which party owns the key', () => {
  test('the side with fewer Σ-term exponentiations evaluates; a tie stays as given', () => {
    const S = packingFor(1000).slots;
    assert.equal(S, 6);
    // OLS: M is p×N, y is N×1. As given p·N terms, transposed N: party 0 owns the key.
    assert.equal(orientation({ p: 3, n: 1000, q: 1 }), 'transposed');
    assert.equal(orientation({ p: 1, n: 1000, q: 1 }), 'as-given');
    // Square factors, and a row times a matrix (Y's rows pack 6 entries a plaintext as given).
    assert.equal(orientation({ p: 32, n: 32, q: 32 }), 'as-given');
    assert.equal(orientation({ p: 1, n: 10, q: 12 }), 'as-given');
    assert.equal(orientation({ p: 12, n: 10, q: 1 }), 'transposed');
    // Both pack: 2·⌈8/6⌉ = 4 terms per inner index as given against 8·⌈2/6⌉ = 8 transposed.
    assert.equal(orientation({ p: 2, n: 3, q: 8 }), 'as-given');
    assert.equal(orientation({ p: 8, n: 3, q: 2 }), 'transposed');
  });

  test('the choice is the cheaper of the two counts for every shape up to 40×40', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 40 }), (p, n, q) => {
        const S = packingFor(n).slots;
        const asGiven = p * n * Math.ceil(q / S);
        const transposed = q * n * Math.ceil(p / S);
        assert.equal(orientation({ p, n, q }), transposed < asGiven ? 'transposed' : 'as-given');
        // Transposing the shapes swaps the choice, unless the two counts tie.
        if (asGiven !== transposed) assert.notEqual(orientation({ p: q, n, q: p }), orientation({ p, n, q }));
      }),
    );
  });
});
