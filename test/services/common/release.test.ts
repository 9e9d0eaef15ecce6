// services/common/release.ts: a consumed buffer's memory freed at once (ArrayBuffer transfer),
// only where that is safe (large enough not to be a pool slab, nothing else in the buffer,
// not shared), and a payload freed only when its transport handed it over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canRelease, handOver, release, releaseHandedOver, RELEASE_MIN_BYTES } from '../../../services/common/release.js';

test('this runtime can free buffers (Node 20 through a flag, later Nodes natively)', () => {
  assert.equal(canRelease(), true);
});

test('a large buffer is freed at once: every view of it becomes empty, and its memory is given back', () => {
  const size = 8 * 1024 * 1024;
  const bytes = Buffer.allocUnsafe(size).fill(7);
  const other = new Uint32Array(bytes.buffer);
  const before = process.memoryUsage().arrayBuffers;
  assert.equal(release(bytes), true);
  assert.ok(before - process.memoryUsage().arrayBuffers >= size, 'the external memory fell by the buffer');
  assert.equal(bytes.length, 0);
  assert.equal(other.length, 0);
  assert.equal(release(bytes), false, 'a second release frees nothing');
});

test('small buffers (pool slabs), buffers holding more than the view and its slack, and shared memory are left alone', () => {
  const small = Buffer.from('a pooled buffer');
  assert.equal(release(small), false);
  assert.equal(small.toString(), 'a pooled buffer');
  const justBelow = new Uint8Array(RELEASE_MIN_BYTES - 1);
  assert.equal(release(justBelow), false);
  assert.equal(justBelow.length, RELEASE_MIN_BYTES - 1);

  const whole = new Uint8Array(RELEASE_MIN_BYTES * 4).fill(1);
  const part = whole.subarray(100, 100 + RELEASE_MIN_BYTES * 2);
  assert.equal(release(part), false, 'the rest of the buffer is more than no slack');
  assert.equal(release(part, 1000), false, 'and more than 1000 bytes of slack');
  assert.equal(whole.length, RELEASE_MIN_BYTES * 4);
  const envelope = new Uint8Array(RELEASE_MIN_BYTES + 64);
  const payload = envelope.subarray(40, 40 + RELEASE_MIN_BYTES);
  assert.equal(release(payload, 64), true, 'a payload with an envelope of at most the slack around it is freed');
  assert.equal(envelope.length, 0);

  const shared = new Uint8Array(new SharedArrayBuffer(RELEASE_MIN_BYTES * 2));
  assert.equal(release(shared), false);
  assert.equal(shared.length, RELEASE_MIN_BYTES * 2);
});

test('releaseHandedOver frees only what a transport handed over, and only once', () => {
  const kept = new Uint8Array(RELEASE_MIN_BYTES).fill(3);
  assert.equal(releaseHandedOver(kept), false, 'not handed over: a transport may deliver the same bytes again');
  assert.equal(kept.length, RELEASE_MIN_BYTES);
  assert.equal(kept[0], 3);

  const handed = new Uint8Array(RELEASE_MIN_BYTES);
  handOver(handed);
  assert.equal(releaseHandedOver(handed), true);
  assert.equal(handed.length, 0);
  assert.equal(releaseHandedOver(handed), false);

  const small = new Uint8Array(1000);
  handOver(small);
  assert.equal(releaseHandedOver(small), false, 'below the minimum nothing is marked');
  assert.equal(small.length, 1000);
});
