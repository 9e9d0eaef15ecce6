// Shamir sharing over F_{2^255−19} (services/common/shamir.ts): any t shares rebuild the secret,
// t − 1 do not (a random polynomial: the interpolation of t − 1 shares misses the secret), and a
// threshold outside 1..n is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F25519 } from '../../../services/common/field.js';
import { shamirReconstruct, shamirShare } from '../../../services/common/shamir.js';
import { BadInputError } from '../../../services/errors.js';

const cases: [string, { n: number; t: number }][] = [['2 of 3', { n: 3, t: 2 }], ['3 of 5', { n: 5, t: 3 }], ['51 of 100', { n: 100, t: 51 }]];
for (const [name, { n, t }] of cases) {
  test(`${name}: every tried subset of t shares rebuilds the secret, t − 1 do not`, () => {
    const secret = F25519.random();
    const shares = shamirShare(secret, n, t);
    for (let offset = 0; offset < Math.min(n, 5); offset++) {
      const pick = Array.from({ length: t }, (_, k) => (offset + k * 7) % n);
      if (new Set(pick).size < t) continue;
      assert.equal(shamirReconstruct(new Map(pick.map((p) => [p, shares[p]!]))), secret);
      if (t > 1) assert.notEqual(shamirReconstruct(new Map(pick.slice(1).map((p) => [p, shares[p]!]))), secret);
    }
  });
}

test('a threshold outside 1..n is refused', () => {
  assert.throws(() => shamirShare(1n, 3, 4), BadInputError);
  assert.throws(() => shamirShare(1n, 3, 0), BadInputError);
});
