// api.secureSum, the typed SecureSum helper of the TypeScript client, against two real servers:
// every party gets the sum and the counts, and the helper frees every representation it made.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Api, type Network } from '../../../clients/typescript/index.js';
import { startCluster, type Cluster } from '../../support/cluster.js';

describe('typed SecureSum helper, two parties', () => {
  let cluster: Cluster;
  let servers: Cluster['servers'];

  before(async () => {
    cluster = await startCluster(2, { stageTimeoutMs: 30_000 });
    servers = cluster.servers;
  });

  after(async () => {
    await cluster.close();
  });

  test('api.secureSum gives every party the sum and the counts, and leaves no representation behind', async () => {
    const nodes = servers.map((s) => s.url);
    const uuid = randomUUID();
    const apis = servers.map((s) => new Api(s.url, { timeoutMs: 30_000 }));
    const inputs = [19, [5, 61]];
    const results = await Promise.all(apis.map((api, myself) => {
      const network: Network = { nodes, uuid, myself };
      return api.secureSum({ data: inputs[myself]!, network });
    }));
    for (const result of results) assert.deepEqual(result, { inputs: 2, result: { samples: 3, sum: 85 } });
    for (const api of apis) {
      const { data } = await api.client.GET('/health', { signal: AbortSignal.timeout(5000) });
      assert.equal(data!.representations, 0);
    }
  });

  test('the Python-client style: create Simon, member access compute, download, release', async () => {
    const nodes = servers.map((s) => s.url);
    const uuid = randomUUID();
    const sums = await Promise.all(servers.map(async (s, myself) => {
      const api = new Api(s.url, { timeoutMs: 30_000 });
      const simon = await api.create<'compute'>({ protocol: 'Simon' });
      const result = await simon.compute({ microprotocol: 'SecureSum', data: [1.25, 2.5][myself], network: { nodes, uuid, myself } });
      const value = await api.download<{ inputs: number; result: { samples: number; sum: number } }>(result);
      await api.release(result);
      await api.release(simon);
      return value;
    }));
    for (const value of sums) assert.deepEqual(value, { inputs: 2, result: { samples: 2, sum: 3.75 } });
  });
});
