// Load (slow: its own file): 200 concurrent SecureSums, then 200 concurrent SecureFedAvgs on small
// models, across three servers in this process. All must be right. It prints throughput and the
// heap before and after; once everything is released the heap must come back near its baseline
// (loose bounds: this is a leak check, not a benchmark — bench/ has those) and the servers must
// hold no representation, session or buffered message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startCluster, type Cluster } from '../support/cluster.js';
import { within } from '../within.js';

const COMPUTATIONS = 200;
/** Heap growth tolerated after everything was released (allocator slack, JIT code, caches). */
const HEAP_SLACK_BYTES = 48 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describe(`${COMPUTATIONS} concurrent computations across three servers`, { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let baseline: number;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 60_000, config: { validateResponses: false } });
    // Warm up (code paths, connection pools), then measure the baseline.
    await secureSums(3);
    await fedAvgs(3);
    baseline = await settledHeap();
  });
  after(async () => {
    await cluster.close();
  });

  function secureSums(count: number) {
    return Promise.all(
      Array.from({ length: count }, (_, k) => {
        const uuid = randomUUID();
        return Promise.all(cluster.apis.map((api, myself) => api.secureSum({ data: [k, myself], network: { nodes: cluster.nodes, uuid, myself } }))).then((results) => {
          for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 6, sum: 3 * k + 3 } }, `computation ${k}`);
        });
      }),
    );
  }

  /** Small models: party p gives w = k + p everywhere with weight p + 1; the average is k + 8/6. */
  function fedAvgs(count: number) {
    return Promise.all(
      Array.from({ length: count }, (_, k) => {
        const uuid = randomUUID();
        return Promise.all(
          cluster.apis.map((api, myself) =>
            api.secureFedAvg({
              tensors: { 'dense.kernel': new Float32Array(64).fill(k + myself), 'dense.bias': new Float64Array(8).fill(k + myself) },
              weight: myself + 1,
              network: { nodes: cluster.nodes, uuid, myself },
            }),
          ),
        ).then((results) => {
          const want = k + (0 * 1 + 1 * 2 + 2 * 3) / 6;
          for (const r of results) {
            for (const v of r['dense.kernel']) assert.ok(Math.abs(v - want) <= 1e-5 * Math.max(1, want), `fedavg ${k}: ${v} vs ${want}`);
            for (const v of r['dense.bias']) assert.ok(Math.abs(v - want) <= 1e-9 * Math.max(1, want), `fedavg ${k}: ${v} vs ${want}`);
          }
        });
      }),
    );
  }

  async function measure(name: string, run: () => Promise<unknown>): Promise<void> {
    const before = process.memoryUsage();
    const started = process.hrtime.bigint();
    await within(240_000, name, run());
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const peak = process.memoryUsage();
    const after = await settledHeap();
    console.log(
      `${name}: ${COMPUTATIONS} in ${seconds.toFixed(2)} s = ${(COMPUTATIONS / seconds).toFixed(1)} computations/s; ` +
        `heap baseline ${mib(baseline)}, before ${mib(before.heapUsed)}, at end ${mib(peak.heapUsed)}, after release+gc ${mib(after)}; rss ${mib(peak.rss)}`,
    );
    for (const [i, server] of cluster.servers.entries()) {
      assert.equal(server.bus.size, 0, `server ${i} holds representations`);
      const stats = server.peerStats();
      assert.deepEqual({ sessions: stats.sessions, active: stats.active, buffered: stats.bufferedMessages, bytes: stats.bufferedBytes }, { sessions: 0, active: 0, buffered: 0, bytes: 0 }, `server ${i}`);
    }
    assert.ok(after - baseline < HEAP_SLACK_BYTES, `heap ${mib(after)} did not return near its baseline ${mib(baseline)}`);
  }

  test(`${COMPUTATIONS} concurrent SecureSums are all right; memory returns to baseline`, async () => {
    await measure('SecureSum', () => secureSums(COMPUTATIONS));
  });

  test(`${COMPUTATIONS} concurrent SecureFedAvgs on small models are all right; memory returns to baseline`, async () => {
    await measure('SecureFedAvg', () => fedAvgs(COMPUTATIONS));
  });
});
