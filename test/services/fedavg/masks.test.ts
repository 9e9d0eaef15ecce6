// combinedMask (services/fedavg/masks.ts) expands any range of the flat mask on its own: the range
// [start, end) must equal the same range of the sequential keystream (MaskStream), for both rings
// and offsets that do not start on an AES block, and signed terms must add and cancel in the ring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSeed, MaskStream } from '../../../services/common/prg.js';
import { combinedMask } from '../../../services/fedavg/masks.js';
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
