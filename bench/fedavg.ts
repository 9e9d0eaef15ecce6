// SecureFedAvg benchmark: three party servers, each its own child process (so peak RSS is per
// server), models of 1M, 10M and 25M float32 parameters; SecureFedAvg with a 64- and a 32-bit ring
// and the insecure PlainFedAvg baseline, measured in the same run. Prints a table.
//
//   npx tsx bench/fedavg.ts [sizes in millions, default 1,10,25]   the protocol table
//   npx tsx bench/fedavg.ts vector [millions, default 25]          throughput of the ring primitives
//   npx tsx bench/fedavg.ts dropout [millions, default 1,25] [parties, default 3,5] [--skip 25x5]
//                                   per size and party count: the default round, min_parties n−1
//                                   with no dropout (double masking's cost), one party that never
//                                   calls (restart), one killed after setup (recovered by
//                                   unmasking; docs/dropouts.md); --skip leaves out size×parties
//   TESSERA_BENCH_REPS=3 runs each configuration 3 times (the fastest online run is reported);
//   TESSERA_BENCH_ONLY="SecureFedAvg 64" runs one variant; TESSERA_BENCH_NODE_ARGS (bench/cluster.ts)
//   passes Node options such as --cpu-prof to the servers.
//
// Per configuration, fresh servers are started (peak RSS is the child's VmHWM from /proc), every
// party uploads its model in binary, then the computation runs in two calls as a training loop
// would: `prepare` (manifests, seeds, mask expansion — while the model would still be training)
// and `submit` (the online part). Times are wall-clock at the clients, the slowest party; bytes
// are the protocol payload bytes a party sent (from the result's metadata; AES-GCM envelopes and
// HTTP add a few hundred bytes per 1–2 MiB message). A benchmark prints; it asserts nothing.

import { randomUUID } from 'node:crypto';
import { Api } from '../clients/typescript/index.js';
import { TensorSet } from '../services/common/tensors.js';
import { MaskStream, freshSeed } from '../services/common/prg.js';
import { addBytesInto, addInto, allocRing, decodeInto, encodeInto, fixedPoint, type RingBits } from '../services/common/vector.js';
import { peakRss, startProcessCluster } from './cluster.js';

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

