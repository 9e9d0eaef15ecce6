// Real party servers (HTTP app, validation, bus, peer node with encrypted envelopes) on ephemeral
// ports, offering FedAvg. When the Simon microservice dispatches SecureFedAvg itself, the servers
// are plain startServer ones and the tests use Simon; until then they carry one extra microservice,
// {"protocol": "FedAvgTest"}, whose `compute`/`prepare` members call the same entry points Simon will.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, createBus, createDefaultRegistry } from '../../../server/app.js';
import { createPeerNode } from '../../../server/peer/index.js';
import { startServer } from '../../../server/main.js';
import { MICROPROTOCOLS } from '../../../services/simon/index.js';
import { BadInputError } from '../../../services/errors.js';
import { SERVER_OBJECT, type Member, type Microservice } from '../../../services/microservice.js';
import { plainFedAvg, prepareFedAvg, secureFedAvg } from '../../../services/fedavg/index.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

export interface Party {
  readonly url: string;
  close(): Promise<void>;
}

/** True once services/simon dispatches SecureFedAvg (the lead registers it). */
export const SIMON_HAS_FEDAVG = Object.hasOwn(MICROPROTOCOLS, 'SecureFedAvg');

/** The requirements a client passes to `create` to reach FedAvg on these servers. */
export const FEDAVG_SERVICE: Record<string, string> = SIMON_HAS_FEDAVG ? { protocol: 'Simon' } : { protocol: 'FedAvgTest' };

function fedAvgTestService(): Microservice {
  const compute: Member = (_args, kwargs, ctx) => {
    if (kwargs.microprotocol === 'SecureFedAvg') return secureFedAvg(kwargs, ctx);
    if (kwargs.microprotocol === 'PlainFedAvg') return plainFedAvg(kwargs, ctx);
    throw new BadInputError('microprotocol must be SecureFedAvg or PlainFedAvg', { where: 'kwargs.microprotocol' });
  };
  const prepare: Member = (_args, kwargs, ctx) => prepareFedAvg(kwargs, ctx);
  return { [SERVER_OBJECT]: true, description: { namespace: 'tessera-test', protocol: 'FedAvgTest' }, members: Object.freeze({ compute, prepare }) };
}

/** One party's server offering FedAvg (also used by bench/fedavg.ts for its child processes). */
export async function startParty(dataDir: string, networkSecret: Buffer, stageTimeoutMs: number): Promise<Party> {
  if (SIMON_HAS_FEDAVG) {
    const s = await startServer({ dataDir, port: 0, logLevel: 'silent', validateResponses: true, peer: { networkSecret, stageTimeoutMs } });
    return s;
  }
  // startServer's wiring (server/main.ts), with the extra microservice in the registry.
  const peerNode = await createPeerNode({ dataDir, log: silent, networkSecret, stageTimeoutMs });
  const registry = createDefaultRegistry();
  registry.register(fedAvgTestService());
  const bus = createBus({ log: silent, peers: peerNode, registry });
  const app = createApp({ bus, log: silent, peerEndpoint: peerNode, validateResponses: true });
  const server: Server = createServer(app);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await bus.close();
        server.closeIdleConnections();
        for (const socket of sockets) socket.destroy();
        await closed;
        await peerNode.close();
      })();
      return closing;
    },
  };
}

export interface FedAvgCluster {
  readonly parties: Party[];
  readonly nodes: string[];
  close(): Promise<void>;
}

export async function startFedAvgCluster(n: number, stageTimeoutMs = 10_000): Promise<FedAvgCluster> {
  const secret = randomBytes(32);
  const dirs = await Promise.all(Array.from({ length: n }, () => mkdtemp(join(tmpdir(), 'tessera-fedavg-'))));
  const parties = await Promise.all(dirs.map((d) => startParty(d, secret, stageTimeoutMs)));
  return {
    parties,
    nodes: parties.map((p) => p.url),
    async close() {
      await Promise.all(parties.map((p) => p.close()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}
