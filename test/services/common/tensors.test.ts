import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { TensorSet, type Tensor } from '../../../services/common/tensors.js';
import { BadInputError, TooLargeError } from '../../../services/errors.js';

const VECTOR = new URL('../../vectors/safetensors/known-answer.safetensors', import.meta.url);

/** A safetensors file from a header (object or raw text, padded as given) and data bytes. */
function file(header: object | string, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(text.length));
  return Buffer.concat([prefix, text, data]);
}

const f32 = (...v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);
const f64 = (...v: number[]): Uint8Array => new Uint8Array(Float64Array.from(v).buffer);

function assertSameSet(actual: TensorSet, expected: TensorSet): void {
  assert.deepEqual(actual.manifest(), expected.manifest());
  for (const name of expected.names()) {
    const a = actual.get(name)!;
    const e = expected.get(name)!;
    assert.equal(a.data.constructor, e.data.constructor, name);
    // Compare bit patterns, so -0, NaN payloads and infinities round-trip exactly.
    assert.deepEqual(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength), Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength), name);
  }
  assert.deepEqual(actual.metadata, expected.metadata);
}

describe('safetensors known-answer file (test/vectors/safetensors/known-answer.safetensors)', () => {
  // Provenance: the file was written by test/vectors/safetensors/make_vectors.py (NumPy, an
  // implementation independent of tensors.ts). Here the same file is rebuilt byte by byte from the
  // format description, so the vector, the spec reading and the codec check one another.
  const header =
    '{"__metadata__":{"format":"tessera-kat","source":"numpy"},' +
    '"scale":{"dtype":"F64","shape":[],"data_offsets":[0,8]},' +
    '"weight":{"dtype":"F64","shape":[2,2],"data_offsets":[8,40]},' +
    '"bias":{"dtype":"F32","shape":[3],"data_offsets":[40,52]},' +
    '"empty":{"dtype":"F32","shape":[0,4],"data_offsets":[52,52]}}';
  const hex = (s: string): number[] => s.split(' ').map((b) => parseInt(b, 16));
  const expected = Uint8Array.from([
    // N = 294 bytes of JSON + 2 spaces of padding = 296 = 0x128, little-endian u64
    ...hex('28 01 00 00 00 00 00 00'),
    ...Buffer.from(header, 'ascii'),
    0x20, 0x20,
    ...hex('00 00 00 00 00 00 08 40'), // scale: 3.0 = 0x4008000000000000
    ...hex('00 00 00 00 00 00 d0 3f'), // weight[0][0]: 0.25 = 0x3FD0000000000000
    ...hex('00 00 00 00 00 00 f0 bf'), // weight[0][1]: -1.0 = 0xBFF0000000000000
    ...hex('59 f3 f8 c2 1f 6e a5 01'), // weight[1][0]: 1e-300 = 0x01A56E1FC2F8F359
    ...hex('00 00 00 00 00 fc ef 40'), // weight[1][1]: 65504.0 = 0x40EFFC0000000000
    ...hex('00 00 c0 3f'), // bias[0]: 1.5 = 0x3FC00000
    ...hex('00 00 00 c0'), // bias[1]: -2.0 = 0xC0000000
    ...hex('00 00 00 00'), // bias[2]: 0.0
  ]);
  const want = new TensorSet(
    new Map<string, Tensor>([
      ['bias', { dtype: 'F32', shape: [3], data: Float32Array.of(1.5, -2, 0) }],
      ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
      ['scale', { dtype: 'F64', shape: [], data: Float64Array.of(3) }],
      ['weight', { dtype: 'F64', shape: [2, 2], data: Float64Array.of(0.25, -1, 1e-300, 65504) }],
    ]),
    { format: 'tessera-kat', source: 'numpy' },
  );

  test('the committed vector is exactly the bytes the spec prescribes', () => {
    assert.equal(Buffer.from(header).length, 294);
    assert.deepEqual(new Uint8Array(readFileSync(VECTOR)), expected);
  });

  test('parsing it gives the known tensors, metadata and counts', () => {
    const set = TensorSet.parseSafetensors(readFileSync(VECTOR));
    assertSameSet(set, want);
    assert.deepEqual(set.names(), ['bias', 'empty', 'scale', 'weight']);
    assert.equal(set.size, 4);
    assert.equal(set.parameterCount, 3 + 0 + 1 + 4);
    assert.equal(set.byteLength, 52);
  });

  test('encoding the known tensors reproduces the vector byte for byte', () => {
    assert.deepEqual(new Uint8Array(want.toSafetensors()), expected);
  });
});

