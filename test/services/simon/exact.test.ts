// The exact power sums of StatisticsUnivariate (services/simon/linear/exact.ts powerSums): the same
// integers as adding scaledPower term by term, for values of one magnitude and of every magnitude
// (subnormals, ±MAX_VALUE, zeros and −0, mixed signs); and StatisticsBivariate's pairSums, the same
// integers as adding scaledPower and scaledProduct pair by pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pairSums, powerSums, scaledPower, scaledProduct } from '../../../services/simon/linear/exact.js';

const DEGREE = 6;

function naive(values: readonly number[]): bigint[] {
  return Array.from({ length: DEGREE }, (_, j) => values.reduce((s, x) => s + scaledPower(x, j + 1), 0n));
}

test('powerSums equals the sum of scaledPower, edge values', () => {
  const cases: number[][] = [
    [],
    [0, -0],
    [3, 1.5, 6],
    [-2.5, -7, -1, -4.25],
    [Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** -1022, 1],
    [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 0, 1e-300, -1e300],
    [1e6 + 0.5, 1e6 - 0.25, 1e6],
  ];
  for (const values of cases) assert.deepEqual(powerSums(values, DEGREE), naive(values), JSON.stringify(values));
});

test('powerSums equals the sum of scaledPower, random doubles', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 12 }), (values) => {
      assert.deepEqual(powerSums(values, DEGREE), naive(values));
    }),
    { numRuns: 200 },
  );
});

function naivePairs(pairs: readonly (readonly [number, number])[]): bigint[] {
  const total = (f: (p: readonly [number, number]) => bigint) => pairs.reduce((s, p) => s + f(p), 0n);
  return [
    total(([x]) => scaledPower(x, 1)),
    total(([, y]) => scaledPower(y, 1)),
    total(([x]) => scaledPower(x, 2)),
    total(([, y]) => scaledPower(y, 2)),
    total(([x, y]) => scaledProduct(x, y)),
  ];
}

test('pairSums equals the sums of scaledPower and scaledProduct, edge and random pairs', () => {
  const edges: [number, number][] = [
    [0, -0],
    [-0, 5],
    [Number.MAX_VALUE, -Number.MAX_VALUE],
    [Number.MIN_VALUE, Number.MAX_VALUE],
    [-Number.MIN_VALUE, -Number.MIN_VALUE],
    [1.5, -2.25],
    [1e6 + 0.5, 1e-6],
  ];
  assert.deepEqual(pairSums([]), [0n, 0n, 0n, 0n, 0n]);
  for (const pair of edges) assert.deepEqual(pairSums([pair]), naivePairs([pair]), JSON.stringify(pair));
  assert.deepEqual(pairSums(edges), naivePairs(edges));
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
  fc.assert(
    fc.property(fc.array(fc.tuple(finite, finite), { maxLength: 12 }), (pairs) => {
      assert.deepEqual(pairSums(pairs), naivePairs(pairs));
    }),
    { numRuns: 200 },
  );
});