/** The safetensors metadata of a result, reading only the header off the download stream. */
async function resultMetadata(url: string, uuid: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/representation/${uuid}`, { headers: { Accept: 'application/octet-stream' }, signal: AbortSignal.timeout(60_000) });
  const reader = res.body!.getReader();
  let buffered = Buffer.alloc(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffered = Buffer.concat([buffered, value]);
    if (buffered.length >= 8) {
      const length = Number(buffered.readBigUInt64LE(0));
      if (buffered.length >= 8 + length || done) {
        await reader.cancel();
        const header = JSON.parse(buffered.subarray(8, 8 + length).toString('utf8')) as { __metadata__?: Record<string, string> };
        return header.__metadata__ ?? {};
      }
    }
    if (done) throw new Error('the download ended before its header');
  }
}

interface Row {
  size: number;
  variant: string;
  prepareMs: number;
  onlineMs: number;
  totalMs: number;
  bytesSent: number;
  peakRss: number;
  /** Peak RSS after the upload, before the computation. */
  rssUploaded: number;
}

const VARIANTS: { name: string; microprotocol: string; options: Record<string, unknown> }[] = [
  { name: 'PlainFedAvg', microprotocol: 'PlainFedAvg', options: {} },
  { name: 'SecureFedAvg 64', microprotocol: 'SecureFedAvg', options: { ring_bits: 64 } },
  { name: 'SecureFedAvg 32', microprotocol: 'SecureFedAvg', options: { ring_bits: 32 } },
];

async function runOne(size: number, variant: (typeof VARIANTS)[number], models: TensorSet[]): Promise<Row> {
  // Fresh servers per configuration, so each peak RSS belongs to this run alone.
  const { nodes, children, close } = await startProcessCluster(PARTIES, ['--stage-timeout', '120']);
  try {
    const apis = nodes.map((url) => new Api(url, { timeoutMs: 600_000 }));
    const uploaded = await Promise.all(apis.map((api, i) => api.uploadTensors(models[i]!)));
    // What a server holds before the computation: runtime, HTTP stack, the uploaded model.
    const rssUploaded = Math.max(...children.map((c) => peakRss(c.pid!)));
    const uuid = randomUUID();
    const manifest = models[0]!.manifest();
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
    const results = await Promise.all(
      prepared.map(({ api, submit }, i) => api.call(submit, { data: { tensors: uploaded[i], weight: 100 * (i + 1) } })),
    );
    const t2 = performance.now();
    const metadata = await Promise.all(results.map((r, i) => resultMetadata(nodes[i]!, r!.uuid)));
    const rss = children.map((c) => peakRss(c.pid!));
    return {
      size,
      variant: variant.name,
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

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const paired = new Map<string, number[]>();
function pairedRatios(key: string): number[] {
  let list = paired.get(key);
  if (list === undefined) paired.set(key, (list = []));
  return list;
}
function medianText(values: number[]): string {
  if (values.length === 0) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return `${median.toFixed(2)} (n=${values.length})`;
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
      for (const variant of VARIANTS.filter((v) => !process.env.TESSERA_BENCH_ONLY || v.name === process.env.TESSERA_BENCH_ONLY)) {
        const row = await runOne(size, variant, models);
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
  console.log(`\nFedAvg, ${PARTIES} parties (one process each), float32 models; slowest party, best of ${REPS}; bytes = payload sent per party`);
  console.log('| params | protocol | prepare s | online s | total s | sent MiB | RSS after upload MiB | peak RSS MiB | peak/model | online/plain | online/plain, median of paired runs | bytes/plain |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const plain = rows.find((r) => r.size === row.size && r.variant === "PlainFedAvg");
    const modelBytes = row.size * 4;
    console.log(
      `| ${row.size / 1e6}M | ${row.variant} | ${(row.prepareMs / 1000).toFixed(2)} | ${(row.onlineMs / 1000).toFixed(2)} | ${(row.totalMs / 1000).toFixed(2)} | ` +
        `${mb(row.bytesSent)} | ${mb(row.rssUploaded)} | ${mb(row.peakRss)} | ${(row.peakRss / modelBytes).toFixed(2)} | ` +
        `${plain ? (row.onlineMs / plain.onlineMs).toFixed(2) : "-"} | ${medianText(pairedRatios(`${row.size}/${row.variant}`))} | ` +
        `${plain ? (row.bytesSent / plain.bytesSent).toFixed(2) : "-"} |`,
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
  const time = (name: string, f: () => void) => {
    f(); // warm-up (JIT)
    const t = performance.now();
    f();
    rows.push([name, performance.now() - t]);
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
    time(`AES-256-CTR mask + add Z_2^${bits}`, () => {
      const stream = new MaskStream(seed, 'bench');
      const step = 1 << 20;
      for (let at = 0; at < a.byteLength; at += step) {
        const len = Math.min(step, a.byteLength - at);
        addBytesInto(bits, a.subarray(at / 4, (at + len) / 4), stream.next(len), 1);
      }
    });
    time(`decode Z_2^${bits} -> f32`, () => decodeInto(fp, a, out));
  }
  console.log(`\nRing primitives on ${millions}M elements (one core)`);
  console.log('| primitive | ms | M elements/s |');
  console.log('|---|---:|---:|');
  for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} | ${(n / ms / 1e3).toFixed(0)} |`);
}

// ---- one dropout -----------------------------------------------------------------------------------

/** The stage timeout of the dropout runs: detecting a party that never calls costs one of these. */
const DROPOUT_STAGE_TIMEOUT_S = 5;

interface DropoutRow {
  size: number;
  parties: number;
  case: DropoutCase;
  ms: number;
  onlineMs: number;
  bytesSent: number;
  included: string;
}

/**
 * default: no min_parties (today's round). double: min_parties n−1, nobody drops (the cost of
 * double masking). absent: the last party never calls (restart among the others). crash: the last
 * party is killed (SIGKILL) after setup, before sending its model (recovery by double masking).
 */
type DropoutCase = 'default' | 'double' | 'absent' | 'crash';
const CASE_TEXT: Record<DropoutCase, string> = {
  default: 'no min_parties, no dropout',
  double: 'min_parties n−1, no dropout',
  absent: 'last party never calls (restart)',
  crash: 'last party killed after setup (unmasking)',
};

