// `npm run bench:relay`: the NATS relay carrier against direct HTTP, in one run, on a local
// nats-server (Debian package nats-server). Prints three tables:
//   1. SecureSum latency, direct vs relay (3 and 10 parties; one server process per party);
//   2. SecureFedAvg online time, bytes per party and peak memory, direct vs relay (3 parties,
//      1M parameters; 25M with --sizes 1,25), plus what crossed the relay (nats-server /varz),
//      through a relay with each max_payload of --max-payload (default the nats-server default,
//      1 MiB, and 8 MiB, the consortium configuration docs/relay.md recommends);
//   3. SecureSum and SecureFedAvg time for 10, 30 and 100 parties through the relay (servers in
//      this process: 100 processes do not fit a small machine), with the full mesh of pairwise
//      masks and, when SecureFedAvg offers it, the SecAgg+ sparse neighbour graph; one row per
//      trust setup (--scale-trust): parties pinned in a peers file besides the network secret, and
//      the secret alone, each with its first SecureSum (every pair's first contact) and a warm one,
//      their CPU seconds and NATS messages (docs/relay.md "First contact with pinned peers").
//
//   npx tsx bench/relay.ts [--sizes 1,25] [--sum-parties 3,10] [--scale 10,30,100] [--reps 5]
//                          [--scale-model 10000] [--sparse-option '{"mask_graph": "sparse"}']
//                          [--max-payload 1048576,8388608] [--scale-trust pinned,secret] [--scale-sum-only]
//                          [--nats-procs 1] [--nats-gogc 400]
//
// --nats-procs: GOMAXPROCS of the benchmark's nats-servers (default 1: the relay shares this
// machine's cores with the parties; 0 = Go's default, one per core; docs/relay.md "The relay's own CPU
// on the parties' cores").
// --nats-gogc: GOGC of the benchmark's nats-servers (default 400: fewer collections of the buffers
// the server gathers large messages in; 0 = Go's default, 100; the same section).
//
// --sparse-option: the SecureFedAvg option (JSON) that selects the sparse neighbour graph
// (default {"mask_graph": "sparse"}, docs/sparse-masks.md); the full-mesh column passes
// {"mask_graph": "full"}, since from 64 parties on the default round is already sparse.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Api } from '../clients/typescript/index.js';
import { TensorSet } from '../services/common/tensors.js';
import { startNats, type Nats } from '../test/relay/nats.js';
import { computeOnBus, startRelayCluster } from '../test/relay/harness.js';
import { computeAll } from '../test/support/cluster.js';
import { cpuSeconds, peakRss, resultMetadata, startProcessCluster } from './cluster.js';

/** The SecureFedAvg options that select the SecAgg+ sparse neighbour graph and the full mesh. */
const SPARSE_OPTION: Record<string, unknown> | undefined = { mask_graph: 'sparse' };
const FULL_OPTION: Record<string, unknown> = { mask_graph: 'full' };

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1' },
    'sum-parties': { type: 'string', default: '3,10' },
    scale: { type: 'string', default: '10,30,100' },
    reps: { type: 'string', default: '5' },
    'scale-model': { type: 'string', default: '10000' },
    'sparse-option': { type: 'string' },
    'max-payload': { type: 'string', default: `${1 << 20},${8 << 20}` },
    'scale-trust': { type: 'string', default: 'pinned,secret' },
    'scale-sum-only': { type: 'boolean', default: false },
    'nats-procs': { type: 'string', default: '1' },
    'nats-gogc': { type: 'string', default: '400' },
  },
});
const list = (text: string): number[] => text.split(',').map(Number).filter((n) => Number.isFinite(n) && n > 0);
const SIZES = list(values.sizes!);
const SUM_PARTIES = list(values['sum-parties']!);
const SCALE = list(values.scale!);
const REPS = Math.max(1, Number(values.reps));
const SCALE_MODEL = Number(values['scale-model']);
/** The relay's max_payload for the SecureFedAvg table's relay rows: one nats-server each. */
const MAX_PAYLOADS = list(values['max-payload']!);
/**
 * How the scale table's parties trust each other, one row each: "secret" (the network secret only:
 * a first contact asks every party's identity) and "pinned" (the secret and a peers file pinning
 * every relay:// URL to its key: a first contact asks only the peers it exchanges messages with;
 * docs/relay.md "First contact with pinned peers").
 */
