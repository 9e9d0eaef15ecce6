// The modular-exponentiation pool the Paillier products use: its workers' powers are ModExp's
// (edge bases, the result OpenSSL will not return, small moduli, one exponent or one per base),
// and a worker that fails or does not answer is a PoolFailure, never a hang.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ModExp } from '../../../services/common/modexp.js';
import { MODEXP_POOL_THRESHOLD, ModExpPool } from '../../../services/common/modexp-pool.js';
import { PoolFailure } from '../../../services/common/worker-pool.js';

const FAULTY_WORKER = new URL('../../support/x25519-faulty-worker.mjs', import.meta.url);
const big = (bytes: number) => BigInt(`0x${randomBytes(bytes).toString('hex')}`);

describe('the modexp pool', { timeout: 120_000 }, () => {
  const pool = new ModExpPool({ size: 2 });
  after(() => pool.close());

  test("the workers' powers are ModExp's, edge cases included, in order", async () => {
    const m = big(512) | 1n | (1n << 4095n);
    // b = 2^600 and m' = b² − 1: b^2 ≡ 1 (mod m'), the one result OpenSSL will not return.
    const b = 1n << 600n;
    const cases: [bigint, bigint, bigint][] = [
      [m, 0n, 5n],
      [m, 1n, 99n],
      [m, m - 1n, 3n],
      [m, m - 1n, 4n],
      [m, 12345n, 0n],
      [m, m + 7n, 1n << 70n],
      [m, -5n, 3n],
      [b * b - 1n, b, 2n],
      [15n, 4n, 2n],
      ...Array.from({ length: 12 }, (): [bigint, bigint, bigint] => [m, big(512), big(11)]),
    ];
    assert.ok(cases.length >= MODEXP_POOL_THRESHOLD);
    for (const modulus of new Set(cases.map(([mod]) => mod))) {
      const mine = cases.filter(([mod]) => mod === modulus);
      const want = mine.map(([, base, e]) => new ModExp(modulus).pow(base, e));
      const bases = mine.map(([, base]) => base);
      // Padded to the pool's threshold, so that even a single case goes to the workers.
      const padded = [...bases, ...Array.from({ length: MODEXP_POOL_THRESHOLD }, () => 2n)];
      const exponents = [...mine.map(([, , e]) => e), ...Array.from({ length: MODEXP_POOL_THRESHOLD }, () => 3n)];
      assert.deepEqual((await pool.powAll(modulus, padded, exponents)).slice(0, bases.length), want, `modulus ${modulus.toString(16).slice(0, 8)}…`);
    }
  });

  test('one exponent for every base; short lists on the calling thread give the same', async () => {
    const m = big(256) | 1n | (1n << 2047n);
    const e = big(128);
    const bases = Array.from({ length: 9 }, () => big(255));
    const want = bases.map((b) => new ModExp(m).pow(b, e));
    assert.deepEqual(await pool.powAll(m, bases, [e]), want);
    assert.deepEqual(await pool.powAll(m, bases.slice(0, 2), [e]), want.slice(0, 2));
    assert.deepEqual(await pool.powAll(m, bases, [e], undefined, 1), want, 'on one thread (the background refill)');
    await assert.rejects(pool.powAll(m, bases, [e, e]), RangeError);
  });

  for (const fault of ['failed', 'exit', 'silent'] as const) {
    test(`a worker that ${fault === 'silent' ? 'never answers' : fault === 'failed' ? 'answers a failure' : 'exits'} is a PoolFailure; the next call gets a fresh worker`, async () => {
      const faulty = new ModExpPool({ size: 1, workerUrl: FAULTY_WORKER, workerData: { fault, after: 0 } });
      try {
        const bases = Array.from({ length: MODEXP_POOL_THRESHOLD }, () => 3n);
        for (let round = 0; round < 2; round++) {
          await assert.rejects(faulty.powAll(1000003n, bases, [5n], 500), (err: unknown) => err instanceof PoolFailure && /modexp worker/.test(err.message));
        }
      } finally {
        await faulty.close();
      }
    });
  }
});
