// Several parties' servers in one process, on ephemeral ports, for the multi-party tests: real
// servers (startServer: HTTP app, validation, bus, peer node with encrypted envelopes) that trust
// each other through one fresh network secret. Parties as child processes: ./process.ts; the
// in-memory network without HTTP: MemoryHub (services/simulation/network.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerConfig } from '../../server/main.js';
import { Api } from '../../clients/typescript/index.js';
import { startProxy, type Proxy } from './proxy.js';

export interface Cluster {
  readonly servers: RunningServer[];
  readonly nodes: string[];
  readonly apis: Api[];
  /** The secret every party trusts the others by (a child party started later needs it too). */
  readonly networkSecret: Buffer;
  /** The folder holding party i's data in `p${i}`; removed by close() (put other test files here). */
  readonly root: string;
  /** The fault proxy in front of party i (ClusterOptions.proxied); throws for a party without one. */
  proxy(i: number): Proxy;
  /**
   * Party i again: its server closed (if still running) and started anew on its data folder and
   * configuration, so the same identity key under a new boot id; on its old port with `samePort`
   * (its URL unchanged), else on a fresh one. Updates servers[i], apis[i] and nodes[i] (behind a
   * proxy the node URL stays the proxy's, which now forwards to the new server).
   */
  restart(i: number, options?: { samePort?: boolean }): Promise<RunningServer>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** Every party's per-wait stage timeout (default 10 s). */
  readonly stageTimeoutMs?: number;
  /** Configuration every party gets (its `peer` is merged with the secret and the timeout). */
  readonly config?: Partial<ServerConfig>;
  /** Configuration of party i on top of `config` (a logger, a client token, its own limits). */
  readonly party?: (i: number) => Partial<ServerConfig>;
  /** The network secret (default: 32 fresh random bytes). */
  readonly networkSecret?: Buffer;
  /** Parties reached through a fault proxy (./proxy.ts): their node URL is the proxy's. */
  readonly proxied?: readonly number[];
}

/** Starts `parties` servers that trust each other through one network secret. */
export async function startCluster(parties: number, options: ClusterOptions = {}): Promise<Cluster> {
  const networkSecret = options.networkSecret ?? randomBytes(32);
  const root = await mkdtemp(join(tmpdir(), 'tessera-cluster-'));
  const configOf = (i: number): ServerConfig => {
    const own = options.party?.(i) ?? {};
    return {
      dataDir: join(root, `p${i}`),
      port: 0,
      logLevel: 'silent',
      validateResponses: true,
      ...options.config,
      ...own,
      peer: { networkSecret, stageTimeoutMs: options.stageTimeoutMs ?? 10_000, ...options.config?.peer, ...own.peer },
    };
  };
  const started = await Promise.allSettled(Array.from({ length: parties }, (_, i) => startServer(configOf(i))));
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const proxies = new Map<number, Proxy>();
  const close = async () => {
    await Promise.all([...proxies.values()].map((p) => p.close()));
    await Promise.all(servers.map((s) => s.close()));
    await rm(root, { recursive: true, force: true });
  };
  const failed = started.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await close();
    throw failed.reason;
  }
  try {
    for (const i of options.proxied ?? []) proxies.set(i, await startProxy(servers[i]!.url));
  } catch (err) {
    await close();
    throw err;
  }
  const nodes = servers.map((s, i) => proxies.get(i)?.url ?? s.url);
  const apis = servers.map((s) => new Api(s.url, { timeoutMs: 60_000 }));
  const proxy = (i: number): Proxy => {
    const found = proxies.get(i);
    if (found === undefined) throw new Error(`party ${i} has no proxy (ClusterOptions.proxied)`);
    return found;
  };
  const restart = async (i: number, { samePort = false } = {}): Promise<RunningServer> => {
    const old = servers[i]!;
    await old.close();
    const server = await startServer(samePort ? { ...configOf(i), port: old.port } : configOf(i));
    servers[i] = server;
    apis[i] = new Api(server.url, { timeoutMs: 60_000 });
    const front = proxies.get(i);
    if (front !== undefined) front.target = server.url;
    else nodes[i] = server.url;
    return server;
  };
  return { servers, nodes, apis, networkSecret, root, proxy, restart, close };
}

export interface TestServer extends RunningServer {
  readonly dataDir: string;
}

/** One server on an ephemeral port in a fresh data folder (removed by close()), for tests of one party. */
export async function startTestServer(config: Partial<ServerConfig> = {}): Promise<TestServer> {
  const root = await mkdtemp(join(tmpdir(), 'tessera-server-'));
  const dataDir = config.dataDir ?? join(root, 'data');
  let server: RunningServer;
  try {
    server = await startServer({ port: 0, logLevel: 'silent', validateResponses: true, ...config, dataDir });
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  return {
    ...server,
    dataDir,
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Every party computes `microprotocol` on its own server with its input; resolves with what each downloaded. */
export async function computeAll(cluster: Pick<Cluster, 'apis' | 'nodes'>, microprotocol: string, inputs: readonly unknown[], uuid = randomUUID()): Promise<unknown[]> {
  return Promise.all(
    inputs.map(async (data, myself) => {
      const api = cluster.apis[myself] as Api;
      const result = await api.compute(microprotocol, data, { nodes: cluster.nodes, uuid, myself });
      try {
        return await api.download(result);
      } finally {
        await api.release(result).catch(() => undefined);
      }
    }),
  );
}

export interface Party {
  readonly url: string;
  close(): Promise<void>;
}

/** One party's server in `dataDir` (a test that starts the parties one by one, e.g. sequentially). */
export async function startParty(dataDir: string, networkSecret: Buffer, stageTimeoutMs: number): Promise<Party> {
  return startServer({ dataDir, port: 0, logLevel: 'silent', validateResponses: true, peer: { networkSecret, stageTimeoutMs } });
}

/** The requirements a client passes to `create` to reach FedAvg (`compute` and `prepare`): FedAvg is reached through Simon, as every client reaches it. */
export const FEDAVG_SERVICE: Record<string, string> = { protocol: 'Simon' };

export interface FedAvgCluster {
  readonly parties: RunningServer[];
  readonly nodes: string[];
  close(): Promise<void>;
}

/** `n` parties for the FedAvg tests (startCluster under the name they know). */
export async function startFedAvgCluster(n: number, stageTimeoutMs = 10_000): Promise<FedAvgCluster> {
  const cluster = await startCluster(n, { stageTimeoutMs });
  return { parties: cluster.servers, nodes: cluster.nodes, close: () => cluster.close() };
}
