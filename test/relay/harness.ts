// Parties for the relay tests: real servers in this process (the harness's startCluster), each with its own NATS
// connection to one real nats-server, named in the node list either by their relay URL
// (relay://<name>: reached only through the relay) or by their HTTP URL (reached directly).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api } from '../../clients/typescript/index.js';
import type { RunningServer, ServerConfig } from '../../server/main.js';
import { loadOrCreateIdentity } from '../../server/peer/identity.js';
import { TensorSet } from '../../services/common/tensors.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import assert from 'node:assert/strict';
import { within } from '../within.js';
import { memoryLog } from '../server/helpers.js';

export type Reach = 'relay' | 'direct' | 'direct-no-relay';

export interface RelayClusterOptions {
  /** How each party is named and reached; default every party through the relay. */
  reach?: readonly Reach[];
  parties?: number;
  stageTimeoutMs?: number;
  /** Extra relay options for every party (credentials). */
  relay?: Partial<NonNullable<NonNullable<ServerConfig['peer']>['relay']>>;
  config?: Partial<ServerConfig>;
  /**
   * Every party also gets one peers file pinning every party's relay:// URL to its key (made here
   * before the servers start), besides the network secret: a federation configured with its keys
   * (docs/relay.md "First contact with pinned peers"). Every party must be reached through the relay.
   */
  pinned?: boolean;
}

export async function startRelayCluster(natsUrl: string, options: RelayClusterOptions = {}): Promise<Cluster & { servers: RunningServer[] }> {
  const reach = options.reach ?? Array.from({ length: options.parties ?? 3 }, (): Reach => 'relay');
  const tag = randomBytes(4).toString('hex');
  const name = (i: number) => `p${i}-${tag}`;
  let keys: { dir: string; peersFile: string } | undefined;
  if (options.pinned === true) {
    assert.ok(reach.every((r) => r === 'relay'), 'pinned: every party through the relay (a direct URL is known only once its server listens)');
    const dir = await mkdtemp(join(tmpdir(), 'tessera-pins-'));
    const pins = await Promise.all(reach.map(async (_, i) => ({ url: `relay://${name(i)}`, publicKey: (await loadOrCreateIdentity(join(dir, `p${i}`), memoryLog())).publicKey })));
    keys = { dir, peersFile: join(dir, 'peers.json') };
    await writeFile(keys.peersFile, JSON.stringify(pins));
  }
  const cluster = await startCluster(reach.length, {
    ...(options.stageTimeoutMs !== undefined ? { stageTimeoutMs: options.stageTimeoutMs } : {}),
    config: { validateResponses: false, ...options.config },
    // The server's own default connect timeout (30 s): thirty servers connecting at once on a
    // loaded 2-core machine took longer than 5 s. Tests of a relay that is down set their own.
    party: (i) => (reach[i] === 'direct-no-relay' ? {} : {
      ...(keys !== undefined ? { dataDir: join(keys.dir, `p${i}`) } : {}),
      peer: { relay: { servers: [natsUrl], name: name(i), ...options.relay }, ...(keys !== undefined ? { peersFile: keys.peersFile } : {}) },
    }),
  }).catch(async (err: unknown) => {
    if (keys !== undefined) await rm(keys.dir, { recursive: true, force: true });
    throw err;
  });
  const nodes = cluster.servers.map((s, i) => (reach[i] === 'relay' ? s.relayUrl! : s.url));
  const close = async () => {
    await cluster.close();
    if (keys !== undefined) await rm(keys.dir, { recursive: true, force: true });
  };
  return { ...cluster, close, nodes, apis: cluster.servers.map((s) => new Api(s.url, { timeoutMs: 120_000 })) };
}

/** A small deterministic model (not secret) of `count` float32 parameters. */
export function smallModel(count: number, seed: number): TensorSet {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = Math.sin(seed * 7919 + i) * 10;
  return new TensorSet(new Map([['w', { dtype: 'F32', shape: [count], data }]]));
}

/** Every party averages its model with SecureFedAvg; resolves with each party's averaged tensors. */
export async function fedAvgAll(cluster: Cluster, models: readonly TensorSet[], uuid = randomUUID(), options: Record<string, unknown> = {}): Promise<TensorSet[]> {
  return Promise.all(
    cluster.apis.map(async (api, myself) => {
      const uploaded = await api.uploadTensors(models[myself]!);
      const service = await api.create({ protocol: 'Simon' });
      const compute = await service.attribute('compute');
      const result = await api.call(compute, {
        microprotocol: 'SecureFedAvg',
        data: { tensors: uploaded, weight: 1 },
        network: { nodes: cluster.nodes, uuid, myself },
        ...options,
      });
      return api.downloadTensors(result);
    }),
  );
}

/** The plain average of the models' "w" (what every party must get, up to fixed-point error). */
export function plainAverage(models: readonly TensorSet[]): Float64Array {
  const n = models[0]!.get('w')!.data.length;
  const out = new Float64Array(n);
  for (const m of models) m.get('w')!.data.forEach((v, i) => (out[i] = out[i]! + v / models.length));
  return out;
}

export function maxDifference(got: TensorSet, want: Float64Array): number {
  let worst = 0;
  got.get('w')!.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]!))));
  return worst;
}

export { computeAll } from '../support/cluster.js';
export { randomUUID };

/**
 * One party's computation on its own server through the server's representation bus (what the
 * HTTP handlers call), as its client's compute call does: for the 100-party tests, where 100 HTTP
 * clients in one event loop on a busy machine measured the client API's keep-alive race, not the relay.
 */
export async function computeOnBus(
  server: RunningServer,
  microprotocol: string,
  data: unknown,
  network: { nodes: string[]; uuid: string; myself: number },
  options: Record<string, unknown> = {},
): Promise<unknown> {
  const { bus } = server;
  const simon = bus.create({ protocol: 'Simon' });
  const result = await bus.call(bus.attribute(simon, 'compute'), [], { microprotocol, data, network, ...options });
  assert.ok(result !== undefined);
  return bus.download(result).value;
}

/**
 * SecureFedAvg of `models` (party i's is models[i], weight 1) at every party through computeOnBus,
 * within `ms`: the averaged model each party downloads, in party order.
 */
export function fedAvgOnBus(
  cluster: Cluster & { servers: RunningServer[] },
  models: readonly TensorSet[],
  options: Record<string, unknown> = {},
  ms = 240_000,
): Promise<TensorSet[]> {
  const uuid = randomUUID();
  return within(ms, 'SecureFedAvg', Promise.all(cluster.servers.map((s, myself) => {
    const tensors = { representation_uuid: s.bus.upload(models[myself]!) };
    return computeOnBus(s, 'SecureFedAvg', { tensors, weight: 1 }, { nodes: cluster.nodes, uuid, myself }, options) as Promise<TensorSet>;
  })));
}
