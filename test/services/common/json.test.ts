// Deeply nested untrusted JSON is refused where it is read, before any recursive code walks it:
// a 500 (stack overflow) for a client's or a peer's input would be a denial of service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../../services/common/json.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { BadInputError } from '../../../services/errors.js';
import { parseEnvelope } from '../../../server/peer/envelope.js';

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

test('nestedDeeperThan counts levels of objects and arrays, without recursion', () => {
  for (const [value, max, want] of [
    [1, 0, false],
    [[], 1, false],
    [[[]], 1, true],
    [{ a: { b: [1] } }, 3, false],
    [{ a: { b: [1] } }, 2, true],
    [JSON.parse(nested(200_000)), MAX_JSON_DEPTH, true],
  ] as const) {
    assert.equal(nestedDeeperThan(value, max), want, `max ${max}`);
  }
});

test('a safetensors header nested 100 000 levels deep is a 400 naming the header, not a stack overflow', () => {
  const header = Buffer.from(`{"w": {"dtype": "F32", "shape": ${nested(100_000)}, "data_offsets": [0, 0]}}`);
  const file = Buffer.alloc(8 + header.length);
  file.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(file, 8);
  assert.throws(
    () => TensorSet.parseSafetensors(file),
    (err: unknown) => err instanceof BadInputError && err.where === 'header' && /nested deeper/.test(err.message),
  );
});

test('a bad shape is quoted in the error, cut short', () => {
  const header = Buffer.from(`{"w": {"dtype": "F32", "shape": "${'x'.repeat(5000)}", "data_offsets": [0, 4]}}`);
  const file = Buffer.alloc(8 + header.length + 4);
  file.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(file, 8);
  assert.throws(
    () => TensorSet.parseSafetensors(file),
    (err: unknown) => err instanceof BadInputError && err.message.length < 400 && err.message.includes('…'),
  );
});

test('a peer envelope whose header nests deeply is refused before its terms are compared', () => {
  const header = Buffer.from(`{"v": 1, "terms": {"microprotocol": "SecureSum", "nodes": [], "x": ${nested(10_000)}}}`);
  const prefix = Buffer.alloc(9);
  prefix.write('TSPM', 0, 'latin1');
  prefix.writeUInt8(1, 4);
  prefix.writeUInt32BE(header.length, 5);
  const envelope = Buffer.concat([prefix, header, Buffer.alloc(12 + 16)]);
  assert.throws(
    () => parseEnvelope(envelope),
    (err: unknown) => err instanceof BadInputError && /nested deeper/.test(err.message),
  );
});