describe('safetensors round trips', () => {
  const cases: [string, Record<string, Tensor>, Record<string, string>?][] = [
    ['one float32 vector', { w: { dtype: 'F32', shape: [5], data: Float32Array.of(1, -2.5, 3e-38, 1e38, -0) } }],
    ['float64 matrix and float32 odd-length vector (alignment)', {
      a: { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2, 3) },
      b: { dtype: 'F64', shape: [2, 3], data: Float64Array.of(0.1, 0.2, 0.3, -1e300, 5e-324, 7) },
    }],
    ['empty tensor', { e: { dtype: 'F64', shape: [3, 0], data: new Float64Array(0) } }],
    ['scalar shape []', { s: { dtype: 'F32', shape: [], data: Float32Array.of(42) } }],
    ['NaN and infinities pass the codec', { x: { dtype: 'F64', shape: [3], data: Float64Array.of(NaN, Infinity, -Infinity) } }],
    ['rank-4 tensor', { conv: { dtype: 'F32', shape: [2, 1, 2, 2], data: Float32Array.from({ length: 8 }, (_, i) => i / 8) } }],
    ['no tensors at all', {}],
    ['unicode names and metadata', { 'layer.0/κ': { dtype: 'F32', shape: [1], data: Float32Array.of(1) } }, { note: 'ünïcode' }],
  ];
  for (const [name, tensors, metadata] of cases) {
    test(name, () => {
      const set = new TensorSet(new Map(Object.entries(tensors)), metadata);
      const bytes = set.toSafetensors();
      assert.equal(bytes.readBigUInt64LE(0) % 8n, 0n, 'data section starts 8-byte aligned');
      assertSameSet(TensorSet.parseSafetensors(bytes), set);
    });
  }

  test('property: any set of float32/float64 tensors survives encode then decode', () => {
    const tensor = fc.oneof(
      fc.array(fc.nat(4), { maxLength: 3 }).chain((shape) => {
        const n = shape.reduce((p, d) => p * d, 1);
        return fc.oneof(
          fc.array(fc.float(), { minLength: n, maxLength: n }).map((v): Tensor => ({ dtype: 'F32', shape, data: Float32Array.from(v) })),
          fc.array(fc.double(), { minLength: n, maxLength: n }).map((v): Tensor => ({ dtype: 'F64', shape, data: Float64Array.from(v) })),
        );
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((s) => s !== '__metadata__'), tensor, { maxKeys: 5 }), (record) => {
        const set = new TensorSet(new Map(Object.entries(record)));
        assertSameSet(TensorSet.parseSafetensors(set.toSafetensors()), set);
      }),
      { numRuns: 200 },
    );
  });

  test('aligned input is viewed without a copy; unaligned input is copied and still correct', () => {
    const set = TensorSet.from({ w: Float32Array.of(1, 2, 3), v: Float64Array.of(4, 5) });
    const bytes = set.toSafetensors();
    const aligned = new Uint8Array(new ArrayBuffer(bytes.length));
    aligned.set(bytes);
    const viewed = TensorSet.parseSafetensors(aligned);
    assert.equal(viewed.get('w')!.data.buffer, aligned.buffer, 'zero-copy view');
    assert.equal(viewed.get('v')!.data.buffer, aligned.buffer, 'zero-copy view');

    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    const copied = TensorSet.parseSafetensors(shifted);
    assert.notEqual(copied.get('w')!.data.buffer, shifted.buffer, 'copied');
    assertSameSet(copied, set);
  });

  test('a file whose header is padded with extra spaces and keys in any order parses', () => {
    const header = JSON.stringify({ b: { dtype: 'F64', shape: [1], data_offsets: [4, 12] }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }) + '     ';
    const set = TensorSet.parseSafetensors(file(header, Buffer.concat([f32(7), f64(9)])));
    assert.deepEqual(set.names(), ['a', 'b']);
    assert.equal(set.get('a')!.data[0], 7);
    assert.equal(set.get('b')!.data[0], 9);
  });

  test('safetensorsChunks concatenate to toSafetensors', () => {
    const set = TensorSet.from({ w: Float32Array.of(1, 2), v: Float64Array.of(3) });
    assert.deepEqual(Buffer.concat(set.safetensorsChunks()), set.toSafetensors());
  });
});

