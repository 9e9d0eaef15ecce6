// The SecAgg+ sparse graph in the dropout round (min_parties below n; services/fedavg/double.ts
// with the neighbour sets of graph.ts): k is sized for the coalition and the dropout budget
// n − min_parties, and a party dropping after setup has its pair masks removed with its
// neighbours only. Real servers (6 parties, the smallest round where the default bounds give a
// graph sparser than the complete one: k = 4 of 5) with a party killed mid-reduce, and an
// in-memory round of 20 parties (k = 10 of 19) where one party dies in its reduce stage.
// Each would give a wrong average if the dropped party's masks were removed with non-neighbours
// too (they never added one) or not removed with a neighbour.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Api, TesseraApiError } from '../../../clients/typescript/index.js';
import type { RunningServer } from '../../../server/main.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { MemoryHub } from '../../../services/simulation/network.js';
import { secureFedAvg } from '../../../services/fedavg/index.js';
import { neighbourCount, SPARSE_COALITION, SPARSE_FAILURE_BITS } from '../../../services/fedavg/graph.js';
import type { CallContext } from '../../../services/microservice.js';
import { FEDAVG_SERVICE, startCluster, type Cluster } from '../../support/cluster.js';
import { spawnParty, type ChildParty } from '../../support/process.js';
import type { Proxy } from '../../support/proxy.js';
import { within } from '../../within.js';

const STAGE_TIMEOUT_MS = 3000;

function modelOf(k: number): TensorSet {
  const w = new Float64Array(60).map((_, i) => Math.sin(k * 5 + i) * 2);
  const b = new Float32Array(9).map((_, i) => (k + 1) * 0.5 - i * 0.25);
  return TensorSet.from({ 'dense.weight': w, 'dense.bias': b });
}

function expectAverage(got: TensorSet, parties: number[], weights: number[]): void {
  const total = parties.reduce((a, k) => a + weights[k]!, 0);
  for (const name of ['dense.weight', 'dense.bias']) {
    got.get(name)!.data.forEach((v, i) => {
      const want = parties.reduce((a, k) => a + (weights[k]! * modelOf(k).get(name)!.data[i]!) / total, 0);
      assert.ok(Math.abs(v - want) <= 1e-6, `${name}[${i}]: ${v} vs ${want}`);
    });
  }
}

