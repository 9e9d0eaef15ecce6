// The recycled message buffers (services/common/recycle.ts): a buffer comes back once per take,
// only if it came from there, and is handed out again instead of fresh memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recycle, recycledFreeBytes, RECYCLED_MAX_BYTES, RECYCLED_MIN_BYTES, takeRecycled } from '../../../services/common/recycle.js';

const SIZE = RECYCLED_MIN_BYTES + 1000;

test('a recycled buffer is handed out again for the next body of its size, at the exact length asked', () => {
  const first = takeRecycled(SIZE)!;
  assert.equal(first.length, SIZE);
  recycle(first.subarray(100, 200)); // a view of it (an opened payload) is enough
  const again = takeRecycled(SIZE + 10)!;
  assert.equal(again.buffer, first.buffer);
  assert.equal(again.length, SIZE + 10);
  recycle(again);
});

test('a buffer recycled twice is handed out once: two bodies never share memory', () => {
  const a = takeRecycled(SIZE)!;
  recycle(a);
  recycle(a);
  const b = takeRecycled(SIZE)!;
  const c = takeRecycled(SIZE)!;
  assert.notEqual(b.buffer, c.buffer);
  recycle(b);
  recycle(c);
});

test('memory that did not come from takeRecycled is never handed out', () => {
  const before = recycledFreeBytes();
  const foreign = Buffer.alloc(SIZE);
  recycle(foreign);
  assert.equal(recycledFreeBytes(), before);
  const taken = Array.from({ length: 4 }, () => takeRecycled(SIZE)!);
  assert.ok(taken.every((t) => t.buffer !== foreign.buffer));
  for (const t of taken) recycle(t);
});

test('sizes outside the recycled range are not served', () => {
  assert.equal(takeRecycled(RECYCLED_MIN_BYTES - 1), undefined);
  assert.equal(takeRecycled(RECYCLED_MAX_BYTES + 1), undefined);
});
