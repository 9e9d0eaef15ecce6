// SecureFedAvg benchmark: three party servers, each its own child process (so peak RSS is per
// server), models of 1M, 10M and 25M float32 parameters; SecureFedAvg with a 64-, 32-, 48- and 40-bit ring
// and the insecure PlainFedAvg baseline, measured in the same run, next to a raw baseline of what
// the work costs without Tessera. Prints three tables: time, CPU, memory.
//
// The raw baseline (issue 16), per configuration and in the same run:
//   - raw TCP: the bytes one party of that configuration sent (its payload), moved between the same
//     number of processes with nothing but node:net (bench/rawtcp-party.mjs): every party sends its
//     share to every other at once. Wall time and per-process CPU seconds.
//   - keystream: the AES-256-CTR keystream of that party's masks alone, as the default round
//     expands them (services/fedavg/masks.ts segmentTerms: on each of the n−1 other segments, the
//     n−2 pair terms without the segment's holder; none on its own segment), node:crypto, 64 KiB per
//     call, CPU seconds in this process.
// Per-party CPU (user + sys, from /proc/<pid>/stat of each server, so worker threads count) is
// compared with raw TCP CPU + keystream CPU.
//
//   npx tsx bench/fedavg.ts [sizes in millions, default 1,10,25]   the protocol table
//   npx tsx bench/fedavg.ts vector [millions, default 25]          throughput of the ring primitives
//   npx tsx bench/fedavg.ts dropout [millions, default 1,25] [parties, default 3,5] [--skip 25x5]
//                                   per size and party count: the default round, min_parties n−1
//                                   with no dropout (double masking's cost), one party that never
//                                   calls (restart), one killed after setup (recovered by
//                                   unmasking; docs/dropouts.md), and the no-dropout and killed
//                                   rows again with rescue "none" (no backup); --skip leaves out
//                                   size×parties; --cases default,double,lean,... runs only those;
//                                   --stage-timeout S (default 5) for a loaded machine; --repeat N
//                                   runs the cases N times, alternating, and adds their medians
//   TESSERA_BENCH_REPS=3 runs each configuration 3 times (the fastest online run is reported);
//   TESSERA_BENCH_ONLY="PlainFedAvg,SecureFedAvg 64" runs those variants (comma-separated; the
//   others are SecureFedAvg 32, 48 and 40); TESSERA_BENCH_NODE_ARGS (bench/cluster.ts)
//   passes Node options such as --cpu-prof to the servers.
//
// Per configuration, fresh servers are started (peak RSS is the child's VmHWM from /proc), every
// party uploads its model in binary, then the computation runs in two calls as a training loop
// would: `prepare` (manifests, seeds, mask expansion — while the model would still be training)
// and `submit` (the online part). Times are wall-clock at the clients, the slowest party; bytes
// are the protocol payload bytes a party sent (from the result's metadata; AES-GCM envelopes and
// HTTP add a few hundred bytes per 1–2 MiB message). A benchmark prints; it asserts nothing.

import { spawn, execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Api } from '../clients/typescript/index.js';
import { TensorSet } from '../services/common/tensors.js';
import { MaskStream, freshSeed } from '../services/common/prg.js';
import { cipherAt, expandMaskInto, maskOnto, SLICE_BYTES, type MaskTerm } from '../services/common/mask.js';
import { addBytesInto, addInto, allocRing, decodeInto, encodeInto, fixedPoint, type RingBits } from '../services/common/vector.js';
import { release } from '../services/common/release.js';
import { peakRss, resultMetadata, startProcessCluster } from './cluster.js';

const PARTIES = 3;
/** Repetitions per configuration (TESSERA_BENCH_REPS, default 1); the fastest online run is reported. */
const REPS = Math.max(1, Number(process.env.TESSERA_BENCH_REPS ?? 1) || 1);
/** FedAvg is reached through the Simon microservice, as every client reaches it. */
const FEDAVG_SERVICE = { protocol: 'Simon' };

/** A float32 model of `parameters` values in ±1, split into a few tensors like a real network's. */
function model(parameters: number, seed: number): TensorSet {
  const sizes = [parameters - 1000 - 24, 1000, 24];
  let s = seed >>> 0 || 1;
  const tensors: Record<string, Float32Array> = {};
  sizes.forEach((size, t) => {
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = s / 2 ** 31 - 1;
    }
    tensors[`layer${t}.weight`] = data;
  });
  return TensorSet.from(tensors);
}

/** Clock ticks per second of /proc/<pid>/stat times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, every thread) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
  // utime is field 14 and stime field 15 of the whole line, i.e. 12 and 13 after "pid (comm) ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Minor page faults a process has taken so far (/proc/<pid>/stat field 10). */
