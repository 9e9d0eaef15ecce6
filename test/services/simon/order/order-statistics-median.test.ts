// SecureMedian on three real servers over real HTTP against a plaintext reference: the inputs
// that break FSC (non-integral medians, all-negative data, an empty party, a one-value party),
// duplicates, extreme doubles, −0. (Split from order-statistics.test.ts: slow tests in their own files.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeAll, startCluster, type Cluster } from '../../../support/cluster.js';
import { within } from '../../../within.js';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
function median(values: number[]): number {
  const s = sorted(values);
  const n = s.length;
  if (n % 2) return s[(n - 1) / 2]!;
  const [a, b] = [s[n / 2 - 1]!, s[n / 2]!];
  // The exact mean, rounded once: halve first where a + b would overflow.
  return Number.isFinite(a + b) ? (a + b) / 2 : a / 2 + b / 2;
}

describe('SecureMedian edge cases on three servers', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 60_000 });
  });
  after(async () => {
    await cluster.close();
  });

  const medianCases: [string, number[][]][] = [
    ['a non-integral median FSC never answers: [4.35], [1], [9]', [[4.35], [1], [9]]],
    ['even N: the mean of the two middle values', [[1, 2], [10], [3]]],
    ['all-negative data', [[-2.5, -7], [-1], [-4.25]]],
    ['an empty party contributes nothing', [[1.25, 2], [], [3]]],
    ['duplicates everywhere', [[5, 5, 5], [5, 1], [5, 9, 5]]],
    ['very large and very small doubles', [[1.7976931348623157e308, -1.7976931348623157e308], [5e-324, -5e-324], [2.2250738585072014e-308]]],
    ['−0 and 0 are one number', [[-0], [0, -0], [1]]],
    ['the two middle values are the largest doubles (their sum overflows)', [[1.7976931348623157e308], [1.7976931348623157e308], []]],
    ['a single value at one party only', [[], [42.125], []]],
  ];
  for (const [name, inputs] of medianCases) {
    test(`SecureMedian: ${name}`, async () => {
      const results = await within(120_000, name, computeAll(cluster, 'SecureMedian', inputs));
      const want = median(inputs.flat());
      for (const r of results) {
        const got = (r as { result: { median: number } }).result.median;
        assert.ok(Object.is(got, want) || (got === 0 && want === 0), `${got} != ${want}`);
        assert.equal((r as { inputs: number }).inputs, 3);
      }
    });
  }

});
