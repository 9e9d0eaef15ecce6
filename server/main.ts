// One party's server, started and stopped as a unit: the peer node (identity, trust, envelopes),
// the representation bus with the built-in microservices, the HTTP app, the listening socket.
// Tests start several of these in one process on ephemeral ports (port 0).

import { constants as fsConstants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';
import pino, { type Level } from 'pino';
import { BadInputError } from '../services/errors.js';
import type { Logger } from '../services/microservice.js';
import { createApp, createBus, PEER_BODY_OVERHEAD_BYTES, type AppLimits } from './app.js';
import { checkNumbers, configDefault } from './config.js';
import type { RepresentationBus } from './bus.js';
import { checkClientToken, normaliseOrigin } from './http/security.js';
import { isLoopback } from './loopback.js';
import { ServerMetrics } from './metrics.js';
import { createPeerNode, type PeerNodeOptions, type PeerStats } from './peer/index.js';
import { IDENTITY_FILE } from './peer/identity.js';
import type { DisclosurePolicy } from '../services/simon/engine.js';
import { AGENT_FREE_SOCKET_TIMEOUT_MS } from './peer/transport.js';
import { PeerChannelServer } from './peer/channel-server.js';

/** Idle keep-alive connections are closed after this; peers close theirs sooner (transport.ts). */
export const SERVER_KEEP_ALIVE_MS = 3 * AGENT_FREE_SOCKET_TIMEOUT_MS;

/**
 * The keep-alive timeout this server announces (`Keep-Alive: timeout=6`, RFC 9112 section 9.3's
 * persistent connections; the header's parameter is the de facto hint of draft-thomson-hybi-http-timeout):
 * half the one it applies. Clients that follow the hint close an idle connection well before this
 * side does. Node's fetch (undici) keeps a connection for the hint minus 2 s, checked on a timer
 * that ticks every half second; Node announces its real timeout by default, which left undici 2 s
 * of margin, and a client whose event loop was busy that long reused a connection this server was
 * closing: its request was reset unread (`read ECONNRESET`; the 200 concurrent SecureFedAvgs of
 * test/load/concurrent.test.ts hit it now and then). With the hint at half, undici closes after
 * 4 s and this side after 12 s. Retrying instead is no fix: the requests it hit (uploads, calls)
 * are not idempotent (a repeated upload makes a second representation, a repeated call a second
 * computation), and a browser's fetch cannot tell a reset before the request was read from one after.
 */
export const ANNOUNCED_KEEP_ALIVE_S = Math.floor(SERVER_KEEP_ALIVE_MS / 2000);

export interface ServerConfig {
  // The options and their defaults are listed once, in server/config.ts (OPTIONS, by `path`).
  /** Interface to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0 here (the CLI's default is 55500). */
  port?: number;
  /** Identity key and other state of this party. Created if missing. */
  dataDir: string;
  /** Default 'info'; 'silent' for none. */
  logLevel?: Level | 'silent';
  /** 'json' (default): one JSON object per line; 'pretty': readable lines for a terminal (pino-pretty). */
  logFormat?: 'json' | 'pretty';
  /** A logger to use instead of a new pino logger on stderr (tests). */
  log?: Logger;
  validateResponses?: boolean;
  limits?: AppLimits;
  /** The SIMON disclosure policy: `minCellCount` (--min-cell-count), off by default. */
  disclosure?: DisclosurePolicy;
  peer?: {
    networkSecret?: Buffer;
    peersFile?: string;
    allowPeerUrls?: string[];
    stageTimeoutMs?: number;
    /** Neither offer nor use the persistent peer channel (--no-peer-channel): POST only. */
    noChannel?: boolean;
    /** Concurrent computations, buffered early messages and bytes, largest message, parties. */
    limits?: PeerNodeOptions['limits'];
    /** Reach relay:// peers, and be reached, through a NATS relay (docs/relay.md). */
    relay?: PeerNodeOptions['relay'];
  };
  /** Who may call this server (SECURITY.md). */
  security?: {
    /** Bearer token of the client API (at least 16 characters). */
    clientToken?: string;
    /** Bind beyond loopback without a client token: every client that reaches the port is trusted. */
    unauthenticatedClients?: boolean;
    /** Browser origins allowed to call the client API (CORS). Default none. */
    corsOrigins?: string[];
  };
  /** Serve HTTPS with this certificate and key (PEM); `ca`: private CAs trusted for https peers. */
  tls?: {
    cert?: string | Buffer;
    key?: string | Buffer;
    ca?: string | Buffer | (string | Buffer)[];
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
  /** This server's peer identity key (base64url X25519). */
  readonly publicKey: string;
  /** With a relay: the node URL its peers use for it, relay://<name>. */
  readonly relayUrl?: string;
  /** What the peer node holds right now: sessions, buffered messages and bytes (read-only). */
  peerStats(): PeerStats;
  /** Peer channels open to this server, envelopes received over them and their bytes (zero with noChannel). */
  peerChannelStats(): { readonly open: number; readonly envelopes: number; readonly bytes: number };
  /** Stop accepting, end running calls, close connections, the bus and the peer node. Idempotent. */
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  checkNumbers(config);
  const host = config.host ?? configDefault('host');
  const security = config.security ?? {};
  const clientToken = security.clientToken === undefined ? undefined : checkClientToken(security.clientToken, 'security.clientToken');
  const loopbackOnly = isLoopback(host);
  // docs/architecture.md §5: bound beyond loopback, a server demands a client token, or an explicit
  // statement that its clients are not authenticated.
  if (!loopbackOnly && clientToken === undefined && security.unauthenticatedClients !== true) {
    throw new BadInputError(
      `refusing to listen on ${host} without a client token: give --token-file (or TESSERA_TOKEN), or --unauthenticated-clients if every host that reaches this port may use the server`,
      { where: 'host' },
    );
  }
  const corsOrigins = (security.corsOrigins ?? []).map((o) => normaliseOrigin(o, 'security.corsOrigins'));
  const tls = config.tls ?? {};
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new BadInputError('HTTPS needs both a certificate and its key', { where: tls.cert === undefined ? 'tls.cert' : 'tls.key' });
  }
  const log: Logger = config.log ?? (await createLogger(config.logLevel ?? configDefault('logLevel'), config.logFormat ?? configDefault('logFormat'))).log;
  const startedAt = Date.now();
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });

  if (!loopbackOnly && clientToken === undefined) {
    log.warn({ host }, `CLIENTS ARE NOT AUTHENTICATED: anyone who reaches ${host} can use this server's client API and its data`);
  }
  const peer = config.peer ?? {};
  // The bus and the peer node exist only below; the gauges read them when /metrics is scraped.
  let bus: RepresentationBus | undefined;
  // eslint-disable-next-line prefer-const -- assigned once the peer node exists (below); the gauge above reads it later
  let stats: (() => PeerStats) | undefined;
  const metrics = new ServerMetrics(
    {
      peerStats: () => stats?.() ?? { sessions: 0, active: 0, bufferedMessages: 0, bufferedBytes: 0, finished: 0 },
      representations: () => bus?.size ?? 0,
    },
    log,
  );
  // Our own certificate is trusted for peer requests too: a server checks that nodes[myself] is
  // itself by asking its own URL. A self-signed certificate as trust anchor vouches for itself only.
  const peerCas = [...(tls.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca]), ...(tls.cert !== undefined ? [tls.cert] : [])];
  const peerNode = await createPeerNode({
    dataDir: config.dataDir,
    log,
    ...(peer.networkSecret !== undefined ? { networkSecret: peer.networkSecret } : {}),
    ...(peer.peersFile !== undefined ? { peersFile: peer.peersFile } : {}),
    ...(peer.allowPeerUrls !== undefined ? { allowPeerUrls: peer.allowPeerUrls } : {}),
    ...(peer.stageTimeoutMs !== undefined ? { stageTimeoutMs: peer.stageTimeoutMs } : {}),
    ...(peer.limits !== undefined ? { limits: peer.limits } : {}),
    ...(peerCas.length > 0 ? { tlsCa: peerCas } : {}),
    ...(peer.relay !== undefined ? { relay: peer.relay, relayInbound: relayInboundLimits(config) } : {}),
    channel: peer.noChannel !== true,
    observer: metrics.observer,
  });
  stats = () => peerNode.stats();
  const maxMessageBytes = peer.limits?.maxMessageBytes;
  const limits: AppLimits = {
    // The envelope body limit follows the peer node's message limit (plus header and overhead).
    ...(maxMessageBytes !== undefined ? { peerBodyBytes: maxMessageBytes + PEER_BODY_OVERHEAD_BYTES } : {}),
    ...config.limits,
  };

  let server: Server | undefined;
  try {
    bus = createBus({ log, peers: peerNode, limits, ...(config.disclosure !== undefined ? { disclosure: config.disclosure } : {}) });
    const app = createApp({
      bus,
      log,
      peerEndpoint: peerNode,
      startedAt,
      ...(config.validateResponses !== undefined ? { validateResponses: config.validateResponses } : {}),
      limits,
      metrics,
      // What /health checks before it says ready. A relay, when configured, adds its connection here.
      readiness: {
        dataDir: () => access(config.dataDir, fsConstants.W_OK),
        // The key is in memory; its file must still be there for the next start to be this party.
        identity: () => access(join(config.dataDir, IDENTITY_FILE), fsConstants.R_OK),
        ...(peerNode.relay !== undefined ? { relay: peerNode.relay.check } : {}),
      },
      security: {
        ...(clientToken !== undefined ? { clientToken } : {}),
        corsOrigins,
        // Without a token, a loopback server is reachable by name only as loopback: a web page
        // whose domain was rebound to 127.0.0.1 sends its own name as Host and is refused.
        ...(clientToken === undefined && loopbackOnly ? { allowedHosts: [host] } : {}),
      },
    });
    server = tls.cert !== undefined && tls.key !== undefined ? createHttpsServer({ cert: tls.cert, key: tls.key }, app) : createServer(app);
    // Slow-loris bounds: headers within 30 s; a body within 5 minutes (a large upload on a slow link).
    server.headersTimeout = 30_000;
    server.requestTimeout = 300_000;
    server.maxHeadersCount = 100;
    // Longer than the peers' pooled-connection timeout (AGENT_FREE_SOCKET_TIMEOUT_MS), so the
    // sending side closes an idle connection before this side does (hardening finding 2).
    server.keepAliveTimeout = SERVER_KEEP_ALIVE_MS;
    // First of the request listeners, so before any handler answers. A Keep-Alive header set here
    // replaces the one Node would write (with the real timeout); the connection stays persistent.
    server.prependListener('request', (_req, res) => {
      res.setHeader('Keep-Alive', `timeout=${ANNOUNCED_KEEP_ALIVE_S}`);
    });
    // The persistent peer channel on the same listener (server/peer/channel-server.ts): the same
    // deliver/identity as the HTTP routes, bounded like POST /peer/messages' in-flight guard.
    const channels = peer.noChannel === true ? undefined : new PeerChannelServer({
      endpoint: () => peerNode,
      log,
      inflightBodies: limits.peerInflightBodies ?? configDefault('limits.peerInflightBodies'),
      inflightBytes: limits.peerInflightBytes ?? configDefault('limits.peerInflightBytes'),
      // One per possible peer (and this server itself, which asks its own URL who it is).
      maxChannels: (peer.limits?.maxParties ?? configDefault('peer.limits.maxParties')) + 1,
    });
    channels?.attach(server);
    const sockets = new Set<Socket>();
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await listen(server, config.port ?? 0, host);
    const port = (server.address() as AddressInfo).port;
    const scheme = tls.cert !== undefined ? 'https' : 'http';
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
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
        // Fails the running sessions now (they answer "shutting down" and tell their peers), rather
        // than after the grace period: a computation waiting for a peer does not watch the bus.
        await peerNode.close();
        // Upgraded sockets are not the HTTP server's to close: the channels close themselves.
        await channels?.close();
        // Connections whose answer was just written become idle: close them as they do, so a
        // shutdown takes as long as its slowest answer, not the whole grace period.
        runningServer.closeIdleConnections();
        const idle = setInterval(() => runningServer.closeIdleConnections(), 25);
        const grace = setTimeout(() => runningServer.closeAllConnections(), config.shutdownGraceMs ?? 5000);
        grace.unref();
        await closed;
        clearInterval(idle);
        clearTimeout(grace);
        for (const socket of sockets) socket.destroy();
      })();
      return closing;
    };
    return {
      url, port, app, bus: runningBus, publicKey: peerNode.publicKey, peerStats: () => peerNode.stats(), close,
      peerChannelStats: () => channels?.stats() ?? { open: 0, envelopes: 0, bytes: 0 },
      ...(peerNode.relay !== undefined ? { relayUrl: peerNode.relay.url } : {}),
    };
  } catch (err) {
    server?.close();
    await bus?.close();
    await peerNode.close();
    throw err;
  }
}

/** The relay's receiving side holds what the HTTP route may hold: the same body and in-flight limits. */
function relayInboundLimits(config: ServerConfig): { maxBody: number; bodies: number; bytes: number } {
  const maxBody = (config.peer?.limits?.maxMessageBytes ?? configDefault('peer.limits.maxMessageBytes')) + PEER_BODY_OVERHEAD_BYTES;
  return {
    maxBody: config.limits?.peerBodyBytes ?? maxBody,
    bodies: config.limits?.peerInflightBodies ?? configDefault('limits.peerInflightBodies'),
    bytes: Math.max(config.limits?.peerInflightBytes ?? configDefault('limits.peerInflightBytes'), maxBody),
  };
}

/**
 * Logs go to stderr: stdout is for what the CLI prints (where it listens). 'pretty' formats each
 * line for a terminal with pino-pretty in this process (sync, so a line is not lost at exit);
 * loaded only then, so a JSON-logging server does not pay for loading it.
 */
async function createLogger(level: Level | 'silent', format: 'json' | 'pretty'): Promise<{ log: Logger }> {
  if (format === 'pretty') {
    const { default: pretty } = await import('pino-pretty');
    return { log: pino({ level }, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })) };
  }
  return { log: pino({ level }, pino.destination(2)) };
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
