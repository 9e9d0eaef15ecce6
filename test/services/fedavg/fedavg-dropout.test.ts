// FedAvg with min_parties on real servers (issue 11): a party that never arrives or is killed
// (SIGKILL of its process) is left out when at least min_parties remain; every survivor gets the
// weighted average over the survivors (weights renormalised) and the result names who was included
// and who dropped. Fewer than min_parties: a 504 naming every missing party. A party that comes
// back late finds the round finished without it: its messages of the failed attempt corrupt
// nothing, and the uuid works for the next round. A survivor that already holds data of the
// dropped party vetoes the restart (docs/dropouts.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Api, TesseraApiError } from '../../../clients/typescript/index.js';
import type { RunningServer } from '../../../server/main.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { FEDAVG_SERVICE, startCluster, type Cluster } from '../../support/cluster.js';
import { spawnParty, type ChildParty } from '../../support/process.js';
import { killAfterReduceFromAll, type Proxy } from '../../support/proxy.js';
import { expectWeightedAverage } from '../../support/average.js';
import { within } from '../../within.js';

const STAGE_TIMEOUT_MS = 3000;

function modelOf(k: number): TensorSet {
  const w = new Float64Array(50).map((_, i) => Math.sin(k * 7 + i) * 3);
  const b = new Float32Array(7).map((_, i) => (k + 1) * 0.25 - i * 0.125);
  return TensorSet.from({ 'dense.weight': w, 'dense.bias': b });
}

function expectAverage(got: TensorSet, parties: number[], weights: number[]): void {
  expectWeightedAverage(got, modelOf, parties, weights);
}

async function fedAvg(url: string, k: number, weight: number, network: { nodes: string[]; uuid: string; myself: number }, extra: Record<string, unknown> = {}) {
  const api = new Api(url, { timeoutMs: 60_000 });
  const uploaded = await api.uploadTensors(modelOf(k));
  const service = await api.create(FEDAVG_SERVICE);
  const compute = await service.attribute('compute');
  const result = await api.call(compute, { microprotocol: 'SecureFedAvg', data: { tensors: uploaded, weight }, network, ...extra });
  assert.ok(result);
  return api.downloadTensors(result);
}