describe('malformed safetensors: each a BadInputError naming what and where', () => {
  const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const cases: [string, Uint8Array, string, RegExp][] = [
    ['empty input', new Uint8Array(0), 'header length', /truncated file/],
    ['fewer than 8 bytes', new Uint8Array(5), 'header length', /truncated file: 5 bytes/],
    ['header length beyond the file', file({ w: ok }, f32(1, 2), 1000n), 'header length', /header length 1000 is beyond the file/],
    ['header length of 2^64-1', file({}, undefined, 2n ** 64n - 1n), 'header length', /beyond the file/],
    ['header not UTF-8', file('\u0000', undefined).map((b, i) => (i === 8 ? 0xff : b)), 'header', /not valid UTF-8/],
    ['header not JSON', file('{"w": ', undefined), 'header', /header is not JSON/],
    ['header an array', file([1, 2]), 'header', /must be a JSON object.*an array/],
    ['header null', file('null'), 'header', /must be a JSON object.*null/],
    ['tensor entry not an object', file({ w: [1] }), 'w', /entry must be an object/],
    ['unsupported dtype F16', file({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), 'w', /unsupported dtype "F16".*safetensors dtype.*F32 and F64/],
    ['unsupported dtype BF16', file({ w: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), 'w', /unsupported dtype "BF16".*F32 and F64/],
    ['unsupported dtype I64', file({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), 'w', /unsupported dtype "I64"/],
    ['unknown dtype', file({ w: { dtype: 'float', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), 'w', /unsupported dtype "float"; Tessera supports F32 and F64/],
    ['negative dimension', file({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }), 'w', /non-negative integers.*dimension 0 is -1/],
    ['fractional dimension', file({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 6] } }, new Uint8Array(6)), 'w', /dimension 0 is 1.5/],
    ['shape not a list', file({ w: { dtype: 'F32', shape: 2, data_offsets: [0, 8] } }, new Uint8Array(8)), 'w', /shape must be a list/],
    ['data_offsets missing', file({ w: { dtype: 'F32', shape: [2] } }, new Uint8Array(8)), 'w', /data_offsets must be \[begin, end\]/],
    ['data_offsets reversed', file({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, new Uint8Array(8)), 'w', /data_offsets \[8, 0\].*needs 8/],
    ['data_offsets too short for shape', file({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(20)), 'w', /span 20 bytes, but shape \[2, 3\] of F32 needs 24/],
    ['data_offsets sized for F32 but dtype F64', file({ w: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)), 'w', /of F64 needs 16/],
    ['truncated data section', file({ w: ok }, f32(1)), 'w', /truncated file: data_offsets end at 8, but the data section holds 4/],
    ['overlapping tensors', file({ a: ok, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), 'b', /overlaps tensor "a"/],
    ['hole between tensors', file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(12)), 'b', /hole in the data section: bytes 4..8.*between "a" and "b"/],
    ['hole at the start', file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), 'a', /hole in the data section: bytes 0..4/],
    ['trailing bytes after the last tensor', file({ w: ok }, new Uint8Array(12)), 'w', /holds 12 bytes, but the tensors cover only 8/],
    ['metadata not an object', file({ __metadata__: 'x' }), '__metadata__', /must be an object/],
    ['metadata value not a string', file({ __metadata__: { epochs: 3 } }), '__metadata__', /"epochs" is 3/],
    ['empty tensor name', file({ '': ok }, new Uint8Array(8)), 'header', /name must not be empty/],
  ];
  for (const [name, bytes, where, message] of cases) {
    test(name, () => {
      assert.throws(
        () => TensorSet.parseSafetensors(bytes),
        (err: unknown) => {
          assert.ok(err instanceof BadInputError, `BadInputError, got ${String(err)}`);
          assert.equal(err.where, where);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  const limits: [string, Uint8Array, { maxTensors?: number; maxHeaderBytes?: number }, RegExp][] = [
    ['more tensors than maxTensors', TensorSet.from({ a: Float32Array.of(1), b: Float32Array.of(2), c: Float32Array.of(3) }).toSafetensors(), { maxTensors: 2 }, /3 tensors exceed the limit of 2/],
    ['header larger than maxHeaderBytes', TensorSet.from({ a: Float32Array.of(1) }).toSafetensors(), { maxHeaderBytes: 16 }, /exceeds the limit of 16/],
  ];
  for (const [name, bytes, limit, message] of limits) {
    test(`limit: ${name} is a TooLargeError`, () => {
      assert.throws(() => TensorSet.parseSafetensors(bytes, limit), (err: unknown) => err instanceof TooLargeError && message.test(err.message));
      assert.doesNotThrow(() => TensorSet.parseSafetensors(bytes));
    });
  }
});

describe('TensorSet from and to JSON', () => {
  test('a list is a float64 vector, nested lists infer the shape, a number is a scalar, {dtype, shape, data} is explicit', () => {
    const set = TensorSet.fromJson(
      { v: [1, 2, 3], m: [[1, 2], [3, 4], [5, 6]], s: 2.5, e: { dtype: 'F32', shape: [2, 2], data: [0.5, 1, 1.5, 2] } },
      'kwargs.data.tensors',
    );
    assert.deepEqual(set.manifest(), [
      { name: 'e', dtype: 'F32', shape: [2, 2] },
      { name: 'm', dtype: 'F64', shape: [3, 2] },
      { name: 's', dtype: 'F64', shape: [] },
      { name: 'v', dtype: 'F64', shape: [3] },
    ]);
    assert.deepEqual(Array.from(set.get('m')!.data), [1, 2, 3, 4, 5, 6]);
    assert.ok(set.get('e')!.data instanceof Float32Array);
    assert.deepEqual(set.toJson().m, { dtype: 'F64', shape: [3, 2], data: [1, 2, 3, 4, 5, 6] });
  });

  test('toJson then fromJson is the identity', () => {
    const set = TensorSet.from({ w: Float32Array.of(0.25, -3), b: { dtype: 'F64', shape: [1, 1], data: Float64Array.of(1e-9) } });
    assertSameSet(TensorSet.fromJson(JSON.parse(JSON.stringify(set.toJson())), 'x'), set);
  });

  test('a TensorSet passes through fromJson', () => {
    const set = TensorSet.from({ w: Float32Array.of(1) });
    assert.equal(TensorSet.fromJson(set, 'x'), set);
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['not an object', [1, 2], 'data.tensors', /object of named tensors/],
    ['ragged nested arrays', { m: [[1, 2], [3]] }, 'data.tensors.m', /rectangular.*\[1\]/],
    ['a string inside', { v: [1, 'two'] }, 'data.tensors.v', /expected a number at \[1\]/],
    ['a boolean tensor', { v: true }, 'data.tensors.v', /a tensor is a list of numbers/],
    ['explicit form with wrong count', { v: { dtype: 'F64', shape: [2, 2], data: [1, 2, 3] } }, 'data.tensors.v.data', /needs 4 values, got 3/],
    ['explicit form with F16', { v: { dtype: 'F16', shape: [1], data: [1] } }, 'data.tensors.v.dtype', /unsupported dtype "F16"/],
    ['explicit form with negative shape', { v: { dtype: 'F32', shape: [-2], data: [] } }, 'data.tensors.v.shape', /dimension 0 is -2/],
    ['float32 overflow', { v: { dtype: 'F32', shape: [1], data: [1e39] } }, 'data.tensors.v.data', /outside the float32 range/],
    ['reserved name', { __metadata__: [1] }, 'data.tensors.__metadata__', /reserved/],
  ];
  for (const [name, value, where, message] of bad) {
    test(`refused: ${name}`, () => {
      assert.throws(
        () => TensorSet.fromJson(value, 'data.tensors'),
        (err: unknown) => err instanceof BadInputError && err.where === where && message.test(err.message),
      );
    });
  }

  test('the constructor checks data against dtype and shape', () => {
    assert.throws(
      () => new TensorSet(new Map([['w', { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2) }]])),
      (err: unknown) => err instanceof BadInputError && err.where === 'w' && /needs 3 values, got 2/.test(err.message),
    );
    assert.throws(
      () => new TensorSet(new Map([['w', { dtype: 'F64', shape: [1], data: Float32Array.of(1) } as Tensor]])),
      (err: unknown) => err instanceof BadInputError && err.where === 'w' && /Float64Array/.test(err.message),
    );
  });
});
