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

export interface Cluster {
  readonly servers: RunningServer[];
  readonly nodes: string[];
  readonly apis: Api[];
  /** The secret every party trusts the others by (a child party started later needs it too). */
  readonly networkSecret: Buffer;
  /** The folder holding party i's data in `p${i}`; removed by close() (put other test files here). */
  readonly root: string;
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
}

/** Starts `parties` servers that trust each other through one network secret. */
export async function startCluster(parties: number, options: ClusterOptions = {}): Promise<Cluster> {
  const networkSecret = options.networkSecret ?? randomBytes(32);
  const root = await mkdtemp(join(tmpdir(), 'tessera-cluster-'));
  const started = await Promise.allSettled(
    Array.from({ length: parties }, (_, i) => {
      const own = options.party?.(i) ?? {};
      return startServer({
        dataDir: join(root, `p${i}`),
        port: 0,
        logLevel: 'silent',
        validateResponses: true,
        ...options.config,
        ...own,
        peer: { networkSecret, stageTimeoutMs: options.stageTimeoutMs ?? 10_000, ...options.config?.peer, ...own.peer },
      });
    }),
  );
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const close = async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(root, { recursive: true, force: true });
  };
  const failed = started.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await close();
    throw failed.reason;
  }
  const nodes = servers.map((s) => s.url);
  return { servers, nodes, apis: nodes.map((url) => new Api(url, { timeoutMs: 60_000 })), networkSecret, root, close };
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
