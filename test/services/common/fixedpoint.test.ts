import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BadInputError } from '../../../services/errors.js';
import { Ring } from '../../../services/common/ring.js';
import { EXACT_SCALAR, FixedPoint } from '../../../services/common/fixedpoint.js';

const E = EXACT_SCALAR;
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

/** The neighbouring doubles, by stepping the IEEE bit pattern (independent of the codec). */
const bitsView = new DataView(new ArrayBuffer(8));
function step(x: number, up: boolean): number {
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
  bitsView.setFloat64(0, x);
  const b = bitsView.getBigInt64(0);
  bitsView.setBigInt64(0, (x > 0) === up ? b + 1n : b - 1n);
  return bitsView.getFloat64(0);
}
function lowestBitEven(x: number): boolean {
  bitsView.setFloat64(0, x);
  return (bitsView.getBigUint64(0) & 1n) === 0n;
}

/**
 * Correct-rounding oracle: d is the double nearest to the exact value S·2^-1074 (ties to even)
 * iff no neighbour of d is strictly closer, and on a tie d's last significand bit is even.
 * Distances are compared exactly in the ring's integer scale via the round-trip-exact encoding.
 */
function assertNearest(exactScaled: bigint, d: number): void {
  const dist = (y: number) => {
    const diff = E.ring.toSigned(E.encode(y, 'oracle')) - exactScaled;
    return diff < 0n ? -diff : diff;
  };
  const here = dist(d);
  for (const n of [step(d, true), step(d, false)]) {
    if (!Number.isFinite(n)) continue;
    const there = dist(n);
    assert.ok(there >= here, `${n} is nearer than ${d}`);
    if (there === here) assert.ok(lowestBitEven(d), `tie not broken to even at ${d}`);
  }
}

describe('EXACT_SCALAR (Z_2^2176, 1074 fraction bits)', () => {
  const edges: [string, number][] = [
    ['zero', 0],
    ['negative zero', -0],
    ['smallest subnormal', Number.MIN_VALUE],
    ['largest subnormal', 2.225073858507201e-308],
    ['smallest normal', 2.2250738585072014e-308],
    ['0.1', 0.1],
    ['2^53 + 2', 2 ** 53 + 2],
    ['-(2^53 - 1)', -(2 ** 53 - 1)],
    ['1e12 + 0.3', 1e12 + 0.3],
    ['largest double', Number.MAX_VALUE],
    ['most negative double', -Number.MAX_VALUE],
  ];
  for (const [name, x] of edges) {
    test(`round trip is exact: ${name}`, () => {
      // === rather than Object.is: the ring has one zero, so -0 comes back as 0.
      assert.ok(E.decode(E.encode(x, 'v'), 'sum') === x);
    });
  }

  test('decode(encode(x)) === x for every finite double', () => {
    fc.assert(fc.property(finite, (x) => E.decode(E.encode(x, 'v'), 'sum') === x), { numRuns: 3000 });
  });

  test('encoding is additive: decode(enc a + enc b) is the correctly rounded a + b', () => {
    // IEEE 754 addition is itself correctly rounded (ties to even), so a + b is the reference.
    fc.assert(fc.property(finite, finite, (a, b) => {
      const sum = E.ring.add(E.encode(a, 'a'), E.encode(b, 'b'));
      // `+ 0` turns IEEE's -0 (from -0 + -0) into 0: the ring has one zero, so the sum decodes as 0.
      const want = a + b + 0;
      if (Number.isFinite(want)) assert.equal(E.decode(sum, 'sum'), want);
      else assert.throws(() => E.decode(sum, 'sum'), /sum out of range/);
    }), { numRuns: 3000 });
  });

  test('a sum of many doubles is the exact sum rounded once (nearest, ties to even)', () => {
    const mixed = fc.oneof(finite, fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.integer().map((i) => i * 2 ** -1074));
    fc.assert(fc.property(fc.array(mixed, { minLength: 1, maxLength: 20 }), (xs) => {
      const exact = xs.reduce((acc, x) => acc + E.ring.toSigned(E.encode(x, 'x')), 0n);
      let d: number;
      try {
        d = E.decode(E.ring.reduce(exact), 'sum');
      } catch (e) {
        // Only a genuine overflow may fail: the exact sum is at least MAX_VALUE + half an ulp.
        const limit = E.ring.toSigned(E.encode(Number.MAX_VALUE, 'max')) + (1n << BigInt(970 + 1074));
        assert.ok(e instanceof BadInputError && (exact >= limit || -exact >= limit));
        return;
      }
      assertNearest(exact, d);
    }), { numRuns: 1000 });
  });

  const sums: [string, number[], number][] = [
    ['0.1 + 0.2 rounds once, as IEEE does', [0.1, 0.2], 0.30000000000000004],
    ['no intermediate overflow', [1e308, 1e308, -1e308], 1e308],
    ['no absorption of small terms', [1e16, 1, -1e16], 1],
    ['integers beyond 2^53 stay exact when the total is representable', [2 ** 53, 1, 1], 2 ** 53 + 2],
    ['subnormals add exactly', [5e-324, 5e-324, 5e-324], 1.5e-323],
    ['cancellation to zero', [0.1, -0.1], 0],
    ['two negative zeros are zero (the ring has one zero)', [-0, -0], 0],
    ['the classic demo', [19, 5, 61], 85],
  ];
  for (const [name, xs, want] of sums) {
    test(`sum: ${name}`, () => {
      assert.equal(E.decode(E.ring.sum(xs.map((x, i) => E.encode(x, `data[${i}]`))), 'sum'), want);
    });
  }

  test('a sum beyond ±Number.MAX_VALUE is an error, never Infinity', () => {
    for (const sign of [1, -1]) {
      const s = E.ring.sum([Number.MAX_VALUE, Number.MAX_VALUE].map((x) => E.encode(sign * x, 'v')));
      assert.throws(() => E.decode(s, 'the sum of all parties'), (e: unknown) =>
        e instanceof BadInputError && e.where === 'the sum of all parties' && /sum out of range/.test(e.message));
    }
  });

  test('2^64 copies of the largest double still do not wrap around', () => {
    const big = E.ring.mul(E.encode(Number.MAX_VALUE, 'v'), (1n << 64n) - 1n);
    assert.ok(E.ring.toSigned(big) > 0n);
    assert.throws(() => E.decode(big, 'sum'), /sum out of range/);
  });
});

