// `npm run bench:simon-order`: SecureMedian, KthElement and MinimumMaximum with three party
// servers (separate processes, real HTTP, encrypted peer messages), 100, 1,000 and 10,000 values
// per party. Latency is the wall time until every party has its result (median of RUNS runs).
// Bytes per party and rounds come from one run of the same protocol on the in-memory network
// (the transcript's shape depends only on n and N, test/services/simon/order/transcript.test.ts):
// bytes = the largest total of peer payloads one party sends; rounds = sequential message
// exchanges (2 for the count, the oblivious transfers, then AND layers and openings; the OTs count
// their stages: 2 with a reused base, one message each way, 4 the first time: docs/order-statistics.md §3).
//
//   npm run bench:simon-order [-- --runs 3 --sizes 100,1000,10000]
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Api, type Remote } from '../clients/typescript/index.js';
import { printTable, quantile, startProcessCluster } from './cluster.js';
import { MemoryHub } from '../services/simulation/network.js';
import { kthElement, minimumMaximum, secureMedian } from '../services/simon/order/index.js';

const MICROPROTOCOLS: Record<string, (kwargs: Record<string, unknown>, ctx: CallContext) => Promise<unknown>> = { KthElement: kthElement, SecureMedian: secureMedian, MinimumMaximum: minimumMaximum };
import type { CallContext } from '../services/microservice.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, sizes: { type: 'string', default: '100,1000,10000' } } });
const RUNS = Number(values.runs);
const SIZES = values.sizes.split(',').map(Number);
const PARTIES = 3;

/** Reals with ties, different per party. */
function valuesFor(party: number, size: number): number[] {
  return Array.from({ length: size }, (_, k) => Math.round(((party + 1) * 7919 * (k + 1)) % 100_003) / 8 - 5000);
}

const INPUTS: Record<string, (party: number, size: number) => unknown> = {
  SecureMedian: (p, size) => valuesFor(p, size),
  KthElement: (p, size) => ({ array: valuesFor(p, size), rank: Math.ceil((PARTIES * size) / 4), lower_bound: -1e6, upper_bound: 1e6 }),
  MinimumMaximum: (p, size) => valuesFor(p, size).map((x) => ({ minimum: x, maximum: x + 1 })),
};

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Bytes per party and rounds, from one in-memory run. */
async function shape(microprotocol: string, size: number): Promise<{ bytes: number; rounds: number }> {
  const nodes = Array.from({ length: PARTIES }, (_, i) => `http://party${i}.bench`);
  const hub = new MemoryHub(nodes, 600_000);
  await Promise.all(
    nodes.map((_, myself) => {
      const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(myself), log: silent };
      return MICROPROTOCOLS[microprotocol]!({ microprotocol, data: INPUTS[microprotocol]!(myself, size), network: { nodes, uuid: 'bench', myself } }, ctx);
    }),
  );
  const exchanges = new Set(hub.log.filter((m) => !/-ot-ext$/.test(m.stage) || m.seq === 0).map((m) => `${m.stage}/${m.seq}`));
  return { bytes: Math.max(...hub.bytesSent), rounds: exchanges.size };
}

async function main(): Promise<void> {
  const cluster = await startProcessCluster(PARTIES);
  try {
    const apis = cluster.nodes.map((url) => new Api(url, { timeoutMs: 600_000 }));
    const computes: Remote[] = await Promise.all(apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')));
    const once = async (microprotocol: string, size: number): Promise<number> => {
      const uuid = randomUUID();
      const inputs = apis.map((_, p) => INPUTS[microprotocol]!(p, size));
      const started = performance.now();
      await Promise.all(
        apis.map(async (api, myself) => {
          const result = await computes[myself]!.call({ microprotocol, data: inputs[myself], network: { nodes: cluster.nodes, uuid, myself } });
          await api.download(result);
          await api.release(result);
        }),
      );
      return performance.now() - started;
    };
    await once('SecureMedian', 10); // warm-up: identities, connections, JIT

    const rows: (string | number)[][] = [];
    for (const microprotocol of Object.keys(INPUTS)) {
      for (const size of SIZES) {
        const times: number[] = [];
        for (let r = 0; r < RUNS; r++) times.push(await once(microprotocol, size));
        times.sort((a, b) => a - b);
        const { bytes, rounds } = await shape(microprotocol, size);
        rows.push([microprotocol, `${PARTIES}×${size.toLocaleString('en-US')}`, RUNS, (times[0]! / 1000).toFixed(2), (quantile(times, 0.5) / 1000).toFixed(2), (bytes / 1e6).toFixed(2), rounds]);
      }
    }
    console.log(`\nOrder statistics, ${PARTIES} parties (servers in separate processes, real HTTP); latency in s, bytes sent per party in MB\n`);
    printTable(['microprotocol', 'values', 'runs', 'min s', 'median s', 'MB per party', 'rounds'], rows);
    console.log('\nFSC (the original) is not run here: its Python sources are not at hand in this environment.\n');
  } finally {
    await cluster.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
