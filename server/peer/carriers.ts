// Which carrier takes a request to a peer: chosen by the scheme of the peer's node URL, so one
// network can mix parties reached directly (http://, https://: HttpTransport, the default, no
// broker) and parties reached through the NATS relay (relay://<name>: RelayCarrier). The node URL
// is how every party names that peer (in the computation's node list and in pinned peers files),
// so all parties agree on how each one is reached. Envelopes are sealed above this layer; no
// carrier sees more than their bytes (docs/relay.md).

import { type PeerRequest, type PeerResponse, type PeerTransport } from './transport.js';
import { RELAY_SCHEME } from './relay-names.js';

export class CarrierSelector implements PeerTransport {
  constructor(
    private readonly direct: PeerTransport,
    /** The relay carrier, when this server was started with --relay. */
    private readonly relay: PeerTransport | undefined,
  ) {}

  request(url: string, req: PeerRequest): Promise<PeerResponse> {
    if (!url.startsWith(`${RELAY_SCHEME}//`)) return this.direct.request(url, req);
    // The relay carrier honours a request's own time limit (timeoutMs) itself, as the HTTP one does.
    if (this.relay !== undefined) return this.relay.request(url, req);
    // transportFailure (transport.ts) turns this into "cannot reach party i (relay://x): …".
    return Promise.reject(new Error('that party is reached through a NATS relay and this server has none (start it with --relay nats://HOST:PORT)'));
  }

  close(): void {
    this.direct.close();
    this.relay?.close();
  }
}
