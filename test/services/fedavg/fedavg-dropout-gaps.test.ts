// FedAvg with min_parties on real servers: the dropout cases between the mechanisms of
// docs/dropouts.md. The last party runs as its own process behind the fault proxy
// (test/support/proxy.ts), whose `onEnvelope` hook reads each message's clear stage and sender, so
// the party dies (SIGKILL) at a protocol point, not at a message count that depends on scheduling.
//
// - Setup half done: the victim completed setup with party 0 (party 0 is already in the
//   double-masked round) when party 1's setup message to it fails. Party 1 cannot go on in that
//   round (it never delivered its shares), party 0 cannot leave it once it has stated an included
//   set: both must end in the same place, the restart among the survivors.
// - Decide half sent: the victim's decide message reached some survivors and not others; their
//   views of who is in differ until the echo stage (services/fedavg/double.ts) merges them.
// - Two dropouts around one segment: a holder and its rescuer die after the decision; the round
//   fails for the survivors with a 504 naming both.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Api, TesseraApiError } from '../../../clients/typescript/index.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { FEDAVG_SERVICE, startCluster, type Cluster } from '../../support/cluster.js';
import { spawnParty, type ChildParty } from '../../support/process.js';
import { startProxy, type Proxy } from '../../support/proxy.js';
import { expectWeightedAverage } from '../../support/average.js';
import { within } from '../../within.js';

const STAGE_TIMEOUT_MS = 3000;
const weights = [10, 20, 30, 40, 50];

function modelOf(k: number): TensorSet {
  const w = new Float64Array(50).map((_, i) => Math.cos(k * 5 + i) * 2);
  const b = new Float32Array(7).map((_, i) => (k + 1) * 0.5 - i * 0.25);
  return TensorSet.from({ 'dense.weight': w, 'dense.bias': b });
}

function expectAverage(got: TensorSet, parties: readonly number[]): void {
  expectWeightedAverage(got, modelOf, parties, weights);
}

