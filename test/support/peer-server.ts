// A bare peer node behind a minimal HTTP server: it holds the network secret, so its identity
// answers and envelopes authenticate, but it runs no Tessera app, so a test drives its sessions by
// hand (a rogue party sending garbage shares, an outsider posing as a party of a computation it
// is not in). It answers GET /peer/identity and POST /peer/messages only, over plain POST (no
// persistent channel), with the status of the peer node's typed error when it refuses.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPeerNode, type PeerNode, type PeerNodeOptions } from '../../server/peer/index.js';
import { TesseraError } from '../../services/errors.js';

export interface PeerNodeServer {
  readonly node: PeerNode;
  readonly url: string;
  /** Closes the peer node and the HTTP server with its connections. */
  close(): Promise<void>;
}

/** A peer node (createPeerNode with `options`) listening on an ephemeral loopback port. */
export async function startPeerNodeServer(options: PeerNodeOptions): Promise<PeerNodeServer> {
  const node: PeerNode = await createPeerNode(options);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = url.pathname === '/peer/identity'
        ? Promise.resolve(node.identity(url.searchParams.get('challenge') ?? undefined, url.searchParams.get('asker') ?? undefined)).then((id) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(id)))
        : node.deliver(Buffer.concat(chunks)).then(() => res.writeHead(204).end());
      answer.catch((err: unknown) => res.writeHead(err instanceof TesseraError ? err.status : 500).end());
    });
  });
  server.listen(0, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch (err) {
    await node.close();
    throw err;
  }
  return {
    node,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await node.close();
      server.closeAllConnections();
      server.close();
    },
  };
}
