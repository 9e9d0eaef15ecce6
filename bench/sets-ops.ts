// `npx tsx bench/sets-ops.ts [--n 2000]`: what one group operation and one hash onto the group
// cost, for every candidate group of the commutative-exponentiation PSI (services/simon/sets/),
// measured in CPU µs per operation in this process (warm JIT; CPU time, so that other jobs on a
// shared machine move it less than wall time). Each row runs in rounds interleaved with the
// others, and the median round is printed, so a burst of load hits every row alike.
// A benchmark prints; it asserts nothing.
//
// The rows, and why each is a candidate:
//   X25519 via crypto.diffieHellman, the peer's point imported as a KeyObject from JWK (what
//   group.ts does), from DER (SPKI), and the derive alone on a pre-imported key (the floor of
//   this API); WebCrypto's X25519 (raw import + deriveBits, on libuv's thread pool);
//   crypto.ECDH on prime256v1 and secp256k1 (computeSecret takes the point as bytes, no
//   KeyObject per operation, and returns only the x-coordinate — still commutative:
//   x([k2]·(±[k1]P)) = x([k1·k2]P)); @noble/curves ristretto255, x25519 and p256 in JavaScript.
//   Hashes: ours onto the group (RFC 9380 hash_to_ristretto255 by native SHA-512 and libsodium,
//   named by a Curve25519 u-coordinate), the reference path through noble, noble's RFC 9380 hashers for ristretto255 and P-256, and a plain SHA-256
//   for scale.
import { parseArgs } from 'node:util';
import { ECDH, createECDH, createHash, createPublicKey, diffieHellman, generateKeyPairSync, webcrypto } from 'node:crypto';
import { ristretto255, ristretto255_hasher, x25519 } from '@noble/curves/ed25519.js';
import { p256, p256_hasher } from '@noble/curves/nist.js';
import { ExponentKey, elementAt, hashToGroup, referenceU } from '../services/simon/sets/group.js';
import { printTable } from './cluster.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '5' } } });
const N = Number(values.n);
const ROUNDS = Number(values.rounds);
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const utf8 = new TextEncoder();

function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

interface Row {
  readonly name: string;
  /** Operations per round (the slow JavaScript rows run fewer). */
  readonly count: number;
  /** Runs `count` operations; may be async. */
  readonly round: () => unknown;
}

