// Shamir secret sharing over the prime field F_p, p = 2^255 − 19 (Shamir, "How to share a secret",
// CACM 1979; Cramer, Damgård, Nielsen 2015, §3.2). A secret s becomes the values f(1), …, f(n) of a
// uniformly random polynomial f of degree t − 1 with f(0) = s; party k holds f(k + 1). Any t shares
// determine f, hence s (Lagrange interpolation at 0); any t − 1 are uniform and independent of s.
// SecureFedAvg's dropout recovery (services/fedavg/double.ts, docs/dropouts.md) shares each party's
// self-mask seed and pair-key secret this way, as Bonawitz et al. (CCS 2017, §4) do.
//
// The field arithmetic (multiplication, inversion) is @noble/curves' Field; randomness is the OS
// CSPRNG through field.ts. BigInt arithmetic is not constant-time: the values are shares of
// uniformly random seeds, and no branch depends on them.

import { Field } from '@noble/curves/abstract/modular.js';
import { BadInputError } from '../errors.js';
import { F25519 } from './field.js';

const Fp = Field(F25519.modulus);

/** Bytes of one share on the wire (little-endian, F25519.encodeBytes). */
export const SHARE_BYTES = F25519.byteLength;

/** n shares of `secret` with threshold t (any t reconstruct it, t − 1 reveal nothing). */
export function shamirShare(secret: bigint, parties: number, threshold: number): bigint[] {
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > parties) {
    throw new BadInputError(`threshold must be from 1 to ${parties}, got ${threshold}`, { where: 'threshold' });
  }
  const coefficients = [F25519.reduce(secret)];
  for (let k = 1; k < threshold; k++) coefficients.push(F25519.random());
  return Array.from({ length: parties }, (_, party) => {
    const x = BigInt(party + 1);
    // Horner's rule: f(x) = c0 + x(c1 + x(c2 + …)).
    let y = 0n;
    for (let k = coefficients.length - 1; k >= 0; k--) y = Fp.add(Fp.mul(y, x), coefficients[k]!);
    return y;
  });
}

/**
 * f(0) from shares of distinct parties: `shares` maps a party index (its share is f(index + 1))
 * to its share. The caller passes exactly t of them (more are fine: any t + k points of a degree
 * t − 1 polynomial interpolate to the same value).
 */
export function shamirReconstruct(shares: ReadonlyMap<number, bigint>): bigint {
  const xs = [...shares.keys()].map((party) => BigInt(party + 1));
  let secret = 0n;
  xs.forEach((xi, i) => {
    // Lagrange basis at 0: Π_{j≠i} x_j / (x_j − x_i).
    let num = 1n;
    let den = 1n;
    xs.forEach((xj, j) => {
      if (j === i) return;
      num = Fp.mul(num, xj);
      den = Fp.mul(den, Fp.sub(xj, xi));
    });
    secret = Fp.add(secret, Fp.mul(shares.get(Number(xi) - 1)!, Fp.div(num, den)));
  });
  return secret;
}
