// Benchmark of the two-party products: SecureMatrixMultiplication and
// StatisticsRegressionOLSVertical on two servers in separate processes, plus the Paillier
// operations they are made of (ours against paillier-bigint's BigInt versions). Latency is
// wall-clock at the clients (the slower party); "sent" is what each server process wrote to its
// sockets and files during the run (/proc/<pid>/io wchar: peer payloads with their envelopes and
// HTTP, plus the small client answers). A benchmark prints; it asserts nothing.
//
//   npm run bench:simon-products                 all rows
//   TESSERA_BENCH_QUICK=1 npm run bench:simon-products   the small rows only
//   TESSERA_BENCH_OFFLINE_S=120 npm run bench:simon-products   pause 120 s after the keys are made,
//     so the key owners' offline phase (a pool of up to 4096 randomisers each) runs before the rows; the
//     default 0 measures with the pool refilling only between rows (what back-to-back calls get)
//   or, from another script: await benchSimonProducts({ quick: false, offlineSeconds: 0 })
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { generateRandomKeys } from 'paillier-bigint';
import { Api } from '../clients/typescript/index.js';
import { availableParallelism } from 'node:os';
import { generatePaillierKeyPair } from '../services/common/paillier.js';
import { ModExpPool, defaultModExpPool } from '../services/common/modexp-pool.js';
import { printTable, startProcessCluster, type ProcessCluster } from './cluster.js';

export interface ProductsBenchOptions {
  /** The small rows only (no 20×20, no OLS with N = 10,000). */
  readonly quick: boolean;
  /** Seconds to wait after the keys are made, for the key owners' offline phase (randomiser pools). */
  readonly offlineSeconds: number;
}

let QUICK = false;

function written(pid: number): number {
  return Number(/wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

function time<T>(f: () => T, reps: number): number {
  const t = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t) / reps;
}

async function primitives(): Promise<void> {
  let t = performance.now();
  const ours = await generatePaillierKeyPair();
  const keygen = performance.now() - t;
  t = performance.now();
  const { publicKey, privateKey } = await generateRandomKeys(2048, true);
  const theirKeygen = performance.now() - t;
  const c = ours.encrypt(123456789n);
  const theirs = publicKey.encrypt(123456789n);
  const rho = ours.randomizer();
  const x = (1n << 84n) - 987654321n; // |x|·2^64 for |x| ≈ 10^6: a typical fixed-point exponent
  const reps = QUICK ? 3 : 10;
  const rows: [string, number, number][] = [
    ['key generation (2048-bit N)', theirKeygen, keygen],
    ['encryption by the key owner', time(() => publicKey.encrypt(42n), reps), time(() => ours.encrypt(42n), reps)],
    ['… its online part, randomiser from the offline pool', time(() => publicKey.encrypt(42n), reps), time(() => ours.publicKey.encryptWith(42n, rho), reps * 20)],
    ['encryption with the public key only (re-randomisation)', time(() => publicKey.encrypt(42n), reps), time(() => ours.publicKey.encrypt(42n), reps)],
    ['c^x for an 84-bit x (one Σ term)', time(() => publicKey.multiply(theirs, x), reps), time(() => ours.publicKey.scale(c, x), reps * 5)],
    ['decryption', time(() => privateKey.decrypt(theirs), reps), time(() => ours.decrypt(c), reps)],
  ];
  console.log('\nPaillier operations, ms each (paillier-bigint in BigInt vs services/common/paillier.ts)\n');
  printTable(['operation', 'paillier-bigint', 'Tessera', 'speed-up'], rows.map(([name, a, b]) => [name, a.toFixed(1), b.toFixed(1), `${(a / b).toFixed(1)}×`]));

  // The batched operations the products run, on one worker thread and on the default pool (one
  // per core): wall time per operation, the best of two rounds.
  const one = new ModExpPool({ size: 1 });
  const count = QUICK ? 32 : 128;
  const cs = Array.from({ length: count }, () => c);
  const wall = async (f: (pool: ModExpPool) => Promise<unknown>, pool: ModExpPool): Promise<number> => {
    let best = Infinity;
    for (let round = 0; round < 2; round++) {
      const t = performance.now();
      await f(pool);
      best = Math.min(best, (performance.now() - t) / count);
    }
    return best;
  };
  const batched: [string, (pool: ModExpPool) => Promise<unknown>][] = [
    ['randomisers of the key owner (CRT)', (pool) => ours.randomizers(count, pool)],
    ['randomisers with the public key (r^N mod N²)', (pool) => ours.publicKey.randomizers(count, pool)],
    ['c^x for an 84-bit x (Σ terms)', (pool) => ours.publicKey.scaleAll(cs, [x], pool)],
    ['decryptions (CRT)', (pool) => ours.decryptAll(cs, pool)],
  ];
  const poolRows: string[][] = [];
  for (const [name, f] of batched) {
    const [single, all] = [await wall(f, one), await wall(f, defaultModExpPool)];
    poolRows.push([name, single.toFixed(2), all.toFixed(2), `${(single / all).toFixed(2)}×`]);
  }
  await one.close();
  console.log(`\nThe batches on worker threads, wall ms per operation (${count} per batch; the default pool has ${defaultModExpPool.size} threads on ${availableParallelism()} cores)\n`);
  printTable(['operation', '1 thread', `${defaultModExpPool.size} threads`, 'speed-up'], poolRows);
}

interface Row {
  readonly name: string;
  readonly sizes: string;
  readonly data: [unknown, unknown];
}

async function run(cluster: ProcessCluster, apis: Api[], microprotocol: string, data: [unknown, unknown]) {
  const uuid = randomUUID();
  const before = cluster.children.map((c) => written(c.pid!));
  const t = performance.now();
  await Promise.all(
    data.map(async (d, myself) => {
      const rep = await apis[myself]!.compute(microprotocol, d, { nodes: cluster.nodes, uuid, myself });
      await apis[myself]!.download(rep);
      await apis[myself]!.release(rep);
    }),
  );
  const ms = performance.now() - t;
  const sent = cluster.children.map((c, i) => written(c.pid!) - before[i]!);
  return { ms, sent };
}

function matrix(rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => ((i * 31 + j * 17) % 23) / 4 - 2.5));
}