async function main(): Promise<void> {
  const { privateKey } = generateKeyPairSync('x25519');
  const points = await hashToGroup(Array.from({ length: N }, (_, i) => `point ${i}`), 'bench');
  const raw = Array.from({ length: N }, (_, i) => Buffer.from(elementAt(points, i)));
  const jwk = raw.map((r) => r.toString('base64url'));
  const imported = raw.map((r) => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: r.toString('base64url') }, format: 'jwk' }));
  const key = ExponentKey.random();
  const subtlePrivate = await webcrypto.subtle.importKey('jwk', privateKey.export({ format: 'jwk' }), { name: 'X25519' }, false, ['deriveBits']);
  const ecdh = (curve: string) => {
    const mine = createECDH(curve);
    mine.generateKeys();
    const peers = Array.from({ length: N }, () => {
      const peer = createECDH(curve);
      peer.generateKeys();
      return peer.getPublicKey(null, 'compressed');
    });
    return { mine, peers };
  };
  const p256Native = ecdh('prime256v1');
  const k1Native = ecdh('secp256k1');
  const slow = Math.max(20, Math.floor(N / 20));
  const ristrettoPoints = Array.from({ length: slow }, (_, i) => ristretto255.Point.BASE.multiply(BigInt(i + 1) * 7919n));
  const p256Points = Array.from({ length: slow }, (_, i) => p256.Point.BASE.multiply(BigInt(i + 1) * 7919n));
  const scalar = 0x1234567890abcdef1234567890abcdef1234567890abcdefn;
  let round = 0;

  const rows: Row[] = [
    { name: 'X25519 node:crypto, import point from JWK + diffieHellman (group.ts)', count: N, round: () => raw.forEach((_, i) => diffieHellman({ privateKey, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: jwk[i]! }, format: 'jwk' }) })) },
    { name: 'X25519 node:crypto, import point from DER (SPKI) + diffieHellman', count: N, round: () => raw.forEach((r) => diffieHellman({ privateKey, publicKey: createPublicKey({ key: Buffer.concat([SPKI_X25519, r]), format: 'der', type: 'spki' }) })) },
    { name: 'X25519 node:crypto, diffieHellman alone (point pre-imported)', count: N, round: () => imported.forEach((publicKey) => diffieHellman({ privateKey, publicKey })) },
    { name: 'X25519 ExponentKey.apply per element (inline, below the pool threshold)', count: N, round: async () => { for (let i = 0; i < N; i += 200) await key.apply(points.subarray(i * 32, Math.min(N, i + 200) * 32), 'bench'); } },
    {
      name: 'X25519 WebCrypto, importKey raw + deriveBits',
      count: N,
      round: async () => {
        for (let i = 0; i < N; i += 64) {
          await Promise.all(raw.slice(i, i + 64).map(async (r) => webcrypto.subtle.deriveBits({ name: 'X25519', public: await webcrypto.subtle.importKey('raw', r, { name: 'X25519' }, true, []) }, subtlePrivate, 256)));
        }
      },
    },
    { name: 'P-256 node:crypto ECDH.computeSecret (compressed point, x only)', count: N, round: () => p256Native.peers.forEach((p) => p256Native.mine.computeSecret(p)) },
    { name: 'P-256 node:crypto point decompression alone (ECDH.convertKey)', count: N, round: () => p256Native.peers.forEach((p) => ECDH.convertKey(p, 'prime256v1', undefined, undefined, 'uncompressed')) },
    { name: 'secp256k1 node:crypto ECDH.computeSecret (compressed point)', count: slow, round: () => k1Native.peers.slice(0, slow).forEach((p) => k1Native.mine.computeSecret(p)) },
    { name: 'ristretto255 variable-point multiply (noble, JavaScript)', count: slow, round: () => ristrettoPoints.forEach((p) => p.multiply(scalar)) },
    { name: 'X25519 (noble, JavaScript)', count: slow, round: () => raw.slice(0, slow).forEach((r) => x25519.getSharedSecret(new Uint8Array(32).fill(7), r)) },
    { name: 'P-256 variable-point multiply (noble, JavaScript)', count: slow, round: () => p256Points.forEach((p) => p.multiply(scalar)) },
    { name: 'hash: hashToGroup, RFC 9380 hash_to_ristretto255 as a u-coordinate (ours: native SHA-512 + libsodium)', count: N, round: () => hashToGroup(Array.from({ length: N }, (_, i) => `h${round}-${i}`), 'bench') },
    { name: 'hash: the same by the reference path (noble)', count: slow, round: () => { for (let i = 0; i < slow; i++) referenceU(`r${round}-${i}`, 'bench'); } },
    { name: 'hash: ristretto255 hash_to_curve (noble)', count: slow, round: () => { for (let i = 0; i < slow; i++) ristretto255_hasher.hashToCurve(utf8.encode(`q${round}-${i}`), { DST: 'bench' }); } },
    { name: 'hash: P-256 hash_to_curve (noble, SSWU RO)', count: slow, round: () => { for (let i = 0; i < slow; i++) p256_hasher.hashToCurve(utf8.encode(`s${round}-${i}`), { DST: 'bench' }); } },
    { name: 'hash: one SHA-256 of an item (node:crypto), for scale', count: N, round: () => { for (let i = 0; i < N; i++) createHash('sha256').update(`z${i}`).digest(); } },
  ];

  const samples = rows.map(() => [] as number[]);
  for (const row of rows) await row.round(); // warm-up
  for (round = 1; round <= ROUNDS; round++) {
    for (const [i, row] of rows.entries()) {
      const started = process.cpuUsage();
      await row.round();
      samples[i]!.push(cpuMicros(started) / row.count);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(samples[0]!);
  console.log(`\nGroup operations and hashes for the set protocols: CPU µs per operation, median of ${ROUNDS} interleaved rounds (${N} operations per round; the JavaScript rows ${slow})\n`);
  printTable(
    ['operation', 'CPU µs', '× group.ts X25519'],
    rows.map((row, i) => [row.name, median(samples[i]!).toFixed(1), (median(samples[i]!) / base).toFixed(2)]),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
