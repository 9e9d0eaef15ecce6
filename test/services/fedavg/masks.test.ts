// combinedMask (services/fedavg/masks.ts) expands any range of the flat mask on its own: the range
// [start, end) must equal the same range of the sequential keystream (MaskStream), for both rings
// and offsets that do not start on an AES block, and signed terms must add and cancel in the ring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSeed, MaskStream } from '../../../services/common/prg.js';
import { combinedMask, pairTerms, segmentTerms } from '../../../services/fedavg/masks.js';
import { addBytesInto, allocRing } from '../../../services/common/vector.js';

for (const [bits, start, end] of [[64, 0, 1], [64, 3, 777], [32, 5, 999], [32, 4, 4100], [64, 131071, 131077]] as const) {
  test(`ring ${bits}, elements [${start}, ${end}): the range equals the same range of the sequential stream`, () => {
    const seed = freshSeed();
    const whole = MaskStream.bytes(seed, 'label', (end * bits) / 8);
    const part = combinedMask(bits, [{ seed, sign: 1 }], 'label', start, end);
    assert.ok(Buffer.from(part.buffer, part.byteOffset, part.byteLength).equals(whole.subarray((start * bits) / 8)));
  });
}

test('terms with opposite signs cancel; two terms add as the ring sum of their streams', () => {
  const a = freshSeed();
  const b = freshSeed();
  const zero = combinedMask(64, [{ seed: a, sign: 1 }, { seed: a, sign: -1 }], 'x', 10, 50);
  assert.ok(zero.every((w) => w === 0));
  const sum = combinedMask(64, [{ seed: a, sign: 1 }, { seed: b, sign: -1 }], 'x', 10, 50);
  const want = allocRing(64, 40);
  addBytesInto(64, want, MaskStream.bytes(a, 'x', 50 * 8).subarray(80), 1);
  addBytesInto(64, want, MaskStream.bytes(b, 'x', 50 * 8).subarray(80), -1);
  assert.deepEqual(sum, want);
});

// The default round leaves the segment holder's pair terms out of its segment (segmentTerms): what
// every party adds to segment j must still cancel over all parties, the holder's own segment
// carries no mask, and every other party's contribution to it keeps a term the holder lacks.
for (const n of [2, 3, 5]) {
  test(`segmentTerms, ${n} parties: per segment the kept terms cancel; the holder's pairs are left out from 3 parties on`, () => {
    const seeds = new Map<string, Uint8Array>();
    const seed = (a: number, b: number) => {
      const key = `${Math.min(a, b)}/${Math.max(a, b)}`;
      if (!seeds.has(key)) seeds.set(key, freshSeed());
      return seeds.get(key)!;
    };
    const partners = (i: number) => Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
    const bySegment = Array.from({ length: n }, (_, i) => segmentTerms(i, partners(i), pairTerms(i, partners(i), (j) => seed(i, j)), n));
    for (let j = 0; j < n; j++) {
      const sum = allocRing(64, 40);
      for (let i = 0; i < n; i++) addBytesInto(64, sum, new Uint8Array(combinedMask(64, bySegment[i]![j]!, 'x', 3, 43).buffer), 1);
      assert.ok(sum.every((w) => w === 0), `segment ${j}: the masks do not cancel`);
      for (let i = 0; i < n; i++) {
        const terms = bySegment[i]![j]!;
        if (n === 2) {
          assert.equal(terms.length, 1, 'two parties: nothing left out');
        } else if (i === j) {
          assert.equal(terms.length, 0, 'the own segment is not masked (it never leaves the party)');
        } else {
          assert.equal(terms.length, n - 2);
          assert.ok(!terms.some((t) => t.seed === seed(i, j)), `party ${i} masks segment ${j} with the holder's pair`);
        }
      }
    }
  });
}
