// `npm run bench:sum`: the latency of one SecureSum for 3, 10 and 50 parties, next to the bare
// floor measured in the same run: the same number of client requests per party (empty ones) and
// the same peer messages in the same pattern (empty ones, as the secure vector sum sends them: two
// rounds between every pair below MASKED_FROM parties, the three stages of the star through party
// 0 from there on; over the same carrier: the persistent channel, or POST with --no-peer-channel)
// between bare node:http servers (bench/floor.ts). The ratio SecureSum / floor is what Tessera
// adds; sums and floor rounds are interleaved so machine noise hits both alike. The floor's client
// requests go the way the TypeScript client sends its JSON requests in Node: node:http on a
// keep-alive Agent. Rows up to --in-process-from run every party server as its own process; from
// there on (50 parties) all servers share this process.
// Then, for the first row's size, 100 numbers per party and the throughput of 100 concurrent sums.
// Last, with the original FSC's sources at hand (--fsc-original DIR or TESSERA_FSC_ORIGINAL), a
// 3-party SecureSum on Tessera and on the original side by side, both driven by FSC's unmodified
// Python client (bench/fsc-original.ts); without them it says "FSC original: not at hand".
//
// Before a row is measured its servers run --warm sums (and the floor as many rounds): a server's
// first few hundred sums run partly unoptimised while V8 compiles its code on the same cores
// (docs/performance.md, "SecureSum on warm servers"); `--warm 5` measures the sums right after start.
//
//   npm run bench:sum [-- --parties 3,10,50 --runs 100,30,10 --warm 1000,500,30 --in-process-from 50 --no-peer-channel
//                         --skip-throughput --fsc-original DIR --fsc-runs 100]
import { parseArgs } from 'node:util';
import { subscribe } from 'node:diagnostics_channel';
import { Agent, request, type ClientRequest } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, type Remote } from '../clients/typescript/index.js';
import { startServer } from '../server/main.js';
import { printTable, quantile, startProcessCluster } from './cluster.js';
import { startFloorCluster, type Carrier } from './floor.js';
import { MASKED_FROM, vectorSumMessages } from '../services/common/vectorsum.js';
import { secureSumSideBySide } from './fsc-original.js';

const { values } = parseArgs({
  options: {
    parties: { type: 'string', default: '3,10,50' },
    runs: { type: 'string', default: '100,30,10' },
    // Sums (and floor rounds) per row before it is measured; at least WARM_COUNTED.
    warm: { type: 'string', default: '1000,500,30' },
    'in-process-from': { type: 'string', default: '50' },
    'no-peer-channel': { type: 'boolean', default: false },
    // The latency table alone (the 100-number and 100-concurrent rows of the first size skipped).
    'skip-throughput': { type: 'boolean', default: false },
    // The directory holding FSC's checkouts (server, service-simon, webserver-django, client-python).
    'fsc-original': { type: 'string' },
    'fsc-runs': { type: 'string', default: '100' },
  },
});
const SIZES = values.parties.split(',').map(Number);
const RUNS = values.runs.split(',').map(Number);
const WARM = values.warm.split(',').map(Number);
/** The first warm-up sums, whose client requests are counted (the floor makes as many per party). */
const WARM_COUNTED = 5;
const IN_PROCESS_FROM = Number(values['in-process-from']);
const CARRIER: Carrier = values['no-peer-channel'] ? 'post' : 'channel';

/**
 * Counts the client API requests made in this process (the peer messages, on /peer/…, are
 * counted by the protocol): the client's own transport is measured, not a wrapper around it.
 */
let clientRequests = 0;
const countClientRequest = (message: unknown): void => {
  if ((message as { request: Pick<ClientRequest, 'path'> }).request.path.startsWith('/representation')) clientRequests += 1;
};
subscribe('http.client.request.start', countClientRequest);
// Requests through fetch (a client given one, or outside the Node transport) are undici's.
subscribe('undici:request:create', countClientRequest);

