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
  close(): Promise<void>;
}

/** Starts `parties` servers that trust each other through one fresh network secret. */
export async function startCluster(
  parties: number,
  options: { stageTimeoutMs?: number; config?: Partial<ServerConfig> } = {},
): Promise<Cluster> {
  const networkSecret = randomBytes(32);
  const dirs = await Promise.all(Array.from({ length: parties }, () => mkdtemp(join(tmpdir(), 'tessera-party-'))));
  const servers = await Promise.all(
    dirs.map((dataDir) =>
      startServer({
        dataDir,
        port: 0,
        logLevel: 'silent',
        validateResponses: true,
        ...options.config,
        peer: { networkSecret, stageTimeoutMs: options.stageTimeoutMs ?? 10_000, ...options.config?.peer },
      }),
    ),
  );
  const nodes = servers.map((s) => s.url);
  return {
    servers,
    nodes,
    apis: nodes.map((url) => new Api(url, { timeoutMs: 60_000 })),
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** Every party computes `microprotocol` on its own server with its input; resolves with what each downloaded. */
export async function computeAll(cluster: Cluster, microprotocol: string, inputs: readonly unknown[], uuid = randomUUID()): Promise<unknown[]> {
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
