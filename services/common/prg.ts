// Cryptographic PRG for masks and shares: a 32-byte seed expanded with AES-256-CTR.
//
// Why AES-CTR: running a block cipher in counter mode under a uniformly random key is the
// expansion step of NIST SP 800-90A Rev.1 §10.2 (CTR_DRBG); its output is indistinguishable from
// uniform as long as AES is a PRP and a (key, counter block) pair is never used twice. Seeds are
// fresh per computation (freshSeed, from the OS CSPRNG), and distinct labels under one seed get
// disjoint counter ranges (see ivFor), so no keystream block ever repeats. Node's OpenSSL uses
// AES-NI, which gives well over 1 GB/s. Never a statistical PRNG (Flower's Mersenne Twister masks
// are the counterexample).

import { createCipheriv, createHash, randomBytes, type Cipher } from 'node:crypto';
import { BadInputError } from '../errors.js';

export const SEED_BYTES = 32;
/** Version tag hashed with every label, so a later change of construction cannot collide. */
const LABEL_DOMAIN = 'tessera/prg/aes-256-ctr/v1\0';
/** Zero plaintext reused for every keystream request up to this size (no per-call allocation). */
const ZERO_CHUNK = 1 << 20;
const zeros = Buffer.alloc(ZERO_CHUNK);

/** 32 bytes from the operating system's CSPRNG: one fresh PRG seed. */
export function freshSeed(): Buffer {
  return randomBytes(SEED_BYTES);
}

/**
 * The nonce half of ivFor per label, remembered: a secure vector sum of n parties opens (n−1)(n−2)
 * streams per computation under one label, and the SHA-256 was a tenth of a stream's setup.
 */
const nonces = new Map<string, Buffer>();
const MAX_NONCES = 256;

/**
 * The initial counter block for a label: the first 8 bytes of SHA-256(domain ‖ label) as a nonce,
 * then a 64-bit block counter starting at 0 (SP 800-38A Appendix B.2 "nonce ‖ counter" layout).
 * OpenSSL increments the whole 128-bit block big-endian, so a stream would have to exceed 2^64
 * blocks (2^68 bytes) before it could run into another label's range; two labels collide only if
 * their 64-bit nonces do (probability 2^-64 per pair).
 */
export function ivFor(label: string): Buffer {
  let nonce = nonces.get(label);
  if (nonce === undefined) {
    nonce = createHash('sha256').update(LABEL_DOMAIN).update(label, 'utf8').digest().subarray(0, 8);
    if (nonces.size >= MAX_NONCES) nonces.delete(nonces.keys().next().value!);
    nonces.set(label, nonce);
  }
  // A fresh block each call: callers may advance its counter in place (mask.ts).
  const iv = Buffer.alloc(16);
  nonce.copy(iv, 0);
  return iv;
}

/**
 * A keystream from (seed, label). `next(n)` returns the next n bytes of the stream, so a large
 * mask can be produced chunk by chunk with bounded memory; the concatenation of the chunks is the
 * same whatever the chunk sizes.
 *
 * Every returned Buffer starts at an 8-byte-aligned offset of its ArrayBuffer, so callers can view
 * it as a BigUint64Array / Uint32Array without copying (when the length is a multiple).
 */
export class MaskStream {
  readonly #cipher: Cipher;
  #produced = 0;

  constructor(seed: Uint8Array, label: string) {
    if (seed.length !== SEED_BYTES) {
      throw new BadInputError(`PRG seed must be ${SEED_BYTES} bytes, got ${seed.length}`, { where: label });
    }
    this.#cipher = MaskStream.rawCipher(seed, ivFor(label));
  }

  /** AES-256-CTR under (key, initial counter block); exposed for known-answer tests. */
  static rawCipher(key: Uint8Array, iv: Uint8Array): Cipher {
    return createCipheriv('aes-256-ctr', key, iv);
  }

  /** Bytes of keystream produced so far. */
  get produced(): number {
    return this.#produced;
  }

  next(byteLength: number): Buffer {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
      throw new BadInputError(`keystream length must be a non-negative integer, got ${byteLength}`);
    }
    // Encrypting zeros yields the raw keystream. Requests up to one zero chunk return the cipher's
    // output directly; larger ones are filled chunk by chunk into one buffer (a fresh multi-MB
    // zero plaintext per call would cost page faults, a copy from a cached chunk is cheaper).
    let out: Buffer;
    if (byteLength <= ZERO_CHUNK) {
      out = this.#cipher.update(zeros.subarray(0, byteLength));
      // Small outputs may come from Node's shared pool at an unaligned offset; copy them once.
      if (out.byteOffset % 8 !== 0) {
        const aligned = Buffer.allocUnsafeSlow(byteLength);
        out.copy(aligned);
        out = aligned;
      }
    } else {
      out = Buffer.allocUnsafeSlow(byteLength);
      for (let at = 0; at < byteLength; at += ZERO_CHUNK) {
        this.#cipher.update(zeros.subarray(0, Math.min(ZERO_CHUNK, byteLength - at))).copy(out, at);
      }
    }
    this.#produced += byteLength;
    return out;
  }

  /** The first `byteLength` bytes of the stream for (seed, label). */
  static bytes(seed: Uint8Array, label: string, byteLength: number): Buffer {
    return new MaskStream(seed, label).next(byteLength);
  }
}
