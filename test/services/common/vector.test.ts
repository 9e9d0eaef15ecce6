import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addBytesInto,
  addInto,
  addPackedInto,
  allocRing,
  checkRingBits,
  decodeInto,
  elementAt,
  encodeInto,
  fixedPoint,
  packRing,
  ringBytes,
  unpackRing,
  wordsOf,
  type RingBits,
} from '../../../services/common/vector.js';
import { MaskStream, freshSeed } from '../../../services/common/prg.js';
import { BadInputError } from '../../../services/errors.js';

const RINGS: RingBits[] = [64, 32];

/** A ring vector holding the given signed/unsigned bigints (reduced mod 2^k). */
function ringOf(bits: RingBits, values: bigint[]): Uint32Array {
  const words = allocRing(bits, values.length);
  values.forEach((v, i) => {
    const u = BigInt.asUintN(bits, v);
    if (bits === 32) words[i] = Number(u);
    else {
      words[2 * i] = Number(u & 0xffffffffn);
      words[2 * i + 1] = Number(u >> 32n);
    }
  });
  return words;
}

describe('ring vectors: addition and subtraction modulo 2^k', () => {
  for (const bits of RINGS) {
    test(`Z_2^${bits} add/sub equal BigInt arithmetic mod 2^${bits} (carries and borrows included)`, () => {
      const big = fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
      fc.assert(
        fc.property(fc.array(fc.tuple(big, big), { minLength: 1, maxLength: 40 }), (pairs) => {
          const a = pairs.map(([x]) => x);
          const b = pairs.map(([, y]) => y);
          const sum = ringOf(bits, a);
          addInto(bits, sum, ringOf(bits, b), 1);
          const diff = ringOf(bits, a);
          addInto(bits, diff, ringOf(bits, b), -1);
          // The same on views that are 4- but not 8-byte aligned (the explicit-carry path).
          const shifted = (v: Uint32Array) => {
            const out = new Uint32Array(v.length + 1).subarray(1);
            out.set(v);
            return out;
          };
          const sumShifted = shifted(ringOf(bits, a));
          addInto(bits, sumShifted, shifted(ringOf(bits, b)), 1);
          const diffShifted = shifted(ringOf(bits, a));
          addInto(bits, diffShifted, shifted(ringOf(bits, b)), -1);
          pairs.forEach(([x, y], i) => {
            assert.equal(BigInt.asUintN(bits, elementAt(bits, sum, i)), BigInt.asUintN(bits, x + y));
            assert.equal(BigInt.asUintN(bits, elementAt(bits, diff, i)), BigInt.asUintN(bits, x - y));
            assert.equal(BigInt.asUintN(bits, elementAt(bits, sumShifted, i)), BigInt.asUintN(bits, x + y));
            assert.equal(BigInt.asUintN(bits, elementAt(bits, diffShifted, i)), BigInt.asUintN(bits, x - y));
          });
        }),
      );
    });
  }

  test('the carry of the low word reaches the high word (2^32 - 1 + 1 = 2^32)', () => {
    const a = ringOf(64, [0xffffffffn, -1n]);
    addInto(64, a, ringOf(64, [1n, 1n]));
    assert.equal(elementAt(64, a, 0), 1n << 32n);
    assert.equal(elementAt(64, a, 1), 0n);
  });

  test('bytes read at an unaligned offset give the same sum as aligned ones', () => {
    const source = ringOf(64, [5n, -7n, 1n << 40n]);
    const shifted = new Uint8Array(source.byteLength + 1).subarray(1);
    shifted.set(ringBytes(source));
    assert.notEqual(shifted.byteOffset % 4, 0);
    const target = ringOf(64, [1n, 1n, 1n]);
    addBytesInto(64, target, shifted, 1);
    assert.deepEqual([0, 1, 2].map((i) => elementAt(64, target, i)), [6n, -6n, (1n << 40n) + 1n]);
    assert.throws(() => wordsOf(new Uint8Array(6)), BadInputError);
  });

  test('vectors of different lengths are refused', () => {
    assert.throws(() => addInto(64, allocRing(64, 2), allocRing(64, 3)), BadInputError);
  });
});

