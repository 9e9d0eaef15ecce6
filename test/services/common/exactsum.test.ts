// ExactDoubleSum and ExactPowerSums (services/common/exactsum.ts) against the references they
// replace: every value's EXACT_SCALAR encoding (x·2^1074 as a ring element), and every power's
// scaledPower, added one BigInt at a time. They must be the same integers, not only the same
// doubles once decoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EXACT_SCALAR } from '../../../services/common/fixedpoint.js';
import { ExactDoubleSum, ExactPowerSums } from '../../../services/common/exactsum.js';
import { scaledPower } from '../../../services/simon/linear/exact.js';
import { parseSecureSumInput } from '../../../services/simon/linear/securesum.js';
import { REAL_RING } from '../../../services/common/vectorsum.js';

/** Σ x·2^1074 as a signed BigInt, one encoding per value. */
function reference(values: readonly number[]): bigint {
  let acc = 0n;
  for (const x of values) acc += EXACT_SCALAR.ring.toSigned(EXACT_SCALAR.encode(x, 'reference'));
  return acc;
}

const DEGREE = 6;

/** Σ x^j·2^(1074·j) for j = 1…6, one BigInt power per value (exact.ts scaledPower). */
function powerReference(values: readonly number[]): bigint[] {
  return Array.from({ length: DEGREE }, (_, j) => values.reduce((s, x) => s + scaledPower(x, j + 1), 0n));
}

function powersOf(values: readonly number[]): bigint[] {
  const sums = new ExactPowerSums(DEGREE);
  for (const x of values) sums.add(x);
  return sums.sums();
}

function exact(values: readonly number[]): bigint {
  const sum = new ExactDoubleSum();
  for (const x of values) sum.add(x);
  return sum.scaled();
}

test('the sum of no values, and of zeros of both signs, is 0', () => {
  assert.equal(exact([]), 0n);
  assert.equal(exact([0, -0, 0]), 0n);
});

test('edge values: every one alone, and all together, equal the encodings summed', () => {
  const edges = [
    Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE,
    2.2250738585072014e-308, // the smallest normal
    2.225073858507201e-308, // the largest subnormal
    1, -1, 0.5, 1.5, -2.5, 2 ** 52, 2 ** 53 + 2, -(2 ** 63), 0.1, -0.30000000000000004,
    1 - 2 ** -53, 4503599627370495.5, 1e308, -1e-308, 5e-324 * 3,
  ];
  for (const x of edges) assert.equal(exact([x]), reference([x]), String(x));
  assert.equal(exact(edges), reference(edges));
});

test('every limb boundary: a value at each of the 2,046 bit positions, with all significand bits set', () => {
  // x = m·2^(p − 1074) with m = 2^53 − 1 has the largest pieces at every shift r = p mod 32.
  const values = [(2 ** 52 - 1) * Number.MIN_VALUE]; // the largest subnormal significand
  for (let p = 0; p <= 2045; p++) {
    const x = (2 ** 53 - 1) * 2 ** (p - 1074);
    values.push(x, -x / 2);
  }
  assert.equal(values[values.length - 2], Number.MAX_VALUE);
  for (const x of values) assert.equal(exact([x]), reference([x]), String(x));
  assert.equal(exact(values), reference(values));
});

test('cancellation leaves exactly what remains', () => {
  assert.equal(exact([Number.MAX_VALUE, 1, -Number.MAX_VALUE]), reference([1]));
  assert.equal(exact([1e300, Number.MIN_VALUE, -1e300]), reference([Number.MIN_VALUE]));
});

test('random doubles of every magnitude, subnormals and signs included', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 200 }), (values) => {
      assert.equal(exact(values), reference(values));
    }),
    { numRuns: 300 },
  );
});

test('carries propagated every few terms leave the sums exact', () => {
  // By default the carries run every 2^20 terms and at the end; here every 7 (sums) and every 5
  // (powers), so that a wrong carry shows on short random lists.
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 60 }), (values) => {
      const sum = new ExactDoubleSum(7);
      const powers = new ExactPowerSums(DEGREE, 5);
      for (const x of values) {
        sum.add(x);
        powers.add(x);
      }
      assert.equal(sum.scaled(), reference(values));
      assert.deepEqual(powers.sums(), powerReference(values));
    }),
    { numRuns: 200 },
  );
});

test('three million terms whose digits are all 2^24 − 1: the sums stay exact', () => {
  // a (position 1056) and b (position 1151) have m = 2^53 − 1, every digit of every power at its
  // largest; 3·2^20 + 5 terms pass the default carry period three times.
  const a = (2 ** 53 - 1) * 2 ** -18;
  const b = -(2 ** 53 - 1) * 2 ** 77;
  const n = 3 * 2 ** 20 + 5;
  const sum = new ExactDoubleSum();
  const powers = new ExactPowerSums(2);
  for (let i = 0; i < n; i++) {
    const x = i % 3 === 2 ? b : a;
    sum.add(x);
    powers.add(x);
  }
  const twoThirds = BigInt(n - Math.floor(n / 3));
  const third = BigInt(Math.floor(n / 3));
  assert.equal(sum.scaled(), twoThirds * reference([a]) + third * reference([b]));
  assert.deepEqual(powers.sums(), [1, 2].map((j) => twoThirds * scaledPower(a, j) + third * scaledPower(b, j)));
});

test('powers at every bit position, up to MAX_VALUE^6, equal scaledPower summed', () => {
  const values = [(2 ** 52 - 1) * Number.MIN_VALUE];
  for (let p = 0; p <= 2045; p += 1) values.push((2 ** 53 - 1) * 2 ** (p - 1074) * (p % 2 === 0 ? 1 : -1));
  for (const x of [values[0]!, values[1]!, values[1000]!, values[2045]!, values[2046]!]) {
    assert.deepEqual(powersOf([x]), powerReference([x]), String(x));
  }
  assert.deepEqual(powersOf(values), powerReference(values));
});

test('SecureSum takes its local total from it: the ring element of the encodings summed, counts and places as before', () => {
  const data = [1.5, [2.25, -1e-300, Number.MAX_VALUE], [], -Number.MAX_VALUE, [0.1, 0.2]];
  const flat = [1.5, 2.25, -1e-300, Number.MAX_VALUE, -Number.MAX_VALUE, 0.1, 0.2];
  const input = parseSecureSumInput(data);
  assert.equal(input.count, BigInt(flat.length));
  assert.equal(input.total, REAL_RING.reduce(reference(flat)));
  assert.equal(parseSecureSumInput(-3.5).total, REAL_RING.reduce(reference([-3.5])));
  const refused: [unknown, string, RegExp][] = [
    [[1, 'two'], 'kwargs.data[1]', /expected a number, got string/],
    [[1, [2, null]], 'kwargs.data[1][1]', /expected a number, got null/],
    [[[1, [2]]], 'kwargs.data[0][1]', /expected a number, got object/],
    [[1, [2, NaN]], 'kwargs.data[1][1]', /is NaN/],
    [[Infinity], 'kwargs.data[0]', /is infinite/],
    ['1', 'kwargs.data', /expected a number, got string/],
  ];
  for (const [bad, where, message] of refused) {
    assert.throws(() => parseSecureSumInput(bad), (err: unknown) => err instanceof Error && (err as { where?: string }).where === where && message.test(err.message), where);
  }
});
