// Named tensors and their safetensors codec.
//
// The safetensors format (https://github.com/huggingface/safetensors, README "Format"):
//   - 8 bytes: N, an unsigned little-endian 64-bit integer, the size of the header;
//   - N bytes: a UTF-8 JSON object `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?:
//     {string: string}}`, which writers may pad with trailing spaces (0x20);
//   - the rest: the byte buffer, raw little-endian values; offsets are relative to its start, and the
//     tensors must neither overlap nor leave holes ("the byte buffer needs to be entirely indexed").
//
// Tessera carries float32 and float64 tensors only (the protocols encode reals into a ring); every
// other safetensors dtype is refused with a message that names it. NaN and ±Inf pass the codec: the
// protocols reject them later, naming the party that gave them.

import { MAX_JSON_DEPTH, nestedDeeperThan } from './json.js';
import { BadInputError, ConflictError, TooLargeError } from './errors.js';

/**
 * An untrusted value in an error message: JSON, cut to a few hundred characters, and never a
 * deep recursion (a shape nested 100 000 levels deep must not overflow the stack).
 */
function quote(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? 'a deeply nested list' : typeof value;
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export type DType = 'F32' | 'F64';
export const DTYPES: readonly DType[] = ['F32', 'F64'];

/** Every dtype the safetensors format defines; those Tessera does not carry get a precise refusal. */
const SAFETENSORS_DTYPES = new Set([
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'I16', 'U16',
  'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64', 'C64',
]);

export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Row-major (C order) values; its length is the product of `shape` (1 for the scalar shape []). */
  readonly data: Float32Array | Float64Array;
}

export interface SafetensorsLimits {
  /** Most tensors one file may hold (default 100 000). Exceeding it is a TooLargeError. */
  maxTensors?: number;
  /** Largest JSON header accepted (default 100 MB, the reference implementation's own cap). */
  maxHeaderBytes?: number;
}

export const DEFAULT_MAX_TENSORS = 100_000;
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

/** The header key that holds free-form string metadata rather than a tensor. */
const METADATA_KEY = '__metadata__';

// Probed with typed arrays rather than node:os, so the codec also runs in browsers (the TypeScript
// client bundles it); everything below except toSafetensors() needs no Node API.
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const utf8 = new TextEncoder();

export function bytesPerElement(dtype: DType): 4 | 8 {
  return dtype === 'F32' ? 4 : 8;
}

/** Names in the byte order of their UTF-8 encoding, the order the reference implementation uses. */
function compareNames(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * The number of elements of `shape`, checked to be a list of non-negative safe integers whose product
 * is a safe integer; `where` names the tensor.
 */
function elementCount(shape: unknown, where: string): number {
  if (!Array.isArray(shape)) {
    throw new BadInputError(`shape must be a list of non-negative integers, got ${quote(shape)}`, { where });
  }
  let count = 1;
  for (const [i, dim] of shape.entries()) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new BadInputError(
        `shape must be a list of non-negative integers, but dimension ${i} is ${quote(dim)}`,
        { where },
      );
    }
    count *= dim;
    if (!Number.isSafeInteger(count)) {
      throw new BadInputError(`shape ${describeShape(shape as number[])} has too many elements`, { where });
    }
  }
  return count;
}

function checkDType(dtype: unknown, where: string): DType {
  if (dtype === 'F32' || dtype === 'F64') return dtype;
  const known = typeof dtype === 'string' && SAFETENSORS_DTYPES.has(dtype);
  throw new BadInputError(
    `unsupported dtype ${quote(dtype)}${known ? ' (a safetensors dtype Tessera does not carry)' : ''}; ` +
      `Tessera supports ${DTYPES.join(' and ')} only (convert to float32 or float64 first)`,
    { where },
  );
}

function checkName(name: string, where: string): void {
  if (name.length === 0) throw new BadInputError('a tensor name must not be empty', { where });
  if (name === METADATA_KEY) {
    throw new BadInputError(`"${METADATA_KEY}" is reserved by safetensors for metadata, not a tensor name`, { where });
  }
}

