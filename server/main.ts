// One party's server, started and stopped as a unit: the peer node (identity, trust, envelopes),
// the representation bus with the built-in microservices, the HTTP app, the listening socket.
// Tests start several of these in one process on ephemeral ports (port 0).

import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';
import pino, { type Level } from 'pino';
import type { Logger } from '../services/microservice.js';
import { createApp, createBus, type AppLimits } from './app.js';
import type { RepresentationBus } from './bus.js';
import { createPeerNode } from './peer/index.js';

export interface ServerConfig {
  /** Interface to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Identity key and other state of this party. Created if missing. */
  dataDir: string;
  /** Default 'info'; 'silent' for none. */
  logLevel?: Level | 'silent';
  /** A logger to use instead of a new pino logger on stderr (tests). */
  log?: Logger;
  validateResponses?: boolean;
  limits?: AppLimits;
  peer?: {
    networkSecret?: Buffer;
    peersFile?: string;
    allowPeerUrls?: string[];
    stageTimeoutMs?: number;
  };
  /** How long close() lets in-flight requests finish before cutting connections. Default 5 s. */
  shutdownGraceMs?: number;
}

export interface RunningServer {
  /** Base URL clients and peers use, e.g. http://127.0.0.1:55501 */
  readonly url: string;
  readonly port: number;
  readonly app: Express;
  readonly bus: RepresentationBus;
  /** Stop accepting, end running calls, close connections, the bus and the peer node. Idempotent. */
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const host = config.host ?? '127.0.0.1';
  // Logs go to stderr: stdout is for what the CLI prints (where it listens).
  const log: Logger = config.log ?? pino({ level: config.logLevel ?? 'info' }, pino.destination(2));
  const startedAt = Date.now();
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });

  const peer = config.peer ?? {};
  const peerNode = await createPeerNode({
    dataDir: config.dataDir,
    log,
    ...(peer.networkSecret !== undefined ? { networkSecret: peer.networkSecret } : {}),
    ...(peer.peersFile !== undefined ? { peersFile: peer.peersFile } : {}),
    ...(peer.allowPeerUrls !== undefined ? { allowPeerUrls: peer.allowPeerUrls } : {}),
    ...(peer.stageTimeoutMs !== undefined ? { stageTimeoutMs: peer.stageTimeoutMs } : {}),
  });

  let bus: RepresentationBus | undefined;
  let server: Server | undefined;
  try {
    bus = createBus({ log, peers: peerNode, ...(config.limits !== undefined ? { limits: config.limits } : {}) });
    const app = createApp({
      bus,
      log,
      peerEndpoint: peerNode,
      startedAt,
      ...(config.validateResponses !== undefined ? { validateResponses: config.validateResponses } : {}),
      ...(config.limits !== undefined ? { limits: config.limits } : {}),
    });
    server = createServer(app);
    const sockets = new Set<Socket>();
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await listen(server, config.port ?? 0, host);
    const port = (server.address() as AddressInfo).port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    log.info({ url }, 'listening');

    const runningBus = bus;
    const runningServer = server;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        log.info({ url }, 'shutting down');
        const closed = new Promise<void>((resolve) => runningServer.close(() => resolve()));
        // Ends long waits (barriers, computations): their requests answer and their sockets free.
        await runningBus.close();
        runningServer.closeIdleConnections();
        const grace = setTimeout(() => runningServer.closeAllConnections(), config.shutdownGraceMs ?? 5000);
        grace.unref();
        await closed;
        clearTimeout(grace);
        for (const socket of sockets) socket.destroy();
        await peerNode.close();
      })();
      return closing;
    };
    return { url, port, app, bus: runningBus, close };
  } catch (err) {
    server?.close();
    await bus?.close();
    await peerNode.close();
    throw err;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
