// Paillier encryption (Paillier, "Public-key cryptosystems based on composite degree residuosity
// classes", EUROCRYPT 1999) for the products across two parties (services/simon/products/).
// Keys come from the paillier-bigint package (probable primes from bigint-crypto-utils, which
// draws on Node's CSPRNG). What is done here, and why:
//
// - g = N + 1 (the "simple variant" the package generates). Then g^m = 1 + m·N mod N² by the
//   binomial theorem, so an encryption is (1 + m·N)·ρ mod N² with ρ = r^N a uniform N-th
//   residue: one exponentiation, not two.
// - Exponentiations run in OpenSSL (services/common/modexp.ts), 3–6× faster than BigInt.
// - The key owner draws ρ through the CRT (Paillier §7 speeds up decryption the same way): mod p²
//   the N-th residues form the subgroup of order p−1, and a ↦ a^p mod p² maps Z_p^* onto it
//   one-to-one, so a^p for a uniform a in [1, p) is uniform there (likewise for q). Because
//   r ↦ r^N mod N² is injective on Z_N^* (gcd(N, φ(N)) = 1, checked at key generation), the N-th
//   residues have order φ(N) = (p−1)(q−1), so the CRT of the two parts is exactly a uniform N-th
//   residue — the same distribution as r^N, at two 1024-bit exponents modulo 2048-bit numbers
//   instead of one 2048-bit exponent modulo a 4096-bit number.
// - Decryption by the CRT (Paillier §7): m_p = L_p(c^(p−1) mod p²)·h_p mod p, likewise mod q.
// - A party that does not know the factors (the one that evaluates on ciphertexts) draws
//   ρ = r^N mod N² with r uniform in [1, N) (rejection sampling: no modulo bias).
//
// BigInt and this code are not constant-time; OpenSSL's exponentiation is, in the exponent's
// value (not its length). docs/products.md says what the timing of a product can reveal.

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateRandomKeys } from 'paillier-bigint';
import { BadInputError, PeerError } from '../errors.js';
import { ModExp, bigintToBytes, bytesToBigint, modInverse } from './modexp.js';
import { MODEXP_POOL_THRESHOLD, defaultModExpPool, type ModExpPool } from './modexp-pool.js';

/**
 * Randomisers a server keeps ready for its own key (the offline phase): 4096 of 512 bytes, 2 MiB.
 * They cover the encryptions of a 4096-entry Y (or, packed, a 4096-row one); beyond that the rest
 * are drawn online.
 */
export const RANDOMIZER_POOL = 4096;
const POOL_PAUSE_MS = 50;
/** Randomisers in one batch of the refill, on one worker thread: 8 exponentiations, about 11 ms. */
const REFILL_BATCH = MODEXP_POOL_THRESHOLD;

/** Products computing in this process, in either role: every key's refill pauses while there are any. */
let productsOnline = 0;

/**
 * Marks a product's computation (key owner or evaluator) online for the duration of `work`: the
 * offline phase of every key in this process waits meanwhile, so it never competes with one.
 */
export async function productOnline<T>(work: () => Promise<T>): Promise<T> {
  productsOnline += 1;
  try {
    return await work();
  } finally {
    productsOnline -= 1;
  }
}

/** Bits of N: 2048, the size NIST SP 800-57 Part 1 (Table 2) rates at 112 bits of security. */
export const PAILLIER_MODULUS_BITS = 2048;
const PLAINTEXT_BYTES = PAILLIER_MODULUS_BITS / 8;
const CIPHERTEXT_BYTES = 2 * PLAINTEXT_BYTES;

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** Uniform in [1, bound) from the OS CSPRNG, by rejection (no modulo bias). */
export function uniformBelow(bound: bigint): bigint {
  const bits = bitLength(bound - 1n);
  const bytes = Math.ceil(bits / 8);
  for (;;) {
    const x = BigInt.asUintN(bits, bytesToBigint(randomBytes(bytes)));
    if (x >= 1n && x < bound) return x;
  }
}

export class PaillierPublicKey {
  readonly n: bigint;
  readonly n2: bigint;
  readonly #modexp: ModExp;
  static readonly plaintextBytes = PLAINTEXT_BYTES;
  static readonly ciphertextBytes = CIPHERTEXT_BYTES;

