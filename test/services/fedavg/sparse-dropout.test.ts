// The SecAgg+ sparse graph in the dropout round (min_parties below n; services/fedavg/double.ts
// with the neighbour sets of graph.ts): k is sized for the coalition and the dropout budget
// n − min_parties, and a party dropping after setup has its pair masks removed with its
// neighbours only. Real servers (6 parties, the smallest round where the default bounds give a
// graph sparser than the complete one: k = 4 of 5) with a party killed mid-reduce, and an
// in-memory round of 20 parties (k = 10 of 19) where one party dies in its reduce stage.
// Each would give a wrong average if the dropped party's masks were removed with non-neighbours
// too (they never added one) or not removed with a neighbour. The in-memory round's transcript
// checks what SECURITY.md states a coalition learns: an included party's contribution opens with
// exactly its neighbours' pair masks and its self mask, and stays uniform with one honest included
// neighbour's mask kept; the dropped party's contributions, with all its pair masks removed (its
// key is rebuilt), stay uniform behind its self mask, and no share of that self mask is revealed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Api, TesseraApiError } from '../../../clients/typescript/index.js';
import type { RunningServer } from '../../../server/main.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { MemoryHub } from '../../../services/simulation/network.js';
import { secureFedAvg } from '../../../services/fedavg/index.js';
import { graphSeed, hararyGraph, neighbourCount, SPARSE_COALITION, SPARSE_FAILURE_BITS } from '../../../services/fedavg/graph.js';
import { dhPairSeed, keyFromSecret, selfSeed } from '../../../services/fedavg/double.js';
import { combinedMask } from '../../../services/fedavg/masks.js';
import { CHUNK_ELEMENTS } from '../../../services/fedavg/protocol.js';
import { Layout, manifestOf } from '../../../services/fedavg/layout.js';
import { F25519 } from '../../../services/common/field.js';
import { shamirReconstruct } from '../../../services/common/shamir.js';
import { addInto, wordsOf } from '../../../services/common/vector.js';
import { zeroRunsBeyondChance } from '../../support/transcript.js';
import type { CallContext } from '../../../services/microservice.js';
import { FEDAVG_SERVICE, startCluster, type Cluster } from '../../support/cluster.js';
import { spawnParty, type ChildParty } from '../../support/process.js';
import { killAfterReduceFromAll, type Proxy } from '../../support/proxy.js';
import { expectWeightedAverage } from '../../support/average.js';
import { within } from '../../within.js';

// Longer than the other dropout tests' 3 s: six server processes on a shared 2-core machine.
const STAGE_TIMEOUT_MS = 6000;

function modelOf(k: number): TensorSet {
  const w = new Float64Array(60).map((_, i) => Math.sin(k * 5 + i) * 2);
  const b = new Float32Array(9).map((_, i) => (k + 1) * 0.5 - i * 0.25);
  return TensorSet.from({ 'dense.weight': w, 'dense.bias': b });
}

