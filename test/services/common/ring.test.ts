import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BadInputError } from '../../../services/errors.js';
import { Ring } from '../../../services/common/ring.js';
import {
  concatBytes, equalBytes, fromBase64url, fromHex, readU32le, readU64le, toBase64url, toHex, u32le, u64le,
} from '../../../services/common/bytes.js';

const widths = [1, 7, 8, 63, 64, 65, 2176];

/** An arbitrary bigint, possibly negative and far outside the ring, to exercise reduction. */
const anyBigInt = fc.bigInt({ min: -(1n << 2300n), max: 1n << 2300n });

describe('Ring Z_2^k', () => {
  for (const k of widths) {
    const ring = new Ring(k);
    const m = 1n << BigInt(k);
    const mod = (x: bigint) => ((x % m) + m) % m;

    test(`k=${k}: operations agree with the mathematical definition modulo 2^k`, () => {
      fc.assert(
        fc.property(anyBigInt, anyBigInt, fc.bigInt({ min: -1000n, max: 1000n }), (a, b, c) => {
          assert.equal(ring.reduce(a), mod(a));
          assert.equal(ring.add(a, b), mod(a + b));
          assert.equal(ring.sub(a, b), mod(a - b));
          assert.equal(ring.neg(a), mod(-a));
          assert.equal(ring.mul(a, c), mod(a * c));
          assert.equal(ring.add(ring.sub(a, b), b), ring.reduce(a));
          assert.equal(ring.sum([a, b, ring.neg(b)]), ring.reduce(a));
        }),
        { numRuns: 200 },
      );
    });

    test(`k=${k}: toSigned is the two's complement reading`, () => {
      fc.assert(
        fc.property(anyBigInt, (a) => {
          const s = ring.toSigned(a);
          assert.ok(s >= -(m / 2n) && s < m / 2n);
          assert.equal(ring.reduce(s), ring.reduce(a));
        }),
        { numRuns: 200 },
      );
      assert.equal(ring.toSigned(m - 1n), -1n);
    });

    test(`k=${k}: encodeBytes is fixed-width little-endian and decodeBytes inverts it`, () => {
      assert.equal(ring.byteLength, Math.ceil(k / 8));
      fc.assert(
        fc.property(anyBigInt, (a) => {
          const bytes = ring.encodeBytes(a);
          assert.equal(bytes.length, ring.byteLength);
          assert.equal(ring.decodeBytes(bytes, 'x'), ring.reduce(a));
        }),
        { numRuns: 200 },
      );
      assert.equal(ring.encodeBytes(1n)[0], 1);
    });

    test(`k=${k}: random() stays in the ring and reaches its top bit`, () => {
      let topBitSeen = false;
      for (let i = 0; i < 200; i++) {
        const r = ring.random();
        assert.ok(r >= 0n && r < m);
        if (r >= m / 2n) topBitSeen = true;
      }
      assert.ok(topBitSeen, 'the top bit is never set: the sampler is not uniform');
    });
  }

  test('decodeBytes refuses a wrong length and non-canonical high bits, naming the place', () => {
    const ring = new Ring(12);
    const cases: [string, Uint8Array][] = [
      ['too short', new Uint8Array(1)],
      ['too long', new Uint8Array(3)],
      ['bit 12 set', Uint8Array.from([0, 0x10])],
    ];
    for (const [name, bytes] of cases) {
      assert.throws(() => ring.decodeBytes(bytes, 'party 1 (http://a)'), (e: unknown) =>
        e instanceof BadInputError && e.where === 'party 1 (http://a)', name);
    }
    assert.equal(ring.decodeBytes(Uint8Array.from([0xff, 0x0f]), 'x'), 4095n);
  });

  test('widths outside [1, 65536] or not integers are refused', () => {
    for (const bits of [0, -1, 1.5, NaN, 70000]) assert.throws(() => new Ring(bits), BadInputError);
  });
});

describe('bytes helpers', () => {
  test('concat, u32/u64 little-endian round trips', () => {
    const joined = concatBytes([u32le(0x01020304), u64le(0x0102030405060708n), new Uint8Array([9])]);
    assert.equal(toHex(joined), '04030201' + '0807060504030201' + '09');
    assert.equal(readU32le(joined, 0, 'h'), 0x01020304);
    assert.equal(readU64le(joined, 4, 'h'), 0x0102030405060708n);
  });

  test('reads past the end are refused naming the field', () => {
    assert.throws(() => readU64le(new Uint8Array(7), 0, 'header.length'), (e: unknown) =>
      e instanceof BadInputError && e.where === 'header.length');
    assert.throws(() => readU32le(new Uint8Array(8), 5, 'x'), BadInputError);
    assert.throws(() => u32le(2 ** 32), BadInputError);
    assert.throws(() => u64le(-1n), BadInputError);
  });

  const codecs: [string, string, boolean][] = [
    ['hex ok', 'hex:00ff10', true],
    ['hex odd length', 'hex:0ff', false],
    ['hex bad char', 'hex:0g', false],
    ['base64url ok', 'b64:AP8Q', true],
    ['base64url with padding', 'b64:AP8=', false],
    ['base64url standard alphabet', 'b64:a+/b', false],
    ['base64url impossible length', 'b64:AAAAA', false],
  ];
  for (const [name, input, ok] of codecs) {
    test(`strict decoding: ${name}`, () => {
      const [kind, s] = input.split(':') as [string, string];
      const decode = () => (kind === 'hex' ? fromHex(s, 'f') : fromBase64url(s, 'f'));
      if (ok) assert.deepEqual([...decode()], [0x00, 0xff, 0x10]);
      else assert.throws(decode, (e: unknown) => e instanceof BadInputError && e.where === 'f');
    });
  }

  test('base64url and hex round trip any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      assert.deepEqual(fromBase64url(toBase64url(b), 'x'), b);
      assert.deepEqual(fromHex(toHex(b), 'x'), b);
    }));
  });

  test('equalBytes: equal, different content, different length', () => {
    assert.equal(equalBytes(Uint8Array.from([1, 2]), Uint8Array.from([1, 2])), true);
    assert.equal(equalBytes(Uint8Array.from([1, 2]), Uint8Array.from([1, 3])), false);
    assert.equal(equalBytes(Uint8Array.from([1, 2]), Uint8Array.from([1, 2, 3])), false);
  });
});