  constructor(n: bigint, where = 'paillier public key') {
    if (bitLength(n) !== PAILLIER_MODULUS_BITS || n % 2n === 0n) {
      throw new PeerError(`the Paillier modulus must be an odd ${PAILLIER_MODULUS_BITS}-bit integer`, { where });
    }
    this.n = n;
    this.n2 = n * n;
    this.#modexp = new ModExp(this.n2);
  }

  static fromBytes(bytes: Uint8Array, where: string): PaillierPublicKey {
    if (bytes.length !== PLAINTEXT_BYTES) {
      throw new PeerError(`a Paillier public key is ${PLAINTEXT_BYTES} bytes, got ${bytes.length}`, { where });
    }
    return new PaillierPublicKey(bytesToBigint(bytes), where);
  }

  toBytes(): Buffer {
    return bigintToBytes(this.n, PLAINTEXT_BYTES);
  }

  /** A fresh uniform N-th residue r^N mod N² (what re-randomises a ciphertext). */
  randomizer(): bigint {
    return this.#modexp.pow(uniformBelow(this.n), this.n);
  }

  /** `count` fresh uniform N-th residues, their exponentiations spread over the pool's threads. */
  randomizers(count: number, pool: ModExpPool = defaultModExpPool, timeoutMs?: number): Promise<bigint[]> {
    return pool.powAll(this.n2, Array.from({ length: count }, () => uniformBelow(this.n)), [this.n], timeoutMs);
  }

  /** c_i^e_i mod N² for every i (every e_i ≥ 0) on the pool's threads: the encryptions of e_i·m_i. */
  scaleAll(cs: readonly bigint[], es: readonly bigint[], pool: ModExpPool = defaultModExpPool, timeoutMs?: number): Promise<bigint[]> {
    return pool.powAll(this.n2, cs, es, timeoutMs);
  }

  /** (1 + m·N)·ρ mod N²: the encryption of m mod N with randomiser ρ. */
  encryptWith(m: bigint, rho: bigint): bigint {
    const plain = ((m % this.n) + this.n) % this.n;
    return ((1n + plain * this.n) * rho) % this.n2;
  }

  encrypt(m: bigint): bigint {
    return this.encryptWith(m, this.randomizer());
  }

  /** c^e mod N² (e >= 0): the encryption of e·m. */
  scale(c: bigint, e: bigint): bigint {
    return this.#modexp.pow(c, e);
  }

  /** a·b mod N²: the encryption of the sum of the plaintexts. */
  add(a: bigint, b: bigint): bigint {
    return (a * b) % this.n2;
  }

  /** c⁻¹ mod N²: the encryption of −m. */
  negate(c: bigint): bigint {
    return modInverse(c, this.n2);
  }

  encodeCiphertexts(cs: readonly bigint[]): Uint8Array {
    const out = new Uint8Array(cs.length * CIPHERTEXT_BYTES);
    cs.forEach((c, i) => out.set(bigintToBytes(c, CIPHERTEXT_BYTES), i * CIPHERTEXT_BYTES));
    return out;
  }

  /** Exactly `count` ciphertexts, each in [1, N²). */
  decodeCiphertexts(bytes: Uint8Array, count: number, where: string): bigint[] {
    return decodeFixed(bytes, count, CIPHERTEXT_BYTES, this.n2, where, 'ciphertext');
  }

  encodeResidues(xs: readonly bigint[]): Uint8Array {
    const out = new Uint8Array(xs.length * PLAINTEXT_BYTES);
    xs.forEach((x, i) => out.set(bigintToBytes(((x % this.n) + this.n) % this.n, PLAINTEXT_BYTES), i * PLAINTEXT_BYTES));
    return out;
  }

  /** Exactly `count` residues mod N, each in [0, N). */
  decodeResidues(bytes: Uint8Array, count: number, where: string): bigint[] {
    return decodeFixed(bytes, count, PLAINTEXT_BYTES, this.n, where, 'residue', true);
  }

  /** The representative of x mod N in (−N/2, N/2]: how a signed integer comes back. */
  toSigned(x: bigint): bigint {
    const r = ((x % this.n) + this.n) % this.n;
    return r > this.n / 2n ? r - this.n : r;
  }
}

