import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BadInputError } from '../../../services/errors.js';
import { MaskStream, freshSeed, ivFor, SEED_BYTES } from '../../../services/common/prg.js';

const vectorsDir = new URL('../../vectors/prg/', import.meta.url);
const hex = (s: string) => Buffer.from(s, 'hex');

interface Sp80038aVector {
  key: string;
  initialCounter: string;
  plaintext: string;
  ciphertext: string;
  inputBlocks: string[];
  outputBlocks: string[];
}
interface MaskStreamVectors {
  seed: string;
  cases: { label: string; iv: string; keystream: string }[];
}

/** AES-256 of explicit counter blocks: an independent path to the CTR keystream. */
function ecbKeystream(key: Uint8Array, counterBlocks: Buffer[]): Buffer {
  const ecb = createCipheriv('aes-256-ecb', key, null);
  ecb.setAutoPadding(false);
  return Buffer.concat([ecb.update(Buffer.concat(counterBlocks)), ecb.final()]);
}

describe('AES-256-CTR core: NIST SP 800-38A F.5.5 known answers', () => {
  const v = JSON.parse(readFileSync(new URL('sp800-38a-f55-ctr-aes256.json', vectorsDir), 'utf8')) as Sp80038aVector;

  test('CTR-AES256.Encrypt gives the published ciphertext', () => {
    const cipher = MaskStream.rawCipher(hex(v.key), hex(v.initialCounter));
    assert.equal(cipher.update(hex(v.plaintext)).toString('hex'), v.ciphertext);
  });

  test('the keystream is the published output blocks (counter carries across the low byte)', () => {
    const cipher = MaskStream.rawCipher(hex(v.key), hex(v.initialCounter));
    assert.equal(cipher.update(Buffer.alloc(64)).toString('hex'), v.outputBlocks.join(''));
    assert.equal(ecbKeystream(hex(v.key), v.inputBlocks.map(hex)).toString('hex'), v.outputBlocks.join(''));
  });
});

describe('MaskStream', () => {
  const frozen = JSON.parse(readFileSync(new URL('maskstream-v1.json', vectorsDir), 'utf8')) as MaskStreamVectors;

  for (const c of frozen.cases) {
    test(`frozen v1 stream for label ${JSON.stringify(c.label)}`, () => {
      assert.equal(ivFor(c.label).toString('hex'), c.iv);
      const got = MaskStream.bytes(hex(frozen.seed), c.label, c.keystream.length / 2);
      assert.equal(got.toString('hex'), c.keystream);
    });
  }

  test('equals AES-256-ECB of nonce ‖ counter blocks past the first 2^8 blocks', () => {
    const seed = freshSeed();
    const label = 'tensor:conv1.weight';
    const blocks = 300;
    const counters = Array.from({ length: blocks }, (_, i) => {
      const b = ivFor(label);
      b.writeBigUInt64BE(BigInt(i), 8);
      return b;
    });
    assert.deepEqual(MaskStream.bytes(seed, label, blocks * 16), ecbKeystream(seed, counters));
  });

  const splits: [string, number[]][] = [
    ['one piece', [4096]],
    ['odd sizes across block boundaries', [1, 15, 17, 3, 4060]],
    ['empty chunks in between', [0, 100, 0, 3996]],
  ];
  for (const [name, sizes] of splits) {
    test(`chunking does not change the stream: ${name}`, () => {
      const seed = freshSeed();
      const s = new MaskStream(seed, 'x');
      const joined = Buffer.concat(sizes.map((n) => s.next(n)));
      assert.equal(s.produced, 4096);
      assert.deepEqual(joined, MaskStream.bytes(seed, 'x', 4096));
    });
  }

  test('a request larger than the shared zero chunk continues the same stream', () => {
    const seed = freshSeed();
    const size = (1 << 20) * 3 + 8;
    const big = MaskStream.bytes(seed, 'big', size);
    const s = new MaskStream(seed, 'big');
    const pieces: Buffer[] = [];
    for (let left = size; left > 0; left -= 1 << 20) pieces.push(s.next(Math.min(left, 1 << 20)));
    assert.ok(Buffer.concat(pieces).equals(big));
  });

  test('distinct labels and distinct seeds give unrelated streams', () => {
    const seed = freshSeed();
    const a = MaskStream.bytes(seed, 'a', 64);
    assert.notDeepEqual(a, MaskStream.bytes(seed, 'b', 64));
    assert.notDeepEqual(a, MaskStream.bytes(freshSeed(), 'a', 64));
    // Different labels must not be shifted copies of each other either.
    assert.equal(MaskStream.bytes(seed, 'b', 1 << 16).indexOf(a.subarray(0, 16)), -1);
  });

  test('chunks are 8-byte aligned so they can be viewed as BigUint64Array', () => {
    const s = new MaskStream(freshSeed(), 'align');
    for (const n of [8, 24, 40, 1000, 4104, 65536]) {
      const out = s.next(n);
      assert.equal(out.byteOffset % 8, 0, `chunk of ${n}`);
      assert.equal(new BigUint64Array(out.buffer, out.byteOffset, Math.floor(n / 8)).length, Math.floor(n / 8));
    }
  });

  test('a seed of the wrong length is refused, naming the label', () => {
    assert.throws(() => new MaskStream(Buffer.alloc(16), 'tensor:w'), (e: unknown) =>
      e instanceof BadInputError && e.where === 'tensor:w');
    assert.throws(() => new MaskStream(freshSeed(), 'x').next(-1), BadInputError);
  });

  test('freshSeed draws 32 new bytes every time', () => {
    const seeds = new Set(Array.from({ length: 64 }, () => freshSeed().toString('hex')));
    assert.equal(seeds.size, 64);
    assert.equal(freshSeed().length, SEED_BYTES);
  });
});
