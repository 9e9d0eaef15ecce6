// What one request over the peer channel costs in CPU, sender and receiver together: a
// ChannelTransport (server/peer/transport-channel.ts) sends small envelopes, 8 in flight and all
// on one signal as a computation's are (its session's), to a PeerChannelServer (channel-server.ts)
// on node:http whose deliver answers at once, in one process. What is measured is the channel's
// own code, ws and the loopback socket, without sealing or opening. Given another source tree
// (e.g. a checkout of main), its channel is measured too, in alternating rounds in this process,
// so a busy machine slows both alike.
//
// With --bytes, the envelopes are that large and given as a sealed one is (envelope.ts sealParts:
// a header part, 64 KiB ciphertext slices, the tag): --bytes 1048576 is SecureFedAvg's chunk.
// Whichever way a tree's transport sends them (the channel, or POST for envelopes above its
// CHANNEL_BULK_BYTES), the receiver holds each whole in one buffer before answering, as a
// server's POST route (server/http/body.ts) and the channel (ws) do; and a small envelope is sent
// meanwhile, one after another, to time how long it waits behind them.
//
//   npx tsx bench/channel-calls.ts [--rounds 9] [--requests 4000] [--bytes 600] [OTHER_CHECKOUT]
import { createServer, type Server } from 'node:http';
import { once, setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from '../services/microservice.js';
import { printTable, quantile } from './cluster.js';

const { values, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, requests: { type: 'string', default: '4000' }, bytes: { type: 'string', default: '600' } }, allowPositionals: true });
const ROUNDS = Number(values.rounds);
const REQUESTS = Number(values.requests);
const IN_FLIGHT = 8;
const BYTES = Number(values.bytes);
const ENVELOPE: Uint8Array | Uint8Array[] = BYTES <= 64 * 1024 ? new Uint8Array(BYTES).fill(7) : sealedParts(BYTES);

/** An envelope of `bytes` in the parts sealParts gives: a header, 64 KiB slices, the 16-byte tag. */
function sealedParts(bytes: number): Uint8Array[] {
  const parts = [new Uint8Array(200).fill(1)];
  for (let at = 200; at < bytes - 16; at += 64 * 1024) parts.push(new Uint8Array(Math.min(64 * 1024, bytes - 16 - at)).fill(7));
  parts.push(new Uint8Array(16).fill(9));
  return parts;
}
const RECEIPT = 'A'.repeat(43);

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as unknown as Logger;

interface Tree {
  readonly name: string;
  readonly url: string;
  readonly transport: { request(url: string, req: object): Promise<unknown>; close(): void };
  readonly server: Server;
  readonly close: () => Promise<void>;
  readonly cpu: number[];
  readonly small: number[];
}

/** A sender and a receiver built from the channel modules of the source tree at `root`. */
async function open(root: string): Promise<Tree> {
  const { PeerChannelServer } = await import(resolve(root, 'server/peer/channel-server.ts'));
  const { ChannelTransport } = await import(resolve(root, 'server/peer/transport-channel.ts'));
  const server = createServer((req, res) => {
    // The body into one buffer of its declared length, as server/http/body.ts reads a POST's.
    const body = Buffer.allocUnsafe(Number(req.headers['content-length'] ?? 0));
    let at = 0;
    req.on('data', (chunk: Buffer) => {
      chunk.copy(body, at);
      at += chunk.length;
    });
    req.on('end', () => res.writeHead(204, { 'tessera-receipt': RECEIPT }).end());
  });
  const channels = new PeerChannelServer({
    endpoint: () => ({ identity: (challenge: string) => ({ challenge }), deliver: async () => RECEIPT }),
    log: quiet,
    inflightBodies: 64,
    inflightBytes: 1 << 28,
    maxChannels: 8,
  });
  channels.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const transport = new ChannelTransport();
  // The first request goes by POST and opens the channel (transport-channel.ts send).
  await transport.request(`${url}/peer/identity?challenge=x`, { method: 'GET', idempotent: true, signal: AbortSignal.timeout(10_000) });
  const deadline = Date.now() + 10_000;
  while (transport.openChannels === 0) {
    if (Date.now() > deadline) throw new Error(`${root}: the channel did not open`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const close = async (): Promise<void> => {
    transport.close();
    await channels.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { name: root, url, transport, server, close, cpu: [], small: [] };
}

/**
 * CPU µs per request (user + system of this process) over `requests` requests. With bulk
 * envelopes, a small one is sent meanwhile, one after another, and each one's latency recorded
 * in `tree.small` (ms): how long a small message waits behind the bulk on the same carrier.
 */
async function round(tree: Tree, requests: number): Promise<number> {
  const session = new AbortController();
  setMaxListeners(0, session.signal);
  const request = { method: 'POST', body: ENVELOPE, signal: session.signal, timeoutMs: 10_000, idempotent: true };
  let done = false;
  const probe = (async () => {
    if (BYTES <= 64 * 1024) return;
    const small = { ...request, body: [new Uint8Array(600).fill(3)] };
    while (!done) {
      const t0 = performance.now();
      await tree.transport.request(`${tree.url}/peer/messages`, small);
      tree.small.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const start = process.cpuUsage();
  for (let sent = 0; sent < requests; sent += IN_FLIGHT) {
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => tree.transport.request(`${tree.url}/peer/messages`, request)));
  }
  const used = process.cpuUsage(start);
  done = true;
  await probe;
  session.abort();
  return (used.user + used.system) / requests;
}

async function main(): Promise<void> {
  const trees = [await open(process.cwd()), ...(positionals[0] === undefined ? [] : [await open(positionals[0])])];
  try {
    for (const tree of trees) await round(tree, REQUESTS); // warm-up
    for (const tree of trees) tree.small.length = 0;
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which tree goes first, so neither always follows the other.
      for (const tree of r % 2 === 0 ? trees : [...trees].reverse()) tree.cpu.push(await round(tree, REQUESTS));
    }
  } finally {
    for (const tree of trees) await tree.close();
  }
  console.log(`\nCPU per request over the peer channel, sender and receiver (µs; ${ROUNDS} rounds of ${REQUESTS} requests of ${BYTES} bytes, ${IN_FLIGHT} in flight on one signal)\n`);
  const sorted = trees.map((t) => [...t.cpu].sort((a, b) => a - b));
  const last = quantile(sorted.at(-1)!, 0.5);
  printTable(['source tree', 'median', 'min', 'max', "median / last tree's"], trees.map((t, i) => {
    const cpu = sorted[i]!;
    return [t.name, quantile(cpu, 0.5).toFixed(1), cpu[0]!.toFixed(1), cpu.at(-1)!.toFixed(1), (quantile(cpu, 0.5) / last).toFixed(2)];
  }));
  if (BYTES > 64 * 1024) {
    console.log(`\nLatency of a 600-byte envelope sent to the same peer while the bulk envelopes are in flight (ms)\n`);
    printTable(['source tree', 'requests', 'median', 'p95', 'max'], trees.map((t) => {
      const ms = [...t.small].sort((a, b) => a - b);
      return [t.name, String(ms.length), quantile(ms, 0.5).toFixed(2), quantile(ms, 0.95).toFixed(2), ms.at(-1)!.toFixed(2)];
    }));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