describe('fixed-point encoding', () => {
  // [name, {bits, f, value, multiplier share, want (signed integer)}]
  const cases: [string, { bits: RingBits; value: number; share: number; want: bigint }][] = [
    ['zero', { bits: 64, value: 0, share: 1, want: 0n }],
    ['one (64)', { bits: 64, value: 1, share: 1, want: 1n << 32n }],
    ['minus one and a half (64)', { bits: 64, value: -1.5, share: 1, want: -(3n << 31n) }],
    ['half share (64)', { bits: 64, value: 3, share: 0.5, want: 3n << 31n }],
    ['upper bound (64)', { bits: 64, value: 2 ** 31 - 1, share: 1, want: (2n ** 31n - 1n) << 32n }],
    ['lower bound (64)', { bits: 64, value: -(2 ** 31 - 1), share: 1, want: -((2n ** 31n - 1n) << 32n) }],
    ['tiny rounds to nearest (64)', { bits: 64, value: 2 ** -34, share: 1, want: 0n }],
    ['resolution (64)', { bits: 64, value: 2 ** -32, share: 1, want: 1n }],
    ['minus one (32)', { bits: 32, value: -1, share: 1, want: -(1n << 20n) }],
    ['upper bound (32)', { bits: 32, value: 2047, share: 1, want: 2047n << 20n }],
    ['resolution (32)', { bits: 32, value: -(2 ** -20), share: 1, want: -1n }],
  ];
  for (const [name, { bits, value, share, want }] of cases) {
    test(`${name}: ${value}·${share} encodes to ${want} and decodes back`, () => {
      const fp = fixedPoint(bits);
      for (const mode of ['set', 'add'] as const) {
        const words = allocRing(bits, 1);
        encodeInto(fp, words, Float64Array.of(value), share * fp.scale, mode, 't');
        assert.equal(elementAt(bits, words, 0), want);
        // Adding into a non-zero, unaligned target carries into the high word.
        const unaligned = new Uint32Array(bits === 64 ? 3 : 2).subarray(1);
        unaligned.fill(0xffffffff);
        encodeInto(fp, unaligned, Float64Array.of(value), share * fp.scale, 'add', 't');
        assert.equal(elementAt(bits, unaligned, 0), BigInt.asIntN(bits, want - 1n));
        const out = new Float64Array(1);
        decodeInto(fp, words, out);
        assert.equal(out[0], Number(want) / fp.scale);
      }
    });
  }

  // [name, value]: each must be refused, naming the tensor and the element, never clipped.
  const rejected: [string, number][] = [
    ['NaN', NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['just above the bound', 2 ** 31],
    ['just below minus the bound', -(2 ** 31)],
    ['huge', 1e300],
  ];
  for (const [name, bad] of rejected) {
    test(`${name} is a BadInputError naming the tensor and element, and leaves the target untouched`, () => {
      const fp = fixedPoint(64);
      const words = ringOf(64, [7n, 7n, 7n]);
      const before = words.slice();
      assert.throws(
        () => encodeInto(fp, words, Float32Array.of(1, 2, bad), fp.scale, 'add', 'layer1.weight', 40),
        (err: unknown) =>
          err instanceof BadInputError && err.where === 'layer1.weight' && /element 42\b/.test(err.message),
      );
      assert.deepEqual(words, before);
    });
  }

  test('the 32-bit bound is 2^(31-f) - 1 and 2048 is refused', () => {
    const fp = fixedPoint(32);
    assert.equal(fp.bound, 2047);
    assert.throws(() => encodeInto(fp, allocRing(32, 1), Float64Array.of(2048), fp.scale, 'set', 'w'), BadInputError);
  });

  test('fractional bits outside 8..k-2 are refused', () => {
    for (const [bits, f] of [[64, 7], [64, 63], [32, 31], [32, 8.5]] as [RingBits, number][]) {
      assert.throws(() => fixedPoint(bits, f), BadInputError);
    }
  });

  for (const bits of RINGS) {
    test(`Z_2^${bits}: decode(encode(x·s)) is within 2^-(f+1) of x·s (property)`, () => {
      const fp = fixedPoint(bits);
      fc.assert(
        fc.property(
          fc.array(fc.double({ min: -fp.bound, max: fp.bound, noNaN: true }), { minLength: 1, maxLength: 50 }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          (xs, share) => {
            const values = Float64Array.from(xs);
            const words = allocRing(bits, values.length);
            encodeInto(fp, words, values, share * fp.scale, 'set', 't');
            const out = new Float64Array(values.length);
            decodeInto(fp, words, out);
            values.forEach((x, i) => {
              const exact = x * share;
              // Rounding to 2^-f, plus float64 rounding of x·m and of the decode (relative 2^-52).
              const tolerance = 2 ** -(fp.fracBits + 1) + Math.abs(exact) * 2 ** -51;
              assert.ok(Math.abs(out[i]! - exact) <= tolerance, `${x}·${share}: got ${out[i]}`);
            });
          },
        ),
      );
    });
  }

  /**
   * The straightforward reference: the nearest integer to x·m, ties to even, from ⌊y⌋ and the
   * exact difference y − ⌊y⌋, as a BigInt mod 2^k, element by element.
   */
  function roundHalfEvenReference(y: number): bigint {
    const f = Math.floor(y);
    const d = y - f;
    const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
    return BigInt(r);
  }
  function referenceEncode(bits: RingBits, values: ArrayLike<number>, multiplier: number, start: bigint[]): bigint[] {
    return Array.from(values, (x, i) => BigInt.asUintN(bits, start[i]! + roundHalfEvenReference(x * multiplier)));
  }
  test('the reference rounds ties to even and everything else to the nearest integer', () => {
    const cases: [number, bigint][] = [[0.5, 0n], [1.5, 2n], [2.5, 2n], [-0.5, 0n], [-1.5, -2n], [-2.5, -2n], [0.49999999999999994, 0n], [0.5000000000000001, 1n], [-0.5000000000000001, -1n], [2 ** 51 + 0.5, 2n ** 51n], [2 ** 51 + 1.5, 2n ** 51n + 2n], [-(2 ** 51) - 0.5, -(2n ** 51n)], [2 ** 52 + 1, 2n ** 52n + 1n]];
    for (const [y, r] of cases) assert.equal(roundHalfEvenReference(y), r, String(y));
  });
  // Values whose product with the multiplier sits on or next to a tie (…5 exactly, the largest
  // double below one half, −0.5, −2.5), on both sides of 2^51 where the rounding changes path
  // (ties at ½ there), integers beyond 2^52 where every double is an integer, and the bounds.
  const edgeProducts = [
    0, -0, -5e-324, -1e-300, -(2 ** -54), -(1 - 2 ** -53), 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5, 0.49999999999999994, -0.49999999999999994, 1 - 2 ** -53,
    2 ** 51 - 0.5, -(2 ** 51) + 0.5, 2 ** 51 - 1.5, 2 ** 51, -(2 ** 51), 2 ** 51 + 0.5, -(2 ** 51) - 0.5, 2 ** 51 + 1.5, -(2 ** 51) - 1.5, 2 ** 52 - 0.5, -(2 ** 52) + 0.5,
    2 ** 52 + 1, -(2 ** 52) - 3, 2 ** 62, -(2 ** 62), 7.5e-300,
  ];
  for (const bits of RINGS) {
    test(`Z_2^${bits}: encode equals round(x·m), ties to even, mod 2^${bits} (ties, −0, around 2^51, beyond 2^52), set and add, odd lengths and unaligned targets`, () => {
      const fp = fixedPoint(bits);
      const w = bits / 32;
      // Multiplier 1 puts the edge products themselves into the kernel (bound checks are skipped with
      // `checked`, as the protocol does after its own range check); the 32-bit ring keeps |x·m| < 2^31.
      const edges = Float64Array.from(edgeProducts.filter((y) => bits === 64 || Math.abs(y) < 2 ** 31));
      const property = fc.property(
        fc.array(fc.double({ min: -fp.bound, max: fp.bound, noNaN: true }), { minLength: 1, maxLength: 67 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 1 }),
        (xs, share, shift) => {
          for (const [values, multiplier] of [[Float64Array.from(xs), share * fp.scale], [Float32Array.from(xs), share * fp.scale], [edges, 1]] as const) {
            for (const mode of ['set', 'add'] as const) {
              // shift 1: the target starts one word into its buffer (unaligned for 64-bit elements).
              const backing = new Uint32Array(values.length * w + 1);
              for (let i = 0; i < backing.length; i++) backing[i] = (i * 2654435761) >>> 0;
              const target = backing.subarray(shift, shift + values.length * w);
              const before = Array.from({ length: values.length }, (_, i) => (mode === 'add' ? BigInt.asUintN(bits, elementAt(bits, target, i)) : 0n));
              encodeInto(fp, target, values, multiplier, mode, 't', 0, true);
              const got = Array.from({ length: values.length }, (_, i) => BigInt.asUintN(bits, elementAt(bits, target, i)));
              assert.deepEqual(got, referenceEncode(bits, values, multiplier, before));
            }
          }
        },
      );
      fc.assert(property, { numRuns: 200 });
    });
  }

  test('float32 decode rounds once to the nearest float32', () => {
    const fp = fixedPoint(64);
    const words = allocRing(64, 1);
    encodeInto(fp, words, Float64Array.of(0.1), fp.scale, 'set', 't');
    const out = new Float32Array(1);
    decodeInto(fp, words, out);
    assert.equal(out[0], Math.fround(0.1));
  });
});

describe('pairwise masks (Bonawitz et al. 2017, §4)', () => {
  /** Each party's encoded input plus Σ_{j>i} PRG(seed_ij) − Σ_{j<i} PRG(seed_ji). */
  function maskedVectors(bits: RingBits, inputs: Float64Array[]): { masked: Uint32Array[]; plain: Uint32Array[] } {
    const n = inputs.length;
    const length = inputs[0]!.length;
    const fp = fixedPoint(bits);
    const seeds = new Map<string, Uint8Array>();
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) seeds.set(`${i},${j}`, freshSeed());
    const plain = inputs.map((x) => {
      const w = allocRing(bits, length);
      encodeInto(fp, w, x, fp.scale / n, 'set', 'x');
      return w;
    });
    const masked = inputs.map((x, i) => {
      const w = allocRing(bits, length);
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const seed = seeds.get(i < j ? `${i},${j}` : `${j},${i}`)!;
        addBytesInto(bits, w, MaskStream.bytes(seed, 'test/mask', w.byteLength), i < j ? 1 : -1);
      }
      encodeInto(fp, w, x, fp.scale / n, 'add', 'x');
      return w;
    });
    return { masked, plain };
  }

  function sum(bits: RingBits, vectors: Uint32Array[]): Uint32Array {
    const acc = new Uint32Array(vectors[0]!.length);
    for (const v of vectors) addInto(bits, acc, v);
    return acc;
  }

  for (const bits of RINGS) {
    test(`Z_2^${bits}: masks of n parties cancel exactly, and a strict subset's sum stays masked`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 2, max: 7 }), fc.integer({ min: 1, max: 64 }), (n, length) => {
          const inputs = Array.from({ length: n }, (_, i) => Float64Array.from({ length }, (_, e) => (i + 1) * 3.25 - e / 8));
          const { masked, plain } = maskedVectors(bits, inputs);
          assert.deepEqual(sum(bits, masked), sum(bits, plain));
          // Every strict non-empty subset: its masked sum is not its plain sum (the complementary
          // masks are missing). With 32 random bits per element, equality has probability 2^-32·length.
          const subset = masked.slice(0, n - 1);
          assert.notDeepEqual(sum(bits, subset), sum(bits, plain.slice(0, n - 1)));
          assert.notDeepEqual(masked[0], plain[0]);
        }),
        { numRuns: 30 },
      );
    });
  }
});

