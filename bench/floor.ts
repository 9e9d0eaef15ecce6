// The bare floor of a SecureSum: what the same traffic costs with nothing of Tessera in it. A floor
// party is a node:http server that answers empty client requests (GET /empty: 204) and, on
// POST /round, sends the sum's empty peer messages in the sum's own pattern over the same carrier
// Tessera's peers use (a WebSocket per pair with request/answer ids, or keep-alive POSTs), then
// answers. The pattern is the secure vector sum's (services/common/vectorsum.ts): "mesh", two
// rounds of a message to every other party (additive sharing, 2n(n−1) messages), or "star", three
// stages through party 0 (to every other party, from every other party, to every other party:
// 3(n−1)). No Express, validator, bus, sealing, session or JSON beyond the round's four fields: so
// `bench:sum` can print SecureSum / floor, the part Tessera itself adds.
//
// Run as a process: `tsx bench/floor.ts --carrier channel|post` prints "floor listening on <url>".

import { once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';

export type Carrier = 'channel' | 'post';
export type Pattern = 'mesh' | 'star';

export interface FloorParty {
  readonly url: string;
  close(): Promise<void>;
}

/** What a party learns of a round: which peer messages (uuid, round) have arrived, and who waits. */
class Rounds {
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Map<string, { need: number; wake: () => void }>();

  arrived(key: string): void {
    const count = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, count);
    const waiter = this.waiters.get(key);
    if (waiter !== undefined && count >= waiter.need) {
      this.waiters.delete(key);
      this.seen.delete(key);
      waiter.wake();
    }
  }

  wait(key: string, need: number): Promise<void> {
    if ((this.seen.get(key) ?? 0) >= need) {
      this.seen.delete(key);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.set(key, { need, wake: resolve }));
  }
}

/** One empty peer message to `url`, answered (a frame back, or a 204). */
interface Sender {
  send(url: string, message: Buffer): Promise<void>;
  close(): void;
}

function channelSender(): Sender {
  const channels = new Map<string, { ws: WebSocket; open: Promise<void>; pending: Map<number, () => void>; next: number }>();
  return {
    async send(url, message) {
      let channel = channels.get(url);
      if (channel === undefined) {
        const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/peer`, { perMessageDeflate: false });
        const pending = new Map<number, () => void>();
        ws.on('message', (data: Buffer) => {
          const id = data.readUInt32BE(0);
          pending.get(id)?.();
          pending.delete(id);
        });
        channel = { ws, open: once(ws, 'open').then(() => undefined), pending, next: 0 };
        channels.set(url, channel);
      }
      await channel.open;
      const id = channel.next++;
      const frame = Buffer.allocUnsafe(4 + message.length);
      frame.writeUInt32BE(id, 0);
      message.copy(frame, 4);
      const c = channel;
      await new Promise<void>((resolve) => {
        c.pending.set(id, resolve);
        c.ws.send(frame);
      });
    },
    close() {
      for (const c of channels.values()) c.ws.terminate();
    },
  };
}

function postSender(): Sender {
  const agent = new Agent({ keepAlive: true });
  return {
    send(url, message) {
      return new Promise<void>((resolve, reject) => {
        const req = request(`${url}/peer`, { method: 'POST', agent, headers: { 'content-length': message.length } }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end(message);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFloorParty(carrier: Carrier, host = '127.0.0.1'): Promise<FloorParty> {
  const rounds = new Rounds();
  const sender = carrier === 'channel' ? channelSender() : postSender();
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/empty') {
      res.writeHead(204).end();
      return;
    }
    void readAll(req).then(async (body) => {
      if (req.url === '/peer') {
        rounds.arrived(body.toString('latin1'));
        res.writeHead(204).end();
        return;
      }
      // POST /round {uuid, nodes, myself, pattern}: per stage, the parties this one sends an empty
      // message to and how many it waits for.
      const { uuid, nodes, myself, pattern } = JSON.parse(body.toString('utf8')) as { uuid: string; nodes: string[]; myself: number; pattern?: Pattern };
      const others = nodes.flatMap((url, i) => (i === myself ? [] : [url]));
      const stages: { to: string[]; from: number }[] =
        pattern === 'star'
          ? myself === 0
            ? [{ to: others, from: 0 }, { to: [], from: others.length }, { to: others, from: 0 }]
            : [{ to: [], from: 1 }, { to: [nodes[0]!], from: 0 }, { to: [], from: 1 }]
          : [{ to: others, from: others.length }, { to: others, from: others.length }];
      for (const [stage, { to, from }] of stages.entries()) {
        const key = Buffer.from(`${uuid}/${stage}`, 'latin1');
        const arrived = rounds.wait(key.toString('latin1'), from);
        await Promise.all(to.map((url) => sender.send(url, key)));
        await arrived;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const wss = new WebSocketServer({ server, path: '/peer', perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      rounds.arrived(data.subarray(4).toString('latin1'));
      ws.send(data.subarray(0, 4));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, host);
  await once(server, 'listening');
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async close() {
      sender.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (process.argv[1]?.endsWith('floor.ts')) {
  const { values } = parseArgs({ options: { carrier: { type: 'string', default: 'channel' } } });
  const party = await startFloorParty(values.carrier === 'post' ? 'post' : 'channel');
  process.stdout.write(`floor listening on ${party.url}\n`);
  process.on('SIGTERM', () => void party.close().then(() => process.exit(0)));
}

/** `n` floor parties: separate processes (as the Tessera servers of the same row), or in this one. */
export async function startFloorCluster(n: number, carrier: Carrier, inProcess: boolean): Promise<{ nodes: string[]; pids: number[]; close(): Promise<void> }> {
  if (inProcess) {
    const parties = await Promise.all(Array.from({ length: n }, () => startFloorParty(carrier)));
    return { nodes: parties.map((p) => p.url), pids: [], close: async () => void (await Promise.all(parties.map((p) => p.close()))) };
  }
  const { spawn } = await import('node:child_process');
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--import', 'tsx', 'bench/floor.ts', '--carrier', carrier], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const close = async (): Promise<void> => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })));
  };
  try {
    const nodes = await Promise.all(children.map((child) => new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('a floor party did not start within 120 s')), 120_000);
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const url = /floor listening on (\S+)/.exec(out)?.[1];
        if (url !== undefined) {
          clearTimeout(timer);
          resolve(url);
        }
      });
      child.once('exit', (code) => reject(new Error(`a floor party exited with code ${code}`)));
    })));
    return { nodes, pids: children.map((child) => child.pid!), close };
  } catch (err) {
    await close();
    throw err;
  }
}