function decodeFixed(bytes: Uint8Array, count: number, width: number, bound: bigint, where: string, what: string, zeroOk = false): bigint[] {
  if (bytes.length !== count * width) {
    throw new PeerError(`expected ${count} ${what}s of ${width} bytes (${count * width} bytes), got ${bytes.length} bytes`, { where });
  }
  const out: bigint[] = new Array<bigint>(count);
  for (let i = 0; i < count; i++) {
    const x = bytesToBigint(bytes.subarray(i * width, (i + 1) * width));
    if (x >= bound || (!zeroOk && x === 0n)) throw new PeerError(`${what} ${i} is out of range`, { where });
    out[i] = x;
  }
  return out;
}

/** The side of one CRT prime: exponentiation mod p², decryption constant h_p. */
interface PrimeSide {
  readonly p: bigint;
  readonly p2: bigint;
  readonly modexp: ModExp;
  /** L_p((N+1)^(p−1) mod p²)⁻¹ mod p. */
  readonly h: bigint;
}

function primeSide(p: bigint, n: bigint): PrimeSide {
  const p2 = p * p;
  const modexp = new ModExp(p2);
  const lp = (modexp.pow(n + 1n, p - 1n) - 1n) / p;
  return { p, p2, modexp, h: modInverse(lp % p, p) };
}

export class PaillierKeyPair {
  readonly publicKey: PaillierPublicKey;
  readonly #p: PrimeSide;
  readonly #q: PrimeSide;
  /** (p²)⁻¹ mod q² and p⁻¹ mod q, for the two CRT recombinations. */
  readonly #p2InvQ2: bigint;
  readonly #pInvQ: bigint;

  constructor(p: bigint, q: bigint) {
    const n = p * q;
    const phi = (p - 1n) * (q - 1n);
    if (gcd(n, phi) !== 1n) throw new BadInputError('gcd(N, φ(N)) ≠ 1', { where: 'paillier key' });
    this.publicKey = new PaillierPublicKey(n, 'own Paillier key');
    this.#p = primeSide(p, n);
    this.#q = primeSide(q, n);
    this.#p2InvQ2 = modInverse(this.#p.p2, this.#q.p2);
    this.#pInvQ = modInverse(p, q);
  }

  /**
   * Randomisers drawn ahead of time (the offline phase): each is a fresh uniform N-th residue,
   * used once and dropped. An encryption costs two exponentiations of 1024-bit exponents without
   * one and a single multiplication mod N² with one.
   */
  readonly #pool: bigint[] = [];
  #filling = false;

  /** Randomisers ready in the pool. */
  get pooled(): number {
    return this.#pool.length;
  }