/** One round of SecureFedAvg (64-bit ring) with prepare + submit, as a training loop would run it. */
async function dropoutRun(size: number, parties: number, models: TensorSet[], kind: DropoutCase): Promise<DropoutRow> {
  const { nodes, children, close } = await startProcessCluster(parties, ['--stage-timeout', String(DROPOUT_STAGE_TIMEOUT_S)]);
  try {
    const last = parties - 1;
    const preparing = nodes.map((_, i) => i).filter((i) => kind !== 'absent' || i !== last);
    const apis = nodes.map((url) => new Api(url, { timeoutMs: 600_000 }));
    const uuid = randomUUID();
    const options = kind === 'default' ? {} : { min_parties: parties - 1, max_weight: 1000 };
    const uploaded = await Promise.all(preparing.map((i) => apis[i]!.uploadTensors(models[i]!)));
    const t0 = performance.now();
    const prepared = await Promise.all(preparing.map(async (i, k) => {
      const prepare = await (await apis[i]!.create(FEDAVG_SERVICE)).attribute('prepare');
      const computation = await apis[i]!.call(prepare, { microprotocol: 'SecureFedAvg', data: { tensors: uploaded[k] }, network: { nodes, uuid, myself: i }, ...options });
      return computation!;
    }));
    if (kind === 'crash') children[last]!.kill('SIGKILL');
    const submitting = preparing.filter((i) => kind !== 'crash' || i !== last);
    const t1 = performance.now();
    const results = await Promise.all(submitting.map((i) =>
      prepared[preparing.indexOf(i)]!.member('submit')({ data: { tensors: uploaded[preparing.indexOf(i)], weight: 100 * (i + 1) }, timeout: DROPOUT_STAGE_TIMEOUT_S })));
    const t2 = performance.now();
    const metadata = await Promise.all(results.map((r, k) => resultMetadata(nodes[submitting[k]!]!, r!.uuid)));
    void t0;
    return {
      size,
      parties,
      case: kind,
      ms: t2 - t1,
      onlineMs: Math.max(...metadata.map((m) => Number(m['tessera.online_ms']))),
      bytesSent: Math.max(...metadata.map((m) => Number(m['tessera.bytes_sent']))),
      included: metadata[0]!['tessera.included'] ?? '?',
    };
  } finally {
    await close();
  }
}

async function dropoutTable(sizesInMillions: number[], partyCounts: number[], skip: ReadonlySet<string>): Promise<void> {
  const rows: DropoutRow[] = [];
  for (const millions of sizesInMillions) {
    const size = Math.round(millions * 1e6);
    for (const parties of partyCounts) {
      if (skip.has(`${millions}x${parties}`)) continue;
      const models = Array.from({ length: parties }, (_, k) => model(size, 17 + k));
      for (const kind of ['default', 'double', 'absent', 'crash'] as const) {
        const row = await dropoutRun(size, parties, models, kind);
        rows.push(row);
        process.stderr.write(`  ${millions}M x${parties} ${kind}: ${row.ms.toFixed(0)} ms\n`);
      }
    }
  }
  console.log(`
SecureFedAvg (64-bit ring), one process per party, float32 models, prepare then submit (submit timeout ${DROPOUT_STAGE_TIMEOUT_S} s);`);
  console.log('submit s = the slowest survivor\'s submit wall clock (a dropout after setup includes the wait that detects it); online s = the largest tessera.online_ms; bytes = payload sent per party in the round that produced the result');
  console.log('| params | parties | case | included | submit s | online s | online vs default | sent MiB | bytes vs default |');
  console.log('|---:|---:|---|---|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const base = rows.find((r) => r.size === row.size && r.parties === row.parties && r.case === 'default')!;
    console.log(
      `| ${row.size / 1e6}M | ${row.parties} | ${CASE_TEXT[row.case]} | ${row.included} | ${(row.ms / 1000).toFixed(2)} | ${(row.onlineMs / 1000).toFixed(2)} | ` +
        `${(row.onlineMs / base.onlineMs).toFixed(2)} | ${mb(row.bytesSent)} | ${(row.bytesSent / base.bytesSent).toFixed(2)} |`,
    );
  }
}

const [mode, arg, arg2] = process.argv.slice(2);
if (mode === 'vector') {
  vectorTable(Number(arg ?? 25));
} else if (mode === 'dropout') {
  // npm run bench:fedavg -- dropout [1,25] [3,5] [--skip 25x5,...]: a size×parties pair to leave out.
  const rest = process.argv.slice(2);
  const skipAt = rest.indexOf('--skip');
  const skip = new Set(skipAt >= 0 ? (rest[skipAt + 1] ?? '').split(',') : []);
  const positional = rest.slice(1).filter((_, k) => skipAt < 0 || (k + 1 !== skipAt && k + 1 !== skipAt + 1));
  await dropoutTable((positional[0] ?? '1,25').split(',').map(Number), (positional[1] ?? '3,5').split(',').map(Number), skip);
} else {
  const sizes = (mode ?? '1,10,25').split(',').map(Number);
  if (sizes.some((s) => !(s > 0))) {
    console.error('usage: npx tsx bench/fedavg.ts [1,10,25] | vector [25]');
    process.exit(2);
  }
  await protocolTable(sizes);
}
