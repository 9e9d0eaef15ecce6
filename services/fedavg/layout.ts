// The shape of a FedAvg computation: the tensor manifest every party must agree on, and how the
// model's elements are laid out as one flat vector, split into one segment per party (the
// reduce-scatter owner) and streamed in fixed-size chunks.
//
// Tensors are laid out in the TensorSet's canonical order (names in UTF-8 byte order), so parties
// whose files list tensors in different orders still agree element by element.

import { BadInputError, ConflictError, PeerError, TooLargeError } from '../errors.js';
import type { DType, TensorSet } from '../common/tensors.js';
import type { FloatArray } from '../common/vector.js';

export interface ManifestEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}
export type Manifest = readonly ManifestEntry[];

export const MAX_MANIFEST_TENSORS = 100_000;

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function utf8Order(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function manifestOf(tensors: TensorSet): Manifest {
  return tensors.manifest();
}

/**
 * A manifest from untrusted JSON: `[{name, dtype, shape}]` (TensorSet.manifest()) or a safetensors
 * header object `{name: {dtype, shape, ...}}`. `fail` builds the error (BadInputError for a client's
 * value, PeerError for a peer's message), `where` names the field or party.
 */
export function parseManifest(value: unknown, where: string, fail: (message: string) => Error = (m) => new BadInputError(m, { where })): Manifest {
  let entries: unknown[];
  if (Array.isArray(value)) entries = value;
  else if (typeof value === 'object' && value !== null) {
    entries = Object.entries(value)
      .filter(([name]) => name !== '__metadata__')
      .map(([name, v]) => (typeof v === 'object' && v !== null ? { ...(v as object), name } : { name }));
  } else throw fail('a manifest is a list of {name, dtype, shape} or an object {name: {dtype, shape}}');
  if (entries.length === 0) throw fail('a model needs at least one tensor');
  if (entries.length > MAX_MANIFEST_TENSORS) throw fail(`at most ${MAX_MANIFEST_TENSORS} tensors`);
  const seen = new Set<string>();
  const out: ManifestEntry[] = entries.map((raw, i) => {
    const e = raw as Record<string, unknown>;
    const { name, dtype, shape } = e;
    if (typeof name !== 'string' || name.length === 0) throw fail(`tensor ${i} has no name`);
    if (seen.has(name)) throw fail(`tensor "${name}" is listed twice`);
    seen.add(name);
    if (dtype !== 'F32' && dtype !== 'F64') throw fail(`tensor "${name}": dtype must be F32 or F64, got ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw fail(`tensor "${name}": shape must be a list of non-negative integers`);
    }
    return { name, dtype, shape: [...(shape as number[])] };
  });
  return out.sort((a, b) => utf8Order(a.name, b.name));
}

/** Default bound on a model's declared size (its tensors' bytes in their own dtypes): 512 MiB. */
export const DEFAULT_MAX_MODEL_BYTES = 512 * 1024 * 1024;

/**
 * Refuses a manifest declaring more than `maxBytes` (413) before anything is allocated for it: a
 * few hundred bytes of JSON can declare a model of any size, and setup expands masks for all of it.
 */
export function checkModelSize(manifest: Manifest, maxBytes: number, where: string): void {
  let bytes = 0;
  for (const e of manifest) {
    let elements = 1;
    for (const d of e.shape) elements *= d;
    bytes += elements * (e.dtype === 'F32' ? 4 : 8);
    if (!(bytes <= maxBytes)) {
      throw new TooLargeError(`the model declares more than ${maxBytes} bytes (at tensor "${e.name}"); this server's limit is --max-model-bytes`, {
        where,
        extra: { tensor: e.name, limit: maxBytes },
      });
    }
  }
}

/**
 * The first difference between this party's manifest and party `party`'s, as a ConflictError that
 * names the tensor and the party, or undefined when they agree.
 */