/** A Float32Array/Float64Array over `bytes`, without copying when the bytes are suitably aligned. */
function viewOrCopy(bytes: Uint8Array, start: number, count: number, dtype: DType): Float32Array | Float64Array {
  const width = bytesPerElement(dtype);
  const Ctor = dtype === 'F32' ? Float32Array : Float64Array;
  const absolute = bytes.byteOffset + start;
  if (LITTLE_ENDIAN_HOST && absolute % width === 0) {
    return dtype === 'F32' ? new Float32Array(bytes.buffer, absolute, count) : new Float64Array(bytes.buffer, absolute, count);
  }
  const out = new Ctor(count);
  if (LITTLE_ENDIAN_HOST) {
    // Unaligned: one copy into fresh (aligned) memory, then a native view of it.
    new Uint8Array(out.buffer).set(bytes.subarray(start, start + count * width));
  } else {
    const view = new DataView(bytes.buffer, absolute, count * width);
    for (let i = 0; i < count; i++) out[i] = width === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
  }
  return out;
}

/** The little-endian bytes of a tensor's data (a view on little-endian hosts, a copy elsewhere). */
function littleEndianBytes(data: Float32Array | Float64Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  const width = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) {
    if (width === 4) view.setFloat32(i * 4, data[i]!, true);
    else view.setFloat64(i * 8, data[i]!, true);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** Shape and flat row-major values of a nested rectangular array of numbers. */
function flattenNested(value: unknown[], where: string): { shape: number[]; values: number[] } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: number[] = [];
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number') {
        throw new BadInputError(`expected a number at ${path || 'the top'}, got ${quote(node) ?? typeof node}`, { where });
      }
      values.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new BadInputError(
        `nested arrays must be rectangular: expected ${shape[depth]} items at ${path || 'the top'} (shape ${describeShape(shape)})`,
        { where },
      );
    }
    node.forEach((child, i) => walk(child, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, '');
  return { shape, values };
}

function toFloatArray(values: ArrayLike<number>, dtype: DType, where: string): Float32Array | Float64Array {
  const out = dtype === 'F32' ? new Float32Array(values.length) : new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw new BadInputError(`element ${i} is not a number`, { where });
    out[i] = v;
    // A finite value too large for float32 would silently become ±Inf; say so instead.
    if (dtype === 'F32' && Number.isFinite(v) && !Number.isFinite(out[i]!)) {
      throw new BadInputError(`element ${i} (${v}) is outside the float32 range`, { where });
    }
  }
  return out;
}

/**
 * An immutable set of named float tensors (a model's weights, a protocol's input or result), with an
 * optional free-form string metadata map, as in a safetensors file. Immutable until a computation
 * consumes it (consume): then it may not be used again.
 */
export class TensorSet {
  readonly #tensors: ReadonlyMap<string, Tensor>;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** Number of tensors. */
  readonly size: number;
  /** Total number of scalar values over all tensors. */
  readonly parameterCount: number;
  /** Total bytes of tensor data (the safetensors data section). */
  readonly byteLength: number;
  /** What consumed the buffers, if anything did (consume). */
  #consumedBy: string | undefined;

  constructor(tensors: ReadonlyMap<string, Tensor>, metadata?: Record<string, string>) {
    let parameters = 0;
    let bytes = 0;
    const ordered = new Map<string, Tensor>();
    for (const name of [...tensors.keys()].sort(compareNames)) {
      const tensor = tensors.get(name)!;
      checkName(name, name);
      const dtype = checkDType(tensor.dtype, name);
      const count = elementCount(tensor.shape, name);
      const expected = dtype === 'F32' ? Float32Array : Float64Array;
      if (!(tensor.data instanceof expected)) {
        throw new BadInputError(`dtype ${dtype} needs its data in a ${expected.name}`, { where: name });
      }
      if (tensor.data.length !== count) {
        throw new BadInputError(
          `shape ${describeShape(tensor.shape)} needs ${count} values, got ${tensor.data.length}`,
          { where: name },
        );
      }
      ordered.set(name, Object.freeze({ dtype, shape: Object.freeze([...tensor.shape]), data: tensor.data }));
      parameters += count;
      bytes += count * bytesPerElement(dtype);
    }
    if (metadata !== undefined) {
      for (const [key, value] of Object.entries(metadata)) {
        if (typeof value !== 'string') {
          throw new BadInputError(`metadata values must be strings, "${key}" is ${typeof value}`, { where: METADATA_KEY });
        }
      }
      this.metadata = Object.freeze({ ...metadata });
    } else {
      this.metadata = undefined;
    }
    this.#tensors = ordered;
    this.size = ordered.size;
    this.parameterCount = parameters;
    this.byteLength = bytes;
  }

