// Exponential ElGamal on ristretto255 (RFC 9496 group): additively homomorphic encryption of
// small counts, as private join-and-compute uses it (Ion et al., EuroS&P 2020, where it is
// Paillier; exponential ElGamal is enough here because every plaintext is a count bounded by the
// number of joined records, so the final discrete logarithm is small).
//
//   Enc(m; r) = (r·G, m·G + r·Y)        Y = s·G the public key
//   Enc(m1) + Enc(m2) = Enc(m1 + m2)     component-wise point addition
//   rerandomize(C) = C + Enc(0; r')      the same plaintext, a fresh uniformly random ciphertext
//   Dec(C) = C2 − s·C1 = m·G, then m by baby-step giant-step over 0…bound.
// Semantic security is DDH in ristretto255.
//
// The group is libsodium's (the npm package libsodium-wrappers-sumo: libsodium compiled to
// WebAssembly; RFC 9496's encoding, constant-time arithmetic). Points are kept as their canonical
// 32-byte encodings, which is what libsodium takes and returns, so a point read from a peer is
// checked once and never decoded in JavaScript. It replaced @noble/curves' ristretto255, whose
// BigInt field arithmetic made a multiplication 4–9 times slower and an encoding or decoding
// (a field inversion and square root each) cost as much as a fixed-base multiplication
// (docs/set-protocols.md, "ElGamal on libsodium"). The library is loaded on first use
// (`ElGamal.load()`): an idle server does not hold its WebAssembly memory.
//
// The key owner encrypts without the public key's variable-point multiplication: m·G + r·Y =
// (m + r·s)·G, so its encryption is two fixed-base multiplications, and the ciphertext is the same
// as with the public key. Only a party without the secret (re-randomising the other's
// ciphertexts) pays r'·Y.

import { randomBytes } from 'node:crypto';
import { PeerError } from '../../errors.js';
import { loadSodium, type Sodium } from '../../common/sodium.js';

export const POINT_BYTES = 32;
export const CIPHERTEXT_BYTES = 2 * POINT_BYTES;

/** A ristretto255 element as its canonical encoding (RFC 9496 §4.3.2). */
export type Point = Uint8Array;

export interface Ciphertext {
  readonly c1: Point;
  readonly c2: Point;
}

/** The identity's encoding: all zeros. */
const IDENTITY: Point = new Uint8Array(POINT_BYTES);

export const ZERO_CIPHERTEXT: Ciphertext = Object.freeze({ c1: IDENTITY, c2: IDENTITY });

function isIdentity(p: Point): boolean {
  return p.every((b) => b === 0);
}

