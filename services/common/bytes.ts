// Small byte helpers for the codecs. Fixed-width integers are little-endian everywhere (the
// safetensors and ring encodings are too); parsers check lengths and name the field they parse.

import { timingSafeEqual } from 'node:crypto';
import { BadInputError } from '../errors.js';

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(bytes: Uint8Array, offset: number, width: number, where: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + width > bytes.length) {
    throw new BadInputError(`truncated: need ${width} bytes at offset ${offset}, have ${bytes.length}`, { where });
  }
}

export function u32le(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new BadInputError(`not a u32: ${n}`);
  }
  const out = new Uint8Array(4);
  view(out).setUint32(0, n, true);
  return out;
}

export function readU32le(bytes: Uint8Array, offset: number, where: string): number {
  need(bytes, offset, 4, where);
  return view(bytes).getUint32(offset, true);
}

export function u64le(n: bigint | number): Uint8Array {
  const v = BigInt(n);
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new BadInputError(`not a u64: ${v}`);
  const out = new Uint8Array(8);
  view(out).setBigUint64(0, v, true);
  return out;
}

export function readU64le(bytes: Uint8Array, offset: number, where: string): bigint {
  need(bytes, offset, 8, where);
  return view(bytes).getBigUint64(offset, true);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict: Buffer.from(s, 'hex') silently stops at the first bad character; this refuses it. */
export function fromHex(s: string, where: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new BadInputError('not an even-length hex string', { where });
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** base64url without padding (RFC 4648 §5), as in JOSE and our identity documents. */
export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Strict: Node's decoder skips characters it does not know; this refuses them and bad lengths. */
export function fromBase64url(s: string, where: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) {
    throw new BadInputError('not unpadded base64url', { where });
  }
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

/**
 * Equality of MACs, tokens and key confirmations in time independent of where they differ
 * (crypto.timingSafeEqual). Lengths are public: unequal lengths return false at once.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
