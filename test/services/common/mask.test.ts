import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cipherAt, expandMaskInto, maskOnto, SLICE_BYTES, type MaskTerm } from '../../../services/common/mask.js';
import { MaskStream, freshSeed } from '../../../services/common/prg.js';
import { allocRing, elementAt, type RingBits } from '../../../services/common/vector.js';
import { BadInputError } from '../../../services/errors.js';

const RINGS: RingBits[] = [64, 32];

/**
 * The straightforward reference: each term's keystream from the start of the stream (MaskStream),
 * element by element as BigInts, summed with its sign modulo 2^k.
 */
function reference(bits: RingBits, terms: MaskTerm[], label: string, start: number, length: number): bigint[] {
  const width = bits / 8;
  const out = new Array<bigint>(length).fill(0n);
  for (const t of terms) {
    const stream = MaskStream.bytes(t.seed, label, (start + length) * width);
    for (let i = 0; i < length; i++) {
      const at = (start + i) * width;
      const v = bits === 64 ? stream.readBigUInt64LE(at) : BigInt(stream.readUInt32LE(at));
      out[i] = BigInt.asUintN(bits, out[i]! + BigInt(t.sign) * v);
    }
  }
  return out;
}

function values(bits: RingBits, words: Uint32Array, length: number): bigint[] {
  return Array.from({ length }, (_, i) => BigInt.asUintN(bits, elementAt(bits, words, i)));
}

describe('maskOnto: a filled vector plus the combined mask, against the MaskStream reference', () => {
  const signSets: (1 | -1)[][] = [[], [1], [-1], [1, -1], [-1, 1], [1, 1], [-1, -1], [-1, 1, 1]];
  for (const bits of RINGS) {
    for (const signs of signSets) {
      const sliceElements = SLICE_BYTES / (bits / 8);
      for (const [start, length, offset] of [[0, 7, 0], [3, 33, 0], [sliceElements - 3, sliceElements + 9, 0], [5, 301, 1]] as const) {
        test(`Z_2^${bits}, signs [${signs.join(',')}], elements ${start}..${start + length}${offset ? ', unaligned target' : ''}`, () => {
          const terms = signs.map((sign) => ({ seed: freshSeed(), sign }));
          const backing = new Uint32Array(offset + (bits / 32) * length).fill(0xdeadbeef);
          const target = backing.subarray(offset);
          // v: element e of the range gets (e · 0x9e3779b97f4a7c15 + 7) mod 2^k, written by `fill`.
          const v = (e: number) => BigInt.asUintN(bits, BigInt(e) * 0x9e3779b97f4a7c15n + 7n);
          const seen: [number, number][] = [];
          maskOnto(bits, terms, 'onto', target, start, (slice, first) => {
            seen.push([first, slice.length / (bits / 32)]);
            for (let i = 0; i < slice.length / (bits / 32); i++) {
              const x = v(first + i);
              if (bits === 32) slice[i] = Number(x);
              else {
                slice[2 * i] = Number(x & 0xffffffffn);
                slice[2 * i + 1] = Number(x >> 32n);
              }
            }
          });
          const mask = reference(bits, terms, 'onto', start, length);
          assert.deepEqual(values(bits, target, length), mask.map((m, i) => BigInt.asUintN(bits, m + v(start + i))));
          // `fill` saw every element once, slice by slice, in order.
          assert.deepEqual(seen.map(([first]) => first), seen.map((_, k) => start + k * sliceElements));
          assert.equal(seen.reduce((a, [, n]) => a + n, 0), length);
        });
      }
    }
  }
});

