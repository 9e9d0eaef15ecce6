// A controllable HTTP proxy in front of one party, so fault tests can make that party slow,
// silent, dead, or a source of garbage answers, and restart it behind the same URL (its node URL
// stays what every client named). Listens on an ephemeral loopback port; close() ends everything.
// startCluster puts one in front of the parties its `proxied` option names (./cluster.ts).

import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ProxyMode =
  | { kind: 'pass' }
  /** Forward each request after `ms`. */
  | { kind: 'delay'; ms: number }
  /** Hold peer messages forever (until close); identity requests still pass. */
  | { kind: 'hang-messages' }
  /** Cut every connection at once, as a dead host would. */
  | { kind: 'down' }
  /** Answer peer messages with `status` and random bytes; identity requests still pass. */
  | { kind: 'garbage'; status: number };

export interface Proxy {
  readonly url: string;
  /** Where requests go (the party's current server). */
  target: string;
  mode: ProxyMode;
  /** Called for every request before the mode applies; may change the mode or target (awaited). */
  onRequest: ((method: string, path: string) => void | Promise<void>) | undefined;
  /**
   * Called for every peer message once its body is read, with its clear header's stage and sender
   * (the header is GCM's associated data: readable, not secret); may change the mode (awaited), so
   * a test can act at a protocol point rather than at a message count that depends on scheduling.
   */
  onEnvelope: ((header: { stage: string; from: number }) => void | Promise<void>) | undefined;
  /** Back to a plain pass-through between tests: no hooks, pass mode (the target stays). */
  reset(): void;
  /** Paths of requests seen, in order. */
  readonly seen: string[];
  /** Bodies of the peer messages forwarded, in order (sealed envelopes, for inspection). */
  readonly envelopes: Buffer[];
  close(): Promise<void>;
}

/** The clear header of a sealed envelope: "TSPM" | version | header length (uint32 BE) | JSON. */
function envelopeHeader(envelope: Buffer): { stage: string; from: number } {
  const length = envelope.readUInt32BE(5);
  const header = JSON.parse(envelope.subarray(9, 9 + length).toString('utf8')) as { stage: string; from: number };
  return { stage: header.stage, from: header.from };
}

export async function startProxy(target: string): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  const state: Proxy = {
    url: '',
    target,
    mode: { kind: 'pass' },
    onRequest: undefined,
    onEnvelope: undefined,
    seen: [],
    envelopes: [],
    reset: () => {
      state.onRequest = undefined;
      state.onEnvelope = undefined;
      state.mode = { kind: 'pass' };
    },
    close: async () => {
      for (const res of held) res.destroy();
      for (const s of sockets) s.destroy();
      server.close();
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    state.seen.push(`${req.method} ${path.split('?')[0]}`);
    await state.onRequest?.(req.method ?? 'GET', path);
    const mode = state.mode;
    const isMessage = path.startsWith('/peer/messages');
    if (mode.kind === 'down') {
      req.socket.destroy();
      return;
    }
    if (mode.kind === 'hang-messages' && isMessage) {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    const body: Buffer[] = [];
    for await (const chunk of req) body.push(chunk as Buffer);
    if (mode.kind === 'garbage' && isMessage) {
      const junk = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919 + 13) % 256));
      res.writeHead(mode.status, { 'content-type': 'application/octet-stream' }).end(junk);
      return;
    }
    if (isMessage && state.onEnvelope !== undefined) {
      await state.onEnvelope(envelopeHeader(Buffer.concat(body)));
      if (state.mode.kind === 'down') {
        req.socket.destroy();
        return;
      }
    }
    if (mode.kind === 'delay') await new Promise((r) => setTimeout(r, mode.ms));
    if (isMessage) state.envelopes.push(Buffer.concat(body));
    const upstream = request(new URL(path, state.target), { method: req.method, headers: { ...req.headers, host: new URL(state.target).host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end(Buffer.concat(body));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  (state as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/**
 * Kills the party behind `proxy` once a reduce message of each of the `senders` other parties of a
 * SecureFedAvg has reached it, then takes the proxy down: every party has then finished setup (a
 * party sends reduce messages only after it), so there is no restart, and the survivors' average
 * can come only from the double-masked round's decision and unmasking. A message count would not
 * do: under load one party's reduce messages can arrive before another's setup message.
 */
export function killAfterReduceFromAll(proxy: Proxy, senders: number, kill: () => Promise<void>): { readonly killed: boolean } {
  const reducing = new Set<number>();
  const state = { killed: false };
  proxy.onEnvelope = async ({ stage, from }) => {
    if (stage.endsWith('reduce')) reducing.add(from);
    if (reducing.size === senders && !state.killed) {
      state.killed = true;
      await kill();
      proxy.mode = { kind: 'down' };
    }
  };
  return state;
}
