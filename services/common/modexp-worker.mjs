// A worker thread of the modular-exponentiation pool (modexp-pool.ts): b^e mod m by OpenSSL,
// exactly as ModExp.pow (modexp.ts) computes it on the main thread — through `DiffieHellman`,
// whose computeSecret is BN_mod_exp_mont_consttime — with the same answers for the bases OpenSSL
// will not take (0, 1, m − 1) and for the one result it will not return (1). Plain JavaScript on
// purpose: a worker does not inherit the main thread's TypeScript loader. The pool's tests check
// its answers against ModExp's.
//
// Message in:  { id, modulus: bigint (odd, ≥ 5), bases: bigint[], exponents: bigint[] (one per
//              base, or a single one for all) }
// Message out: { id, out: bigint[] } or { id, failed: message }.
import { parentPort } from 'node:worker_threads';
import { createDiffieHellman } from 'node:crypto';

/** The last few moduli's OpenSSL contexts (a product uses one N², a decryption p² and q²). */
const contexts = new Map();

function toBytes(x) {
  const hex = x.toString(16);
  return Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex');
}

function context(modulus) {
  let ctx = contexts.get(modulus);
  if (ctx === undefined) {
    if (contexts.size >= 4) contexts.delete(contexts.keys().next().value);
    ctx = { dh: createDiffieHellman(toBytes(modulus), Buffer.from([2])), exponent: undefined };
    contexts.set(modulus, ctx);
  }
  return ctx;
}

function slowPow(base, exponent, m) {
  let result = 1n;
  let b = base % m;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

function pow(ctx, m, base, exponent) {
  const b = ((base % m) + m) % m;
  if (exponent === 0n) return 1n;
  if (b <= 1n) return b;
  if (b === m - 1n) return exponent % 2n === 0n ? 1n : b;
  try {
    if (ctx.exponent !== exponent) {
      ctx.dh.setPrivateKey(toBytes(exponent));
      ctx.exponent = exponent;
    }
    const out = ctx.dh.computeSecret(toBytes(b));
    return out.length === 0 ? 0n : BigInt(`0x${out.toString('hex')}`);
  } catch {
    return slowPow(b, exponent, m);
  }
}

parentPort.on('message', ({ id, modulus, bases, exponents }) => {
  try {
    if (typeof modulus !== 'bigint' || modulus < 5n || modulus % 2n === 0n) throw new Error('the modulus must be odd and at least 5');
    if (exponents.length !== 1 && exponents.length !== bases.length) throw new Error('one exponent per base, or one for all');
    if (exponents.some((e) => typeof e !== 'bigint' || e < 0n)) throw new Error('exponents are non-negative integers');
    const ctx = context(modulus);
    const out = bases.map((b, i) => pow(ctx, modulus, b, exponents.length === 1 ? exponents[0] : exponents[i]));
    parentPort.postMessage({ id, out });
  } catch (err) {
    parentPort.postMessage({ id, failed: err instanceof Error ? err.message : 'the modexp worker failed' });
  }
});
