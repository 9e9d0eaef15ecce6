// What a computation's client requests cost a server, one app configuration against another, in
// one process: two apps (createApp over a bus, no peers) that differ only in `fastPath` answer the
// same requests on kept-alive connections, in alternating blocks, and the process's CPU (user +
// system, process.cpuUsage: microseconds, not /proc's 10 ms ticks) is taken per block. Client
// and servers share the process, so the client's own cost is in both columns alike; the
// difference between them is the server's. Each iteration is a computation's requests as the
// TypeScript client makes them: attribute (GET /representation/{uuid}/echo), call (PATCH), download
// (GET) of the result, release (DELETE) of the result and of the attribute. A bare node:http server
// in the same process answers the same requests for scale (what Node's HTTP and the client cost),
// and the same bus behind a bare node:http server with none of the app's layers bounds what any cut
// of those layers could save.
//
//   npx tsx bench/client-paths.ts [--warm 2000] [--blocks 40] [--block 100]
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createApp, createBus, createDefaultRegistry } from '../server/app.js';
import { SERVER_OBJECT, type Logger, type Microservice } from '../services/microservice.js';
import { printTable, quantile } from './cluster.js';

const { values } = parseArgs({ options: { warm: { type: 'string', default: '2000' }, blocks: { type: 'string', default: '40' }, block: { type: 'string', default: '100' } } });
const WARM = Number(values.warm);
const BLOCKS = Number(values.blocks);
const BLOCK = Number(values.block);
const REQUESTS_PER_ITERATION = 5;

/** A server's logger at info level: no debug line per request, as a production server runs. */
const quiet: Logger & { isLevelEnabled(level: string): boolean } = {
  isLevelEnabled: (level) => level !== 'debug',
  debug() {},
  info() {},
  warn() {},
  error() {},
};

function echoService(): Microservice {
  return {
    [SERVER_OBJECT]: true,
    description: { namespace: 'bench', plugin: 'Echo', version: '1' },
    members: Object.freeze({ echo: (args: unknown[]) => args[0] ?? null }),
  };
}

interface Target {
  readonly name: string;
  readonly url: string;
  readonly agent: Agent;
  readonly server: Server;
  readonly service: string;
}

async function start(name: string, fastPath: boolean | 'bare' | 'bus'): Promise<Target> {
  if (fastPath === 'bare') return startBare(name);
  if (fastPath === 'bus') return startBusOnly(name);
  const registry = createDefaultRegistry();
  registry.register(echoService());
  const bus = createBus({ log: quiet, registry });
  const server = createServer(createApp({ bus, log: quiet, security: { allowedHosts: ['127.0.0.1'] }, fastPath }));
  return listening(name, server);
}

/**
 * A bare node:http server in the same process: reads the body, answers every request with a
 * fresh uuid as JSON (the shape the client expects), computes nothing: what Node's HTTP server
 * and the client cost without Tessera's app.
 */
async function startBare(name: string): Promise<Target> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = `{"type":"uuid","uuid":"${randomUUID()}"}`;
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { name, url, agent: new Agent({ keepAlive: true, scheduling: 'lifo', noDelay: true }), server, service: randomUUID() };
}

/**
 * The same bus behind a bare node:http server, with none of the app's layers (no Express, no
 * guards, no body limits, no validator, no problem mapping): the body parsed with JSON.parse, the
 * path split by hand, the bus called, the answer written with writeHead and end. Not a server
 * anyone may run (it checks nothing); it bounds what any cut of the app's layers could save.
 */
