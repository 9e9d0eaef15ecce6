// examples/python/federated_breast_cancer.py end to end, shortened to three rounds: three
// hospitals (threads, each with its own real server) train a PyTorch model on scikit-learn's
// breast-cancer data with SecureFedAvg, PlainFedAvg, and centrally; the table, the JSON numbers
// and the plot are checked. SecureFedAvg must follow PlainFedAvg's curve (the same average).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { describeRun, PYTHON_PACKAGE_PATH, runPython } from './python.js';

let cluster: Cluster;
let dir: string;
before(async () => {
  cluster = await startCluster(3, { stageTimeoutMs: 60_000 });
  dir = mkdtempSync(join(tmpdir(), 'tessera-breast-cancer-'));
});
after(async () => {
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

test('three hospitals, three rounds: a table per round, SecureFedAvg = PlainFedAvg, a PNG plot', async () => {
  const plot = join(dir, 'curves.png');
  const numbers = join(dir, 'numbers.json');
  const run = await runPython(
    ['examples/python/federated_breast_cancer.py', '--nodes', cluster.nodes.join(','), '--rounds', '3', '--plot', plot, '--json', numbers],
    170_000,
    '',
    PYTHON_PACKAGE_PATH,
  );
  assert.equal(run.code, 0, describeRun('federated_breast_cancer.py', run));
  // The non-identical split: hospital A mostly malignant, B mostly benign.
  const split = /A (\d+) \((\d+)\/(\d+)\), B (\d+) \((\d+)\/(\d+)\), C (\d+)/.exec(run.stdout);
  assert.ok(split, run.stdout);
  assert.ok(Number(split[2]) > Number(split[3]) && Number(split[5]) < Number(split[6]), run.stdout);
  assert.equal(run.stdout.match(/^\s+\d+ \| \d\.\d{4} \/ \d\.\d{3}/gm)?.length, 3, run.stdout);

  const results = JSON.parse(readFileSync(numbers, 'utf8')) as Record<'SecureFedAvg' | 'PlainFedAvg' | 'central', [number, number, number][]>;
  for (const rows of Object.values(results)) assert.equal(rows.length, 3);
  results.SecureFedAvg.forEach(([loss, accuracy], r) => {
    const [plainLoss, plainAccuracy] = results.PlainFedAvg[r]!;
    assert.ok(Math.abs(loss - plainLoss) < 1e-4, `round ${r + 1}: ${loss} vs ${plainLoss}`);
    assert.ok(Math.abs(accuracy - plainAccuracy) <= 1 / 113 + 1e-9, `round ${r + 1}`);
  });
  // Training works: the federated loss falls and the model beats guessing the majority class.
  const secure = results.SecureFedAvg;
  assert.ok(secure[2]![0] < secure[0]![0], JSON.stringify(secure));
  assert.ok(secure[2]![1] > 0.8, JSON.stringify(secure));
  assert.ok(results.central[2]![1] > 0.8);

  const png = readFileSync(plot);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(png.length > 10_000, 'a plot with content');
});
