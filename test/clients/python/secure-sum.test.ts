// SecureSum by three Python processes in parallel, each with the generated client against its
// own real Tessera server: the classic Federated Secure Computing example (19 + 5 + 61 = 85),
// run through examples/python/secure_sum.py so the example the README shows is what is tested.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { describeRun, runPython } from './python.js';

const PARTIES = 3;
const PYTHON_TIMEOUT_MS = 60_000;

interface SecureSumResultJson {
  inputs: number;
  result: { samples: number; sum: number };
}

describe('SecureSum with the generated Python client, three parties', () => {
  let cluster: Cluster;
  let nodes: string[];

  before(async () => {
    // One network secret for the three parties, so they authenticate each other as a real
    // deployment would (DESIGN §5), on ephemeral ports.
    cluster = await startCluster(PARTIES, { stageTimeoutMs: 30_000 });
    nodes = cluster.nodes;
  });

  after(async () => {
    await cluster.close();
  });

  /** Every party runs the example at once with its own secret; resolves with each party's result. */
  async function runParties(secrets: readonly number[], uuid: string): Promise<SecureSumResultJson[]> {
    const runs = await Promise.all(
      secrets.map((secret, myself) =>
        runPython(
          [
            'examples/python/secure_sum.py',
            String(myself),
            String(secret),
            '--nodes',
            nodes.join(','),
            '--uuid',
            uuid,
            '--json',
            '--timeout',
            String(PYTHON_TIMEOUT_MS / 1000 - 5),
          ],
          PYTHON_TIMEOUT_MS,
        ),
      ),
    );
    return runs.map((run, myself) => {
      assert.equal(run.code, 0, describeRun(`party ${myself}`, run));
      return JSON.parse(run.stdout.trim()) as SecureSumResultJson;
    });
  }

  // The same network uuid is reused for consecutive computations by the same parties, as the
  // classic example does (it hard-codes one): each round must be a new computation.
  const uuid = randomUUID();
  const rounds: Array<[string, { secrets: number[]; sum: number }]> = [
    ['the classic 19 + 5 + 61', { secrets: [19, 5, 61], sum: 85 }],
    ['a second round on the same network uuid', { secrets: [1.5, -2, 1000], sum: 999.5 }],
  ];
  for (const [name, { secrets, sum }] of rounds) {
    test(name, async () => {
      const results = await runParties(secrets, uuid);
      for (const [myself, result] of results.entries()) {
        assert.deepEqual(result, { inputs: PARTIES, result: { samples: PARTIES, sum } }, `party ${myself}`);
      }
    });
  }
});
