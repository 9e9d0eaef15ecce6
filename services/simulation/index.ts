// Simulation mode: every party of a network in one process, on the same engine and the same
// cryptography (shares, masks, zero tests, the label mix-net) as real servers, over the
// in-memory network (network.ts) instead of HTTP. A user tries a microprotocol with ten parties
// without ten servers, as Flower users do with `flwr run`:
//
//   const { results } = await simulate({ parties: 3, microprotocol: 'StatisticsUnivariate',
//                                        data: [[3, 1.5, 6], [2, 2.5], 4.5] });
//
// Each party's call goes through the SIMON microservice's own `compute` (keyword checks,
// dispatch, disclosure policy), so what fails here fails the same way on real servers. What the
// simulation leaves out is the transport (HTTP, envelope encryption, peer authentication).

import { randomUUID } from 'node:crypto';
import type { CallContext, Logger } from '../microservice.js';
import { createSimon } from '../simon/index.js';
import type { DisclosurePolicy } from '../simon/engine.js';
import { MemoryHub } from './network.js';

export { MemoryHub } from './network.js';

export interface SimulationOptions {
  /** Number of parties n (at least 1; at most 1000). */
  readonly parties: number;
  /** A microprotocol name, as for `compute` (e.g. "StatisticsUnivariate", "SecureFedAvg"). */
  readonly microprotocol: string;
  /** One `data` value per party, in party order. */
  readonly data: readonly unknown[];
  /** Further `compute` keywords, the same at every party (e.g. FedAvg's `ring_bits`). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** The disclosure policy every party runs with. */
  readonly disclosure?: DisclosurePolicy;
  /** Per-wait timeout in milliseconds (default 10 s). */
  readonly timeoutMs?: number;
  /** A network to run on (to inspect its log or transcripts); a fresh one by default. */
  readonly hub?: MemoryHub;
}

export interface SimulationResult {
  /** What each party downloads, in party order; a party that failed has `error` instead. */
  readonly results: readonly ({ readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Error })[];
  /** Bytes each party sent (payloads only). */
  readonly bytesSent: readonly number[];
  readonly milliseconds: number;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The node URLs of a simulated network: never contacted, they only name the parties. */
export function simulatedNodes(parties: number): string[] {
  return Array.from({ length: parties }, (_, i) => `http://party-${i}.simulation.invalid`);
}

export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const { parties, data } = options;
  if (!Number.isInteger(parties) || parties < 1 || parties > 1000) throw new RangeError('parties must be an integer in [1, 1000]');
  if (data.length !== parties) throw new RangeError(`data must hold one value per party (${parties}), got ${data.length}`);
  const nodes = simulatedNodes(parties);
  const hub = options.hub ?? new MemoryHub(nodes, options.timeoutMs ?? 10_000);
  const simon = createSimon(options.disclosure ? { disclosure: options.disclosure } : {});
  const uuid = randomUUID();
  const controller = new AbortController();
  const started = performance.now();
  const results = await Promise.all(
    data.map(async (value, myself) => {
      const ctx: CallContext = { signal: controller.signal, peers: hub.network(myself), log: silent };
      const kwargs = { ...options.options, microprotocol: options.microprotocol, data: value, network: { nodes, uuid, myself } };
      try {
        return { ok: true as const, value: await simon.members['compute']!([], kwargs, ctx) };
      } catch (error) {
        return { ok: false as const, error: error instanceof Error ? error : new Error(String(error)) };
      }
    }),
  );
  return { results, bytesSent: nodes.map((_, i) => hub.bytesSent[i] ?? 0), milliseconds: performance.now() - started };
}