function minorFaults(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

interface RawTcp {
  wallMs: number;
  /** CPU seconds of the busiest process. */
  cpuSeconds: number;
}

/** The raw-TCP baseline: `parties` processes, each sending `bytesPerParty` split evenly over the others. */
async function rawTcp(parties: number, bytesPerParty: number): Promise<RawTcp> {
  const perPeer = Math.ceil(bytesPerParty / (parties - 1));
  const children = Array.from({ length: parties }, (_, i) =>
    spawn(process.execPath, [new URL('./rawtcp-party.mjs', import.meta.url).pathname, String(i), String(perPeer)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  try {
    const lines = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
    const ports = await Promise.all(lines.map(async (l) => Number(/^port (\d+)$/.exec(String((await l.next()).value))?.[1])));
    const t0 = performance.now();
    for (const c of children) c.stdin!.write(`${JSON.stringify(ports)}\n`);
    const reports = await Promise.all(lines.map(async (l) => JSON.parse(String((await l.next()).value)) as { cpuSeconds: number; wallMs: number }));
    return { wallMs: performance.now() - t0, cpuSeconds: Math.max(...reports.map((r) => r.cpuSeconds)) };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
}

/**
 * The least CPU seconds of three runs of `measure`. The servers' kernels free each cipher output as
 * soon as it is used (services/common/release.ts), so malloc hands the same memory to the next
 * call; a measurement in this process that let its outputs wait for the collector paid the first
 * touch of fresh pages on every call instead, 0.24–0.54 s for a 25M party's keystream where the
 * cipher itself costs 0.03–0.07 s (docs/performance.md "The raw baseline's ciphers, measured as
 * the servers run them"). The least of three is the cost without cold memory or the JIT's first
 * compilation: the strictest baseline.
 */
function leastOfThree(measure: () => void): number {
  let least = Infinity;
  for (let run = 0; run < 3; run++) {
    const cpu0 = process.cpuUsage();
    measure();
    const cpu = process.cpuUsage(cpu0);
    least = Math.min(least, (cpu.user + cpu.system) / 1e6);
  }
  return least;
}

/** CPU seconds of the AES-256-CTR keystream of `streams` streams of `bytes` bytes each (64 KiB per call, as the kernel runs, each output freed once used). */
function keystreamSeconds(streams: number, bytes: number): number {
  const zeros = Buffer.alloc(64 * 1024);
  return leastOfThree(() => {
    for (let s = 0; s < streams; s++) {
      const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, s + 1), Buffer.alloc(16));
      for (let at = 0; at < bytes; at += zeros.length) release(cipher.update(zeros.subarray(0, Math.min(zeros.length, bytes - at))));
    }
  });
}

/**
 * CPU seconds of the envelopes' AES-256-GCM alone for `bytes` sent and as many received (the
 * exchange is symmetric): sealed and opened in 2 MiB messages of 64 KiB cipher calls, as
 * server/peer/envelope.ts does for large payloads, each output freed once used. Not part of raw
 * (nothing but node:net moves those bytes); printed beside it, since SECURITY.md requires every
 * peer message authenticated and encrypted: what the protocol cannot give up.
 */
function envelopeSeconds(bytes: number): number {
  const message = Buffer.alloc(2 * 1024 * 1024, 1);
  const key = Buffer.alloc(32, 7);
  return leastOfThree(() => {
    for (let at = 0, n = 0; at < bytes; at += message.length, n++) {
      const length = Math.min(message.length, bytes - at);
      const nonce = Buffer.alloc(12);
      nonce.writeUInt32BE(n, 8);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const parts: Buffer[] = [];
      for (let off = 0; off < length; off += SLICE_BYTES) parts.push(cipher.update(message.subarray(off, Math.min(length, off + SLICE_BYTES))));
      cipher.final();
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAuthTag(cipher.getAuthTag());
      for (const part of parts) {
        release(decipher.update(part));
        release(part);
      }
      decipher.final();
    }
  });
}

/**
 * The keystream one party of the default round expands, as [streams, bytes each]: (n−1)(n−2)
 * streams over one segment (E/n elements) each, the holder's pairs being left out of its segment;
 * with two parties nothing is left out: one stream over the whole model (masks.ts segmentTerms).
 */
function maskStreams(parties: number, elements: number, bits: number): [number, number] {
  if (parties < 3) return [parties - 1, elements * (bits / 8)];
  return [(parties - 1) * (parties - 2), Math.ceil(elements / parties) * (bits / 8)];
}

interface Row {
  size: number;
  variant: string;
  /** Ring width (0 for the plain baseline). */
  bits: number;
  /** CPU seconds of the busiest server during prepare, during submit, and both. */
  cpuPrepare: number;
  cpuOnline: number;
  cpuTotal: number;
  /** Minor page faults of the busiest server during submit: first touches of fresh memory (each a trip into the kernel). */
  faultsOnline: number;
  /** Peak RSS of a freshly started server, before any upload (the runtime alone). */
  rssIdle: number;
  raw?: RawTcp;
  keystreamSeconds?: number;
  /** AES-256-GCM of the envelopes alone, for the bytes this party sent and received (envelopeSeconds). */
  envelopeSeconds?: number;
  prepareMs: number;
  onlineMs: number;
  totalMs: number;
  bytesSent: number;
  peakRss: number;
  /** Peak RSS after the upload, before the computation. */
  rssUploaded: number;
}

const VARIANTS: { name: string; microprotocol: string; bits: number; options: Record<string, unknown> }[] = [
  { name: 'PlainFedAvg', microprotocol: 'PlainFedAvg', bits: 0, options: {} },
  { name: 'SecureFedAvg 64', microprotocol: 'SecureFedAvg', bits: 64, options: { ring_bits: 64 } },
  { name: 'SecureFedAvg 32', microprotocol: 'SecureFedAvg', bits: 32, options: { ring_bits: 32 } },
  // The narrower rings are held and masked as Z_2^64 (8 bytes of keystream per element, `bits`)
  // and sent as their low 40 or 48 bits (services/common/vector.ts packRing).
  { name: 'SecureFedAvg 48', microprotocol: 'SecureFedAvg', bits: 64, options: { ring_bits: 48 } },
  { name: 'SecureFedAvg 40', microprotocol: 'SecureFedAvg', bits: 64, options: { ring_bits: 40 } },
];
/** TESSERA_BENCH_ONLY: the variants to run, by name, comma-separated (PlainFedAvg for the ratios). */
const ONLY = process.env.TESSERA_BENCH_ONLY?.split(',').map((v) => v.trim());

async function runOne(size: number, variant: (typeof VARIANTS)[number], models: TensorSet[]): Promise<Row> {
  // Fresh servers per configuration, so each peak RSS belongs to this run alone.
  const { nodes, children, close } = await startProcessCluster(PARTIES, ['--stage-timeout', '120']);
  try {
    const rssIdle = Math.max(...children.map((c) => peakRss(c.pid!)));
    const apis = nodes.map((url) => new Api(url, { timeoutMs: 600_000 }));
    const uploaded = await Promise.all(apis.map((api, i) => api.uploadTensors(models[i]!)));
    // What a server holds before the computation: runtime, HTTP stack, the uploaded model.
    const rssUploaded = Math.max(...children.map((c) => peakRss(c.pid!)));
    const uuid = randomUUID();
    const manifest = models[0]!.manifest();
    const pids = children.map((c) => c.pid!);
    const cpu0 = pids.map(cpuSeconds);
    const t0 = performance.now();
    const prepared = await Promise.all(
      apis.map(async (api, myself) => {
        const service = await api.create(FEDAVG_SERVICE);
        const prepare = await service.attribute('prepare');
        const p = await api.call(prepare, { microprotocol: variant.microprotocol, data: { manifest }, network: { nodes, uuid, myself }, ...variant.options });
        return { api, submit: await p!.attribute('submit') };
      }),
    );
    const t1 = performance.now();
    const cpu1 = pids.map(cpuSeconds);
    const faults1 = pids.map(minorFaults);
    const mark1 = process.hrtime.bigint() / 1000n;
    const results = await Promise.all(
      prepared.map(({ api, submit }, i) => api.call(submit, { data: { tensors: uploaded[i], weight: 100 * (i + 1) } })),
    );
    const t2 = performance.now();
    const cpu2 = pids.map(cpuSeconds);
    const faults2 = pids.map(minorFaults);
    // For a profile of the servers (TESSERA_BENCH_NODE_ARGS="--cpu-prof ..."): the online window on
    // the profiles' clock (CLOCK_MONOTONIC, µs), so that only submit's samples are counted.
    if (process.env.TESSERA_BENCH_NODE_ARGS) process.stderr.write(`  ${size / 1e6}M ${variant.name}: online window ${mark1} ${process.hrtime.bigint() / 1000n} µs, pids ${pids.join(',')}\n`);
    const metadata = await Promise.all(results.map((r, i) => resultMetadata(nodes[i]!, r!.uuid)));
    const rss = children.map((c) => peakRss(c.pid!));
    return {
      size,
      variant: variant.name,
      bits: variant.bits,
      cpuPrepare: Math.max(...pids.map((_, i) => cpu1[i]! - cpu0[i]!)),
      cpuOnline: Math.max(...pids.map((_, i) => cpu2[i]! - cpu1[i]!)),
      cpuTotal: Math.max(...pids.map((_, i) => cpu2[i]! - cpu0[i]!)),
      faultsOnline: Math.max(...pids.map((_, i) => faults2[i]! - faults1[i]!)),
      rssIdle,
      prepareMs: t1 - t0,
      onlineMs: t2 - t1,
      totalMs: t2 - t0,
      bytesSent: Math.max(...metadata.map((m) => Number(m['tessera.bytes_sent']))),
      peakRss: Math.max(...rss),
      rssUploaded,
    };
  } finally {
    await close();
  }
}

/**
 * A run that fails is started afresh, at most twice more, saying so on stderr. On a heavily loaded
 * machine a server that gets too little CPU to read a 2 MiB peer message within its slow-body
 * grace (server/http/body.ts inflightGuard: 5 s + 1 s per MiB) drops the connection, and the round
 * fails with ECONNRESET; that is the load, not the configuration being measured.
 */
async function runWithRetries(size: number, variant: (typeof VARIANTS)[number], models: TensorSet[]): Promise<Row> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOne(size, variant, models);
    } catch (err) {
      if (attempt >= 3) throw err;
      process.stderr.write(`  ${size / 1e6}M ${variant.name}: attempt ${attempt} failed (${(err as Error).message}); starting afresh\n`);
    }
  }
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const paired = new Map<string, number[]>();
function pairedRatios(key: string): number[] {
  let list = paired.get(key);
  if (list === undefined) paired.set(key, (list = []));
  return list;
}
function medianText(values: number[]): string {
  if (values.length === 0) return '-';
  return `${median(values).toFixed(2)} (n=${values.length})`;
}

async function protocolTable(sizesInMillions: number[]): Promise<void> {
  const rows: Row[] = [];
  for (const millions of sizesInMillions) {
    const size = Math.round(millions * 1e6);
    const models = Array.from({ length: PARTIES }, (_, k) => model(size, 17 + k));
    // Variants interleaved within each repetition, so a change in the machine's load hits all of
    // them alike; per variant the repetition with the shortest online time is kept.
    const best = new Map<string, Row>();
    for (let rep = 0; rep < REPS; rep++) {
      let plainOnline: number | undefined;
      for (const variant of VARIANTS.filter((v) => ONLY === undefined || ONLY.includes(v.name))) {
        const row = await runWithRetries(size, variant, models);
        // The raw baseline right after the run it belongs to (same moment, same load).
        row.raw = await rawTcp(PARTIES, row.bytesSent);
        row.keystreamSeconds = row.bits === 0 ? 0 : keystreamSeconds(...maskStreams(PARTIES, size, row.bits));
        row.envelopeSeconds = envelopeSeconds(row.bytesSent);
        const kept = best.get(variant.name);
        if (kept === undefined || row.onlineMs < kept.onlineMs) best.set(variant.name, row);
        // The ratio to the plain run of the same repetition (same moment, same load): their
        // median is steadier than a ratio of two bests taken at different moments.
        if (variant.name === 'PlainFedAvg') plainOnline = row.onlineMs;
        else if (plainOnline !== undefined) pairedRatios(`${size}/${variant.name}`).push(row.onlineMs / plainOnline);
        process.stderr.write(`  ${millions}M ${variant.name} (run ${rep + 1}/${REPS}): online ${row.onlineMs.toFixed(0)} ms\n`);
      }
    }
    rows.push(...best.values());
  }
  const plainOf = (row: Row) => rows.find((r) => r.size === row.size && r.variant === 'PlainFedAvg');
  const rowName = (row: Row) => `${row.size / 1e6}M | ${row.variant}`;
  console.log(`\nFedAvg, ${PARTIES} parties (one server process each), float32 models; slowest party, best of ${REPS} by online time.`);
  console.log('prepare = manifests, seeds, masks (before the model); online = submit to result; raw TCP = the same payload bytes between');
  console.log(`${PARTIES} node:net processes (no HTTP, no envelopes, no arithmetic); bytes = protocol payload one party sent.`);
  console.log('| params | protocol | prepare s | online s | total s | sent MiB | raw TCP s | online/raw TCP | online/plain | online/plain, median of paired runs | bytes/plain |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const plain = plainOf(row);
    console.log(
      `| ${rowName(row)} | ${(row.prepareMs / 1000).toFixed(2)} | ${(row.onlineMs / 1000).toFixed(2)} | ${(row.totalMs / 1000).toFixed(2)} | ` +
        `${mb(row.bytesSent)} | ${(row.raw!.wallMs / 1000).toFixed(2)} | ${(row.onlineMs / row.raw!.wallMs).toFixed(2)} | ` +
        `${plain ? (row.onlineMs / plain.onlineMs).toFixed(2) : '-'} | ${medianText(pairedRatios(`${row.size}/${row.variant}`))} | ` +
        `${plain ? (row.bytesSent / plain.bytesSent).toFixed(2) : '-'} |`,
    );
  }
  console.log('\nCPU seconds (user + sys) of the busiest server process; raw = raw TCP CPU of the busiest node:net process + AES-256-CTR keystream');
  console.log('of its masks alone ((n−1)(n−2) streams × E/n·k/8 bytes: the holder\'s pairs are left out of its segment). Target: SecureFedAvg CPU ≤ 2× raw.');
  console.log('envelope GCM = AES-256-GCM sealing what it sent and opening as much, 64 KiB per call (not in raw: what SECURITY.md requires of every peer message).');
  console.log('CPU/plain = CPU total against PlainFedAvg\'s in the same run: what the masks and the ring cost beyond the same transport.');
  console.log('online page faults = minor faults of the busiest server during submit: each 4 KiB of memory touched for the first time (docs/performance.md).');
  console.log('| params | protocol | CPU prepare s | CPU online s | CPU total s | raw TCP CPU s | keystream CPU s | raw CPU s | CPU/raw | envelope GCM CPU s | CPU/(raw + GCM) | CPU/plain | online page faults |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const raw = row.raw!.cpuSeconds + row.keystreamSeconds!;
    const plain = plainOf(row);
    console.log(
      `| ${rowName(row)} | ${row.cpuPrepare.toFixed(2)} | ${row.cpuOnline.toFixed(2)} | ${row.cpuTotal.toFixed(2)} | ` +
        `${row.raw!.cpuSeconds.toFixed(2)} | ${row.keystreamSeconds!.toFixed(2)} | ${raw.toFixed(2)} | ${(row.cpuTotal / raw).toFixed(2)} | ` +
        `${row.envelopeSeconds!.toFixed(2)} | ${(row.cpuTotal / (raw + row.envelopeSeconds!)).toFixed(2)} | ` +
        `${plain ? (row.cpuTotal / plain.cpuTotal).toFixed(2) : '-'} | ${row.faultsOnline} |`,
    );
  }
  console.log('\nPeak RSS (VmHWM) of the largest server; idle = a fresh server before any upload (Node, the compiled server or tsx (TESSERA_TSX=1), the HTTP stack); model = float32 bytes.');
  console.log('computation/model = (peak − idle) / model: the input (which the average is written into), masks and messages in flight. Target: peak ≤ 3.');
  console.log('floor/model = (idle + input) / model, what any run holds at its end (the default round averages in place: services/fedavg/protocol.ts');
  console.log('outputStorage); beyond input = peak − idle − input: chunk buffers, messages in flight and garbage not yet collected (the part the');
  console.log('protocol and the transport control); beyond in+out = the same less one more model, for a run that holds a separate output.');
  console.log('| params | protocol | model MiB | idle MiB | after upload MiB | peak MiB | peak/model | computation/model | floor/model | beyond input MiB | beyond in+out MiB |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const modelBytes = row.size * 4;
    console.log(
      `| ${rowName(row)} | ${mb(modelBytes)} | ${mb(row.rssIdle)} | ${mb(row.rssUploaded)} | ${mb(row.peakRss)} | ` +
        `${(row.peakRss / modelBytes).toFixed(2)} | ${((row.peakRss - row.rssIdle) / modelBytes).toFixed(2)} | ` +
        `${((row.rssIdle + modelBytes) / modelBytes).toFixed(2)} | ${mb(row.peakRss - row.rssIdle - modelBytes)} | ${mb(row.peakRss - row.rssIdle - 2 * modelBytes)} |`,
    );
  }
}

// ---- the ring primitives on their own ---------------------------------------------------------------

function vectorTable(millions: number): void {
  const n = Math.round(millions * 1e6);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 7919) % 2001) / 1000 - 1;
  const out = new Float32Array(n);
  const rows: [string, number][] = [];
  // CPU time of this process (user + sys), not wall time: on a shared machine it is the steadier measure.
  const time = (name: string, f: () => void) => {
    f(); // warm-up (JIT)
    const cpu0 = process.cpuUsage();
    f();
    const cpu = process.cpuUsage(cpu0);
    rows.push([name, (cpu.user + cpu.system) / 1000]);
  };
  for (const bits of [64, 32] as RingBits[]) {
    const fp = fixedPoint(bits);
    const a = allocRing(bits, n);
    const b = allocRing(bits, n);
    const seed = freshSeed();
    time(`encode f32 -> Z_2^${bits} (set, range-checked)`, () => encodeInto(fp, a, x, fp.scale / 3, 'set', 'x'));
    time(`encode f32 -> Z_2^${bits} (add into mask)`, () => encodeInto(fp, b, x, fp.scale / 3, 'add', 'x'));
    time(`add Z_2^${bits}`, () => addInto(bits, a, b, 1));
    time(`subtract Z_2^${bits}`, () => addInto(bits, a, b, -1));
    time(`AES-256-CTR mask + add Z_2^${bits} (MaskStream, 1 MiB steps)`, () => {
      const stream = new MaskStream(seed, 'bench');
      const step = 1 << 20;
      for (let at = 0; at < a.byteLength; at += step) {
        const len = Math.min(step, a.byteLength - at);
        addBytesInto(bits, a.subarray(at / 4, (at + len) / 4), stream.next(len), 1);
      }
    });
    const terms: MaskTerm[] = [{ seed, sign: 1 }, { seed: freshSeed(), sign: -1 }];
    time(`combined mask of 2 terms Z_2^${bits} (expandMaskInto)`, () => expandMaskInto(bits, terms, 'bench', b, 0));
    time(`combined mask of 2 terms + encode, fused Z_2^${bits}`, () =>
      expandMaskInto(bits, terms, 'bench', b, 0, (slice, from) => encodeInto(fp, slice, x.subarray(from, from + slice.length / (bits / 32)), fp.scale / 3, 'add', 'x', from, true)),
    );
    time(`encode, then 2 mask terms added onto it (maskOnto) Z_2^${bits}`, () =>
      maskOnto(bits, terms, 'bench', b, 0, (slice, from) => encodeInto(fp, slice, x.subarray(from, from + slice.length / (bits / 32)), fp.scale / 3, 'set', 'x', from, true)),
    );
    time(`encode, then 1 mask term added onto it (maskOnto) Z_2^${bits}`, () =>
      maskOnto(bits, terms.slice(0, 1), 'bench', b, 0, (slice, from) => encodeInto(fp, slice, x.subarray(from, from + slice.length / (bits / 32)), fp.scale / 3, 'set', 'x', from, true)),
    );
    time(`AES-256-CTR keystream alone, 2 × ${bits / 8} bytes per element`, () => {
      for (const t of terms) {
        const c = cipherAt(t.seed, 'bench', 0);
        const z = Buffer.alloc(SLICE_BYTES);
        for (let at = 0; at < a.byteLength; at += SLICE_BYTES) c.update(z.subarray(0, Math.min(SLICE_BYTES, a.byteLength - at)));
      }
    });
    time(`decode Z_2^${bits} -> f32`, () => decodeInto(fp, a, out));
  }
  console.log(`\nRing primitives on ${millions}M elements (one core, CPU time of this process)`);
  console.log('| primitive | CPU ms | M elements/s |');
  console.log('|---|---:|---:|');
  for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} | ${(n / ms / 1e3).toFixed(0)} |`);
}

// ---- one dropout -----------------------------------------------------------------------------------

/**
 * The stage timeout of the dropout runs: detecting a party that never calls costs one of these.
 * `--stage-timeout S` raises it on a loaded machine, where a party descheduled for longer than it
 * would be taken for a dropped one (and the default round, which has no min_parties, fails).
 */
const stageTimeoutAt = process.argv.indexOf('--stage-timeout');
const DROPOUT_STAGE_TIMEOUT_S = stageTimeoutAt >= 0 ? Number(process.argv[stageTimeoutAt + 1]) : 5;

interface DropoutRow {
  size: number;
  parties: number;
  case: DropoutCase;
  ms: number;
  onlineMs: number;
  /** CPU seconds (user + sys, every thread) of the busiest surviving server during submit. */
  cpuOnline: number;
  /** Minor page faults of the busiest surviving server during submit (fresh memory touched). */
  faultsOnline: number;
  bytesSent: number;
  included: string;
}

/**
 * default: no min_parties (today's round). double: min_parties n−1, nobody drops (the cost of
 * double masking). absent: the last party never calls (restart among the others). crash: the last
 * party is killed (SIGKILL) after setup, before sending its model (recovery by double masking).
 * lean, leancrash: double and crash with rescue "none" (no backup of a holder's own segment).
 */
type DropoutCase = 'default' | 'double' | 'absent' | 'crash' | 'lean' | 'leancrash';
const DROPOUT_CASES: readonly DropoutCase[] = ['default', 'double', 'lean', 'absent', 'crash', 'leancrash'];
const CASE_TEXT: Record<DropoutCase, string> = {
  default: 'no min_parties, no dropout',
  double: 'min_parties n−1, no dropout',
  lean: 'min_parties n−1, rescue none, no dropout',
  absent: 'last party never calls (restart)',
  crash: 'last party killed after setup (unmasking)',
  leancrash: 'rescue none, last party killed after setup',
};

/** One round of SecureFedAvg (64-bit ring) with prepare + submit, as a training loop would run it. */
async function dropoutRun(size: number, parties: number, models: TensorSet[], kind: DropoutCase): Promise<DropoutRow> {
  const { nodes, children, close } = await startProcessCluster(parties, ['--stage-timeout', String(DROPOUT_STAGE_TIMEOUT_S)]);
  try {
    const last = parties - 1;
    const preparing = nodes.map((_, i) => i).filter((i) => kind !== 'absent' || i !== last);
    const apis = nodes.map((url) => new Api(url, { timeoutMs: 600_000 }));
    const uuid = randomUUID();
    const options = kind === 'default' ? {} : { min_parties: parties - 1, max_weight: 1000, ...(kind === 'lean' || kind === 'leancrash' ? { rescue: 'none' } : {}) };
    const uploaded = await Promise.all(preparing.map((i) => apis[i]!.uploadTensors(models[i]!)));
    const t0 = performance.now();
    const prepared = await Promise.all(preparing.map(async (i, k) => {
      const prepare = await (await apis[i]!.create(FEDAVG_SERVICE)).attribute('prepare');
      const computation = await apis[i]!.call(prepare, { microprotocol: 'SecureFedAvg', data: { tensors: uploaded[k] }, network: { nodes, uuid, myself: i }, ...options });
      return computation!;
    }));
    const crash = kind === 'crash' || kind === 'leancrash';
    if (crash) children[last]!.kill('SIGKILL');
    const submitting = preparing.filter((i) => !crash || i !== last);
    const cpu1 = submitting.map((i) => cpuSeconds(children[i]!.pid!));
    const faults1 = submitting.map((i) => minorFaults(children[i]!.pid!));
    const mark1 = process.hrtime.bigint() / 1000n;
    const t1 = performance.now();
    const results = await Promise.all(submitting.map((i) =>
      prepared[preparing.indexOf(i)]!.member('submit')({ data: { tensors: uploaded[preparing.indexOf(i)], weight: 100 * (i + 1) }, timeout: DROPOUT_STAGE_TIMEOUT_S })));
    const t2 = performance.now();
    const cpu2 = submitting.map((i) => cpuSeconds(children[i]!.pid!));
    const faults2 = submitting.map((i) => minorFaults(children[i]!.pid!));
    // For a profile of the servers (TESSERA_BENCH_NODE_ARGS="--cpu-prof ..."), as in protocolRun.
    if (process.env.TESSERA_BENCH_NODE_ARGS) process.stderr.write(`  ${size / 1e6}M x${parties} ${kind}: online window ${mark1} ${process.hrtime.bigint() / 1000n} µs, pids ${submitting.map((i) => children[i]!.pid).join(',')}\n`);
    const metadata = await Promise.all(results.map((r, k) => resultMetadata(nodes[submitting[k]!]!, r!.uuid)));
    void t0;
    return {
      size,
      parties,
      case: kind,
      ms: t2 - t1,
      onlineMs: Math.max(...metadata.map((m) => Number(m['tessera.online_ms']))),
      cpuOnline: Math.max(...cpu2.map((c, k) => c - cpu1[k]!)),
      faultsOnline: Math.max(...faults2.map((f, k) => f - faults1[k]!)),
      bytesSent: Math.max(...metadata.map((m) => Number(m['tessera.bytes_sent']))),
      included: metadata[0]!['tessera.included'] ?? '?',
    };
  } finally {
    await close();
  }
}

/** The middle value (the mean of the two middle ones for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Every case of one size × party count, `repeat` times: the cases alternate within each
 * repetition (fresh servers per run), so that a change in the machine's load hits them alike and
 * each run's ratios are against the default round of the same minutes.
 */
async function dropoutRuns(size: number, parties: number, cases: readonly DropoutCase[], repeat: number): Promise<DropoutRow[][]> {
  const models = Array.from({ length: parties }, (_, k) => model(size, 17 + k));
  const runs: DropoutRow[][] = [];
  for (let rep = 1; rep <= repeat; rep++) {
    const rows: DropoutRow[] = [];
    for (const kind of cases) {
      // A run that fails (on a loaded machine: a party starved past its stage timeout) is started
      // afresh once; if it fails again its row says so, and the table is still printed whole.
      let row: DropoutRow | undefined;
      for (let attempt = 1; row === undefined; attempt++) {
        try {
          row = await dropoutRun(size, parties, models, kind);
        } catch (err) {
          const why = (err as Error).message.replace(/\s+/g, ' ').slice(0, 160);
          process.stderr.write(`  ${size / 1e6}M x${parties} ${kind}: attempt ${attempt} failed (${why})\n`);
          if (attempt >= 2) row = { size, parties, case: kind, ms: NaN, onlineMs: NaN, cpuOnline: NaN, faultsOnline: NaN, bytesSent: NaN, included: `failed: ${why}` };
        }
      }
      rows.push(row);
      process.stderr.write(`  ${size / 1e6}M x${parties} ${kind} (run ${rep}/${repeat}, load ${loadAverage()}): ${row.ms.toFixed(0)} ms\n`);
    }
    runs.push(rows);
  }
  return runs;
}

/** The 1-minute load average (/proc/loadavg), printed with each run: a shared machine's noise. */
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
}

/**
 * The rows of each run (ratios against that run's default round) and, with `repeat` > 1, one
 * row per case with the medians over the runs: of each column, and of the per-run ratios.
 */
async function dropoutTable(sizesInMillions: number[], partyCounts: number[], skip: ReadonlySet<string>, cases: readonly DropoutCase[], repeat: number): Promise<void> {
  const runs: DropoutRow[][] = [];
  for (const millions of sizesInMillions) {
    for (const parties of partyCounts) {
      if (!skip.has(`${millions}x${parties}`)) runs.push(...(await dropoutRuns(Math.round(millions * 1e6), parties, cases, repeat)));
    }
  }
  console.log(`
