// The peer layer: this server's identity, trust in other servers, sealed envelopes, and the
// routing of peer messages into computation sessions (services/peer.ts describes the contract).
//
// Wiring: server/main.ts creates the node (`createPeerNode({...})`); server/app.ts mounts it
//   GET  /peer/identity?challenge=...  -> res.json(await peer.identity(req.query.challenge))
//   POST /peer/messages (raw body, application/octet-stream, limit maxMessageBytes + 2 MiB: room
//        for the header, at most MAX_HEADER_BYTES = 1 MiB, and the envelope overhead)
//                                      -> await peer.deliver(body); res.status(204).end()
//   GET  /peer/channel (WebSocket upgrade; server/peer/channel-server.ts, attached by main.ts)
//                                      -> the same two, as request/answer frames on one connection
// and maps thrown TesseraErrors to problem documents including their `extra` members (a 401 with
// `reason: "receiver-boot-changed"` tells a sender to refetch the identity and retry).

import { homedir } from 'node:os';
import { join } from 'node:path';
import { BadInputError } from '../../services/errors.js';
import type { Logger } from '../../services/microservice.js';
import { configDefault } from '../config.js';
import { loadOrCreateIdentity, loadOrCreateLocalSecret } from './identity.js';
import { ENVELOPE_OVERHEAD, MAX_HEADER_BYTES } from './envelope.js';
import { DEFAULT_LIMITS, PeerNode, type PeerLimits } from './node.js';
import type { PeerObserver } from './observer.js';
import { CarrierSelector } from './carriers.js';
import { RELAY_SCHEME } from './relay-names.js';
import type { RelayInboundLimits, RelayOptions } from './relay.js';
import { ChannelTransport } from './transport-channel.js';
import { HttpTransport } from './transport.js';
import { readPeersFile, Trust } from './trust.js';

export type { PeerNode, PeerStats } from './node.js';
export type { ComputationRecord, PeerObserver } from './observer.js';

export interface PeerNodeOptions {
  /** Identity key lives here (created on first start, file mode 0600). */
  dataDir: string;
  log: Logger;
  /** Trust mode "shared network secret" (at least 16 bytes). */
  networkSecret?: Buffer;
  /** Trust mode "pinned peers": JSON [{ "url": "...", "publicKey": "<base64url>" }]. */
  peersFile?: string;
  /** URL prefixes/patterns a client may name as nodes (secret mode); default: loopback only. */
  allowPeerUrls?: string[];
  /** Default 30000. */
  stageTimeoutMs?: number;
  /** PEM certificates of private CAs trusted for https peers, besides the well-known roots. */
  tlsCa?: string | Buffer | (string | Buffer)[];
  /** Default ~/.config/tessera (for the local user secret). */
  userConfigDir?: string;
  /**
   * Reach peers over a persistent channel (a WebSocket per peer server, transport-channel.ts)
   * where they offer one, by POST where not. Default true; false: POST only (--no-peer-channel).
   */
  channel?: boolean;
  /** Told of every peer message and every computation's end (server/metrics.ts); never of contents. */
  observer?: PeerObserver;
  /** Reach relay:// peers, and be reached, through this NATS relay (server/peer/relay.ts). */
  relay?: RelayOptions;
  /** What the relay's receiving side may hold at once (the HTTP route's body and in-flight limits). */
  relayInbound?: RelayInboundLimits;
  limits?: {
    maxBufferedMessages?: number;
    maxBufferedBytes?: number;
    maxInboxBytes?: number;
    maxMessageBytes?: number;
    maxParties?: number;
    maxSessions?: number;
  };
}

/** The peer node as createPeerNode gives it: with --relay, also its relay address and health check. */
export type ConnectedPeerNode = PeerNode & {
  /** With --relay: this party's node URL on the relay (relay://<name>) and a /health check of the connection. */
  readonly relay?: { readonly url: string; check(): Promise<void> };
};

export const DEFAULT_STAGE_TIMEOUT_MS = configDefault('peer.stageTimeoutMs');

export function defaultUserConfigDir(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'tessera');
}

export async function createPeerNode(opts: PeerNodeOptions): Promise<ConnectedPeerNode> {
  const { log } = opts;
  const identity = await loadOrCreateIdentity(opts.dataDir, log);
  let trust: Trust;
  if (opts.peersFile !== undefined) {
    trust = new Trust({ pinned: await readPeersFile(opts.peersFile), secret: opts.networkSecret });
  } else if (opts.networkSecret !== undefined) {
    trust = new Trust({ secret: opts.networkSecret, allowPeerUrls: opts.allowPeerUrls });
  } else {
    if (opts.allowPeerUrls?.length) {
      log.warn({ allowPeerUrls: opts.allowPeerUrls }, 'allowPeerUrls needs a network secret or a peers file; without them only loopback peers are allowed');
    }
    const secret = await loadOrCreateLocalSecret(opts.userConfigDir ?? defaultUserConfigDir(), log);
    trust = new Trust({ secret, secretIsLocal: true });
  }
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(opts.limits ?? {})) {
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) throw new BadInputError('a limit must be a positive integer', { where: `limits.${name}` });
    limits[name] = value;
  }
  const stageTimeoutMs = opts.stageTimeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS;
  const transportOptions = opts.tlsCa !== undefined ? { ca: opts.tlsCa } : {};
  const direct = opts.channel === false ? new HttpTransport(transportOptions) : new ChannelTransport({ ...transportOptions, log });
  // The NATS client is loaded only by servers that use a relay.
  const relay = opts.relay === undefined
    ? undefined
    : await (await import('./relay.js')).RelayCarrier.connect(opts.relay, log, stageTimeoutMs);
  const transport = new CarrierSelector(direct, relay);
  const router = new PeerNode({
    identity, trust, log, stageTimeoutMs, limits: limits as unknown as PeerLimits, transport,
    ...(opts.observer !== undefined ? { observer: opts.observer } : {}),
  });
  if (relay !== undefined) {
    const maxBody = limits.maxMessageBytes! + MAX_HEADER_BYTES + ENVELOPE_OVERHEAD;
    try {
      await relay.serve(router, opts.relayInbound ?? { maxBody, bodies: 64, bytes: Math.max(256 * 1024 * 1024, maxBody) });
    } catch (err) {
      await router.close();
      await relay.closed();
      throw err;
    }
    // Every computation whose messages cross the relay fails at once when the relay goes away,
    // naming it, receivers included (not only requests in flight).
    relay.onLost((reason) => router.carrierLost(reason, (node) => node.startsWith(`${RELAY_SCHEME}//`)));
    // The router closes its carriers without waiting; the node's close also waits for the relay
    // connection to drain, so a stopped server leaves no socket behind.
    const closeRouter = router.close.bind(router);
    return Object.assign(router, {
      relay: { url: relay.url, check: () => relay.check() },
      close: async () => {
        await closeRouter();
        await relay.closed();
      },
    });
  }
  // The mode and the public key are not secret; the secret itself is never logged.
  log.info(
    { trustMode: trust.mode, publicKey: identity.publicKey, bootId: identity.bootId, peers: trust.allowDescription, stageTimeoutMs, channel: opts.channel !== false },
    `peer layer ready (trust: ${trust.mode})`,
  );
  return router;
}