async function startBusOnly(name: string): Promise<Target> {
  const registry = createDefaultRegistry();
  registry.register(echoService());
  const bus = createBus({ log: quiet, registry });
  const answer = (res: ServerResponse, value: unknown): void => {
    const body = JSON.stringify(value);
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      void (async () => {
        const parts = req.url!.split('/');
        const body = (text === '' ? {} : JSON.parse(text)) as { args?: unknown[]; kwargs?: Record<string, unknown> };
        if (req.method === 'POST') return answer(res, { type: 'uuid', uuid: bus.create(body.kwargs ?? {}) });
        const uuid = parts[2]!;
        if (req.method === 'GET' && parts.length === 4) return answer(res, { type: 'uuid', uuid: bus.attribute(uuid, parts[3]!) });
        if (req.method === 'PATCH') {
          const result = await bus.call(uuid, body.args ?? [], body.kwargs ?? {});
          return answer(res, result === undefined ? { type: 'none' } : { type: 'uuid', uuid: result });
        }
        if (req.method === 'GET') {
          const found = bus.download(uuid);
          return answer(res, { type: 'object', object: found.kind === 'tensors' ? found.value.toJson() : found.value });
        }
        bus.release(uuid);
        return answer(res, { type: 'none' });
      })().catch((err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
  });
  return listening(name, server);
}

/** `server` listening on an ephemeral port, with a kept-alive agent and an Echo service created on it. */
async function listening(name: string, server: Server): Promise<Target> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo', noDelay: true });
  const service = await uuidOf(send({ url, agent }, 'POST', '/representations', '{"args":[],"kwargs":{"plugin":"Echo"}}'));
  return { name, url, agent, server, service };
}

/** One request as the TypeScript client sends it in Node: JSON, kept alive, Accept: application/json. */
function send(target: Pick<Target, 'url' | 'agent'>, method: string, path: string, body?: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = request(`${target.url}${path}`, { method, headers, agent: target.agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function uuidOf(answer: Promise<string>): Promise<string> {
  const uuid = (JSON.parse(await answer) as { uuid?: unknown }).uuid;
  if (typeof uuid !== 'string') throw new Error('expected a uuid');
  return uuid;
}

async function computation(t: Target, i: number): Promise<void> {
  const echo = await uuidOf(send(t, 'GET', `/representation/${t.service}/echo`));
  const result = await uuidOf(send(t, 'PATCH', `/representation/${echo}`, `{"args":[${i}],"kwargs":{}}`));
  await send(t, 'GET', `/representation/${result}`);
  await send(t, 'DELETE', `/representation/${result}`);
  await send(t, 'DELETE', `/representation/${echo}`);
}

async function main(): Promise<void> {
  const targets = [await start('fast path', true), await start('through Express', false), await start('bus behind bare node:http', 'bus'), await start('bare node:http', 'bare')];
  try {
    for (const t of targets) for (let i = 0; i < WARM; i++) await computation(t, i);
    const perRequest = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const ratios: number[] = [];
    for (let b = 0; b < BLOCKS; b++) {
      // Alternate which goes first, so a drift in the machine's load hits both alike.
      const order = b % 2 === 0 ? targets : [...targets].reverse();
      const block = new Map<string, number>();
      for (const t of order) {
        const before = process.cpuUsage();
        for (let i = 0; i < BLOCK; i++) await computation(t, i);
        const used = process.cpuUsage(before);
        block.set(t.name, (used.user + used.system) / (BLOCK * REQUESTS_PER_ITERATION));
      }
      for (const t of targets) perRequest.get(t.name)!.push(block.get(t.name)!);
      ratios.push(block.get(targets[0]!.name)! / block.get(targets[1]!.name)!);
    }
    const f = (x: number): string => x.toFixed(2);
    const stock = quantile([...perRequest.get(targets[1]!.name)!].sort((a, b) => a - b), 0.5);
    console.log(`\nA computation's client requests (attribute, call, download, two releases), ${BLOCKS} blocks of ${BLOCK} per app, after ${WARM} to warm up; CPU µs per request of the whole process (client and server)\n`);
    printTable(
      ['app', 'median µs per request', 'min', 'max', 'ratio to through Express'],
      targets.map((t) => {
        const sorted = [...perRequest.get(t.name)!].sort((a, b) => a - b);
        return [t.name, f(quantile(sorted, 0.5)), f(sorted[0]!), f(sorted.at(-1)!), f(quantile(sorted, 0.5) / stock)];
      }),
    );
    const sortedRatios = [...ratios].sort((a, b) => a - b);
    console.log(`\nPer block, fast path / through Express: median ${f(quantile(sortedRatios, 0.5))}, quartiles ${f(quantile(sortedRatios, 0.25))}–${f(quantile(sortedRatios, 0.75))}`);
  } finally {
    for (const t of targets) {
      t.agent.destroy();
      t.server.closeAllConnections();
      t.server.close();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