const SCALE_TRUST = values['scale-trust']!.split(',').filter((t): t is 'pinned' | 'secret' => t === 'pinned' || t === 'secret');
/** Only the two SecureSums of the scale table (first contact, then warm), no SecureFedAvg: a quick A/B of first contact. */
const SCALE_SUM_ONLY = values['scale-sum-only'] === true;
/** GOMAXPROCS of the nats-servers; undefined: Go's default. */
const NATS_PROCS = Number(values['nats-procs']) > 0 ? Number(values['nats-procs']) : undefined;
/** GOGC of the nats-servers; undefined: Go's default. */
const NATS_GOGC = Number(values['nats-gogc']) > 0 ? Number(values['nats-gogc']) : undefined;
/** The Go runtime settings of every nats-server the benchmark starts. */
const NATS_GO = { goMaxProcs: NATS_PROCS, goGC: NATS_GOGC };
const sparseOption = values['sparse-option'] !== undefined ? (JSON.parse(values['sparse-option']) as Record<string, unknown>) : SPARSE_OPTION;

type Carrier = 'direct' | 'relay';

/** Servers as processes; through the relay each is named relay://<name> and connects outbound. */
async function processParties(n: number, carrier: Carrier, nats: Nats) {
  const tag = randomBytes(3).toString('hex');
  const name = (i: number) => `bench-${tag}-${i}`;
  const cluster = await startProcessCluster(n, (i) => [
    '--stage-timeout', '300', '--max-parties', String(Math.max(64, n)),
    ...(carrier === 'relay' ? ['--relay', nats.url, '--relay-name', name(i)] : []),
  ]);
  return {
    ...cluster,
    apis: cluster.nodes.map((url) => new Api(url, { timeoutMs: 600_000 })),
    peerNodes: carrier === 'relay' ? cluster.nodes.map((_, i) => `relay://${name(i)}`) : cluster.nodes,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function secureSumLatency(nats: Nats): Promise<void> {
  const rows: string[] = [];
  for (const n of SUM_PARTIES) {
    const ms: Record<Carrier, number> = { direct: NaN, relay: NaN };
    for (const carrier of ['direct', 'relay'] as const) {
      const parties = await processParties(n, carrier, nats);
      try {
        const cluster = { servers: [], nodes: parties.peerNodes, apis: parties.apis, close: async () => {} };
        const inputs = Array.from({ length: n }, (_, i) => i + 1);
        await computeAll(cluster, 'SecureSum', inputs); // warm-up: identities, connections, JIT
        const times: number[] = [];
        for (let r = 0; r < REPS; r++) {
          const t = performance.now();
          await computeAll(cluster, 'SecureSum', inputs);
          times.push(performance.now() - t);
        }
        ms[carrier] = median(times);
      } finally {
        await parties.close();
      }
    }
    rows.push(`| ${n} | ${ms.direct.toFixed(0)} | ${ms.relay.toFixed(0)} | ${(ms.relay / ms.direct).toFixed(2)} |`);
  }
  console.log(`\nSecureSum latency (one process per party; median of ${REPS} after a warm-up; every party's client call to its downloaded result)`);
  console.log('| parties | direct ms | relay ms | relay/direct |');
  console.log('|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
}

function model(parameters: number, seed: number): TensorSet {
  const data = new Float32Array(parameters);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < parameters; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return TensorSet.from({ 'layer.weight': data });
}

interface FedAvgRow {
  onlineMs: number;
  bytesSent: number;
  peakRss: number;
  relayBytesPerParty: number;
  /** CPU seconds (user + sys) of all parties' processes together during the online phase. */
  partiesCpu: number;
  /** CPU seconds of the nats-server during the online phase (it runs in both cases; direct leaves it idle). */
  natsCpu: number;
  /** Of partiesCpu, the seconds in the kernel (system time), and the parties' minor page faults. */
  partiesSys: number;
  partiesFaults: number;
}

/** A process's system CPU seconds and minor page faults so far (/proc/PID/stat, Linux). */
function kernelStat(pid: number): { sys: number; faults: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { sys: Number(fields[12]) / 100, faults: Number(fields[7]) };
}

async function fedAvgOnce(carrier: Carrier, nats: Nats, models: TensorSet[]): Promise<FedAvgRow> {
  const n = models.length;
  const parties = await processParties(n, carrier, nats);
  try {
    const uploaded = await Promise.all(parties.apis.map((api, i) => api.uploadTensors(models[i]!)));
    const uuid = randomUUID();
    const manifest = models[0]!.manifest();
    const prepared = await Promise.all(
      parties.apis.map(async (api, myself) => {
        const prepare = await (await api.create({ protocol: 'Simon' })).attribute('prepare');
        const p = await api.call(prepare, { microprotocol: 'SecureFedAvg', data: { manifest }, network: { nodes: parties.peerNodes, uuid, myself } });
        return { api, submit: await p!.attribute('submit') };
      }),
    );
    const before = carrier === 'relay' ? await nats.varz() : undefined;
    // CPU, not only wall time: on a loaded machine every process waits alike and the relay's own
    // cost hides in the waiting; the CPU seconds are what a quiet 2-core machine pays in time.
    const pids = parties.children.map((c) => c.pid!);
    const cpu = (): [number, number] => [pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0), cpuSeconds(nats.pid)];
    // System time and page faults: a fresh large buffer costs the kernel a zeroed page per 4 KiB
    // touched, and whether the allocator hands out fresh pages or reuses freed ones varies by run.
    const kernel = (): { sys: number; faults: number } => pids.map(kernelStat).reduce((a, b) => ({ sys: a.sys + b.sys, faults: a.faults + b.faults }));
    const cpuBefore = cpu();
    const kernelBefore = kernel();
    const t = performance.now();
    const results = await Promise.all(prepared.map(({ api, submit }, i) => api.call(submit, { data: { tensors: uploaded[i], weight: i + 1 } })));
    const onlineMs = performance.now() - t;
    const cpuAfter = cpu();
    const kernelAfter = kernel();
    const after = carrier === 'relay' ? await nats.varz() : undefined;
    const sent = await Promise.all(results.map((r, i) => bytesSent(parties.nodes[i]!, r!.uuid)));
    return {
      onlineMs,
      bytesSent: Math.max(...sent),
      peakRss: Math.max(...parties.children.map((c) => peakRss(c.pid!))),
      // What the relay took in (every party's requests and answers) during the online phase, per party.
      relayBytesPerParty: before !== undefined && after !== undefined ? (after.in_bytes! - before.in_bytes!) / n : NaN,
      partiesCpu: cpuAfter[0] - cpuBefore[0],
      natsCpu: cpuAfter[1] - cpuBefore[1],
      partiesSys: kernelAfter.sys - kernelBefore.sys,
      partiesFaults: kernelAfter.faults - kernelBefore.faults,
    };
  } finally {
    await parties.close();
  }
}

/** The bytes a party sent for a result: its safetensors metadata `tessera.bytes_sent`. */
async function bytesSent(url: string, uuid: string): Promise<number> {
  return Number((await resultMetadata(url, uuid))['tessera.bytes_sent']);
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

async function fedAvgTable(nats: Nats): Promise<void> {
  const rows: string[] = [];
  const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
  const loadStart = load();
  // One relay per max_payload; the default relay (`nats`) serves the rows at the nats-server
  // default, so no second server runs when only that one is asked for.
  let relayRss: string;
  const relays = await Promise.all(MAX_PAYLOADS.map((limit) => (limit === 1 << 20 ? Promise.resolve(nats) : startNats({ monitor: true, maxPayload: limit, ...NATS_GO }))));
  try {
    for (const millions of SIZES) {
      const parameters = Math.round(millions * 1e6);
      const models = [1, 2, 3].map((seed) => model(parameters, seed));
      const direct = await fedAvgOnce('direct', nats, models);
      for (const [at, relayServer] of relays.entries()) {
        const relay = await fedAvgOnce('relay', relayServer, models);
        rows.push(fedAvgRow(millions, MAX_PAYLOADS[at]!, direct, relay));
      }
    }
    // What GOGC costs the relay in memory: the high-water mark of each relay's resident set.
    relayRss = relays.map((r, at) => `${mib(peakRss(r.pid))} MiB at max_payload ${MAX_PAYLOADS[at]}`).join(', ');
  } finally {
    await Promise.all(relays.filter((r) => r !== nats).map((r) => r.stop()));
  }
  console.log('\nSecureFedAvg, 3 parties (one process each), float32; online = submit to result, slowest party; sent = envelope bytes per party;');
  console.log('max_payload = the relay\'s largest NATS message (1 MiB: the nats-server default); the direct columns repeat the one direct run per size;');
  console.log('CPU = user + sys seconds in the online phase (/proc/PID/stat): parties = the three server processes together, nats = the nats-server;');
  console.log('CPU relay/direct = (relay parties + nats) / (direct parties + nats); relay in = bytes the nats-server took in during the online phase, per party');
  console.log('sys = of the parties\' CPU, the seconds in the kernel; faults = the parties\' minor page faults (thousands) in the online phase');
  console.log(`load average (1, 5, 15 min): ${loadStart} at the start, ${load()} at the end`);
  console.log('| params | max_payload | direct online s | relay online s | relay/direct | direct parties CPU s | relay parties CPU s | relay nats CPU s | CPU relay/direct | direct / relay parties sys s | direct / relay faults k | direct sent MiB | relay sent MiB | relay in MiB/party | direct peak RSS MiB | relay peak RSS MiB |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
  console.log(`nats-server peak RSS: ${relayRss}`);
}

function fedAvgRow(millions: number, maxPayload: number, direct: FedAvgRow, relay: FedAvgRow): string {
  return (
      `| ${millions}M | ${maxPayload >= 1 << 20 ? `${maxPayload / (1 << 20)} MiB` : `${maxPayload / 1024} KiB`} | ${(direct.onlineMs / 1000).toFixed(2)} | ${(relay.onlineMs / 1000).toFixed(2)} | ${(relay.onlineMs / direct.onlineMs).toFixed(2)} | ` +
        `${direct.partiesCpu.toFixed(2)} | ${relay.partiesCpu.toFixed(2)} | ${relay.natsCpu.toFixed(2)} | ${((relay.partiesCpu + relay.natsCpu) / (direct.partiesCpu + direct.natsCpu)).toFixed(2)} | ` +
        `${direct.partiesSys.toFixed(2)} / ${relay.partiesSys.toFixed(2)} | ${(direct.partiesFaults / 1000).toFixed(0)} / ${(relay.partiesFaults / 1000).toFixed(0)} | ` +
        `${mib(direct.bytesSent)} | ${mib(relay.bytesSent)} | ${mib(relay.relayBytesPerParty)} | ${mib(direct.peakRss)} | ${mib(relay.peakRss)} |`
  );
}

async function scaleTable(nats: Nats): Promise<void> {
  const rows: string[] = [];
  const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
  for (const n of SCALE) for (const trust of SCALE_TRUST) {
    // A generous connect timeout: 100 servers connecting at once on a busy machine take a while.
    const cluster = await startRelayCluster(nats.url, {
      parties: n, stageTimeoutMs: 300_000, relay: { connectTimeoutMs: 120_000 }, config: { peer: { limits: { maxParties: Math.max(64, n) } } },
      pinned: trust === 'pinned',
    });
    try {
      // Each party calls its own server's bus (what its HTTP handlers call): in one process, 100
      // HTTP clients would measure the client API, not the relay.
      const all = (microprotocol: string, data: (myself: number) => unknown, extra: Record<string, unknown> = {}) => {
        const uuid = randomUUID();
        return Promise.all(cluster.servers.map((s, myself) => computeOnBus(s, microprotocol, data(myself), { nodes: cluster.nodes, uuid, myself }, extra)));
      };
      // A SecureSum's wall time, the CPU seconds of this process (every party's server) and of the
      // nats-server, and the NATS messages it cost (requests and answers, /varz in_msgs).
      const sum = async (): Promise<{ s: number; cpu: number; natsCpu: number; msgs: number }> => {
        const before = await nats.varz();
        const cpu = process.cpuUsage();
        const natsCpu = cpuSeconds(nats.pid);
        const t = performance.now();
        const results = await all('SecureSum', (i) => i + 1);
        const s = (performance.now() - t) / 1000;
        const used = process.cpuUsage(cpu);
        const after = await nats.varz();
        // The table is only worth printing if every party got the right answer.
        for (const r of results) assert.deepEqual((r as { result: unknown }).result, { samples: n, sum: (n * (n + 1)) / 2 });
        return { s, cpu: (used.user + used.system) / 1e6, natsCpu: cpuSeconds(nats.pid) - natsCpu, msgs: after.in_msgs! - before.in_msgs! };
      };
      const first = await sum();
      let mesh = '—';
      let sparse = '—';
      let k = '—';
      if (!SCALE_SUM_ONLY) {
        const models = Array.from({ length: n }, (_, i) => model(SCALE_MODEL, i + 1));
        const fedAvgData = (i: number) => ({ tensors: { representation_uuid: cluster.servers[i]!.bus.upload(models[i]) }, weight: 1 });
        const check = (results: unknown[]): void => {
          const want = models.map((m) => m.get('layer.weight')!.data).reduce((acc, d) => acc.map((v, e) => v + d[e]! / n), new Float64Array(SCALE_MODEL));
          for (const r of results) (r as TensorSet).get('layer.weight')!.data.forEach((v, e) => assert.ok(Math.abs(v - want[e]!) < 1e-3, `SecureFedAvg at ${n} parties: element ${e} is off`));
        };
        let t = performance.now();
        check(await all('SecureFedAvg', fedAvgData, FULL_OPTION));
        mesh = ((performance.now() - t) / 1000).toFixed(2);
        if (sparseOption !== undefined) {
          t = performance.now();
          const results = await all('SecureFedAvg', fedAvgData, sparseOption);
          sparse = ((performance.now() - t) / 1000).toFixed(2);
          check(results);
          k = (results[0] as TensorSet).metadata?.['tessera.mask_neighbours'] ?? '?';
        }
      }
      // Once the servers have met, a computation asks no identities (receipts, docs/performance.md):
      // the warm sum is what a federation that computes again pays.
      const warm = await sum();
      rows.push(
        `| ${n} | ${trust} | ${first.s.toFixed(2)} | ${first.cpu.toFixed(2)} | ${first.natsCpu.toFixed(2)} | ${first.msgs} | ` +
          `${warm.s.toFixed(2)} | ${warm.cpu.toFixed(2)} | ${warm.natsCpu.toFixed(2)} | ${warm.msgs} | ${mesh} | ${sparse} | ${k} | ${load()} |`,
      );
    } finally {
      await cluster.close();
    }
  }
  console.log(`\nThrough the relay, all servers in this process (the first SecureSum is every pair's first contact; the warm one runs ${SCALE_SUM_ONLY ? 'right after it' : 'after the averages'}); SecureFedAvg of ${SCALE_MODEL} float32 parameters`);
  console.log('trust: secret = network secret only (a first contact asks every identity), pinned = secret and a peers file pinning every relay:// URL;');
  console.log('CPU = user + sys seconds of this process (all parties) and of the nats-server during that sum; msgs = NATS messages in (requests and answers)');
  console.log('| parties | trust | SecureSum first s | first CPU s | first nats CPU s | first msgs | SecureSum warm s | warm CPU s | warm nats CPU s | warm msgs | SecureFedAvg full mesh s | SecureFedAvg sparse graph s | neighbours k (sparse) | load average at the end |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const row of rows) console.log(row);
}

const nats = await startNats({ monitor: true, ...NATS_GO });
try {
  console.log(`nats-server ${nats.url} (pid ${nats.pid}, GOMAXPROCS ${NATS_PROCS ?? 'Go default'}, GOGC ${NATS_GOGC ?? 'Go default'}); node ${process.version}`);
  if (SUM_PARTIES.length > 0) await secureSumLatency(nats);
  if (SIZES.length > 0) await fedAvgTable(nats);
  if (SCALE.length > 0) await scaleTable(nats);
} finally {
  await nats.stop();
}
