// Several parties' servers in one process, on ephemeral ports, for the multi-party tests.
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
