// `npm run bench:sum-tls`: one SecureSum among https servers (--tls-cert/--tls-key, the private
// CA given with --tls-ca, certificates made per run with openssl), peers reached over the
// persistent channel (wss) and by POST (--no-peer-channel) in the same run, sums interleaved so
// machine noise hits both alike. The client side is the TypeScript client on its own Node
// transport, the same for both; so the difference is the peer carrier over TLS. With
// --in-process every server runs in this process and the table also says how many envelopes per
// sum arrived over the channel (with wss all of them, vectorSumMessages(n); by POST none).
// bench:sum (bench/securesum.ts) has no TLS mode: its bare floor is plain node:http servers, and
// a floor over TLS is a benchmark of its own; this one compares the two carriers only.
//
//   npm run bench:sum-tls [-- --parties 3,10 --runs 100,30 --in-process]
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Api, type Remote } from '../clients/typescript/index.js';
import { startServer, type RunningServer } from '../server/main.js';
import { makeCa, makeLeaf } from '../test/support/tls.js';
import { vectorSumMessages } from '../services/common/vectorsum.js';
import { cpuSeconds, printTable, quantile, startProcessCluster } from './cluster.js';

const { values } = parseArgs({
  options: {
    parties: { type: 'string', default: '3,10' },
    runs: { type: 'string', default: '100,30' },
    'in-process': { type: 'boolean', default: false },
  },
});
const SIZES = values.parties.split(',').map(Number);
const RUNS = values.runs.split(',').map(Number);

type Carrier = 'wss' | 'POST';

interface Cluster {
  readonly carrier: Carrier;
  readonly nodes: string[];
  readonly pids: number[];
  /** In-process servers (their channel statistics); empty for processes. */
  readonly servers: RunningServer[];
  close(): Promise<void>;
}

async function startTlsCluster(n: number, carrier: Carrier, dir: string): Promise<Cluster> {
  const files = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), ca: join(dir, 'ca.pem') };
  if (!values['in-process']) {
    const args = ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', files.ca, ...(carrier === 'POST' ? ['--no-peer-channel'] : [])];
    const cluster = await startProcessCluster(n, args);
    return { carrier, nodes: cluster.nodes, pids: cluster.children.map((c) => c.pid!), servers: [], close: () => cluster.close() };
  }
  const [cert, key, ca] = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8'), readFile(files.ca, 'utf8')]);
  const networkSecret = randomBytes(32);
  const root = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
  const servers = await Promise.all(Array.from({ length: n }, (_, i) => startServer({
    dataDir: join(root, `party${i}`), port: 0, logLevel: 'warn', tls: { cert, key, ca: [ca] }, peer: { networkSecret, noChannel: carrier === 'POST' },
  })));
  return {
    carrier,
    nodes: servers.map((s) => s.url),
    pids: [],
    servers,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

const ms = (x: number): string => x.toFixed(2);

/** CPU seconds (user + system) of this process and `pids` so far. */
function cpu(pids: readonly number[]): number {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1e6 + pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

async function measure(dir: string): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const [index, n] of SIZES.entries()) {
    const runs = RUNS[index] ?? RUNS[RUNS.length - 1]!;
    console.error(`${n} parties: starting https servers (wss and POST)`);
    const clusters = [await startTlsCluster(n, 'wss', dir), await startTlsCluster(n, 'POST', dir)];
    try {
      const sums = await Promise.all(clusters.map(async (cluster) => {
        const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 120_000 }));
        const computes: Remote[] = await Promise.all(apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')));
        return async (): Promise<number> => {
          const uuid = randomUUID();
          const started = performance.now();
          await Promise.all(apis.map(async (api, myself) => {
            const result = await computes[myself]!.call({ microprotocol: 'SecureSum', data: myself + 0.5, network: { nodes: cluster.nodes, uuid, myself } });
            await api.download(result);
            await api.release(result);
          }));
          return performance.now() - started;
        };
      }));
      // Warm-up: identities fetched, connections and channels opened, as in a long-running server.
      for (let i = 0; i < 5; i++) for (const sum of sums) await sum();
      console.error(`${n} parties: measuring`);
      const times: number[][] = clusters.map(() => []);
      const cpuSeconds = clusters.map(() => 0);
      const envelopesBefore = clusters.map((c) => c.servers.reduce((t, s) => t + s.peerChannelStats().envelopes, 0));
      for (let i = 0; i < runs; i++) {
        for (const [k, sum] of sums.entries()) {
          const before = cpu(clusters[k]!.pids);
          times[k]!.push(await sum());
          cpuSeconds[k]! += cpu(clusters[k]!.pids) - before;
        }
      }
      for (const [k, cluster] of clusters.entries()) {
        const sorted = times[k]!.sort((a, b) => a - b);
        const overChannel = values['in-process']
          ? ((cluster.servers.reduce((t, s) => t + s.peerChannelStats().envelopes, 0) - envelopesBefore[k]!) / runs).toFixed(1)
          : 'n/a';
        rows.push([n, cluster.carrier, runs, ms(quantile(sorted, 0.5)), ms(quantile(sorted, 0.95)), ms((cpuSeconds[k]! * 1000) / runs), overChannel, vectorSumMessages(n)]);
      }
    } finally {
      await Promise.all(clusters.map((c) => c.close()));
    }
  }
  console.log(`\nSecureSum among https servers, peer carrier wss vs POST, interleaved (${values['in-process'] ? 'all servers in one process' : 'each server its own process'}; ms; CPU: mean user+system ms of the client and every server per sum)\n`);
  printTable(['parties', 'carrier', 'runs', 'sum median', 'sum p95', 'sum CPU', 'envelopes over the channel per sum', 'envelopes per sum'], rows);
}

/**
 * The client trusts the private CA the way any Node program can without code: NODE_EXTRA_CA_CERTS,
 * which Node reads at start, so this script runs itself again with it set. The servers are not
 * given it (they trust the CA by --tls-ca, the path measured).
 */
async function main(): Promise<void> {
  const dir = process.env.TESSERA_BENCH_TLS_DIR;
  if (dir !== undefined) {
    delete process.env.NODE_EXTRA_CA_CERTS;
    await measure(dir);
    return;
  }
  const made = await mkdtemp(join(tmpdir(), 'tessera-bench-tls-'));
  try {
    await makeCa(made, 'ca');
    await makeLeaf(made, 'server', 'ca');
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: join(made, 'ca.pem'), TESSERA_BENCH_TLS_DIR: made },
      stdio: 'inherit',
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    process.exitCode = code ?? 1;
  } finally {
    await rm(made, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
