// Test parties for the peer layer: each is a real node:http server on an ephemeral loopback port
// that mounts a PeerNode's identity and deliver endpoints (the Express app mounts the same two),
// and offers the persistent peer channel (server/peer/channel-server.ts) as startServer does, so
// these tests run over the channel; what arrives over it is recorded as a POST would be.

import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TesseraError } from '../../../services/errors.js';
import { createPeerNode, type PeerNode, type PeerNodeOptions } from '../../../server/peer/index.js';
import { PeerChannelServer } from '../../../server/peer/channel-server.js';
import { loadOrCreateIdentity } from '../../../server/peer/identity.js';
import { RECEIPT_HEADER } from '../../../server/peer/transport.js';
import { rawRequest } from '../../support/http.js';
import { memoryLog } from '../helpers.js';

export interface Party {
  readonly url: string;
  node: PeerNode;
  readonly log: ReturnType<typeof memoryLog>;
  readonly dataDir: string;
  /** Every envelope this party's server received, as sent (for replay and forgery tests). */
  readonly received: Buffer[];
  /** Requests this server answered, by path. */
  readonly requests: string[];
  /** Replaces the node by a fresh process start (new bootId) on the same or another data dir (new key). */
  restart(dataDir?: string): Promise<void>;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

function problem(res: ServerResponse, err: unknown): void {
  const status = err instanceof TesseraError ? err.status : 500;
  const body = err instanceof TesseraError
    ? { title: err.name, status, detail: err.message, where: err.where, ...(err.extra ?? {}) }
    : { title: 'Internal Server Error', status, detail: String(err) };
  res.writeHead(status, { 'content-type': 'application/problem+json' }).end(JSON.stringify(body));
}

function handler(party: { node: PeerNode | undefined; received: Buffer[]; requests: string[] }) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    party.requests.push(url.pathname);
    try {
      const node = party.node;
      if (!node) throw new Error('node not ready');
      if (req.method === 'GET' && url.pathname === '/peer/identity') {
        const answer = node.identity(url.searchParams.get('challenge') ?? undefined, url.searchParams.get('asker') ?? undefined);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      } else if (req.method === 'POST' && url.pathname === '/peer/messages') {
        const body = await readBody(req, 64 * 1024 * 1024);
        if (!body) {
          res.writeHead(413).end();
          return;
        }
        party.received.push(body);
        const receipt = await node.deliver(body);
        // As the server's route answers (server/http/handlers/peer.ts): the receipt in a header.
        res.writeHead(204, { [RECEIPT_HEADER]: receipt }).end();
      } else {
        res.writeHead(404).end();
      }
    } catch (err) {
      problem(res, err);
    }
  };
}

export type Trust =
  | { mode: 'secret'; secret?: Buffer }
  | { mode: 'pinned' }
  | { mode: 'local' };

export interface Network {
  readonly parties: Party[];
  readonly urls: string[];
  readonly root: string;
  close(): Promise<void>;
}

/** Starts `n` parties; `options(i)` adds per-party node options (limits, timeouts, allowlists). */
export async function startNetwork(
  n: number,
  trust: Trust = { mode: 'secret' },
  options: (i: number, urls: string[]) => Partial<PeerNodeOptions> = () => ({}),
): Promise<Network> {
  const root = await mkdtemp(join(tmpdir(), 'tessera-peer-'));
  const secret = trust.mode === 'secret' ? (trust.secret ?? Buffer.alloc(32, 7)) : undefined;
  const servers: Server[] = [];
  const channelServers: PeerChannelServer[] = [];
  const states = Array.from({ length: n }, () => ({ node: undefined as PeerNode | undefined, received: [] as Buffer[], requests: [] as string[] }));
  const urls: string[] = [];
  for (const state of states) {
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the handler answers every request itself, errors included
    const server = createServer(handler(state));
    server.keepAliveTimeout = 1000;
    const channels = new PeerChannelServer({
      endpoint: () => state.node && {
        identity: (challenge, asker) => {
          state.requests.push('/peer/identity');
          return state.node!.identity(challenge, asker);
        },
        deliver: (envelope) => {
          state.requests.push('/peer/messages');
          state.received.push(envelope);
          return state.node!.deliver(envelope);
        },
      },
      log: memoryLog(),
      inflightBodies: 64,
      inflightBytes: 256 * 1024 * 1024,
      maxChannels: 64,
    });
    channels.attach(server);
    channelServers.push(channels);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  let peersFile: string | undefined;
  if (trust.mode === 'pinned') {
    const pins = [];
    for (let i = 0; i < n; i++) {
      const identity = await loadOrCreateIdentity(join(root, `party${i}`), memoryLog());
      pins.push({ url: urls[i], publicKey: identity.publicKey });
    }
    peersFile = join(root, 'peers.json');
    await writeFile(peersFile, JSON.stringify(pins));
  }
  const parties: Party[] = [];
  for (let i = 0; i < n; i++) {
    const state = states[i]!;
    const log = memoryLog();
    const dataDir = join(root, `party${i}`);
    const nodeOptions: PeerNodeOptions = {
      dataDir,
      log,
      userConfigDir: join(root, 'user-config'),
      stageTimeoutMs: 5000,
      ...(secret ? { networkSecret: secret } : {}),
      ...(peersFile ? { peersFile } : {}),
      ...options(i, urls),
    };
    state.node = await createPeerNode(nodeOptions);
    parties.push({
      url: urls[i]!,
      get node() {
        return state.node!;
      },
      set node(value: PeerNode) {
        state.node = value;
      },
      log,
      dataDir,
      received: state.received,
      requests: state.requests,
      async restart(newDataDir?: string) {
        await state.node!.close();
        state.node = await createPeerNode(newDataDir ? { ...nodeOptions, dataDir: newDataDir } : nodeOptions);
      },
    });
  }
  return {
    parties,
    urls,
    root,
    async close() {
      for (const state of states) await state.node?.close();
      for (const channels of channelServers) await channels.close();
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

export const STAGES = ['share', 'result'] as const;

export function termsFor(urls: readonly string[], extra: Record<string, string | number> = {}) {
  return { microprotocol: 'SecureSum', nodes: urls, ...extra };
}

/** Opens the same computation at every party (in parallel, as their clients would). */
export function openAll(net: Network, uuid: string, extra: Record<string, string | number> = {}, timeoutMs?: number) {
  return Promise.all(
    net.parties.map((p, myself) =>
      p.node.open({ uuid, myself, terms: termsFor(net.urls, extra), stages: STAGES, ...(timeoutMs ? { timeoutMs } : {}) }),
    ),
  );
}

/** POSTs raw bytes as an envelope to a party, as an attacker on the network would. */
export async function post(url: string, body: Buffer): Promise<{ status: number; problem: Record<string, unknown> }> {
  const res = await rawRequest(url, '/peer/messages', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body, timeoutMs: 5000 });
  return { status: res.status, problem: res.text ? (JSON.parse(res.text) as Record<string, unknown>) : {} };
}

/** A party's identity as its GET /peer/identity states it. */
export async function identityOf(url: string): Promise<{ publicKey: string; bootId: string }> {
  return (await rawRequest(url, '/peer/identity', { timeoutMs: 5000 })).json as { publicKey: string; bootId: string };
}
