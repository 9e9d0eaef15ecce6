// What the pieces of a 3-party SecureSum's floor cost (docs/performance.md, "The client path"):
// one client request through fetch or through node:http on a keep-alive Agent, to a bare floor
// party (bench/floor.ts) and to a Tessera server (a JSON download of a small value, through the
// TypeScript client with fetch and with its Node transport); the floor's two peer rounds; the
// whole floor as bench:sum runs it. Per piece: wall time (median, p95) and the CPU time (user +
// system) of this client process and of the servers it reached, per operation. Pieces alternate
// in rounds so machine noise hits each alike.
//
//   npx tsx bench/floor-pieces.ts [--runs 300]
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { Api } from '../clients/typescript/index.js';
import { printTable, quantile, startProcessCluster } from './cluster.js';
import { startFloorCluster } from './floor.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '300' } } });
const RUNS = Number(values.runs);

/** CPU ms (user + system) of this process, and of `pids` (from /proc, in 10 ms clock ticks). */
function cpu(pids: readonly number[]): { client: number; servers: number } {
  const own = process.cpuUsage();
  let servers = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    servers += (Number(fields[11]) + Number(fields[12])) * 10;
  }
  return { client: (own.user + own.system) / 1000, servers };
}

const agent = new Agent({ keepAlive: true, scheduling: 'lifo', noDelay: true });
function httpRequest(url: string, body?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });
}
async function fetchRequest(url: string, body?: string): Promise<void> {
  await (await fetch(url, body === undefined ? {} : { method: 'POST', body })).arrayBuffer();
}

interface Piece {
  readonly name: string;
  readonly pids: readonly number[];
  readonly run: () => Promise<void>;
  readonly wall: number[];
  client: number;
  servers: number;
}

async function main(): Promise<void> {
  const floor = await startFloorCluster(3, 'channel', false);
  const tessera = await startProcessCluster(1);
  try {
    const nodes = floor.nodes;
    const viaFetch = new Api(tessera.nodes[0]!, { fetch: (r) => fetch(r) });
    const viaNode = new Api(tessera.nodes[0]!);
    const value = await viaNode.upload({ inputs: 3, result: { samples: 3, sum: 85 } });
    const tesseraPids = tessera.children.map((c) => c.pid!);
    const floorOf = (send: typeof httpRequest) => async (): Promise<void> => {
      const uuid = randomUUID();
      await Promise.all(nodes.map(async (url, myself) => {
        await send(`${url}/round`, JSON.stringify({ uuid, nodes, myself }));
        for (let r = 1; r < 3; r++) await send(`${url}/empty`);
      }));
    };
    const piece = (name: string, pids: readonly number[], run: () => Promise<void>): Piece => ({ name, pids, run, wall: [], client: 0, servers: 0 });
    const pieces: Piece[] = [
      piece('empty request, fetch', floor.pids, () => fetchRequest(`${nodes[0]}/empty`)),
      piece('empty request, node:http keep-alive', floor.pids, () => httpRequest(`${nodes[0]}/empty`)),
      piece('3 empty requests at once (one per party), fetch', floor.pids, async () => void (await Promise.all(nodes.map((u) => fetchRequest(`${u}/empty`))))),
      piece('3 empty requests at once (one per party), node:http', floor.pids, async () => void (await Promise.all(nodes.map((u) => httpRequest(`${u}/empty`))))),
      piece('Tessera download (GET /representation/{uuid}), client over fetch', tesseraPids, async () => void (await viaFetch.download(value))),
      piece('Tessera download (GET /representation/{uuid}), client over node:http', tesseraPids, async () => void (await viaNode.download(value))),
      piece('floor: 2 peer rounds of 3 parties (POST /round each), node:http', floor.pids, async () => {
        const uuid = randomUUID();
        await Promise.all(nodes.map((url, myself) => httpRequest(`${url}/round`, JSON.stringify({ uuid, nodes, myself }))));
      }),
      piece('floor as bench:sum (round + 2 empty requests per party), fetch', floor.pids, floorOf(fetchRequest)),
      piece('floor as bench:sum (round + 2 empty requests per party), node:http', floor.pids, floorOf(httpRequest)),
    ];
    for (const p of pieces) for (let i = 0; i < 20; i++) await p.run();
    const ROUND = 20;
    for (let done = 0; done < RUNS; done += ROUND) {
      for (const p of pieces) {
        const before = cpu(p.pids);
        for (let i = 0; i < ROUND; i++) {
          const started = performance.now();
          await p.run();
          p.wall.push(performance.now() - started);
        }
        const after = cpu(p.pids);
        p.client += after.client - before.client;
        p.servers += after.servers - before.servers;
      }
    }
    await viaNode.release(value);
    const f = (x: number): string => x.toFixed(3);
    console.log(`\nThe floor's pieces, ${RUNS} runs each (ms per operation; CPU: user + system)\n`);
    printTable(['piece', 'wall median', 'wall p95', 'client CPU', 'server CPU'], pieces.map((p) => {
      const sorted = [...p.wall].sort((a, b) => a - b);
      return [p.name, f(quantile(sorted, 0.5)), f(quantile(sorted, 0.95)), f(p.client / p.wall.length), f(p.servers / p.wall.length)];
    }));
  } finally {
    agent.destroy();
    await floor.close();
    await tessera.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
