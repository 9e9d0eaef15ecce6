// Paillier as the products use it: against paillier-bigint's own encryption and decryption (a
// known-answer cross-check of the CRT paths and the g = N+1 shortcut), the homomorphisms, the
// randomisers (N-th residues: they decrypt to 0), freshness, and the wire checks.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PublicKey } from 'paillier-bigint';
import { ModExp, modInverse } from '../../../services/common/modexp.js';
import { generatePaillierKeyPair, PaillierPublicKey, productOnline, type PaillierKeyPair } from '../../../services/common/paillier.js';
import { ModExpPool } from '../../../services/common/modexp-pool.js';

const FAULTY_WORKER = new URL('../../support/x25519-faulty-worker.mjs', import.meta.url);

describe('Paillier (g = N+1, OpenSSL exponentiation, CRT)', { timeout: 300_000 }, () => {
  let key: PaillierKeyPair;
  /** paillier-bigint's own public key for the same N: its encryptions are the reference. */
  let reference: PublicKey;
  before(async () => {
    key = await generatePaillierKeyPair();
    reference = new PublicKey(key.publicKey.n, key.publicKey.n + 1n);
  });

  test('the modulus has 2048 bits and decryption inverts encryption (owner and public paths)', () => {
    assert.equal(key.publicKey.n.toString(2).length, 2048);
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }), (m) => {
        assert.equal(key.publicKey.toSigned(key.decrypt(key.encrypt(m))), m);
        assert.equal(key.publicKey.toSigned(key.decrypt(key.publicKey.encrypt(m))), m);
      }),
      { numRuns: 8 },
    );
  });

  test('the offline pool: pauses while a computation is online, then holds fresh N-th residues, each used once', async () => {
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await key.online(async () => {
      key.fillPool(4);
      await wait(300);
      assert.equal(key.pooled, 0, 'no refill while online');
    });
    for (let i = 0; i < 200 && key.pooled < 4; i++) await wait(50);
    assert.equal(key.pooled, 4);
    const drawn = [key.randomizer(), key.randomizer(), key.randomizer(), key.randomizer()];
    assert.equal(key.pooled, 0, 'each pooled randomiser is taken once');
    assert.equal(new Set(drawn).size, 4);
    // An N-th residue encrypts 0: (1 + 0·N)·ρ decrypts to 0.
    for (const rho of drawn) assert.equal(key.decrypt(key.publicKey.encryptWith(0n, rho)), 0n);
  });

  test('the refill draws on the worker pool, and pauses while any product is online: a failing pool ends it with nothing pooled, and the next refill works', async () => {
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const fresh = await generatePaillierKeyPair(); // no refill of its own running yet
    // A product with another key (or as the evaluator) holds this key's refill back.
    await productOnline(async () => {
      fresh.fillPool(4);
      await wait(300);
      assert.equal(fresh.pooled, 0, 'no refill while a product is online');
    });
    for (let i = 0; i < 200 && fresh.pooled < 4; i++) await wait(50);
    assert.equal(fresh.pooled, 4, 'the refill resumes once no product is online');
    await fresh.randomizers(4);
    const faulty = new ModExpPool({ size: 2, workerUrl: FAULTY_WORKER, workerData: { fault: 'failed', after: 0 } });
    try {
      fresh.fillPool(8, faulty);
      await wait(500);
      assert.equal(fresh.pooled, 0, 'nothing computed beside the pool (on the main thread)');
    } finally {
      await faulty.close();
    }
    fresh.fillPool(8);
    for (let i = 0; i < 200 && fresh.pooled < 8; i++) await wait(50);
    assert.equal(fresh.pooled, 8, 'the failed refill let the next one start');
    const drawn = await fresh.randomizers(8);
    assert.equal(new Set(drawn).size, 8);
    for (const rho of drawn) assert.equal(fresh.decrypt(fresh.publicKey.encryptWith(0n, rho)), 0n);
  });

  test("our decryption reads paillier-bigint's ciphertexts (same scheme, g = N+1)", () => {
    for (const m of [0n, 1n, 42n, key.publicKey.n - 1n, 1n << 1000n]) {
      assert.equal(key.decrypt(reference.encrypt(m)), m);
    }
  });

  test('additive and scalar homomorphisms, negation', () => {
    const pk = key.publicKey;
    const a = key.encrypt(-7n);
    const b = pk.encrypt(5n);
    assert.equal(pk.toSigned(key.decrypt(pk.add(a, b))), -2n);
    assert.equal(pk.toSigned(key.decrypt(pk.scale(a, 3n))), -21n);
    assert.equal(pk.toSigned(key.decrypt(pk.negate(b))), -5n);
    assert.equal(pk.toSigned(key.decrypt(pk.add(pk.scale(a, 1n << 100n), pk.negate(pk.scale(b, 3n))))), -7n * (1n << 100n) - 15n);
  });

  test('randomisers are fresh N-th residues: they encrypt 0, and never repeat', () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 4; i++) {
      for (const rho of [key.randomizer(), key.publicKey.randomizer()]) {
        assert.equal(key.decrypt(rho), 0n);
        assert.ok(!seen.has(rho));
        seen.add(rho);
      }
    }
    assert.notEqual(key.encrypt(5n), key.encrypt(5n), 'two encryptions of one value differ');
    // A plaintext that is a multiple of p makes the CRT side compute a power equal to 1, which
    // OpenSSL refuses to return: decryption still works (services/common/modexp.ts).
    assert.equal(key.decrypt(key.encrypt(0n)), 0n);
  });

  test('wire checks: a key of the wrong size, a ciphertext out of range, a wrong length', () => {
    assert.throws(() => PaillierPublicKey.fromBytes(new Uint8Array(128), 'party 1'), /256 bytes/);
    assert.throws(() => new PaillierPublicKey((1n << 2047n) + 2n), /odd 2048-bit/);
    const pk = key.publicKey;
    assert.throws(() => pk.decodeCiphertexts(new Uint8Array(512), 1, 'party 1'), /ciphertext 0 is out of range/);
    assert.throws(() => pk.decodeCiphertexts(new Uint8Array(511), 1, 'party 1'), /expected 1 ciphertexts/);
    assert.throws(() => pk.decodeResidues(Buffer.alloc(256, 0xff), 1, 'party 1'), /residue 0 is out of range/);
    const c = key.encrypt(9n);
    assert.deepEqual(pk.decodeCiphertexts(pk.encodeCiphertexts([c, c]), 2, 'x'), [c, c]);
  });

  test('the batches on worker threads: fresh N-th residues (pooled ones first), the same powers and decryptions', async () => {
    key.fillPool(3);
    for (let i = 0; i < 200 && key.pooled < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(key.pooled, 3);
    const owner = await key.randomizers(10);
    assert.equal(key.pooled, 0, 'the pooled randomisers are used first');
    const pk = key.publicKey;
    const publicOnes = await pk.randomizers(6);
    for (const rho of [...owner, ...publicOnes]) assert.equal(key.decrypt(pk.encryptWith(0n, rho)), 0n);
    assert.equal(new Set([...owner, ...publicOnes]).size, 16);
    const ms = [5n, 0n, 123456789n, -77n, 1n << 300n, 42n];
    const cs = ms.map((m) => key.encrypt(m));
    const es = [3n, 0n, 1n << 80n, 7n, 1n, 99n];
    assert.deepEqual(await pk.scaleAll(cs, es), cs.map((c, i) => pk.scale(c, es[i]!)));
    assert.deepEqual(await key.decryptAll(cs), cs.map((c) => key.decrypt(c)));
    assert.deepEqual((await key.decryptAll(cs)).map((m) => pk.toSigned(m)), ms);
  });

  test('OpenSSL exponentiation agrees with BigInt, edge bases included', () => {
    const m = key.publicKey.n2;
    const mod = new ModExp(m);
    const slow = (b: bigint, e: bigint) => {
      let r = 1n;
      b %= m;
      for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
      return r;
    };
    for (const [b, e] of [[2n, 65537n], [m - 1n, 3n], [m - 1n, 4n], [1n, 99n], [0n, 5n], [12345n, 0n], [m + 7n, 1n << 70n]] as const) {
      assert.equal(mod.pow(b, e), slow(b, e), `${b}^${e}`);
    }
    assert.equal((modInverse(12345n, m) * 12345n) % m, 1n);
    assert.throws(() => new ModExp(10n), /odd/);
  });
});