describe('a sparse dropout round on real servers (6 parties, min_parties 5)', { timeout: 180_000 }, () => {
  const n = 6;
  const t = 5;
  const weights = [10, 20, 30, 40, 50, 60];
  let cluster: Cluster;
  let servers: RunningServer[];
  let child: ChildParty | undefined;
  let proxy: Proxy;

  before(async () => {
    cluster = await startCluster(n, { stageTimeoutMs: STAGE_TIMEOUT_MS, proxied: [n - 1] });
    servers = cluster.servers;
    proxy = cluster.proxy(n - 1);
  });
  after(async () => {
    await child?.kill();
    await cluster.close();
  });

  async function fedAvg(url: string, k: number, network: { nodes: string[]; uuid: string; myself: number }, extra: Record<string, unknown>) {
    const api = new Api(url, { timeoutMs: 90_000 });
    const uploaded = await api.uploadTensors(modelOf(k));
    const compute = await (await api.create(FEDAVG_SERVICE)).attribute('compute');
    const result = await api.call(compute, { microprotocol: 'SecureFedAvg', data: { tensors: uploaded, weight: weights[k] }, network, ...extra });
    assert.ok(result);
    return api.downloadTensors(result);
  }

  test('the last party killed (SIGKILL) mid-reduce: the five survivors get their average, each having masked with 4 neighbours', async () => {
    const k = neighbourCount(n, SPARSE_COALITION, SPARSE_FAILURE_BITS, n - t);
    assert.equal(k, 4, 'a coalition of 2 and 1 dropout: H(6, 4) is 4-connected, so removing 3 never disconnects it');
    child = await spawnParty(join(cluster.root, 'p-sparse'), cluster.networkSecret, STAGE_TIMEOUT_MS);
    proxy.target = child.url;
    // Killed once a reduce message of every other party reached it: every party has finished
    // setup (so no restart), and the survivors' average exists only through the double-masked
    // round's decision and unmasking.
    const reducing = new Set<number>();
    let killed = false;
    proxy.onEnvelope = async ({ stage, from }) => {
      if (stage.endsWith('reduce')) reducing.add(from);
      if (reducing.size === n - 1 && !killed) {
        killed = true;
        await child!.kill();
        proxy.mode = { kind: 'down' };
      }
    };
    try {
      const nodes = [...servers.slice(0, n - 1).map((s) => s.url), proxy.url];
      const uuid = randomUUID();
      const options = { min_parties: t, max_weight: 64, mask_graph: 'sparse' };
      const victim = fedAvg(child.url, n - 1, { nodes, uuid, myself: n - 1 }, options);
      victim.catch(() => undefined);
      const survivors = Array.from({ length: n - 1 }, (_, i) => i);
      const got = await within(10 * STAGE_TIMEOUT_MS + 10_000, 'survivors', Promise.all(survivors.map((i) => fedAvg(nodes[i]!, i, { nodes, uuid, myself: i }, options))));
      assert.ok(killed, 'the last party was killed mid-round');
      for (const g of got) {
        expectAverage(g, survivors, weights);
        assert.equal(g.metadata?.['tessera.mask_neighbours'], String(k));
        assert.equal(g.metadata?.['tessera.included'], JSON.stringify(survivors));
        assert.equal(g.metadata?.['tessera.dropped'], JSON.stringify([n - 1]));
      }
    } finally {
      proxy.reset();
      await child?.kill();
      child = undefined;
      proxy.target = servers[n - 1]!.url;
    }
  });

  test('a bad sparse-graph option over HTTP: a 400 naming the field; the server stays up', async () => {
    const nodes = servers.slice(0, 3).map((s) => s.url);
    for (const [key, value] of [['mask_coalition', 0.7], ['mask_failure_bits', 8], ['mask_sparse_from', 1]] as const) {
      const err = await fedAvg(nodes[0]!, 0, { nodes, uuid: randomUUID(), myself: 0 }, { [key]: value }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TesseraApiError, String(err));
      assert.equal(err.status, 400);
      assert.equal(err.problem.where, `kwargs.${key}`);
    }
    const api = new Api(nodes[0]!);
    assert.ok(await api.create(FEDAVG_SERVICE), 'the server still answers');
  });
});

describe('a sparse dropout round in memory (20 parties, min_parties 18)', () => {
  const n = 20;
  const nodes = Array.from({ length: n }, (_, i) => `http://127.0.0.1:${59000 + i}`);
  const weights = Array.from({ length: n }, (_, i) => 1 + (i % 7));
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const ctx = (hub: MemoryHub, i: number): CallContext => ({ signal: new AbortController().signal, peers: hub.network(i), log: silent });

  test('party 7 dies in its reduce stage: the others get their average; k = 10 of 19, sized for 2 dropouts', async () => {
    const k = neighbourCount(n, SPARSE_COALITION, SPARSE_FAILURE_BITS, 2);
    assert.ok(k < n - 1 && k > neighbourCount(n), `k=${k} with 2 dropouts, ${neighbourCount(n)} without`);
    const hub = new MemoryHub(nodes, 4000);
    // Setup: 19 messages; then its weight to everyone and a few contributions.
    hub.dieAfter = { party: 7, messages: (n - 1) + (n - 1) + 5 };
    const uuid = `sparse-dropout-${randomUUID()}`;
    const calls = nodes.map((_, i) =>
      secureFedAvg({ data: { tensors: modelOf(i), weight: weights[i] }, network: { nodes, uuid, myself: i }, min_parties: 18, max_weight: 64, mask_graph: 'sparse' }, ctx(hub, i)));
    calls[7]!.catch(() => undefined);
    const survivors = Array.from({ length: n }, (_, i) => i).filter((i) => i !== 7);
    const got = (await within(60_000, 'survivors', Promise.all(survivors.map((i) => calls[i]!)))) as TensorSet[];
    for (const g of got) {
      expectAverage(g, survivors, weights);
      assert.equal(g.metadata?.['tessera.mask_neighbours'], String(k));
      assert.equal(g.metadata?.['tessera.dropped'], '[7]');
    }
  });
});
