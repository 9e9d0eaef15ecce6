// `npm run bench:simon-sets`: the set microprotocols on party servers in separate processes,
// clients in this process. Prints
//   1. the cost of the group operations the constructions were chosen by (per operation, warm);
//   2. SetIntersection and SetIntersectionSize, 3 parties, 100 / 1,000 / 10,000 items per party
//      (half of them shared): latency at the clients (the slowest party) and the bytes each
//      party's server process wrote (/proc/<pid>/io wchar: peer envelopes, HTTP, answers);
//   3. StatisticsContingencyVertical, 2 parties, 100 / 1,000 records (3 × 2 categories).
// A benchmark prints; it asserts nothing.
//
//   npm run bench:simon-sets [-- --sizes 100,1000,10000 --runs 2 --only SetIntersectionSize --no-groups]
//   or, from another script: await benchSimonSets({ sizes: [100, 1000, 10000], runs: 2 })
import { parseArgs } from 'node:util';
import { randomUUID, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ristretto255, ristretto255_hasher, x25519 } from '@noble/curves/ed25519.js';
import { Api } from '../clients/typescript/index.js';
import { hashToGroup, ExponentKey, elementAt, referenceU } from '../services/simon/sets/group.js';
import { ElGamal } from '../services/simon/sets/elgamal.js';
import { patientFetch, printTable, startProcessCluster } from './cluster.js';

export interface SetsBenchOptions {
  /** Items per party for SetIntersection(Size); the vertical table runs the sizes up to 1,000. */
  readonly sizes: readonly number[];
  /** Runs per row below 10,000 items (the best is printed); 10,000-item rows run once. */
  readonly runs: number;
  /** Only these microprotocols (default: all three); the group table is printed unless `groups` is false. */
  readonly only?: readonly string[];
  readonly groups?: boolean;
}

/** CPU µs of this process since `since`: unlike wall time, barely moved by other jobs on the machine. */
function cpuSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

function perOp(n: number, f: (i: number) => unknown): string {
  for (let i = 0; i < Math.min(n, 50); i++) f(i); // warm the JIT
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) f(i);
  return (cpuSince(started) / n).toFixed(0);
}

async function groupCosts(): Promise<void> {
  const n = 300;
  const utf8 = new TextEncoder();
  const scalar = 0x1234567890abcdef1234567890abcdef1234567890abcdefn;
  const points = Array.from({ length: n }, (_, i) => ristretto255.Point.BASE.multiply(BigInt(i + 1) * 7919n));
  const us = await hashToGroup(Array.from({ length: n }, (_, i) => `w${i}`), 'bench');
  const { privateKey } = generateKeyPairSync('x25519');
  const key = ExponentKey.random();
  const group = await ElGamal.load();
  const elgamal = group.secretKey();
  const ciphertext = elgamal.encrypt(1);
  const nobleG = ristretto255.Point.fromBytes(ristretto255.Point.BASE.toBytes()).precompute(8, false);
  const encodings = points.map((p) => p.toBytes());
  const scalars = Array.from({ length: n }, () => group.randomScalar());
  const xs = Array.from({ length: n }, (_, i) => elementAt(us, i));
  const started = process.cpuUsage();
  await key.apply(us, 'bench');
  const nativeApply = (cpuSince(started) / n).toFixed(0);
  const hashStarted = process.cpuUsage();
  await hashToGroup(Array.from({ length: n }, (_, i) => `v${i}`), 'bench');
  const ours = (cpuSince(hashStarted) / n).toFixed(0);
  console.log('\nGroup operations (CPU µs per operation, warm; this machine, now)\n');
  printTable(
    ['operation', 'CPU µs'],
    [
      ['ristretto255 variable-point multiply (noble)', perOp(n, (i) => points[i]!.multiply(scalar))],
      ['X25519 (noble)', perOp(n, (i) => x25519.getSharedSecret(new Uint8Array(32).fill(7), xs[i]!))],
      ['X25519 (Node/OpenSSL: import point + DH)', perOp(n, (i) => diffieHellman({ privateKey, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(xs[i]!).toString('base64url') }, format: 'jwk' }) }))],
      ['ExponentKey.apply per element (the protocols\')', nativeApply],
      ['ristretto255 hash_to_curve (noble)', perOp(n, (i) => ristretto255_hasher.hashToCurve(utf8.encode(`r${i}`), { DST: 'bench' }))],
      ['hashToGroup per item (RFC 9380 hash_to_ristretto255 by libsodium, as a u-coordinate)', ours],
      ['the same hash by the reference path (noble)', perOp(50, (i) => referenceU(`ref${i}`, 'bench'))],
      ['ristretto255 fixed-base multiply, window table, and encoding (noble)', perOp(n, (i) => nobleG.multiply(scalar + BigInt(i)).toBytes())],
      ['ristretto255 decoding and check (noble fromBytes)', perOp(n, (i) => ristretto255.Point.fromBytes(encodings[i]!))],
      ['ristretto255 fixed-base multiply to an encoding (libsodium)', perOp(n, (i) => group.baseTimes(scalars[i]!))],
      ['ristretto255 variable-point multiply of an encoding (libsodium)', perOp(n, (i) => group.times(scalars[i]!, encodings[i]!))],
      ['ristretto255 addition of two encodings (libsodium)', perOp(n, (i) => group.add(encodings[i]!, encodings[(i + 1) % n]!))],
      ['ristretto255 canonical-encoding check (libsodium)', perOp(n, (i) => group.decodePoint(encodings[i]!, 'bench'))],
      ['ElGamal encrypt by the key owner (libsodium)', perOp(n, (i) => elgamal.encrypt(i & 1))],
      ['ElGamal re-randomise with the public key (libsodium)', perOp(n, () => elgamal.publicKey.rerandomize(ciphertext))],
      ['ElGamal decrypt to m·G (libsodium)', perOp(n, () => elgamal.decryptToPoint(ciphertext))],
    ],
  );
}

