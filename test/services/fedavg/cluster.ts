// Real party servers (startServer: HTTP app, validation, bus, peer node with encrypted envelopes)
// on ephemeral ports, for the FedAvg integration tests.
// FedAvg is reached through the Simon microservice, as every client reaches it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../../server/main.js';

export interface Party {
  readonly url: string;
  close(): Promise<void>;
}

/** The requirements a client passes to `create` to reach FedAvg (`compute` and `prepare`). */
export const FEDAVG_SERVICE: Record<string, string> = { protocol: 'Simon' };

/** One party's server. */
export async function startParty(dataDir: string, networkSecret: Buffer, stageTimeoutMs: number): Promise<Party> {
  return startServer({ dataDir, port: 0, logLevel: 'silent', validateResponses: true, peer: { networkSecret, stageTimeoutMs } });
}

export interface FedAvgCluster {
  readonly parties: Party[];
  readonly nodes: string[];
  close(): Promise<void>;
}

export async function startFedAvgCluster(n: number, stageTimeoutMs = 10_000): Promise<FedAvgCluster> {
  const secret = randomBytes(32);
  const dirs = await Promise.all(Array.from({ length: n }, () => mkdtemp(join(tmpdir(), 'tessera-fedavg-'))));
  const parties = await Promise.all(dirs.map((d) => startParty(d, secret, stageTimeoutMs)));
  return {
    parties,
    nodes: parties.map((p) => p.url),
    async close() {
      await Promise.all(parties.map((p) => p.close()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}
