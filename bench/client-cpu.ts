// What the TypeScript client costs the process that drives a SecureSum: the CPU (user + system)
// of this process alone per 3-party sum, against the same three requests per party sent bare
// (node:http on a keep-alive Agent, the body parsed, nothing else) to the same Tessera servers,
// and against the floor's requests to bare floor servers (bench/floor.ts). The servers' CPU is not
// counted: `bench:sum` measures the whole. With `--other DIR` the TypeScript client of another
// checkout (e.g. main's) drives the same servers in the same process too. The rows run in turn, in
// blocks, so the machine's load hits them alike.
//
//   npx tsx bench/client-cpu.ts [--parties 3] [--runs 600] [--other /path/to/other/checkout]
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { Api, type Remote } from '../clients/typescript/index.js';
import { printTable, quantile, startProcessCluster } from './cluster.js';
import { startFloorCluster } from './floor.js';
import { MASKED_FROM } from '../services/common/vectorsum.js';

const { values } = parseArgs({ options: { parties: { type: 'string', default: '3' }, runs: { type: 'string', default: '600' }, other: { type: 'string' } } });
const PARTIES = Number(values.parties);
const RUNS = Number(values.runs);
const BLOCKS = 10;

const agent = new Agent({ keepAlive: true, scheduling: 'lifo', noDelay: true });

/** One bare request: the answer's text, or undefined when it is empty. */
function bare(url: string, method: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

type ApiClass = typeof Api;

/** A sum through a TypeScript client: per party call `compute`, download the result, release it. */
async function clientSums(ApiOf: ApiClass, nodes: string[]): Promise<() => Promise<void>> {
  const apis = nodes.map((url) => new ApiOf(url));
  const computes: Remote[] = await Promise.all(apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')));
  return async () => {
    const uuid = randomUUID();
    await Promise.all(apis.map(async (api, myself) => {
      const result = await computes[myself]!.call({ microprotocol: 'SecureSum', data: myself + 0.5, network: { nodes, uuid, myself } });
      await api.download(result);
      await api.release(result);
    }));
  };
}

/** The same requests sent bare to the same servers (their compute members made by a client). */
async function bareSums(nodes: string[]): Promise<() => Promise<void>> {
  const apis = nodes.map((url) => new Api(url));
  const computes = await Promise.all(apis.map(async (api) => (await (await api.create({ protocol: 'Simon' })).attribute('compute')).uuid));
  return async () => {
    const uuid = randomUUID();
    await Promise.all(nodes.map(async (url, myself) => {
      const body = JSON.stringify({ args: [], kwargs: { microprotocol: 'SecureSum', data: myself + 0.5, network: { nodes, uuid, myself } } });
      const result = (JSON.parse(await bare(`${url}/representation/${computes[myself]!}`, 'PATCH', body)) as { uuid: string }).uuid;
      JSON.parse(await bare(`${url}/representation/${result}`, 'GET'));
      await bare(`${url}/representation/${result}`, 'DELETE');
    }));
  };
}

/** The floor's requests: per party one that sends the sum's peer messages, then two empty ones. */
function floorSums(nodes: string[]): () => Promise<void> {
  const pattern = nodes.length >= MASKED_FROM ? 'star' : 'mesh';
  return async () => {
    const uuid = randomUUID();
    await Promise.all(nodes.map(async (url, myself) => {
      await bare(`${url}/round`, 'POST', JSON.stringify({ uuid, nodes, myself, pattern }));
      for (let r = 1; r < 3; r++) await bare(`${url}/empty`, 'GET');
    }));
  };
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function main(): Promise<void> {
  const tessera = await startProcessCluster(PARTIES, []);
  const floor = await startFloorCluster(PARTIES, 'channel', false);
  try {
    const rows: [string, () => Promise<void>][] = [['TypeScript client', await clientSums(Api, tessera.nodes)]];
    if (values.other !== undefined) {
      const other = (await import(`${values.other}/clients/typescript/index.js`)) as { Api: ApiClass };
      rows.push(['TypeScript client of --other', await clientSums(other.Api, tessera.nodes)]);
    }
    rows.push(['bare node:http, same requests', await bareSums(tessera.nodes)], ["floor's requests, floor servers", floorSums(floor.nodes)]);
    for (const [, sum] of rows) for (let i = 0; i < 30; i++) await sum();
    const cpu = rows.map(() => 0);
    const walls: number[][] = rows.map(() => []);
    for (let block = 0; block < BLOCKS; block++) {
      for (const [index, [, sum]] of rows.entries()) {
        const before = cpuMs();
        for (let i = 0; i < RUNS / BLOCKS; i++) {
          const started = performance.now();
          await sum();
          walls[index]!.push(performance.now() - started);
        }
        cpu[index]! += cpuMs() - before;
      }
    }
    console.log(`\nCPU of the driving process per ${PARTIES}-party SecureSum (user + system ms; servers not counted), ${RUNS} sums a row in ${BLOCKS} blocks taken in turn\n`);
    printTable(['requests', 'runs', 'client CPU per sum', 'CPU / bare', 'wall median'], rows.map(([name], index) => {
      const bareIndex = rows.findIndex(([n]) => n.startsWith('bare'));
      return [name, RUNS, (cpu[index]! / RUNS).toFixed(3), (cpu[index]! / cpu[bareIndex]!).toFixed(2), quantile(walls[index]!.sort((a, b) => a - b), 0.5).toFixed(2)];
    }));
    console.log(`Load average (1, 5, 15 min): ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(', ')}`);
  } finally {
    await tessera.close();
    await floor.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