describe('expandMaskInto: combined mask Σ sign·PRG(seed) against the MaskStream reference', () => {
  const signSets: (1 | -1)[][] = [[], [1], [-1], [1, 1], [1, -1], [-1, -1], [-1, -1, 1], [-1, -1, -1], [1, 1, 1, -1, -1]];
  for (const bits of RINGS) {
    for (const signs of signSets) {
      // Odd lengths, starts that fall inside a 16-byte AES block (for 32 bits: 1, 3 elements in),
      // and ranges that cross the kernel's slice boundary.
      const sliceElements = SLICE_BYTES / (bits / 8);
      for (const [start, length] of [[0, 1], [0, 7], [1, 5], [3, 33], [5, 1001], [sliceElements - 3, 7], [17, 2 * sliceElements + 5]] as const) {
        test(`Z_2^${bits}, signs [${signs.join(',')}], elements ${start}..${start + length}`, () => {
          const terms = signs.map((sign) => ({ seed: freshSeed(), sign }));
          const target = allocRing(bits, length).fill(0xdeadbeef); // overwritten, not added to
          expandMaskInto(bits, terms, 'mask-test', target, start);
          assert.deepEqual(values(bits, target, length), reference(bits, terms, 'mask-test', start, length));
        });
      }
    }
  }

  test('a target at an unaligned offset of its buffer (4 bytes in, for 64-bit elements) gives the same mask', () => {
    for (const [bits, signs] of RINGS.flatMap((b) => [[-1, 1], [-1, -1], [1, 1]].map((s) => [b, s] as const))) {
      const terms: MaskTerm[] = signs.map((sign) => ({ seed: freshSeed(), sign: sign as 1 | -1 }));
      const backing = new Uint32Array(1 + 2 * 301);
      const target = backing.subarray(1, 1 + (bits / 32) * 301);
      expandMaskInto(bits, terms, 'unaligned', target, 9);
      assert.deepEqual(values(bits, target, 301), reference(bits, terms, 'unaligned', 9, 301));
    }
  });

  test('chunks expanded separately, in any order, concatenate to the mask of the whole range', () => {
    for (const bits of RINGS) {
      const terms: MaskTerm[] = [{ seed: freshSeed(), sign: 1 }, { seed: freshSeed(), sign: -1 }];
      const whole = allocRing(bits, 1000);
      expandMaskInto(bits, terms, 'chunks', whole, 0);
      const pieces = [[700, 1000], [0, 333], [333, 700]] as const;
      const w = bits / 32;
      for (const [from, to] of pieces) {
        const part = allocRing(bits, to - from);
        expandMaskInto(bits, terms, 'chunks', part, from);
        assert.deepEqual(part, whole.subarray(from * w, to * w));
      }
    }
  });

  test('the pairwise masks of three parties cancel: Σ_i M_i = 0', () => {
    for (const bits of RINGS) {
      const s01 = freshSeed(), s02 = freshSeed(), s12 = freshSeed();
      const masks = [
        [{ seed: s01, sign: 1 }, { seed: s02, sign: 1 }],
        [{ seed: s01, sign: -1 }, { seed: s12, sign: 1 }],
        [{ seed: s02, sign: -1 }, { seed: s12, sign: -1 }],
      ] as MaskTerm[][];
      const sum = masks.map((terms) => {
        const m = allocRing(bits, 257);
        expandMaskInto(bits, terms, 'cancel', m, 11);
        return values(bits, m, 257);
      }).reduce((a, b) => a.map((x, i) => BigInt.asUintN(bits, x + b[i]!)));
      assert.ok(sum.every((x) => x === 0n));
      // And each party's mask alone is not zero (the terms were really applied).
      const one = allocRing(bits, 257);
      expandMaskInto(bits, masks[0]!, 'cancel', one, 11);
      assert.ok(one.some((x) => x !== 0));
    }
  });

  test('onSlice sees every element once, in order, with the index of its first element', () => {
    const bits = 64;
    const length = 2 * (SLICE_BYTES / 8) + 3;
    const target = allocRing(bits, length);
    const seen: [number, number][] = [];
    expandMaskInto(bits, [{ seed: freshSeed(), sign: 1 }], 'slices', target, 40, (slice, first) => seen.push([first, slice.length / 2]));
    let next = 40;
    for (const [first, n] of seen) {
      assert.equal(first, next);
      next += n;
    }
    assert.equal(next, 40 + length);
  });

  test('cipherAt(offset) continues the stream at that byte', () => {
    const seed = freshSeed();
    const stream = MaskStream.bytes(seed, 'at', 100);
    for (const offset of [0, 1, 15, 16, 17, 63]) {
      assert.equal(cipherAt(seed, 'at', offset).update(Buffer.alloc(100 - offset)).toString('hex'), stream.subarray(offset).toString('hex'));
    }
  });

  test('a seed of the wrong length or a negative start is a BadInputError', () => {
    assert.throws(() => expandMaskInto(64, [{ seed: new Uint8Array(16), sign: 1 }], 'x', allocRing(64, 4), 0), BadInputError);
    assert.throws(() => expandMaskInto(64, [], 'x', allocRing(64, 4), -1), BadInputError);
    assert.throws(() => expandMaskInto(64, [], 'x', new Uint32Array(3), 0), BadInputError);
  });
});