function design(n: number): [number[][], number[]] {
  const X = Array.from({ length: n }, (_, i) => [1, Math.sin(i) * 10, (i % 97) / 3]);
  const y = X.map((r, i) => 2 + 0.5 * r[1]! - 0.25 * r[2]! + Math.cos(i));
  return [X, y];
}

/** Prints the tables (see the header). The entry point `npm run bench:simon` calls. */
export async function benchSimonProducts(options: ProductsBenchOptions = { quick: false, offlineSeconds: 0 }): Promise<void> {
  QUICK = options.quick;
  const OFFLINE_S = options.offlineSeconds;
  await primitives();
  const cluster = await startProcessCluster(2, ['--stage-timeout', '600']);
  const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 3_600_000 }));
  try {
    const first = await run(cluster, apis, 'SecureMatrixMultiplication', [[[[1]]], [[[1]]]]);
    console.log(`\nFirst product on a fresh server (party 1 generates its 2048-bit key): ${(first.ms / 1000).toFixed(2)} s\n`);
    // OLS is computed transposed (product.ts orientation): party 0 owns the key there.
    const [X10, y10] = design(10);
    const firstOls = await run(cluster, apis, 'StatisticsRegressionOLSVertical', [[X10], [y10]]);
    console.log(`First OLS on a fresh server (party 0 generates its 2048-bit key): ${(firstOls.ms / 1000).toFixed(2)} s\n`);
    if (OFFLINE_S > 0) {
      console.log(`Pausing ${OFFLINE_S} s for the key owners' offline phase (randomiser pools)\n`);
      await new Promise((resolve) => setTimeout(resolve, OFFLINE_S * 1000));
    }

    const products: Row[] = [
      { name: 'SecureMatrixMultiplication', sizes: '2×4 · 4×2 (SIMON §2.2)', data: [[matrix(2, 4)], [matrix(4, 2)]] },
      { name: 'SecureMatrixMultiplication', sizes: '5×5 · 5×5', data: [[matrix(5, 5)], [matrix(5, 5)]] },
      { name: 'SecureMatrixMultiplication', sizes: '10×10 · 10×10', data: [[matrix(10, 10)], [matrix(10, 10)]] },
      ...(QUICK ? [] : [{ name: 'SecureMatrixMultiplication', sizes: '20×20 · 20×20', data: [[matrix(20, 20)], [matrix(20, 20)]] as [unknown, unknown] }]),
      ...[100, 1000, ...(QUICK ? [] : [10_000])].map((n): Row => {
        const [X, y] = design(n);
        return { name: 'StatisticsRegressionOLSVertical', sizes: `N = ${n}, p = 3`, data: [[X], [y]] };
      }),
    ];
    const rows: (string | number)[][] = [];
    for (const row of products) {
      const { ms, sent } = await run(cluster, apis, row.name, row.data);
      rows.push([row.name, row.sizes, (ms / 1000).toFixed(2), (sent[0]! / 1024).toFixed(0), (sent[1]! / 1024).toFixed(0)]);
      console.error(`done: ${row.name} ${row.sizes}`);
    }
    console.log(`Two-party products, two servers in separate processes on one machine (key already generated; offline pause ${OFFLINE_S} s)\n`);
    printTable(['microprotocol', 'sizes', 'latency s', 'sent KiB, party 0', 'sent KiB, party 1'], rows);
  } finally {
    await cluster.close();
  }
}

// Run as a script (not when imported by another benchmark).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchSimonProducts({ quick: process.env.TESSERA_BENCH_QUICK === '1', offlineSeconds: Number(process.env.TESSERA_BENCH_OFFLINE_S ?? '0') }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
