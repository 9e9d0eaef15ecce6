import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ring } from '../../../services/common/ring.js';
import { reconstruct, share } from '../../../services/common/sharing.js';

const rings = [1, 8, 64, 2176].map((k) => new Ring(k));

describe('additive secret sharing', () => {
  for (const ring of rings) {
    const secret = fc.bigInt({ min: 0n, max: ring.modulus - 1n });
    const parties = fc.integer({ min: 1, max: 7 });

    test(`Z_2^${ring.bits}: reconstruct(share(s)) = s`, () => {
      fc.assert(fc.property(secret, parties, (s, n) => {
        const shares = share(s, n, ring);
        assert.equal(shares.length, n);
        for (const x of shares) assert.ok(x >= 0n && x < ring.modulus);
        assert.equal(reconstruct(shares, ring), s);
      }), { numRuns: 200 });
    });

    test(`Z_2^${ring.bits}: sharing is additively homomorphic`, () => {
      fc.assert(fc.property(secret, secret, parties, (a, b, n) => {
        const sa = share(a, n, ring);
        const sb = share(b, n, ring);
        const sums = sa.map((x, i) => ring.add(x, sb[i]!));
        assert.equal(reconstruct(sums, ring), ring.add(a, b));
      }), { numRuns: 200 });
    });
  }

  test('a secret outside the ring is shared modulo 2^k', () => {
    const ring = new Ring(8);
    assert.equal(reconstruct(share(-1n, 3, ring), ring), 255n);
    assert.equal(reconstruct(share(300n, 3, ring), ring), 44n);
  });

  // Statistical smoke test of the guarantee the construction gives: every single share
  // (including the last, computed one) is uniform on Z_2^8 whatever the secret. Chi-square with
  // 255 degrees of freedom; 400 is far beyond its 99.999% quantile (~ 350), so a correct
  // implementation fails with negligible probability while a biased one (e.g. a modulo-reduced
  // or truncated sampler, or a last share that leaks the secret) fails reliably.
  test('each share is uniform on Z_2^8 whatever the secret (chi-square smoke test)', () => {
    const ring = new Ring(8);
    const parties = 3;
    const trials = 25_600;
    for (const secret of [0n, 200n]) {
      const counts = Array.from({ length: parties }, () => new Array<number>(256).fill(0));
      for (let t = 0; t < trials; t++) {
        share(secret, parties, ring).forEach((x, i) => counts[i]![Number(x)]!++);
      }
      const expected = trials / 256;
      counts.forEach((bins, i) => {
        const chi2 = bins.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
        assert.ok(chi2 < 400, `share ${i} of secret ${secret}: chi-square ${chi2.toFixed(1)}`);
      });
    }
  });
});