  /** One-dimensional tensors from named typed arrays, or full Tensor objects. */
  static from(tensors: Readonly<Record<string, Float32Array | Float64Array | Tensor>>, metadata?: Record<string, string>): TensorSet {
    const map = new Map<string, Tensor>();
    for (const [name, value] of Object.entries(tensors)) {
      if (value instanceof Float32Array) map.set(name, { dtype: 'F32', shape: [value.length], data: value });
      else if (value instanceof Float64Array) map.set(name, { dtype: 'F64', shape: [value.length], data: value });
      else map.set(name, value);
    }
    return new TensorSet(map, metadata);
  }

  /**
   * Decode a safetensors file. Tensor data are zero-copy views on `bytes` where they are aligned to
   * their element size (so the caller must not reuse `bytes` afterwards), copies otherwise.
   */
  static parseSafetensors(bytes: Uint8Array, limits: SafetensorsLimits = {}): TensorSet {
    const maxTensors = limits.maxTensors ?? DEFAULT_MAX_TENSORS;
    const maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    if (bytes.length < 8) {
      throw new BadInputError(
        `truncated file: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length`,
        { where: 'header length' },
      );
    }
    const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (declared > BigInt(bytes.length - 8)) {
      throw new BadInputError(
        `header length ${declared} is beyond the file (${bytes.length - 8} bytes follow the length prefix)`,
        { where: 'header length' },
      );
    }
    const headerLength = Number(declared);
    if (headerLength > maxHeaderBytes) {
      throw new TooLargeError(`header of ${headerLength} bytes exceeds the limit of ${maxHeaderBytes}`, { where: 'header' });
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    } catch {
      throw new BadInputError('header is not valid UTF-8', { where: 'header' });
    }
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch (err) {
      throw new BadInputError(`header is not JSON: ${(err as Error).message}`, { where: 'header' });
    }
    if (nestedDeeperThan(header, MAX_JSON_DEPTH)) {
      throw new BadInputError(`header is nested deeper than ${MAX_JSON_DEPTH} levels`, { where: 'header' });
    }
    if (!isPlainObject(header)) {
      throw new BadInputError(
        `header must be a JSON object of tensors, got ${Array.isArray(header) ? 'an array' : header === null ? 'null' : typeof header}`,
        { where: 'header' },
      );
    }

    let metadata: Record<string, string> | undefined;
    const rawMetadata = header[METADATA_KEY];
    if (rawMetadata !== undefined) {
      if (!isPlainObject(rawMetadata)) {
        throw new BadInputError('__metadata__ must be an object of string values', { where: METADATA_KEY });
      }
      metadata = {};
      for (const [key, value] of Object.entries(rawMetadata)) {
        if (typeof value !== 'string') {
          throw new BadInputError(`__metadata__ values must be strings, "${key}" is ${quote(value)}`, { where: METADATA_KEY });
        }
        metadata[key] = value;
      }
    }

    const names = Object.keys(header).filter((k) => k !== METADATA_KEY);
    if (names.length > maxTensors) {
      throw new TooLargeError(`${names.length} tensors exceed the limit of ${maxTensors}`, { where: 'header' });
    }
    const dataStart = 8 + headerLength;
    const dataLength = bytes.length - dataStart;
    const entries: { name: string; dtype: DType; shape: number[]; count: number; begin: number; end: number }[] = [];
    for (const name of names) {
      const entry = header[name];
      if (name.length === 0) throw new BadInputError('a tensor name must not be empty', { where: 'header' });
      if (!isPlainObject(entry)) {
        throw new BadInputError('a tensor entry must be an object {dtype, shape, data_offsets}', { where: name });
      }
      const dtype = checkDType(entry.dtype, name);
      const count = elementCount(entry.shape, name);
      const offsets = entry.data_offsets;
      if (
        !Array.isArray(offsets) || offsets.length !== 2 ||
        !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
      ) {
        throw new BadInputError(
          `data_offsets must be [begin, end], two non-negative integers, got ${quote(offsets)}`,
          { where: name },
        );
      }
      const [begin, end] = offsets as [number, number];
      const needed = count * bytesPerElement(dtype);
      if (end < begin || end - begin !== needed) {
        throw new BadInputError(
          `data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape ${describeShape(entry.shape as number[])} ` +
            `of ${dtype} needs ${needed}`,
          { where: name },
        );
      }
      if (end > dataLength) {
        throw new BadInputError(
          `truncated file: data_offsets end at ${end}, but the data section holds ${dataLength} bytes`,
          { where: name },
        );
      }
      entries.push({ name, dtype, shape: entry.shape as number[], count, begin, end });
    }

    // The tensors must tile the data section exactly: sorted by offset, each begins where the
    // previous one ended, the first at 0 and the last at the end (no overlap, no hole, no trailer).
    const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
    let cursor = 0;
    let previous: string | undefined;
    for (const e of byOffset) {
      if (e.begin < cursor) {
        throw new BadInputError(`overlaps tensor "${previous}": begins at ${e.begin}, before ${cursor}`, { where: e.name });
      }
      if (e.begin > cursor) {
        throw new BadInputError(
          `hole in the data section: bytes ${cursor}..${e.begin} belong to no tensor` +
            (previous === undefined ? '' : ` (between "${previous}" and "${e.name}")`),
          { where: e.name },
        );
      }
      cursor = e.end;
      previous = e.name;
    }
    if (cursor !== dataLength) {
      throw new BadInputError(
        `the data section holds ${dataLength} bytes, but the tensors cover only ${cursor}` +
          ' (trailing bytes belong to no tensor)',
        { where: previous ?? 'header' },
      );
    }

    const tensors = new Map<string, Tensor>();
    for (const e of entries) {
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: viewOrCopy(bytes, dataStart + e.begin, e.count, e.dtype) });
    }
    return new TensorSet(tensors, metadata);
  }

  /**
   * The safetensors encoding as a list of chunks (header, then each tensor's bytes), so a server can
   * stream a large model without assembling one more copy of it.
   *
   * Layout as the reference implementation writes it (safetensors `tensor.rs`, `prepare`): data
   * ordered by dtype alignment, largest first, then by name, so every tensor is aligned to its
   * element size and reads back zero-copy; header keys in that same order with `__metadata__` first;
   * the header padded with spaces so the data section starts at a multiple of 8.
   */
  safetensorsChunks(): Uint8Array[] {
    const order = this.names().sort(
      (a, b) => bytesPerElement(this.#tensors.get(b)!.dtype) - bytesPerElement(this.#tensors.get(a)!.dtype) || compareNames(a, b),
    );
    const header: Record<string, unknown> = {};
    if (this.metadata !== undefined) header[METADATA_KEY] = this.metadata;
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const name of order) {
      const t = this.#tensors.get(name)!;
      header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
      offset += t.data.byteLength;
      chunks.push(littleEndianBytes(t.data));
    }
    const json = utf8.encode(JSON.stringify(header));
    const padded = json.length + ((8 - (json.length % 8)) % 8);
    const head = new Uint8Array(8 + padded).fill(0x20);
    new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
    head.set(json, 8);
    return [head, ...chunks];
  }

  /** The whole safetensors file in one buffer (Node; in a browser, `new Blob(safetensorsChunks())`). */
  toSafetensors(): Buffer {
    return Buffer.concat(this.safetensorsChunks());
  }

  /**
   * Tensors from JSON: `{name: number[]}` (a float64 vector), `{name: nested rectangular arrays}`
   * (float64, shape inferred), `{name: number}` (a float64 scalar, shape []), or
   * `{name: {dtype, shape, data}}` with `data` flat in row-major order. A TensorSet passes through.
   * `where` is the field path of `value`, prefixed to the tensor names in errors.
   */
  static fromJson(value: unknown, where: string): TensorSet {
    if (value instanceof TensorSet) return value;
    if (!isPlainObject(value)) {
      throw new BadInputError('expected an object of named tensors', { where });
    }
    const tensors = new Map<string, Tensor>();
    for (const [name, raw] of Object.entries(value)) {
      const at = `${where}.${name}`;
      checkName(name, at);
      if (typeof raw === 'number') {
        tensors.set(name, { dtype: 'F64', shape: [], data: Float64Array.of(raw) });
      } else if (Array.isArray(raw)) {
        const { shape, values } = flattenNested(raw, at);
        tensors.set(name, { dtype: 'F64', shape, data: toFloatArray(values, 'F64', at) });
      } else if (isPlainObject(raw)) {
        const dtype = checkDType(raw.dtype ?? 'F64', `${at}.dtype`);
        const count = elementCount(raw.shape, `${at}.shape`);
        if (!Array.isArray(raw.data)) {
          throw new BadInputError('data must be a flat list of numbers in row-major order', { where: `${at}.data` });
        }
        if (raw.data.length !== count) {
          throw new BadInputError(
            `shape ${describeShape(raw.shape as number[])} needs ${count} values, got ${raw.data.length}`,
            { where: `${at}.data` },
          );
        }
        tensors.set(name, { dtype, shape: raw.shape as number[], data: toFloatArray(raw.data, dtype, `${at}.data`) });
      } else {
        throw new BadInputError(
          'a tensor is a list of numbers, nested lists, a number, or {dtype, shape, data}',
          { where: at },
        );
      }
    }
    const set = new TensorSet(tensors);
    return set;
  }

  /** JSON form with explicit dtype and shape (NaN and ±Inf have no JSON form and become null). */
  toJson(): Record<string, { dtype: DType; shape: number[]; data: number[] }> {
    const out: Record<string, { dtype: DType; shape: number[]; data: number[] }> = {};
    for (const [name, t] of this.#tensors) out[name] = { dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data) };
    return out;
  }

  /** Tensor names in UTF-8 byte order. */
  names(): string[] {
    return [...this.#tensors.keys()];
  }

  get(name: string): Tensor | undefined {
    return this.#tensors.get(name);
  }

  has(name: string): boolean {
    return this.#tensors.has(name);
  }

  [Symbol.iterator](): IterableIterator<[string, Tensor]> {
    return this.#tensors.entries();
  }

  /**
   * Gives the tensors' buffers to a computation that writes its result into them (SecureFedAvg
   * averages in place: services/fedavg/protocol.ts outputStorage). The set is immutable until then;
   * afterwards its values are no longer the ones given, so every later use is refused (ensureUsable)
   * rather than read as if they were. A second consumer is refused at once.
   */
  consume(by: string, where: string): void {
    this.ensureUsable(where);
    this.#consumedBy = by;
  }

  /** Throws a ConflictError (409) naming `where` when a computation has consumed this set. */
  ensureUsable(where: string): void {
    if (this.#consumedBy === undefined) return;
    throw new ConflictError(`these tensors were consumed by ${this.#consumedBy}, which wrote its result into their buffers; upload the model again to use it again`, { where });
  }

  /** What parties compare before a joint computation: names, dtypes and shapes, no values. */
  manifest(): { name: string; dtype: DType; shape: number[] }[] {
    return [...this.#tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] }));
  }
}