describe('FedAvg survives a party dropping out (min_parties)', { timeout: 180_000 }, () => {
  let cluster: Cluster;
  let servers: RunningServer[];
  // The child party gets the cluster's secret as `tessera secret` prints it (test/support/process.ts), which parses to the same bytes.
  let secret: Buffer;
  let root: string;
  let child: ChildParty | undefined;
  let proxy: Proxy;
  const weights = [10, 20, 30, 40, 50];

  before(async () => {
    // Party 4's proxy is the slot the kill tests put a child process behind.
    cluster = await startCluster(5, { stageTimeoutMs: STAGE_TIMEOUT_MS, proxied: [4] });
    ({ servers, networkSecret: secret, root } = cluster);
    proxy = cluster.proxy(4);
  });
  after(async () => {
    await child?.kill();
    await cluster.close();
  });

  test('2 of 3, party 2 never arrives: parties 0 and 1 get their average, naming who dropped; the late party corrupts nothing; the uuid works afterwards', async () => {
    const nodes = servers.slice(0, 3).map((s) => s.url);
    const uuid = randomUUID();
    const got = await within(6 * STAGE_TIMEOUT_MS + 5000, 'survivors', Promise.all([0, 1].map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }, { min_parties: 2 }))));
    for (const g of got) {
      expectAverage(g, [0, 1], weights);
      assert.equal(g.metadata?.['tessera.included'], '[0,1]');
      assert.equal(g.metadata?.['tessera.dropped'], '[2]');
      assert.equal(g.metadata?.['tessera.parties'], '2');
    }
    // Party 2 comes back late on the same uuid: nobody is left to meet it; it fails alone.
    await assert.rejects(within(3 * STAGE_TIMEOUT_MS + 5000, 'late party', fedAvg(nodes[2]!, 2, weights[2]!, { nodes, uuid, myself: 2 }, { min_parties: 2 })));
    // The next round on the same uuid, with everyone, is the full average.
    const all = await within(6 * STAGE_TIMEOUT_MS + 5000, 'next round', Promise.all([0, 1, 2].map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }, { min_parties: 2 }))));
    for (const g of all) {
      expectAverage(g, [0, 1, 2], weights);
      assert.equal(g.metadata?.['tessera.dropped'], '[]');
    }
  });

  /** After a test that killed the party behind the proxy: no hooks, pass mode, party 4's own server again. */
  async function restoreProxy(): Promise<void> {
    proxy.reset();
    await child?.kill();
    child = undefined;
    proxy.target = servers[4]!.url;
  }

  test('3 of 5, party 4 killed (SIGKILL) when the first peer message reaches it: the four survivors get their average', async () => {
    child = await spawnParty(join(root, 'p4-child'), secret, STAGE_TIMEOUT_MS);
    proxy.target = child.url;
    let killed = false;
    proxy.onRequest = async (_method, path) => {
      if (!killed && path.startsWith('/peer/messages')) {
        killed = true;
        await child!.kill();
        proxy.mode = { kind: 'down' };
      }
    };
    try {
      const nodes = [...servers.slice(0, 4).map((s) => s.url), proxy.url];
      const uuid = randomUUID();
      const victim = fedAvg(child.url, 4, weights[4]!, { nodes, uuid, myself: 4 }, { min_parties: 3 });
      victim.catch(() => undefined);
      const got = await within(6 * STAGE_TIMEOUT_MS + 8000, 'survivors', Promise.all([0, 1, 2, 3].map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }, { min_parties: 3 }))));
      assert.ok(killed, 'party 4 was killed mid-round');
      for (const g of got) {
        expectAverage(g, [0, 1, 2, 3], weights);
        assert.equal(g.metadata?.['tessera.included'], '[0,1,2,3]');
        assert.equal(g.metadata?.['tessera.dropped'], '[4]');
      }
    } finally {
      await restoreProxy();
    }
  });

  // Party (n−1) runs in its own process behind the proxy and is killed with SIGKILL when a reduce
  // message from every other party has reached it: each has then finished setup (a party sends
  // reduce messages only after its setup stage), so the round is in its reduce stage; there is no
  // restart (setup completed), and the survivors' average exists only through the decision and
  // unmasking of the double-masked round (services/fedavg/double.ts). A message count would not
  // do: under load one party's reduce messages can arrive before another's setup message.
  for (const [n, t] of [[3, 2], [5, 3]] as const) {
    test(`${t} of ${n}, the last party killed (SIGKILL) mid-reduce: the survivors get their average through unmasking`, async () => {
      child = await spawnParty(join(root, `p-mid-${n}`), secret, STAGE_TIMEOUT_MS);
      proxy.target = child.url;
      const killing = killAfterReduceFromAll(proxy, n - 1, () => child!.kill());
      try {
        const nodes = [...servers.slice(0, n - 1).map((s) => s.url), proxy.url];
        const uuid = randomUUID();
        const survivors = Array.from({ length: n - 1 }, (_, k) => k);
        const victim = fedAvg(child.url, n - 1, weights[n - 1]!, { nodes, uuid, myself: n - 1 }, { min_parties: t, max_weight: 64 });
        victim.catch(() => undefined);
        const got = await within(8 * STAGE_TIMEOUT_MS + 8000, 'survivors', Promise.all(survivors.map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }, { min_parties: t, max_weight: 64 }))));
        assert.ok(killing.killed, 'the last party was killed mid-round');
        for (const g of got) {
          expectAverage(g, survivors, weights);
          assert.equal(g.metadata?.['tessera.included'], JSON.stringify(survivors));
          assert.equal(g.metadata?.['tessera.dropped'], JSON.stringify([n - 1]));
          assert.equal(g.metadata?.['tessera.parties'], String(n - 1));
        }
      } finally {
        await restoreProxy();
      }
    });
  }

  // Killed after the decision: party n−1 dies (SIGKILL) when the first unmask or gather message
  // reaches it (read from the envelope's clear header): its sender has passed the confirm stage,
  // so the included set is decided, with party n−1 in it (everyone delivered). Its segment sum
  // then exists nowhere else; its own contribution was backed up at party 0, which rebuilds the
  // segment from the others' kept contributions (services/fedavg/double.ts, rescue). The
  // survivors get the average of everyone decided in.
  for (const [n, t] of [[3, 2], [5, 3]] as const) {
    test(`${t} of ${n}, the last party killed (SIGKILL) after the confirm stage, holding a segment: the survivors get the decided average, its segment rebuilt from the backup`, async () => {
      child = await spawnParty(join(root, `p-confirm-${n}`), secret, STAGE_TIMEOUT_MS);
      proxy.target = child.url;
      let killed = false;
      proxy.onEnvelope = async ({ stage }) => {
        if ((stage.endsWith('unmask') || stage.endsWith('gather')) && !killed) {
          killed = true;
          await child!.kill();
          proxy.mode = { kind: 'down' };
        }
      };
      try {
        const nodes = [...servers.slice(0, n - 1).map((s) => s.url), proxy.url];
        const uuid = randomUUID();
        const survivors = Array.from({ length: n - 1 }, (_, k) => k);
        const everyone = [...survivors, n - 1];
        const victim = fedAvg(child.url, n - 1, weights[n - 1]!, { nodes, uuid, myself: n - 1 }, { min_parties: t, max_weight: 64 });
        victim.catch(() => undefined);
        const got = await within(10 * STAGE_TIMEOUT_MS + 8000, 'survivors', Promise.all(survivors.map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }, { min_parties: t, max_weight: 64 }))));
        assert.ok(killed, 'the last party was killed after the confirm stage');
        for (const g of got) {
          expectAverage(g, everyone, weights);
          // Its model is in the average (decided in), and the result says it left after that.
          assert.equal(g.metadata?.['tessera.included'], JSON.stringify(everyone));
          assert.equal(g.metadata?.['tessera.dropped'], '[]');
          assert.equal(g.metadata?.['tessera.dropped_after_decision'], JSON.stringify([n - 1]));
        }
      } finally {
        await restoreProxy();
      }
    });
  }

  // rescue "none": no backup of a holder's own-segment contribution. With nobody dropping the
  // round sends exactly that much less; a holder that drops after the decision, before its
  // segment reached anyone, fails the round at every survivor naming it.
  test('rescue "none", 2 of 3, nobody drops: the same average as with the backup, for fewer bytes', async () => {
    const nodes = servers.slice(0, 3).map((s) => s.url);
    const run = (extra: Record<string, unknown>) => {
      const uuid = randomUUID();
      return Promise.all([0, 1, 2].map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }, { min_parties: 2, max_weight: 64, ...extra })));
    };
    const lean = await within(6 * STAGE_TIMEOUT_MS, 'rescue none', run({ rescue: 'none' }));
    const full = await within(6 * STAGE_TIMEOUT_MS, 'rescue backup', run({ rescue: 'backup' }));
    for (const [k, g] of lean.entries()) {
      expectAverage(g, [0, 1, 2], weights);
      const saved = Number(full[k]!.metadata?.['tessera.bytes_sent']) - Number(g.metadata?.['tessera.bytes_sent']);
      // The backup is party k's contribution to its own segment: a third of the model's 57 elements
      // (rounded by the layout) in Z_2^64, plus the messages' framing.
      assert.ok(saved >= 8 * 19 && saved < 8 * 57, `party ${k} saved ${saved} bytes`);
    }
  });

  test('rescue "none", 2 of 3, the last party killed after the decision before its segment left it: both survivors fail with a 504 naming it', async () => {
    child = await spawnParty(join(root, 'p-confirm-none'), secret, STAGE_TIMEOUT_MS);
    proxy.target = child.url;
    // Every unmask message to the victim is held: it never gets a share, so it never finishes its
    // segment; the first one to arrive means its sender passed the confirm stage (S decided, the
    // victim in it), and the victim is killed then.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let killed = false;
    proxy.onEnvelope = async ({ stage }) => {
      if (!stage.endsWith('unmask') && !stage.endsWith('gather')) return;
      if (!killed) {
        killed = true;
        await child!.kill();
      }
      await held;
    };
    try {
      const nodes = [servers[0]!.url, servers[1]!.url, proxy.url];
      const uuid = randomUUID();
      const options = { min_parties: 2, max_weight: 64, rescue: 'none' };
      fedAvg(child.url, 2, weights[2]!, { nodes, uuid, myself: 2 }, options).catch(() => undefined);
      const settled = await within(10 * STAGE_TIMEOUT_MS + 8000, 'survivors', Promise.allSettled([0, 1].map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }, options))));
      assert.ok(killed, 'the last party was killed after the decision');
      for (const s of settled) {
        assert.equal(s.status, 'rejected', 'no average');
        const err = (s as PromiseRejectedResult).reason;
        assert.ok(err instanceof TesseraApiError, String(err));
        assert.equal(err.status, 504, String(err.problem.detail));
        const text = `${String(err.problem.where)} ${String(err.problem.detail)}`;
        assert.ok(text.includes(`party 2 (${nodes[2]})`), text);
      }
    } finally {
      release();
      await restoreProxy();
    }
  });

  // Rescue "none": a holder adds each contribution to its segment onto its own as it arrives and
  // keeps none (services/fedavg/double.ts, `dirty`). Party 1 sits behind the proxy, which holds
  // every reduce message of party 2 to it: party 0 has party 2's whole contribution added, party 1
  // none of it, and party 2 is decided out (its contribution missed party 1). Party 0 then masks its
  // own contribution afresh and party 1 resends its contribution to segment 0; without that, party
  // 0's segment would keep party 2's masked contribution and both averages would be wrong.
  test('rescue "none", 2 of 3, party 2 decided out after its contribution was summed at party 0: party 1 resends, both get the average of 0 and 1', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldBack = 0;
    proxy.onEnvelope = async ({ stage, from }) => {
      if (from !== 2 || !stage.endsWith('reduce')) return;
      heldBack++;
      await held;
    };
    try {
      const nodes = [servers[0]!.url, proxy.url, servers[2]!.url];
      const uuid = randomUUID();
      const options = { min_parties: 2, max_weight: 64, rescue: 'none' };
      const calls = [servers[0]!.url, servers[4]!.url, servers[2]!.url].map((url, k) => fedAvg(url, k, weights[k]!, { nodes, uuid, myself: k }, options));
      const settled = await within(10 * STAGE_TIMEOUT_MS + 8000, 'all three', Promise.allSettled(calls));
      assert.ok(heldBack > 0, 'party 2 sent reduce messages to party 1');
      for (const k of [0, 1]) {
        const s = settled[k]!;
        assert.equal(s.status, 'fulfilled', s.status === 'rejected' ? String((s.reason as Error).message) : '');
        const g = (s as PromiseFulfilledResult<TensorSet>).value;
        expectAverage(g, [0, 1], weights);
        assert.equal(g.metadata?.['tessera.included'], '[0,1]');
        assert.equal(g.metadata?.['tessera.dropped'], '[2]');
      }
      assert.equal(settled[2]!.status, 'rejected', 'party 2 was left out');
    } finally {
      release();
      await restoreProxy();
    }
  });

  // All or nothing with rescue "none": party 2's inbound link breaks when the gather stage reaches
  // it (every peer message to it is held from then on; its own messages still go out). Parties 0
  // and 1 then hold the whole average, party 2 cannot get its missing segments. Before, 0 and 1
  // returned their average and party 2 failed; now the average is released only once every
  // included party said it holds it, so all three fail alike, naming party 2.
  test('rescue "none", 2 of 3, party 2 stops receiving in the gather stage: no party gets the average, not even the two that held it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let cut = false;
    proxy.onEnvelope = async ({ stage }) => {
      if (!cut && !stage.endsWith('gather')) return;
      cut = true;
      proxy.mode = { kind: 'hang-messages' };
      await held;
    };
    try {
      const nodes = [servers[0]!.url, servers[1]!.url, proxy.url];
      const uuid = randomUUID();
      const options = { min_parties: 2, max_weight: 64, rescue: 'none' };
      const settled = await within(12 * STAGE_TIMEOUT_MS + 8000, 'all three', Promise.allSettled([0, 1, 2].map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }, options))));
      assert.ok(cut, 'the gather stage reached party 2');
      settled.forEach((s, k) => {
        assert.equal(s.status, 'rejected', `party ${k} got an average while another did not`);
        const err = (s as PromiseRejectedResult).reason;
        assert.ok(err instanceof TesseraApiError, String(err));
        assert.ok([502, 504].includes(err.status), `party ${k}: ${err.status} ${String(err.problem.detail)}`);
        if (k < 2) assert.ok(`${String(err.problem.where)} ${String(err.problem.detail)}`.includes(`party 2 (${nodes[2]})`), `party ${k}: ${String(err.problem.detail)}`);
      });
    } finally {
      release();
      await restoreProxy();
    }
  });

  test('prepare, then submit, with min_parties: a party that never submits is left out', async () => {
    const nodes = servers.slice(0, 3).map((s) => s.url);
    const uuid = randomUUID();
    const prepared = await Promise.all([0, 1, 2].map(async (k) => {
      const api = new Api(nodes[k]!, { timeoutMs: 60_000 });
      const service = await api.create(FEDAVG_SERVICE);
      const prepare = await service.attribute('prepare');
      const computation = await api.call(prepare, { microprotocol: 'SecureFedAvg', data: { tensors: await api.uploadTensors(modelOf(k)) }, network: { nodes, uuid, myself: k }, min_parties: 2, max_weight: 64 });
      return { api, computation };
    }));
    const got = await within(8 * STAGE_TIMEOUT_MS + 5000, 'submit', Promise.all([0, 1].map(async (k) => {
      const { api, computation } = prepared[k]!;
      assert.ok(computation);
      const uploaded = await api.uploadTensors(modelOf(k));
      const result = await computation.member('submit')({ data: { tensors: uploaded, weight: weights[k] }, timeout: STAGE_TIMEOUT_MS / 1000 });
      assert.ok(result);
      return api.downloadTensors(result);
    })));
    for (const g of got) {
      expectAverage(g, [0, 1], weights);
      assert.equal(g.metadata?.['tessera.dropped'], '[2]');
    }
  });

  test('fewer than min_parties remain: a 504 naming every missing party, and no average', async () => {
    const nodes = servers.slice(0, 4).map((s) => s.url);
    const uuid = randomUUID();
    const settled = await within(6 * STAGE_TIMEOUT_MS + 5000, 'two of four', Promise.allSettled([0, 1].map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }, { min_parties: 3 }))));
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      const err = (s as PromiseRejectedResult).reason;
      assert.ok(err instanceof TesseraApiError, String(err));
      assert.equal(err.status, 504);
      const text = `${String(err.problem.where)} ${String(err.problem.detail)}`;
      assert.ok(text.includes(`party 2 (${nodes[2]})`) && text.includes(`party 3 (${nodes[3]})`), text);
      assert.match(text, /min_parties 3/);
    }
  });

  test('without min_parties a missing party still fails the round (today\'s behaviour)', async () => {
    const nodes = servers.slice(0, 3).map((s) => s.url);
    const uuid = randomUUID();
    const settled = await within(4 * STAGE_TIMEOUT_MS + 5000, 'no min_parties', Promise.allSettled([0, 1].map((k) => fedAvg(nodes[k]!, k, weights[k]!, { nodes, uuid, myself: k }))));
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assert.equal(((s as PromiseRejectedResult).reason as TesseraApiError).status, 504);
    }
  });

  test('min_parties out of range is a 400 naming the field', async () => {
    const nodes = servers.slice(0, 3).map((s) => s.url);
    const err = await fedAvg(nodes[0]!, 0, 1, { nodes, uuid: randomUUID(), myself: 0 }, { min_parties: 4 }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof TesseraApiError);
    assert.equal(err.status, 400);
    assert.equal(err.problem.where, 'kwargs.min_parties');
  });
});