describe('the narrower rings Z_2^40 and Z_2^48: held as Z_2^64, sent as their low k bits', () => {
  const fc64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
  for (const k of [40, 48] as const) {
    const fp = fixedPoint(k);
    const mod = (v: bigint) => BigInt.asIntN(k, v);

    test(`Z_2^${k}: k/8 bytes per element, the bound 2^(k-1-f) - 1, the range check at the bound`, () => {
      assert.equal(fp.bits, 64);
      assert.equal(fp.elementBytes, k / 8);
      assert.equal(fp.bound, 2 ** (k - 1 - fp.fracBits) - 1);
      assert.equal(fp.bound, 32767);
      assert.throws(() => encodeInto(fp, allocRing(64, 1), Float64Array.of(fp.bound + 1), fp.scale, 'set', 'w'), BadInputError);
      assert.throws(() => fixedPoint(k, k - 1), BadInputError);
    });

    test(`Z_2^${k}: packing keeps each element's low k bits; unpacking gives them back with zero high bits`, () => {
      fc.assert(
        fc.property(fc.array(fc64, { minLength: 1, maxLength: 40 }), (values) => {
          const words = ringOf(64, values);
          const packed = packRing(fp, words);
          assert.equal(packed.byteLength, values.length * (k / 8));
          const back = unpackRing(fp, packed);
          values.forEach((v, i) => assert.equal(elementAt(64, back, i), BigInt.asUintN(k, v)));
        }),
      );
    });

    test(`Z_2^${k}: a sum of masked vectors added packed (at any byte offset, over several blocks) decodes to the signed sum mod 2^${k}`, () => {
      // 70,000 elements: more than one unpacking block of 65,536.
      const n = 70_000;
      const rnd = new MaskStream(freshSeed(), 'packed-test');
      const a = wordsOf(new Uint8Array(rnd.next(8 * n)));
      const b = wordsOf(new Uint8Array(rnd.next(8 * n)));
      const packed = packRing(fp, b);
      const shifted = new Uint8Array(packed.byteLength + 3);
      shifted.set(packed, 3);
      const sum = a.slice();
      addPackedInto(fp, sum, shifted.subarray(3), 1, {});
      for (const i of [0, 1, 65_535, 65_536, 65_537, n - 1]) {
        const want = mod(elementAt(64, a, i) + elementAt(64, b, i));
        const out = new Float64Array(1);
        decodeInto(fp, sum.subarray(2 * i, 2 * i + 2), out);
        assert.equal(out[0], Number(want) / fp.scale, `element ${i}`);
      }
      // And subtracted again: the low k bits of a.
      addPackedInto(fp, sum, packed, -1);
      for (const i of [0, 65_536, n - 1]) assert.equal(BigInt.asUintN(k, elementAt(64, sum, i)), BigInt.asUintN(k, elementAt(64, a, i)));
    });

    test(`Z_2^${k}: encoded values under a uniform mask, sent packed and summed, decode to their sum (negative ones too)`, () => {
      const xs = Float64Array.of(-32767, -1.5, -(2 ** -20), 0, 3.25, 32000);
      const ys = Float64Array.of(0.5, 1.5, 2 ** -20, -7, -3.25, -32000);
      const rnd = new MaskStream(freshSeed(), 'mask');
      const mask = wordsOf(new Uint8Array(rnd.next(8 * xs.length)));
      // Party x adds the mask, party y subtracts it; y's contribution arrives packed.
      const x = mask.slice();
      encodeInto(fp, x, xs, fp.scale / 2, 'add', 'x');
      const y = allocRing(64, ys.length);
      addInto(64, y, mask, -1);
      encodeInto(fp, y, ys, fp.scale / 2, 'add', 'y');
      addPackedInto(fp, x, packRing(fp, y));
      const out = new Float64Array(xs.length);
      decodeInto(fp, x, out);
      out.forEach((v, i) => assert.ok(Math.abs(v - (xs[i]! + ys[i]!) / 2) <= 2 ** -fp.fracBits, `${i}: ${v}`));
    });

    test(`Z_2^${k}: a packed payload of a wrong length is refused`, () => {
      assert.throws(() => unpackRing(fp, new Uint8Array(k / 8 + 1)), BadInputError);
      assert.throws(() => addPackedInto(fp, allocRing(64, 2), new Uint8Array(k / 8)), BadInputError);
    });
  }

  test('ring widths other than 64, 48, 40 and 32 are refused, naming the field and not the value', () => {
    for (const good of [64, 48, 40, 32]) assert.equal(checkRingBits(good, 'kwargs.ring_bits'), good);
    for (const bad of [16, 56, 63, '64', null]) {
      assert.throws(() => checkRingBits(bad, 'kwargs.ring_bits'), (err: unknown) => err instanceof BadInputError && err.where === 'kwargs.ring_bits' && !/\b(16|56|63)\b/.test(err.message));
    }
  });
});
