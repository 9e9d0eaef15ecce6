// Additive secret sharing over Z_2^k (Cramer, Damgård, Nielsen, "Secure Multiparty Computation
// and Secret Sharing", 2015, §3.3.1 on additive/replicated sharing): a secret s becomes n shares
// s_1..s_n with s_1..s_{n-1} uniform and independent and s_n = s − Σ_{i<n} s_i (mod 2^k).
// Any n−1 of the shares are uniform and independent of s (the missing share is a one-time pad),
// so they reveal nothing; all n add up to s. Sums of sharings are sharings of sums, which is
// what SecureSum exploits: each party adds the shares it holds, and only the total is revealed.

import { BadInputError } from '../errors.js';
import type { Ring } from './ring.js';

export function share(secret: bigint, parties: number, ring: Ring): bigint[] {
  if (!Number.isInteger(parties) || parties < 1) {
    throw new BadInputError(`need at least one party to share among, got ${parties}`, { where: 'parties' });
  }
  const shares: bigint[] = [];
  let rest = ring.reduce(secret);
  for (let i = 0; i < parties - 1; i++) {
    const r = ring.random();
    shares.push(r);
    rest = ring.sub(rest, r);
  }
  shares.push(rest);
  return shares;
}

export function reconstruct(shares: readonly bigint[], ring: Ring): bigint {
  return ring.sum(shares);
}
