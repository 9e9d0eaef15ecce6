// What the handlers are given (createApp builds it once): the bus, the peer endpoint, the spec
// and the operations' dependencies. Handlers stay thin: parse, call a service, respond.

import type { Logger } from '../../../services/microservice.js';
import type { PeerEndpoint } from '../../../services/peer.js';
import type { RepresentationBus } from '../../bus.js';
import type { LoadedSpec } from '../spec.js';

export interface MetricsEndpoint {
  readonly contentType: string;
  text(): Promise<string>;
}

/** Resolves when ready; rejects (or throws) with what is wrong, which /health reports. */
export type ReadinessCheck = () => Promise<void> | void;

export interface HandlerDeps {
  bus: RepresentationBus;
  log: Logger;
  spec: LoadedSpec;
  startedAt: number;
  readiness: Readonly<Record<string, ReadinessCheck>>;
  jsonDownloadValues: number;
  peer?: PeerEndpoint;
  metrics?: MetricsEndpoint;
}