describe('FedAvg dropouts between the recovery mechanisms (real servers)', { timeout: 240_000 }, () => {
  let cluster: Cluster;
  let proxy: Proxy;
  let child: ChildParty | undefined;

  before(async () => {
    cluster = await startCluster(4, { stageTimeoutMs: STAGE_TIMEOUT_MS });
    proxy = await startProxy(cluster.nodes[3]!);
  });
  after(async () => {
    await child?.kill();
    await proxy.close();
    await cluster.close();
  });

  async function fedAvg(k: number, url: string, network: { nodes: string[]; uuid: string; myself: number }, minParties: number): Promise<TensorSet> {
    const api = new Api(url, { timeoutMs: 60_000 });
    const uploaded = await api.uploadTensors(modelOf(k));
    const service = await api.create(FEDAVG_SERVICE);
    const compute = await service.attribute('compute');
    const result = await api.call(compute, { microprotocol: 'SecureFedAvg', data: { tensors: uploaded, weight: weights[k] }, network, min_parties: minParties, max_weight: 64 });
    assert.ok(result);
    return api.downloadTensors(result);
  }

  /** Starts the victim (the last party of `n`) behind the proxy; `nodes` names it by the proxy. */
  async function victimNetwork(n: number, name: string): Promise<string[]> {
    child = await spawnParty(join(cluster.root, name), cluster.networkSecret, STAGE_TIMEOUT_MS);
    proxy.target = child.url;
    return [...cluster.nodes.slice(0, n - 1), proxy.url];
  }

  async function killVictim(): Promise<void> {
    proxy.mode = { kind: 'down' };
    await child!.kill();
  }

  async function restoreProxy(): Promise<void> {
    proxy.reset();
    await child?.kill();
    child = undefined;
    proxy.target = cluster.nodes[3]!;
  }

  /**
   * Holds party 1's setup message at the proxy until party 0's first reduce message reaches the
   * victim (party 0 has then finished setup with everyone), then kills the victim, so the held
   * message fails: setup half done.
   */
  function killWithSetupHalfDone(): { readonly killed: boolean } {
    let zeroOnline!: () => void;
    const zeroReducing = new Promise<void>((resolve) => (zeroOnline = resolve));
    const state = { killed: false };
    proxy.onEnvelope = async ({ stage, from }) => {
      if (from === 0 && stage.endsWith('reduce')) zeroOnline();
      if (from === 1 && stage.endsWith('setup')) {
        await within(4 * STAGE_TIMEOUT_MS, 'party 0 reaching the reduce stage', zeroReducing);
        state.killed = true;
        await killVictim();
      }
    };
    return state;
  }

  test('2 of 3: the victim dies after completing setup with party 0, while party 1\'s setup message to it fails: both survivors get their average', async () => {
    const nodes = await victimNetwork(3, 'setup-half');
    // Party 1's setup message is held at the proxy until party 0's first reduce message reaches
    // the victim: party 0 has then finished setup with everyone and is in the double-masked round.
    // Then the victim dies and party 1's held message fails (its connection is cut).
    const killing = killWithSetupHalfDone();
    try {
      const uuid = randomUUID();
      const victim = fedAvg(2, child!.url, { nodes, uuid, myself: 2 }, 2);
      victim.catch(() => undefined);
      const got = await within(12 * STAGE_TIMEOUT_MS + 8000, 'survivors', Promise.all([0, 1].map((k) => fedAvg(k, nodes[k]!, { nodes, uuid, myself: k }, 2))));
      assert.ok(killing.killed, 'the victim was killed with party 1\'s setup message in flight');
      for (const g of got) {
        expectAverage(g, [0, 1]);
        assert.equal(g.metadata?.['tessera.included'], '[0,1]');
        assert.equal(g.metadata?.['tessera.dropped'], '[2]');
      }
    } finally {
      await restoreProxy();
    }
  });

  test('prepare, then submit: the same setup half done (2 of 3): party 1\'s prepare restarts without the victim, party 0\'s submit follows it there, and both get their average', async () => {
    const nodes = await victimNetwork(3, 'setup-half-prepared');
    const killing = killWithSetupHalfDone();
    // Each party's client as a training loop runs it: prepare, then submit once prepared. Party 0's
    // prepare completes (its setup reached everyone) and its submit is already running when party
    // 1, which could not reach the victim, restarts without it and tells party 0.
    const prepared = async (k: number, url: string, network: { nodes: string[]; uuid: string; myself: number }): Promise<TensorSet> => {
      const api = new Api(url, { timeoutMs: 60_000 });
      const uploaded = await api.uploadTensors(modelOf(k));
      const prepare = await (await api.create(FEDAVG_SERVICE)).attribute('prepare');
      const computation = await api.call(prepare, { microprotocol: 'SecureFedAvg', data: { tensors: uploaded }, network, min_parties: 2, max_weight: 64 });
      assert.ok(computation);
      const result = await computation.member('submit')({ data: { tensors: uploaded, weight: weights[k] }, timeout: STAGE_TIMEOUT_MS / 1000 });
      assert.ok(result);
      return api.downloadTensors(result);
    };
    try {
      const uuid = randomUUID();
      prepared(2, child!.url, { nodes, uuid, myself: 2 }).catch(() => undefined);
      const got = await within(12 * STAGE_TIMEOUT_MS + 8000, 'survivors', Promise.all([0, 1].map((k) => prepared(k, nodes[k]!, { nodes, uuid, myself: k }))));
      assert.ok(killing.killed, 'the victim was killed with party 1\'s setup message in flight');
      for (const g of got) {
        expectAverage(g, [0, 1]);
        assert.equal(g.metadata?.['tessera.included'], '[0,1]');
        assert.equal(g.metadata?.['tessera.dropped'], '[2]');
      }
    } finally {
      await restoreProxy();
    }
  });

  test('2 of 3: the victim dies while sending its decide messages (party 0 got its view, party 1 did not): the echo stage gives both the same view, and they finish with it decided in', async () => {
    // Party 0 and party 1 sit behind proxies of their own here, so the victim's outgoing messages
    // can be seen: its decide message to party 1 is held (never delivered in this round) and the
    // victim killed, once its decide message to party 0 has passed.
    const zero = await startProxy(cluster.nodes[0]!);
    const one = await startProxy(cluster.nodes[1]!);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let zeroHasIt!: () => void;
    const zeroGot = new Promise<void>((resolve) => (zeroHasIt = resolve));
    let killed = false;
    zero.onEnvelope = ({ stage, from }) => {
      if (from === 2 && stage.endsWith('decide')) zeroHasIt();
    };
    one.onEnvelope = async ({ stage, from }) => {
      if (from === 2 && stage.endsWith('decide')) {
        await within(4 * STAGE_TIMEOUT_MS, 'the victim\'s decide message reaching party 0', zeroGot);
        // Let party 0's copy be forwarded before the victim goes.
        await new Promise((r) => setTimeout(r, 200));
        killed = true;
        await child!.kill();
        await held;
      }
    };
    try {
      child = await spawnParty(join(cluster.root, 'decide-half'), cluster.networkSecret, STAGE_TIMEOUT_MS);
      const nodes = [zero.url, one.url, child.url];
      const uuid = randomUUID();
      const victim = fedAvg(2, child.url, { nodes, uuid, myself: 2 }, 2);
      victim.catch(() => undefined);
      const got = await within(14 * STAGE_TIMEOUT_MS + 8000, 'survivors', Promise.all([0, 1].map((k) => fedAvg(k, cluster.nodes[k]!, { nodes, uuid, myself: k }, 2))));
      assert.ok(killed, 'the victim was killed between its two decide messages');
      // Both decided the victim in (its contributions had reached both, and its view reached party
      // 0): the average of all three, its segment rebuilt by its rescuer, party 0.
      for (const g of got) {
        expectAverage(g, [0, 1, 2]);
        assert.equal(g.metadata?.['tessera.included'], '[0,1,2]');
        assert.equal(g.metadata?.['tessera.dropped'], '[]');
      }
    } finally {
      release();
      await child?.kill();
      child = undefined;
      await zero.close();
      await one.close();
    }
  });

  test('3 of 5: a holder and its rescuer (parties 3 and 4) die after the decision: the survivors fail with a 504 naming both, and nobody gets an average', async () => {
    const extra = await startProxy(cluster.nodes[3]!);
    const children: ChildParty[] = [];
    let killed = false;
    try {
      for (const name of ['pair-3', 'pair-4']) children.push(await spawnParty(join(cluster.root, name), cluster.networkSecret, STAGE_TIMEOUT_MS));
      extra.target = children[0]!.url;
      proxy.target = children[1]!.url;
      // The first unmask message to reach party 3 means the included set was confirmed (with 3 and
      // 4 in it: everyone delivered); party 3 has not finished its segment (it needs that message).
      extra.onEnvelope = async ({ stage }) => {
        if (stage.endsWith('unmask') && !killed) {
          killed = true;
          extra.mode = { kind: 'down' };
          proxy.mode = { kind: 'down' };
          await Promise.all(children.map((c) => c.kill()));
        }
      };
      const nodes = [...cluster.nodes.slice(0, 3), extra.url, proxy.url];
      const uuid = randomUUID();
      for (const [k, c] of children.entries()) fedAvg(3 + k, c.url, { nodes, uuid, myself: 3 + k }, 3).catch(() => undefined);
      const settled = await within(14 * STAGE_TIMEOUT_MS + 8000, 'survivors', Promise.allSettled([0, 1, 2].map((k) => fedAvg(k, cluster.nodes[k]!, { nodes, uuid, myself: k }, 3))));
      assert.ok(killed, 'parties 3 and 4 were killed after the decision');
      for (const s of settled) {
        assert.equal(s.status, 'rejected', 'no average');
        const err = (s as PromiseRejectedResult).reason;
        assert.ok(err instanceof TesseraApiError, String(err));
        assert.equal(err.status, 504, String(err.problem.detail));
        const text = `${String(err.problem.where)} ${String(err.problem.detail)}`;
        assert.ok(text.includes(`party 3 (${nodes[3]})`) && text.includes(`party 4 (${nodes[4]})`), text);
      }
    } finally {
      await Promise.all(children.map((c) => c.kill()));
      await extra.close();
      await restoreProxy();
    }
  });
});