  /**
   * Marks a computation with this key online for the duration of `work` (productOnline), and
   * refills the pool afterwards.
   */
  async online<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await productOnline(work);
    } finally {
      this.fillPool();
    }
  }

  /**
   * Fills the pool up to `target` randomisers in the background, pausing while a product is online
   * in this process (with this key or another party's). The exponentiations run on one of the
   * modexp pool's threads, a few randomisers at a time (about 11 ms there: a product that starts
   * waits for at most one batch), so the event loop stays free and the other cores stay idle for
   * other work. Idempotent: one filler at a time. A worker that fails ends this refill; the next
   * computation's end starts another.
   */
  fillPool(target = RANDOMIZER_POOL, pool: ModExpPool = defaultModExpPool): void {
    if (this.#filling) return;
    this.#filling = true;
    void (async () => {
      try {
        while (this.#pool.length < target) {
          // Unreferenced timers: the refill never keeps a process alive that has nothing else to do.
          if (productsOnline > 0) {
            await sleep(POOL_PAUSE_MS, undefined, { ref: false });
            continue;
          }
          const batch = Math.min(target - this.#pool.length, REFILL_BATCH);
          this.#pool.push(...(await this.#fresh(batch, pool, undefined, 1)));
          await sleep(0, undefined, { ref: false });
        }
      } catch {
        // PoolFailure: the randomisers are drawn online instead, where a failure is reported.
      } finally {
        this.#filling = false;
      }
    })();
  }

  /** A uniform N-th residue mod N²: from the pool if one is ready, else drawn now. */
  randomizer(): bigint {
    return this.#pool.pop() ?? this.#freshRandomizer();
  }

  /**
   * `count` uniform N-th residues mod N²: those ready in the pool, the rest drawn now through the
   * CRT with their exponentiations spread over the pool's threads.
   */
  async randomizers(count: number, pool: ModExpPool = defaultModExpPool, timeoutMs?: number): Promise<bigint[]> {
    const ready = this.#pool.splice(Math.max(0, this.#pool.length - count));
    const missing = count - ready.length;
    if (missing === 0) return ready;
    return [...ready, ...(await this.#fresh(missing, pool, timeoutMs))];
  }

  /** `count` fresh uniform N-th residues through the CRT, their exponentiations on up to `threads` of the pool's threads. */
  async #fresh(count: number, pool: ModExpPool, timeoutMs?: number, threads?: number): Promise<bigint[]> {
    const draw = (side: PrimeSide) => pool.powAll(side.p2, Array.from({ length: count }, () => uniformBelow(side.p)), [side.p], timeoutMs, threads);
    const [rp, rq] = await Promise.all([draw(this.#p), draw(this.#q)]);
    return rp.map((x, i) => crt(x, this.#p.p2, rq[i]!, this.#q.p2, this.#p2InvQ2));
  }

  /** A uniform N-th residue mod N², drawn through the CRT (see the header). */
  #freshRandomizer(): bigint {
    const rp = this.#p.modexp.pow(uniformBelow(this.#p.p), this.#p.p);
    const rq = this.#q.modexp.pow(uniformBelow(this.#q.p), this.#q.p);
    return crt(rp, this.#p.p2, rq, this.#q.p2, this.#p2InvQ2);
  }

  encrypt(m: bigint): bigint {
    return this.publicKey.encryptWith(m, this.randomizer());
  }

  /** m in [0, N), by the CRT (Paillier 1999, §7). */
  decrypt(c: bigint): bigint {
    const side = (s: PrimeSide) => lOf(s, s.modexp.pow(c % s.p2, s.p - 1n));
    return crt(side(this.#p), this.#p.p, side(this.#q), this.#q.p, this.#pInvQ);
  }

  /** decrypt for every ciphertext, the exponentiations spread over the pool's threads. */
  async decryptAll(cs: readonly bigint[], pool: ModExpPool = defaultModExpPool, timeoutMs?: number): Promise<bigint[]> {
    const powers = (s: PrimeSide) => pool.powAll(s.p2, cs.map((c) => c % s.p2), [s.p - 1n], timeoutMs);
    const [xp, xq] = await Promise.all([powers(this.#p), powers(this.#q)]);
    return xp.map((x, i) => crt(lOf(this.#p, x), this.#p.p, lOf(this.#q, xq[i]!), this.#q.p, this.#pInvQ));
  }
}

/** m mod p from c^(p−1) mod p²: L_p(x)·h_p mod p with L_p(x) = (x − 1)/p. */
function lOf(s: PrimeSide, x: bigint): bigint {
  return (((x - 1n) / s.p) * s.h) % s.p;
}

/** The x mod a·b with x ≡ xa (mod a), x ≡ xb (mod b), given aInvB = a⁻¹ mod b (Garner). */
function crt(xa: bigint, a: bigint, xb: bigint, b: bigint, aInvB: bigint): bigint {
  const t = ((((xb - xa) % b) + b) % b) * aInvB % b;
  return xa + a * t;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** A fresh key pair (1–10 s of prime search in worker threads). */
export async function generatePaillierKeyPair(): Promise<PaillierKeyPair> {
  for (;;) {
    const { privateKey } = await generateRandomKeys(PAILLIER_MODULUS_BITS, true);
    // The package keeps the primes it drew (it needs them for its own CRT); they are its state.
    const { _p: p, _q: q } = privateKey as unknown as { _p?: bigint; _q?: bigint };
    if (p === undefined || q === undefined) throw new BadInputError('paillier-bigint kept no primes', { where: 'paillier key' });
    if (gcd(p * q, (p - 1n) * (q - 1n)) === 1n) return new PaillierKeyPair(p, q);
  }
}

let serverKey: Promise<PaillierKeyPair> | undefined;

/**
 * This server process's key pair, generated on first use and kept in memory only (a restart
 * makes a new one). One key serves every computation: Paillier is semantically secure for any
 * number of encryptions under one key, and a fresh key per computation would add seconds of
 * prime search to each (docs/products.md).
 */
export function serverPaillierKey(): Promise<PaillierKeyPair> {
  serverKey ??= generatePaillierKeyPair().then((key) => {
    key.fillPool();
    return key;
  }, (err: unknown) => {
    serverKey = undefined;
    throw err;
  });
  return serverKey;
}