export function compareManifests(mine: Manifest, theirs: Manifest, party: string, partyIndex: number): ConflictError | undefined {
  const theirsByName = new Map(theirs.map((e) => [e.name, e]));
  const problems: { tensor: string; message: string }[] = [];
  for (const e of mine) {
    const t = theirsByName.get(e.name);
    if (t === undefined) {
      problems.push({ tensor: e.name, message: `tensor "${e.name}" is missing at ${party}` });
    } else if (t.dtype !== e.dtype) {
      problems.push({ tensor: e.name, message: `tensor "${e.name}" is ${t.dtype} at ${party}, ${e.dtype} here` });
    } else if (describeShape(t.shape) !== describeShape(e.shape)) {
      problems.push({
        tensor: e.name,
        message: `tensor "${e.name}" has shape ${describeShape(t.shape)} at ${party}, ${describeShape(e.shape)} here`,
      });
    }
  }
  const mineNames = new Set(mine.map((e) => e.name));
  for (const t of theirs) {
    if (!mineNames.has(t.name)) problems.push({ tensor: t.name, message: `${party} has a tensor "${t.name}" that this party does not` });
  }
  if (problems.length === 0) return undefined;
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more difference${problems.length > 2 ? 's' : ''})` : '';
  return new ConflictError(`the models differ: ${first.message}${more}`, {
    where: party,
    extra: { party: partyIndex, tensor: first.tensor },
  });
}

/** A run of consecutive flat elements that lies inside one tensor. */
export interface Piece {
  /** Index into Layout.tensors. */
  readonly tensor: number;
  /** Element range within that tensor. */
  readonly from: number;
  readonly to: number;
}

export interface LaidOutTensor extends ManifestEntry {
  /** First flat element. */
  readonly offset: number;
  readonly length: number;
}

/**
 * Flat layout: tensor t occupies elements [offset_t, offset_t + length_t); party j owns segment
 * [⌊E·j/n⌋, ⌊E·(j+1)/n⌋) (the reduce-scatter split, balanced to within one element); each segment
 * is streamed in chunks of `chunkElements`, chunk c of segment j being message seq c.
 */
export class Layout {
  readonly tensors: readonly LaidOutTensor[];
  readonly total: number;
  readonly parties: number;
  readonly chunkElements: number;

  constructor(manifest: Manifest, parties: number, chunkElements: number) {
    let offset = 0;
    this.tensors = manifest.map((e) => {
      const length = e.shape.reduce((a, b) => a * b, 1);
      const t = { ...e, offset, length };
      offset += length;
      return t;
    });
    if (!Number.isSafeInteger(offset)) throw new BadInputError('the model has too many elements', { where: 'tensors' });
    this.total = offset;
    this.parties = parties;
    this.chunkElements = chunkElements;
  }

  segmentStart(party: number): number {
    return Math.floor((this.total * party) / this.parties);
  }

  /** Element range [start, end) of party j's segment. */
  segment(party: number): [number, number] {
    return [this.segmentStart(party), this.segmentStart(party + 1)];
  }

  chunkCount(party: number): number {
    const [start, end] = this.segment(party);
    return Math.ceil((end - start) / this.chunkElements);
  }

  /** The global id of chunk c of party j's segment: chunks are numbered over all segments in flat order. */
  chunkId(party: number, c: number): number {
    let id = c;
    for (let j = 0; j < party; j++) id += this.chunkCount(j);
    return id;
  }

  /** Flat element range [start, end) of chunk c of party j's segment. */
  chunk(party: number, c: number): [number, number] {
    const [start, end] = this.segment(party);
    const from = start + c * this.chunkElements;
    return [from, Math.min(end, from + this.chunkElements)];
  }

  /** The tensor pieces that make up flat range [start, end), in order. */
  pieces(start: number, end: number): Piece[] {
    const out: Piece[] = [];
    // Binary search for the tensor holding `start` (the last one whose offset is ≤ start).
    let lo = 0;
    let hi = this.tensors.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.tensors[mid]!.offset <= start) lo = mid;
      else hi = mid - 1;
    }
    for (let t = lo; t < this.tensors.length && start < end; t++) {
      const tensor = this.tensors[t]!;
      const tEnd = tensor.offset + tensor.length;
      if (tEnd <= start) continue;
      const to = Math.min(end, tEnd);
      out.push({ tensor: t, from: start - tensor.offset, to: to - tensor.offset });
      start = to;
    }
    return out;
  }

  /** Bytes of flat range [start, end) when each element travels in its tensor's dtype. */
  floatBytes(start: number, end: number): number {
    let bytes = 0;
    for (const p of this.pieces(start, end)) bytes += (p.to - p.from) * (this.tensors[p.tensor]!.dtype === 'F32' ? 4 : 8);
    return bytes;
  }
}

/** Output tensors, one zeroed array per manifest entry. */
export function allocOutputs(layout: Layout): FloatArray[] {
  return layout.tensors.map((t) => (t.dtype === 'F32' ? new Float32Array(t.length) : new Float64Array(t.length)));
}

/** The bytes of flat range [start, end) of `arrays`, each element in its tensor's dtype (zero-copy for one piece). */
export function floatRangeBytes(layout: Layout, arrays: readonly FloatArray[], start: number, end: number): Uint8Array {
  const parts = layout.pieces(start, end).map((p) => {
    const a = arrays[p.tensor]!;
    const width = a.BYTES_PER_ELEMENT;
    return new Uint8Array(a.buffer, a.byteOffset + p.from * width, (p.to - p.from) * width);
  });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Copies a payload of flat range [start, end) (each element in its tensor's dtype) into `arrays`. */
export function writeFloatRange(layout: Layout, arrays: readonly FloatArray[], start: number, end: number, payload: Uint8Array, party: string): void {
  const expected = layout.floatBytes(start, end);
  if (payload.length !== expected) {
    throw new PeerError(`expected ${expected} bytes for elements ${start}..${end}, got ${payload.length}`, { where: party });
  }
  let at = 0;
  for (const p of layout.pieces(start, end)) {
    const a = arrays[p.tensor]!;
    const width = a.BYTES_PER_ELEMENT;
    const n = (p.to - p.from) * width;
    new Uint8Array(a.buffer, a.byteOffset + p.from * width, n).set(payload.subarray(at, at + n));
    at += n;
  }
}
