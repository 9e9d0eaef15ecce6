// Exponential ElGamal on ristretto255 (RFC 9496 group; @noble/curves): additively homomorphic
// encryption of small counts, as private join-and-compute uses it (Ion et al., EuroS&P 2020,
// where it is Paillier; exponential ElGamal is enough here because every plaintext is a count
// bounded by the number of joined records, so the final discrete logarithm is small).
//
//   Enc(m; r) = (r·G, m·G + r·Y)        Y = s·G the public key
//   Enc(m1) + Enc(m2) = Enc(m1 + m2)     component-wise point addition
//   rerandomize(C) = C + Enc(0; r')      the same plaintext, a fresh uniformly random ciphertext
//   Dec(C) = C2 − s·C1 = m·G, then m by baby-step giant-step over 0…bound.
// Semantic security is DDH in ristretto255. Both fixed bases (G and the public key) use
// precomputed window tables, so encryption and re-randomisation avoid the slow variable-point
// multiplication; only decryption multiplies a varying point.

import { randomBytes } from 'node:crypto';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { PeerError } from '../../errors.js';

const Point = ristretto255.Point;
type Point = InstanceType<typeof Point>;

export const POINT_BYTES = 32;
export const CIPHERTEXT_BYTES = 2 * POINT_BYTES;
const ORDER = Point.Fn.ORDER;
/** The generator with its own window table: noble's ristretto255 BASE multiplies at variable-point speed here. */
const G = Point.fromBytes(Point.BASE.toBytes()).precompute(8, false);

export interface Ciphertext {
  readonly c1: Point;
  readonly c2: Point;
}

export const ZERO_CIPHERTEXT: Ciphertext = Object.freeze({ c1: Point.ZERO, c2: Point.ZERO });

/** A uniformly random non-zero scalar (a 512-bit draw reduced mod ℓ: bias below 2^-250). */
function randomScalar(): bigint {
  return (BigInt(`0x${randomBytes(64).toString('hex')}`) % (ORDER - 1n)) + 1n;
}

/** m·G: what Enc(m) decrypts to. */
export function timesG(m: bigint): Point {
  return m === 0n ? Point.ZERO : G.multiply(m);
}

export class ElGamalPublicKey {
  readonly #point: Point;

  private constructor(point: Point) {
    // The window table makes r·Y as cheap as r·G (noble's precompute, window 8).
    this.#point = point.precompute(8, false);
  }

  static of(point: Point): ElGamalPublicKey {
    return new ElGamalPublicKey(point);
  }

  /** A peer's key: a canonical ristretto255 encoding of a point other than the identity. */
  static fromBytes(bytes: Uint8Array, where: string): ElGamalPublicKey {
    const point = decodePoint(bytes, where);
    if (point.is0()) throw new PeerError('the public key is the identity', { where });
    return new ElGamalPublicKey(point);
  }

  toBytes(): Uint8Array {
    return this.#point.toBytes();
  }

  encrypt(m: bigint): Ciphertext {
    const r = randomScalar();
    return { c1: G.multiply(r), c2: timesG(m).add(this.#point.multiply(r)) };
  }

  rerandomize(c: Ciphertext): Ciphertext {
    const r = randomScalar();
    return { c1: c.c1.add(G.multiply(r)), c2: c.c2.add(this.#point.multiply(r)) };
  }
}

export class ElGamalSecretKey {
  readonly #secret: bigint;
  readonly publicKey: ElGamalPublicKey;

  private constructor(secret: bigint) {
    this.#secret = secret;
    this.publicKey = ElGamalPublicKey.of(G.multiply(secret));
  }

  static random(): ElGamalSecretKey {
    return new ElGamalSecretKey(randomScalar());
  }

  /** m·G */
  decryptToPoint(c: Ciphertext): Point {
    return c.c2.subtract(c.c1.multiply(this.#secret));
  }

}

export function addCiphertexts(a: Ciphertext, b: Ciphertext): Ciphertext {
  return { c1: a.c1.add(b.c1), c2: a.c2.add(b.c2) };
}

/** Rejects anything but the canonical encoding of a ristretto255 point (RFC 9496 §4.3.1). */
export function decodePoint(bytes: Uint8Array, where: string): Point {
  try {
    return Point.fromBytes(bytes);
  } catch {
    throw new PeerError('not the canonical encoding of a ristretto255 point', { where });
  }
}

export function encodeCiphertexts(list: readonly Ciphertext[], out = new Uint8Array(list.length * CIPHERTEXT_BYTES), offset = 0): Uint8Array {
  list.forEach((c, i) => {
    out.set(c.c1.toBytes(), offset + i * CIPHERTEXT_BYTES);
    out.set(c.c2.toBytes(), offset + i * CIPHERTEXT_BYTES + POINT_BYTES);
  });
  return out;
}

export function decodeCiphertexts(bytes: Uint8Array, count: number, where: string): Ciphertext[] {
  if (bytes.length !== count * CIPHERTEXT_BYTES) {
    throw new PeerError(`expected ${count} ciphertexts (${count * CIPHERTEXT_BYTES} bytes), got ${bytes.length} bytes`, { where });
  }
  return Array.from({ length: count }, (_, i) => ({
    c1: decodePoint(bytes.subarray(i * CIPHERTEXT_BYTES, i * CIPHERTEXT_BYTES + POINT_BYTES), where),
    c2: decodePoint(bytes.subarray(i * CIPHERTEXT_BYTES + POINT_BYTES, (i + 1) * CIPHERTEXT_BYTES), where),
  }));
}

/**
 * Decodes m·G to m for m in [0, bound] by baby-step giant-step: a table of j·G for j < ⌈√(bound+1)⌉
 * built once, then at most as many giant steps per point.
 */
export function countDecoder(bound: number): (point: Point, where: string) => number {
  const step = Math.max(1, Math.ceil(Math.sqrt(bound + 1)));
  const baby = new Map<string, number>();
  let p = Point.ZERO;
  for (let j = 0; j < step; j++) {
    baby.set(Buffer.from(p.toBytes()).toString('latin1'), j);
    p = p.add(Point.BASE);
  }
  const giant = timesG(BigInt(step));
  return (point, where) => {
    let current = point;
    for (let i = 0; i * step <= bound; i++) {
      const j = baby.get(Buffer.from(current.toBytes()).toString('latin1'));
      if (j !== undefined && i * step + j <= bound) return i * step + j;
      current = current.subtract(giant);
    }
    throw new PeerError(`a decrypted count is not in 0…${bound}`, { where });
  };
}