/** A little-endian scalar of a small non-negative integer (below 2^53). */
function smallScalar(m: number): Uint8Array {
  if (!Number.isSafeInteger(m) || m < 0) throw new RangeError('a plaintext is a non-negative safe integer');
  const out = new Uint8Array(32);
  let v = m;
  for (let i = 0; v > 0; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

let loading: Promise<ElGamal> | undefined;

/** Scalars drawn per call to the CSPRNG: one 4 KiB `randomBytes` costs about what a single 64-byte one does. */
const SCALARS_PER_DRAW = 64;

/** The group's operations, once libsodium's WebAssembly is ready. */
export class ElGamal {
  readonly #sodium: Sodium;
  /** m·G for the small m asked for so far (row indices, counts 0 and 1). */
  readonly #multiples = new Map<number, Point>();
  /** Random bytes not yet used, consumed 64 at a time and zeroed as they are taken. */
  #entropy = new Uint8Array(0);

  private constructor(sodium: Sodium) {
    this.#sodium = sodium;
  }

  /** Loads libsodium on the first call; every later call gets the same instance. */
  static load(): Promise<ElGamal> {
    loading ??= loadSodium().then((sodium) => new ElGamal(sodium));
    return loading;
  }

  /** A uniformly random non-zero scalar: 512 bits from Node's CSPRNG reduced mod ℓ (bias below 2^-250). */
  randomScalar(): Uint8Array {
    for (;;) {
      if (this.#entropy.length === 0) this.#entropy = randomBytes(64 * SCALARS_PER_DRAW);
      const draw = this.#entropy.subarray(0, 64);
      const s = this.#sodium.crypto_core_ristretto255_scalar_reduce(draw);
      draw.fill(0);
      this.#entropy = this.#entropy.subarray(64);
      if (!isIdentity(s)) return s;
    }
  }

  /** s·G, the identity for s ≡ 0 (libsodium refuses to return it). */
  baseTimes(scalar: Uint8Array): Point {
    return isIdentity(scalar) ? IDENTITY : this.#sodium.crypto_scalarmult_ristretto255_base(scalar);
  }

  /** s·P; the identity when P is the identity or s ≡ 0. */
  times(scalar: Uint8Array, p: Point): Point {
    if (isIdentity(p) || isIdentity(scalar)) return IDENTITY;
    return this.#sodium.crypto_scalarmult_ristretto255(scalar, p);
  }

  /** m·G: what Enc(m) decrypts to. */
  timesG(m: number): Point {
    let p = this.#multiples.get(m);
    if (p === undefined) {
      p = this.baseTimes(smallScalar(m));
      if (this.#multiples.size < 4096) this.#multiples.set(m, p);
    }
    return p;
  }

  add(a: Point, b: Point): Point {
    return this.#sodium.crypto_core_ristretto255_add(a, b);
  }

  subtract(a: Point, b: Point): Point {
    return this.#sodium.crypto_core_ristretto255_sub(a, b);
  }

  addCiphertexts(a: Ciphertext, b: Ciphertext): Ciphertext {
    return { c1: this.add(a.c1, b.c1), c2: this.add(a.c2, b.c2) };
  }

  scalarMul(a: Uint8Array, b: Uint8Array): Uint8Array {
    return this.#sodium.crypto_core_ristretto255_scalar_mul(a, b);
  }

  scalarAdd(a: Uint8Array, b: Uint8Array): Uint8Array {
    return this.#sodium.crypto_core_ristretto255_scalar_add(a, b);
  }

  /** A fresh key pair. */
  secretKey(): ElGamalSecretKey {
    return new ElGamalSecretKey(this, this.randomScalar());
  }

  /** A key pair from a given non-zero scalar (32 bytes, little-endian, below ℓ): for known-answer tests. */
  secretKeyFrom(scalar: Uint8Array): ElGamalSecretKey {
    if (scalar.length !== 32 || isIdentity(scalar)) throw new RangeError('a secret key is a non-zero 32-byte scalar');
    return new ElGamalSecretKey(this, this.#sodium.crypto_core_ristretto255_scalar_reduce(Uint8Array.from([...scalar, ...new Uint8Array(32)])));
  }

  /** A peer's key: a canonical ristretto255 encoding of a point other than the identity. */
  publicKey(bytes: Uint8Array, where: string): ElGamalPublicKey {
    const point = this.decodePoint(bytes, where);
    if (isIdentity(point)) throw new PeerError('the public key is the identity', { where });
    return new ElGamalPublicKey(this, point);
  }

  /** Rejects anything but the canonical encoding of a ristretto255 point (RFC 9496 §4.3.1). */
  decodePoint(bytes: Uint8Array, where: string): Point {
    if (bytes.length !== POINT_BYTES || !this.#sodium.crypto_core_ristretto255_is_valid_point(bytes)) {
      throw new PeerError('not the canonical encoding of a ristretto255 point', { where });
    }
    return bytes.slice();
  }

  decodeCiphertexts(bytes: Uint8Array, count: number, where: string): Ciphertext[] {
    if (bytes.length !== count * CIPHERTEXT_BYTES) {
      throw new PeerError(`expected ${count} ciphertexts (${count * CIPHERTEXT_BYTES} bytes), got ${bytes.length} bytes`, { where });
    }
    return Array.from({ length: count }, (_, i) => ({
      c1: this.decodePoint(bytes.subarray(i * CIPHERTEXT_BYTES, i * CIPHERTEXT_BYTES + POINT_BYTES), where),
      c2: this.decodePoint(bytes.subarray(i * CIPHERTEXT_BYTES + POINT_BYTES, (i + 1) * CIPHERTEXT_BYTES), where),
    }));
  }

  /**
   * Decodes m·G to m for m in [0, bound] by baby-step giant-step: a table of j·G for
   * j < ⌈√(bound+1)⌉ built once, then at most as many giant steps per point.
   */
  countDecoder(bound: number): (point: Point, where: string) => number {
    const step = Math.max(1, Math.ceil(Math.sqrt(bound + 1)));
    const baby = new Map<string, number>();
    const G = this.timesG(1);
    let p = IDENTITY;
    for (let j = 0; j < step; j++) {
      baby.set(Buffer.from(p).toString('latin1'), j);
      p = this.add(p, G);
    }
    const giant = this.timesG(step);
    return (point, where) => {
      let current = point;
      for (let i = 0; i * step <= bound; i++) {
        const j = baby.get(Buffer.from(current).toString('latin1'));
        if (j !== undefined && i * step + j <= bound) return i * step + j;
        current = this.subtract(current, giant);
      }
      throw new PeerError(`a decrypted count is not in 0…${bound}`, { where });
    };
  }
}

export class ElGamalPublicKey {
  readonly #group: ElGamal;
  readonly #point: Point;

  constructor(group: ElGamal, point: Point) {
    this.#group = group;
    this.#point = point;
  }

  toBytes(): Uint8Array {
    return this.#point.slice();
  }

  /** C + Enc(0; r'): r'·Y is a variable-point multiplication (only the key owner can avoid it). */
  rerandomize(c: Ciphertext): Ciphertext {
    const g = this.#group;
    const r = g.randomScalar();
    return { c1: g.add(c.c1, g.baseTimes(r)), c2: g.add(c.c2, g.times(r, this.#point)) };
  }
}

export class ElGamalSecretKey {
  readonly #group: ElGamal;
  readonly #secret: Uint8Array;
  readonly publicKey: ElGamalPublicKey;

  constructor(group: ElGamal, secret: Uint8Array) {
    this.#group = group;
    this.#secret = secret;
    this.publicKey = new ElGamalPublicKey(group, group.baseTimes(secret));
  }

  /** Enc(m; r) under this key: (r·G, (m + r·s)·G), the same ciphertext as m·G + r·Y. */
  encrypt(m: number): Ciphertext {
    const g = this.#group;
    const r = g.randomScalar();
    return { c1: g.baseTimes(r), c2: g.baseTimes(g.scalarAdd(smallScalar(m), g.scalarMul(r, this.#secret))) };
  }

  /** m·G */
  decryptToPoint(c: Ciphertext): Point {
    const g = this.#group;
    return g.subtract(c.c2, g.times(this.#secret, c.c1));
  }
}

export function encodeCiphertexts(list: readonly Ciphertext[], out = new Uint8Array(list.length * CIPHERTEXT_BYTES), offset = 0): Uint8Array {
  list.forEach((c, i) => {
    out.set(c.c1, offset + i * CIPHERTEXT_BYTES);
    out.set(c.c2, offset + i * CIPHERTEXT_BYTES + POINT_BYTES);
  });
  return out;
}