describe('non-finite and out-of-range inputs', () => {
  const narrow = new FixedPoint(new Ring(128), 64); // headroom 16: |x| < 2^47
  const cases: [string, FixedPoint, number, RegExp][] = [
    ['NaN', E, NaN, /is NaN/],
    ['+Infinity', E, Infinity, /is infinite/],
    ['-Infinity', E, -Infinity, /is infinite/],
    ['NaN (narrow ring)', narrow, NaN, /is NaN/],
    ['2^47 in Z_2^128 with f=64', narrow, 2 ** 47, /outside the encodable range \|x\| < 2\^47/],
    ['-1e300 in Z_2^128 with f=64', narrow, -1e300, /outside the encodable range/],
  ];
  for (const [name, codec, x, message] of cases) {
    test(`${name} is refused naming its place`, () => {
      assert.throws(() => codec.encode(x, 'kwargs.data[3]'), (e: unknown) =>
        e instanceof BadInputError && e.where === 'kwargs.data[3]' && message.test(e.message));
    });
  }

  test('the refused value itself is not in the message (it may be a secret)', () => {
    // eslint-disable-next-line no-loss-of-precision -- a value beyond double precision is the point
    assert.throws(() => narrow.encode(1234567890123456.7, 'data'), (e: unknown) =>
      e instanceof Error && !e.message.includes('1234567890123456'));
  });
});

describe('a narrow instance: Z_2^128 with 64 fraction bits', () => {
  const fp = new FixedPoint(new Ring(128), 64);
  const inRange = fc.double({ min: -(2 ** 47) * 0.999, max: 2 ** 47 * 0.999, noNaN: true });

  test('round trip error is at most half a unit (2^-65), and none for |x| >= 2^-12', () => {
    // A double of magnitude >= 2^-12 is a multiple of 2^(-12-52) = 2^-64, so it is exact here;
    // a smaller one is rounded to the nearest multiple of 2^-64, which decodes exactly.
    fc.assert(fc.property(inRange, (x) => {
      const d = fp.decode(fp.encode(x, 'x'), 's');
      if (Math.abs(x) >= 2 ** -12) assert.equal(d, x);
      else assert.ok(Math.abs(d - x) <= 2 ** -65, `${x} -> ${d}`);
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.double({ min: -(2 ** -12), max: 2 ** -12, noNaN: true }), (x) => {
      assert.ok(Math.abs(fp.decode(fp.encode(x, 'x'), 's') - x) <= 2 ** -65);
    }), { numRuns: 2000 });
  });

  test('values with at most 64 fraction bits are exact, smaller ones round to 0', () => {
    for (const x of [0.5, -3.25, 2 ** -64, 123456.789, -(2 ** 46)]) assert.equal(fp.decode(fp.encode(x, 'x'), 's'), x);
    assert.equal(fp.decode(fp.encode(2 ** -66, 'x'), 's'), 0);
    assert.equal(fp.decode(fp.encode(3 * 2 ** -66, 'x'), 's'), 2 ** -64); // 0.75 units rounds up
    assert.equal(fp.decode(fp.encode(2 ** -65, 'x'), 's'), 0); // a tie goes to even (0)
  });

  test('the headroom lets 2^16 maximal inputs add without wrapping', () => {
    const x = 2 ** 47 - 2 ** -5;
    const sum = fp.ring.mul(fp.encode(x, 'x'), 1n << 16n);
    assert.equal(fp.decode(sum, 's'), x * 2 ** 16);
  });

  test('impossible configurations are refused', () => {
    assert.throws(() => new FixedPoint(new Ring(64), 64), BadInputError);
    assert.throws(() => new FixedPoint(new Ring(64), 40, { headroomBits: 23 }), BadInputError);
    assert.throws(() => new FixedPoint(new Ring(4096), 1075), BadInputError);
  });
});