function expectAverage(got: TensorSet, parties: number[], weights: number[]): void {
  expectWeightedAverage(got, modelOf, parties, weights);
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
    const killing = killAfterReduceFromAll(proxy, n - 1, () => child!.kill());
    try {
      const nodes = [...servers.slice(0, n - 1).map((s) => s.url), proxy.url];
      const uuid = randomUUID();
      const options = { min_parties: t, max_weight: 64, mask_graph: 'sparse' };
      const victim = fedAvg(child.url, n - 1, { nodes, uuid, myself: n - 1 }, options);
      victim.catch(() => undefined);
      const survivors = Array.from({ length: n - 1 }, (_, i) => i);
      const got = await within(10 * STAGE_TIMEOUT_MS + 10_000, 'survivors', Promise.all(survivors.map((i) => fedAvg(nodes[i]!, i, { nodes, uuid, myself: i }, options))));
      assert.ok(killing.killed, 'the last party was killed mid-round');
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
  const ELEMENTS = 80;
  const MAX_WEIGHT = 64;
  const nodes = Array.from({ length: n }, (_, i) => `http://127.0.0.1:${59000 + i}`);
  const weights = Array.from({ length: n }, (_, i) => 1 + (i % 7));
  /** Party i's model: one F64 tensor of values |v| < 1, so that w·v/Q in fixed point has its top four bytes 0x00 or 0xff. */
  const valueOf = (i: number, e: number) => Math.sin(i * 3 + e * 0.7) * 0.9;
  const memoryModel = (i: number) => TensorSet.from({ w: Float64Array.from({ length: ELEMENTS }, (_, e) => valueOf(i, e)) });
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const ctx = (hub: MemoryHub, i: number): CallContext => ({ signal: new AbortController().signal, peers: hub.network(i), log: silent });
  const DEAD = 7;

  test('party 7 dies in its reduce stage: the others get their average (k = 10 of 19, sized for 2 dropouts); the transcript holds each party behind its own neighbours\' masks only, and party 7 behind its self mask', async () => {
    const k = neighbourCount(n, SPARSE_COALITION, SPARSE_FAILURE_BITS, 2);
    assert.ok(k < n - 1 && k > neighbourCount(n), `k=${k} with 2 dropouts, ${neighbourCount(n)} without`);
    const hub = new MemoryHub(nodes, 10_000);
    hub.capture = true;
    // Setup: 19 messages; then its weight to everyone and a few contributions.
    hub.dieAfter = { party: DEAD, messages: (n - 1) + (n - 1) + 5 };
    const uuid = `sparse-dropout-${randomUUID()}`;
    const calls = nodes.map((_, i) =>
      secureFedAvg({ data: { tensors: memoryModel(i), weight: weights[i] }, network: { nodes, uuid, myself: i }, min_parties: 18, max_weight: MAX_WEIGHT, mask_graph: 'sparse' }, ctx(hub, i)));
    calls[DEAD]!.catch(() => undefined);
    const survivors = Array.from({ length: n }, (_, i) => i).filter((i) => i !== DEAD);
    const got = (await within(180_000, 'survivors', Promise.all(survivors.map((i) => calls[i]!)))) as TensorSet[];
    const total = survivors.reduce((a, i) => a + weights[i]!, 0);
    for (const g of got) {
      g.get('w')!.data.forEach((v, e) => {
        const want = survivors.reduce((a, i) => a + (weights[i]! * valueOf(i, e)) / total, 0);
        assert.ok(Math.abs(v - want) <= 1e-6, `w[${e}]: ${v} vs ${want}`);
      });
      assert.equal(g.metadata?.['tessera.mask_neighbours'], String(k));
      assert.equal(g.metadata?.['tessera.dropped'], `[${DEAD}]`);
    }

    // The transcript, as an onlooker holding every message: setup is
    // [veto flag][graph coin 32][public key 32][share of b 32][share of sk 32][manifest].
    const setup = (from: number, to: number) => hub.log.find((m) => m.stage === 'setup' && m.from === from && m.to === to)!.payload!;
    const anySetup = (from: number) => setup(from, from === 0 ? 1 : 0);
    const coin = (p: number) => anySetup(p).subarray(1, 33);
    const pk = (p: number) => anySetup(p).subarray(33, 65);
    const shares = (p: number, at: number) => new Map(Array.from({ length: n }, (_, j) => j).filter((j) => j !== p).map((j) => [j, F25519.decodeBytes(setup(p, j).subarray(at, at + 32), 'test')]));
    const graph = hararyGraph(n, k, graphSeed(Array.from({ length: n }, (_, p) => coin(p))));
    const sk = (p: number) => keyFromSecret(shamirReconstruct(shares(p, 97)));
    const selfMask = (p: number) => ({ seed: selfSeed(shamirReconstruct(shares(p, 65)), p), sign: 1 as const });
    const pairMasks = (p: number, partners: readonly number[]) => partners.map((j) => ({ seed: dhPairSeed(sk(p), pk(j), p, j), sign: (p < j ? 1 : -1) as 1 | -1 }));
    const layout = new Layout(manifestOf(memoryModel(0)), n, CHUNK_ELEMENTS);
    const contributionTo = (p: number, h: number) => hub.log.find((m) => m.stage === 'reduce' && m.from === p && m.to === h && m.seq === layout.chunkId(h, 0))?.payload;
    const minus = (payload: Uint8Array, terms: ReturnType<typeof pairMasks>, h: number) => {
      const [start, end] = layout.chunk(h, 0);
      const out = wordsOf(payload).slice();
      addInto(64, out, combinedMask(64, terms, 'SecureFedAvg/v1/model', start, end), -1);
      return { out, start };
    };

    for (const p of [0, 3, 12]) {
      const partners = graph.neighbours(p);
      assert.equal(partners.length, k);
      const honestIncluded = partners.find((j) => j !== DEAD)!;
      for (const h of [1, 9, 19].filter((x) => x !== p)) {
        const y = contributionTo(p, h)!;
        // Removing B_p and exactly p's neighbours' pair masks leaves w_p·x_p/Q: p masked with N(p), nobody else.
        const { out, start } = minus(y, [selfMask(p), ...pairMasks(p, partners)], h);
        new BigInt64Array(out.buffer, out.byteOffset, out.length / 2).forEach((word, e) => {
          const want = (weights[p]! * valueOf(p, start + e)) / MAX_WEIGHT;
          assert.ok(Math.abs(Number(word) / 2 ** 32 - want) < 1e-9, `party ${p} to ${h}, element ${start + e}`);
        });
        // What a coalition of every other party knows once b_p and the dropped party's key are out:
        // every mask but the pair with one honest included neighbour. The rest is uniform.
        const partial = minus(y, [selfMask(p), ...pairMasks(p, partners.filter((j) => j !== honestIncluded))], h);
        assert.deepEqual(zeroRunsBeyondChance(new Uint8Array(partial.out.buffer)), [], `party ${p} to ${h}, the mask with ${honestIncluded} kept`);
      }
    }
    // Party 7, dropped: everyone can rebuild its key, so all of M_7 comes off; its self mask B_7 stays.
    const sent = hub.log.filter((m) => m.stage === 'reduce' && m.from === DEAD && m.seq === layout.chunkId(m.to, 0));
    assert.ok(sent.length > 0, 'party 7 sent some contributions before it died');
    for (const m of sent) {
      const { out } = minus(m.payload!, pairMasks(DEAD, graph.neighbours(DEAD)), m.to);
      assert.deepEqual(zeroRunsBeyondChance(new Uint8Array(out.buffer)), [], `party 7 to ${m.to}: hidden by B_7`);
    }
    // And no share of b_7 left any party: each unmask message carries, for party 7, its share of sk_7.
    for (const m of hub.log.filter((x) => x.stage === 'unmask')) {
      const ownSelfShare = F25519.encodeBytes(F25519.decodeBytes(setup(DEAD, m.from).subarray(65, 97), 'test'));
      assert.equal(Buffer.from(m.payload!).indexOf(Buffer.from(ownSelfShare)), -1, `unmask from ${m.from}`);
    }
  });
});