SecureFedAvg (64-bit ring), one process per party, float32 models, prepare then submit (submit timeout ${DROPOUT_STAGE_TIMEOUT_S} s);`);
  console.log('submit s = the slowest survivor\'s submit wall clock (a dropout after setup includes the wait that detects it); online s = the largest tessera.online_ms; CPU s = the busiest survivor\'s CPU seconds (user + sys) during submit, steadier than wall time on a shared machine; bytes = payload sent per party in the round that produced the result');
  const header = () => {
    console.log('| params | parties | case | included | submit s | online s | online vs default | CPU s | CPU vs default | page faults | sent MiB | bytes vs default |');
    console.log('|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  };
  const line = (row: DropoutRow, vs: { online: number; cpu: number; bytes: number }, runs = '') =>
    console.log(
      `| ${row.size / 1e6}M | ${row.parties} | ${CASE_TEXT[row.case]}${runs} | ${row.included} | ${(row.ms / 1000).toFixed(2)} | ${(row.onlineMs / 1000).toFixed(2)} | ` +
        `${vs.online.toFixed(2)} | ${row.cpuOnline.toFixed(2)} | ${vs.cpu.toFixed(2)} | ${row.faultsOnline} | ${mb(row.bytesSent)} | ${vs.bytes.toFixed(2)} |`,
    );
  const ratios = (row: DropoutRow, base: DropoutRow) => ({ online: row.onlineMs / base.onlineMs, cpu: row.cpuOnline / base.cpuOnline, bytes: row.bytesSent / base.bytesSent });
  header();
  for (const rows of runs) for (const row of rows) line(row, ratios(row, rows[0]!));
  if (repeat === 1) return;
  console.log(`\nMedians over ${repeat} runs of each case; the ratio columns are medians of each run's ratio to its own default round:`);
  header();
  for (let first = 0; first < runs.length; first += repeat) {
    const group = runs.slice(first, first + repeat);
    for (let k = 0; k < cases.length; k++) {
      const rows = group.map((r) => r[k]!);
      const of = (pick: (row: DropoutRow) => number) => median(rows.map(pick));
      const row: DropoutRow = { ...rows[0]!, ms: of((r) => r.ms), onlineMs: of((r) => r.onlineMs), cpuOnline: of((r) => r.cpuOnline), faultsOnline: Math.round(of((r) => r.faultsOnline)), bytesSent: of((r) => r.bytesSent) };
      const vs = group.map((r) => ratios(r[k]!, r[0]!));
      line(row, { online: median(vs.map((v) => v.online)), cpu: median(vs.map((v) => v.cpu)), bytes: median(vs.map((v) => v.bytes)) }, `, median of ${repeat}`);
    }
  }
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'vector') {
  vectorTable(Number(arg ?? 25));
} else if (mode === 'dropout') {
  // npm run bench:fedavg -- dropout [1,25] [3,5] [--skip 25x5,...] [--stage-timeout 5]
  // [--cases default,double,lean,...] [--repeat N]: --skip leaves out size×parties pairs, --cases
  // runs only those cases (default first: the ratios are against it), --repeat runs them all N
  // times, alternating, and adds the medians.
  const rest = process.argv.slice(2);
  const skipAt = rest.indexOf('--skip');
  const casesAt = rest.indexOf('--cases');
  const repeatAt = rest.indexOf('--repeat');
  const repeat = repeatAt >= 0 ? Number(rest[repeatAt + 1]) : 1;
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new Error(`--repeat: a whole number of runs, at least 1`);
  const skip = new Set(skipAt >= 0 ? (rest[skipAt + 1] ?? '').split(',') : []);
  const cases = casesAt >= 0 ? (rest[casesAt + 1] ?? '').split(',') as DropoutCase[] : DROPOUT_CASES;
  if (cases[0] !== 'default' || cases.some((c) => !DROPOUT_CASES.includes(c))) throw new Error(`--cases: default first, then any of ${DROPOUT_CASES.join(', ')}`);
  const flagged = new Set([skipAt, casesAt, repeatAt, stageTimeoutAt - 2].filter((k) => k >= 0).flatMap((k) => [k, k + 1]));
  const positional = rest.slice(1).filter((_, k) => !flagged.has(k + 1));
  await dropoutTable((positional[0] ?? '1,25').split(',').map(Number), (positional[1] ?? '3,5').split(',').map(Number), skip, cases, repeat);
} else {
  const sizes = (mode ?? '1,10,25').split(',').map(Number);
  if (sizes.some((s) => !(s > 0))) {
    console.error('usage: npx tsx bench/fedavg.ts [1,10,25] | vector [25]');
    process.exit(2);
  }
  await protocolTable(sizes);
}
