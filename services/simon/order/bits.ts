// Bit vectors for the boolean circuits of the order statistics. Inside a party a bit vector is a
// Uint8Array holding one bit (0 or 1) per byte, which keeps the circuit code plain; on the wire
// bits are packed eight to a byte, least significant bit first.

import { randomBytes } from 'node:crypto';
import { PeerError } from '../../errors.js';

export type Bits = Uint8Array;

export function xor(a: Bits, b: Bits): Bits {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export function and(a: Bits, b: Bits): Bits {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! & b[i]!;
  return out;
}

/** a ⊕= b in place. */
export function xorInto(a: Bits, b: Bits): void {
  for (let i = 0; i < a.length; i++) a[i]! ^= b[i]!;
}

export function concat(parts: readonly Bits[]): Bits {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Eight bits per byte, LSB first; the last byte is zero-padded. */
export function pack(bits: Bits): Uint8Array {
  const out = new Uint8Array((bits.length + 7) >>> 3);
  for (let i = 0; i < bits.length; i++) out[i >>> 3]! |= (bits[i]! & 1) << (i & 7);
  return out;
}

/** The inverse of pack for `length` bits; a payload of the wrong size or with padding set is refused. */
export function unpack(bytes: Uint8Array, length: number, where: string): Bits {
  if (bytes.length !== (length + 7) >>> 3) {
    throw new PeerError(`expected ${(length + 7) >>> 3} bytes of packed bits, got ${bytes.length}`, { where });
  }
  if (length & 7 && bytes[bytes.length - 1]! >>> (length & 7)) {
    throw new PeerError('packed bits have their padding set', { where });
  }
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (bytes[i >>> 3]! >>> (i & 7)) & 1;
  return out;
}

/** `length` uniform bits from the OS CSPRNG. */
export function randomBits(length: number): Bits {
  const raw = randomBytes((length + 7) >>> 3);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (raw[i >>> 3]! >>> (i & 7)) & 1;
  return out;
}