/** The floor's client: one empty request on a kept-alive connection, nothing else. */
const floorAgent = new Agent({ keepAlive: true, scheduling: 'lifo', noDelay: true });
function floorRequest(url: string, body?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', agent: floorAgent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function startTessera(n: number, inProcess: boolean): Promise<{ nodes: string[]; pids: number[]; close(): Promise<void> }> {
  if (!inProcess) {
    const cluster = await startProcessCluster(n, CARRIER === 'post' ? ['--no-peer-channel'] : []);
    return { ...cluster, pids: cluster.children.map((child) => child.pid!) };
  }
  const networkSecret = randomBytes(32);
  const root = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
  const servers = await Promise.all(Array.from({ length: n }, (_, i) =>
    startServer({ dataDir: join(root, `party${i}`), port: 0, logLevel: 'error', peer: { networkSecret, noChannel: CARRIER === 'post' } })));
  return {
    nodes: servers.map((s) => s.url),
    pids: [],
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

const ms = (x: number): string => x.toFixed(2);

/**
 * CPU time (user + system, ms) this process and `pids` have used so far (/proc/<pid>/stat, in
 * clock ticks of 10 ms: meaningful summed over many sums). On a machine shared with other work
 * wall time measures the queue for the cores as much as the work; CPU time per sum does not.
 */
function cpuMs(pids: readonly number[]): number {
  const own = process.cpuUsage();
  let total = (own.user + own.system) / 1000;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis start at field 3 (state); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(fields[11]) + Number(fields[12])) * 10;
  }
  return total;
}

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const [index, n] of SIZES.entries()) {
    const runs = RUNS[index] ?? RUNS[RUNS.length - 1]!;
    const inProcess = n >= IN_PROCESS_FROM;
    console.error(`${n} parties: starting servers`);
    const tessera = await startTessera(n, inProcess);
    const floor = await startFloorCluster(n, CARRIER, inProcess);
    try {
      const apis = tessera.nodes.map((url) => new Api(url, { timeoutMs: 120_000 }));
      // A client creates the microservice and its compute member once and calls it per sum, as a
      // long-running analysis script would.
      const computes: Remote[] = await Promise.all(apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')));
      const oneSum = async (dataFor: (party: number) => unknown): Promise<number> => {
        const uuid = randomUUID();
        const started = performance.now();
        await Promise.all(apis.map(async (api, myself) => {
          const result = await computes[myself]!.call({ microprotocol: 'SecureSum', data: dataFor(myself), network: { nodes: tessera.nodes, uuid, myself } });
          await api.download(result);
          await api.release(result);
        }));
        return performance.now() - started;
      };
      // The floor: per party one request that sends the sum's peer messages, then the rest empty.
      const pattern = n >= MASKED_FROM ? 'star' : 'mesh';
      const oneFloor = async (requestsPerParty: number): Promise<number> => {
        const uuid = randomUUID();
        const started = performance.now();
        await Promise.all(floor.nodes.map(async (url, myself) => {
          await floorRequest(`${url}/round`, JSON.stringify({ uuid, nodes: floor.nodes, myself, pattern }));
          for (let r = 1; r < requestsPerParty; r++) await floorRequest(`${url}/empty`);
        }));
        return performance.now() - started;
      };

      // Warm-up, as in any long-running server: identities fetched and connections opened once,
      // and the code of both kinds of server compiled by V8 (the floor's is small and soon is).
      const warm = Math.max(WARM_COUNTED, WARM[index] ?? WARM[WARM.length - 1]!);
      const before = clientRequests;
      for (let i = 0; i < WARM_COUNTED; i++) await oneSum((p) => p + 1);
      const perParty = Math.round((clientRequests - before) / WARM_COUNTED / n);
      console.error(`${n} parties: ${warm} sums and floor rounds to warm up`);
      for (let i = WARM_COUNTED; i < warm; i++) await oneSum((p) => p + 1);
      for (let i = 0; i < warm; i++) await oneFloor(perParty);

      console.error(`${n} parties: measuring`);
      const sums: number[] = [];
      const floors: number[] = [];
      let sumCpu = 0;
      let floorCpu = 0;
      for (let i = 0; i < runs; i++) {
        const sumBefore = cpuMs(tessera.pids);
        sums.push(await oneSum((p) => p + 0.5));
        sumCpu += cpuMs(tessera.pids) - sumBefore;
        const floorBefore = cpuMs(floor.pids);
        floors.push(await oneFloor(perParty));
        floorCpu += cpuMs(floor.pids) - floorBefore;
      }
      sums.sort((a, b) => a - b);
      floors.sort((a, b) => a - b);
      const median = quantile(sums, 0.5);
      const floorMedian = quantile(floors, 0.5);
      rows.push([n, inProcess ? 'one process' : 'processes', warm, runs, ms(median), ms(quantile(sums, 0.95)), ms(floorMedian), ms(quantile(floors, 0.95)),
        (median / floorMedian).toFixed(2), ms(sumCpu / runs), ms(floorCpu / runs), (sumCpu / floorCpu).toFixed(2), perParty, vectorSumMessages(n)]);

      if (index === 0 && !values['skip-throughput']) {
        console.error(`${n} parties: 100 numbers, throughput`);
        const many: number[] = [];
        for (let i = 0; i < Math.min(runs, 50); i++) many.push(await oneSum((p) => Array.from({ length: 100 }, (_, k) => p * 1000 + k / 7)));
        many.sort((a, b) => a - b);
        const concurrent = 100;
        console.log(`\n${n} parties, 100 numbers per party: median ${ms(quantile(many, 0.5))} ms, p95 ${ms(quantile(many, 0.95))} ms`);
        // On an overloaded machine a client request of 100 concurrent sums can fail (a keep-alive
        // connection reset): say so, and keep the latency rows measured so far.
        try {
          const started = performance.now();
          await Promise.all(Array.from({ length: concurrent }, () => oneSum((p) => p)));
          const seconds = (performance.now() - started) / 1000;
          console.log(`Throughput: ${concurrent} concurrent SecureSums in ${seconds.toFixed(2)} s = ${(concurrent / seconds).toFixed(1)} sums/s`);
        } catch (err) {
          console.log(`Throughput: ${concurrent} concurrent SecureSums failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    } finally {
      await tessera.close();
      await floor.close();
    }
  }
  console.log(`\nSecureSum latency (1 number per party) and the bare floor, peer carrier: ${CARRIER} (ms; CPU: mean user+system ms of the client and every server per sum)\n`);
  printTable(['parties', 'servers', 'warm-up', 'runs', 'sum median', 'sum p95', 'floor median', 'floor p95', 'sum/floor', 'sum CPU', 'floor CPU', 'CPU sum/floor', 'client requests per party', 'peer messages'], rows);
  await secureSumSideBySide(values['fsc-original'], Number(values['fsc-runs']));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
