// Operations: the Prometheus metrics at GET /metrics (prom-client) and the one info line per
// computation. Both are fed by the peer layer's observer (server/peer/observer.ts) and read the
// node's and the bus's gauges when scraped; neither ever sees a payload, an input or a result.
//
// Each server has its own registry (tests run several servers in one process); the default
// process metrics (CPU, memory, event-loop lag, handles) come from prom-client itself.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../services/microservice.js';
import type { ComputationRecord, PeerObserver, PeerStats } from './peer/index.js';

export interface MetricsSources {
  /** The peer node's current sessions and early-message buffer. */
  peerStats(): PeerStats;
  /** Live representations on the bus. */
  representations(): number;
}

/** A microprotocol name as a label: the services' own names pass, anything else is "other". */
function label(name: string): string {
  return /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name) ? name : 'other';
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly observer: PeerObserver;

  constructor(sources: MetricsSources, log: Logger) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const computations = new Counter({
      name: 'tessera_computations_total',
      help: 'Computations that ended on this server, by microprotocol and outcome ("ok" or the error slug)',
      labelNames: ['microprotocol', 'outcome'] as const,
      registers,
    });
    const durations = new Histogram({
      name: 'tessera_computation_duration_seconds',
      help: 'How long computations took here, from opening their session to closing it',
      labelNames: ['microprotocol', 'outcome'] as const,
      // From a local SecureSum (milliseconds) to a large model average (minutes).
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    const peerBytes = new Counter({
      name: 'tessera_peer_bytes_total',
      help: 'Bytes of sealed peer envelopes: "in" authenticated here, "out" accepted by their receiver',
      labelNames: ['direction'] as const,
      registers,
    });
    const peerMessages = new Counter({
      name: 'tessera_peer_messages_total',
      help: 'Peer envelopes: "in" authenticated here, "out" accepted by their receiver',
      labelNames: ['direction'] as const,
      registers,
    });
    new Gauge({
      name: 'tessera_peer_buffered_messages',
      help: 'Early peer messages held for computations that have not started here',
      registers,
      collect() {
        this.set(sources.peerStats().bufferedMessages);
      },
    });
    new Gauge({
      name: 'tessera_peer_buffered_bytes',
      help: 'Payload bytes of the early peer messages held',
      registers,
      collect() {
        this.set(sources.peerStats().bufferedBytes);
      },
    });
    new Gauge({
      name: 'tessera_open_sessions',
      help: 'Computations with an open peer session here',
      registers,
      collect() {
        this.set(sources.peerStats().sessions);
      },
    });
    new Gauge({
      name: 'tessera_representations',
      help: 'Representations held on the bus (uploads, results, microservice handles)',
      registers,
      collect() {
        this.set(sources.representations());
      },
    });
    // Zero series for the two directions, so a scrape before the first message shows them.
    for (const direction of ['in', 'out'] as const) {
      peerBytes.inc({ direction }, 0);
      peerMessages.inc({ direction }, 0);
    }

    this.observer = {
      message(direction, bytes) {
        peerBytes.inc({ direction }, bytes);
        peerMessages.inc({ direction });
      },
      computationEnded(record) {
        const labels = { microprotocol: label(record.microprotocol), outcome: label(record.outcome) };
        computations.inc(labels);
        durations.observe(labels, record.durationMs / 1000);
        logComputation(log, record);
      },
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * The one info line per computation: who took part (by index and URL), how long, how many bytes,
 * how it ended. Never an input or a result: the record has none to give.
 */
export function logComputation(log: Logger, record: ComputationRecord): void {
  const line = {
    uuid: record.uuid,
    microprotocol: record.microprotocol,
    party: record.myself,
    parties: record.nodes.map((url, index) => ({ index, url })),
    durationMs: record.durationMs,
    bytesSent: record.bytesSent,
    bytesReceived: record.bytesReceived,
    messagesSent: record.messagesSent,
    messagesReceived: record.messagesReceived,
    outcome: record.outcome,
    ...(record.where !== undefined ? { where: record.where } : {}),
  };
  log.info(line, `computation ${record.uuid} ${record.microprotocol}: ${record.outcome}`);
}
