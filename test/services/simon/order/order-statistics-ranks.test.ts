// KthElement at every rank of random data with ties, and MinimumMaximum of all-negative data with
// an empty party, on three real servers against sorting. (Split from order-statistics.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeAll, startCluster, type Cluster } from '../../../support/cluster.js';
import { within } from '../../../within.js';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
function kth(values: number[], k: number): number {
  return sorted(values)[k - 1]!;
}

describe('KthElement ranks and MinimumMaximum on three servers', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 60_000 });
  });
  after(async () => {
    await cluster.close();
  });

  test('KthElement: every rank of random data with ties, against sorting', async () => {
    const data = [0, 1, 2].map(() => Array.from({ length: 7 }, () => Math.floor(Math.random() * 10) - 5));
    const all = data.flat();
    for (const rank of [1, 2, 11, all.length]) {
      const common = { rank, lower_bound: -5, upper_bound: 4 };
      const results = await within(120_000, `rank ${rank}`, computeAll(cluster, 'KthElement', data.map((array) => ({ array, ...common }))));
      for (const r of results) assert.deepEqual(r, { inputs: 3, result: { item: kth(all, rank), samples: all.length } });
    }
  });

  test('MinimumMaximum: all-negative maxima and an empty party', async () => {
    const results = await within(120_000, 'minmax negative', computeAll(cluster, 'MinimumMaximum', [
      [{ minimum: -2.5, maximum: -1 }],
      [],
      [{ minimum: -7, maximum: -4.25 }, { minimum: -3, maximum: -3 }],
    ]));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { minimum: -7, maximum: -1, samples: 3 } });
  });

});