function wchar(pid: number): number {
  return Number(/wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

const kib = (b: number) => (b / 1024).toFixed(0);

/** CPU seconds (user + system) a process has used so far: /proc/<pid>/stat fields 14 and 15, in clock ticks of 1/100 s. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(apis: Api[], nodes: string[], pids: number[], microprotocol: string, inputs: unknown[]): Promise<{ ms: number; bytes: number[]; cpu: number[]; result: unknown }> {
  const uuid = randomUUID();
  const before = pids.map(wchar);
  const cpuBefore = pids.map(cpuSeconds);
  const started = performance.now();
  const results = await Promise.all(
    inputs.map(async (data, myself) => {
      const rep = await apis[myself]!.compute(microprotocol, data, { nodes, uuid, myself });
      try {
        return await apis[myself]!.download(rep);
      } finally {
        await apis[myself]!.release(rep);
      }
    }),
  );
  const ms = performance.now() - started;
  return { ms, bytes: pids.map((pid, i) => wchar(pid) - before[i]!), cpu: pids.map((pid, i) => cpuSeconds(pid) - cpuBefore[i]!), result: results[0] };
}

/** What each set microprotocol runs on (docs/set-protocols.md §2, §2b), side by side in the table. */
const CONSTRUCTION: Record<string, string> = {
  SetIntersection: 'OPRFs from OT extension (KKRT/KMPRT)',
  SetIntersectionSize: 'X25519 shuffle, then the OPRFs',
};

/** Prints the three tables (see the header). The entry point `npm run bench:simon` calls. */
export async function benchSimonSets({ sizes: SIZES, runs: RUNS, only, groups = true }: SetsBenchOptions = { sizes: [100, 1000, 10_000], runs: 2 }): Promise<void> {
  const wanted = (name: string) => only === undefined || only.includes(name);
  if (groups) await groupCosts();
  const cluster = await startProcessCluster(3, ['--stage-timeout', '600']);
  try {
    const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 900_000, fetch: patientFetch }));
    const pids = cluster.children.map((c) => c.pid!);
    const warm = [[['a', 'b']], [['b']], [['b', 'c']]];
    await run(apis, cluster.nodes, pids, 'SetIntersection', warm);

    const rows: (string | number)[][] = [];
    for (const microprotocol of ['SetIntersection', 'SetIntersectionSize'].filter(wanted)) {
      for (const size of SIZES) {
        // Half of each party's items are shared by all; the rest are its own.
        const inputs = [0, 1, 2].map((p) => [Array.from({ length: size }, (_, k) => (k < size / 2 ? `shared-${k}` : `p${p}-${k}`))]);
        const times: number[] = [];
        let bytes: number[] = [];
        let cpu: number[] = [];
        for (let r = 0; r < (size >= 10_000 ? 1 : RUNS); r++) {
          const out = await run(apis, cluster.nodes, pids, microprotocol, inputs);
          times.push(out.ms);
          bytes = out.bytes;
          cpu = out.cpu;
        }
        rows.push([microprotocol, CONSTRUCTION[microprotocol]!, `3 × ${size}`, times.length, Math.min(...times).toFixed(0), cpu.map((c) => c.toFixed(1)).join(' / '), ...bytes.map(kib)]);
      }
    }
    console.log('\nSet intersection, 3 parties (servers in separate processes; half the items shared)\n');
    printTable(['microprotocol', 'construction', 'items', 'runs', 'best latency ms', 'CPU s P0 / P1 / P2 (last run)', 'P0 wrote KiB', 'P1 wrote KiB', 'P2 wrote KiB'], rows);

    const cvRows: (string | number)[][] = [];
    const nodes = cluster.nodes.slice(0, 2);
    for (const size of SIZES.filter((s) => s <= 1000 && wanted('StatisticsContingencyVertical'))) {
      const ids = Array.from({ length: size }, (_, k) => `id-${k}`);
      const inputs = [
        ids.filter((_, k) => k % 10 !== 0).map((id, k) => [id, ['north', 'south', 'east'][k % 3]]),
        ids.filter((_, k) => k % 7 !== 0).map((id, k) => [id, ['basic', 'premium'][k % 2]]),
      ];
      const out = await run(apis.slice(0, 2), nodes, pids.slice(0, 2), 'StatisticsContingencyVertical', inputs);
      cvRows.push(['StatisticsContingencyVertical', `~${size} records each`, out.ms.toFixed(0), ...out.bytes.map(kib)]);
    }
    if (cvRows.length > 0) {
      console.log('\nVertical contingency table, 2 parties, 3 × 2 categories\n');
      printTable(['microprotocol', 'records', 'latency ms', 'P0 wrote KiB', 'P1 wrote KiB'], cvRows);
    }
  } finally {
    await cluster.close();
  }
}

// Run as a script (not when imported by another benchmark).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { sizes: { type: 'string', default: '100,1000,10000' }, runs: { type: 'string', default: '2' }, only: { type: 'string' }, 'no-groups': { type: 'boolean', default: false } },
  });
  benchSimonSets({ sizes: values.sizes.split(',').map(Number), runs: Number(values.runs), only: values.only?.split(','), groups: !values['no-groups'] }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
