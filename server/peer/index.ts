// The peer layer: this server's identity, trust in other servers, sealed envelopes, and the
// routing of peer messages into computation sessions (services/peer.ts describes the contract).

import type { Logger } from '../../services/microservice.js';
import type { PeerEndpoint, PeerNetwork } from '../../services/peer.js';
import { NotImplementedError } from '../../services/errors.js';

export interface PeerNodeOptions {
  /** Identity key lives here (created on first start, file mode 0600). */
  dataDir: string;
  log: Logger;
  /** Trust mode "shared network secret". */
  networkSecret?: Buffer;
  /** Trust mode "pinned peers": JSON [{ "url": "...", "publicKey": "<base64url>" }]. */
  peersFile?: string;
  /** URL prefixes/patterns a client may name as nodes (secret mode); default: loopback only. */
  allowPeerUrls?: string[];
  /** Default 30000. */
  stageTimeoutMs?: number;
  /** Default ~/.config/tessera (for the local user secret). */
  userConfigDir?: string;
  limits?: {
    maxBufferedMessages?: number;
    maxBufferedBytes?: number;
    maxInboxBytes?: number;
    maxMessageBytes?: number;
    maxParties?: number;
    maxSessions?: number;
  };
}

export type PeerNode = PeerNetwork & PeerEndpoint & { readonly publicKey: string; close(): Promise<void> };

export async function createPeerNode(opts: PeerNodeOptions): Promise<PeerNode> {
  void opts;
  throw new NotImplementedError('peer node is being written');
}
