// examples/federated_learning: a small federated run over three real servers with SecureFedAvg and
// with PlainFedAvg agrees per round to 1e-4, learns (the test loss goes down), keeps every party's
// model identical, uses rounds announced in advance; the chart is well-formed SVG; and the
// command line runs end to end on free ports and writes its chart where --out says.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDataSet } from '../../examples/federated_learning/data.js';
import { runFederatedTraining, startParties, DEFAULT_TRAINING, type Parties, type RunResult, type TrainingOptions } from '../../examples/federated_learning/federated.js';
import { AGREEMENT, curvesSvg, maxDifference, weightDifference } from '../../examples/federated_learning/train.js';
import { niceTicks } from '../../examples/federated_learning/chart.js';
import { within } from '../within.js';

const ARTIFACTS = join('test-artifacts', 'federated-learning');
const SMALL: TrainingOptions = { ...DEFAULT_TRAINING, rounds: 3, epochs: 1, dataScale: 0.5 };

/**
 * A strict enough XML well-formedness check for the SVG we write: one root element, every tag
 * closed in order, attributes quoted, no stray '<' or '&' in text.
 */
function assertWellFormedXml(xml: string): { root: string; counts: Map<string, number> } {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const counts = new Map<string, number>();
  let root: string | undefined;
  let at = 0;
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  while (at < body.length) {
    token.lastIndex = at;
    const m = token.exec(body);
    assert.ok(m, `not well-formed at ${at}: ${JSON.stringify(body.slice(at, at + 60))}`);
    const [, closing, name, , selfClosing, text] = m;
    if (text !== undefined) {
      assert.ok(stack.length > 0 || text.trim() === '', 'text outside the root element');
      assert.doesNotMatch(text, /&(?!(amp|lt|gt|quot|apos);)/, 'an unescaped & in text');
    } else if (closing) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) {
        assert.equal(root, undefined, 'a second root element');
        root = name;
      }
      counts.set(name!, (counts.get(name!) ?? 0) + 1);
      if (!selfClosing) stack.push(name!);
    }
    at = token.lastIndex;
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.ok(root);
  return { root, counts };
}

describe('federated learning example: SecureFedAvg against PlainFedAvg on a small run', { timeout: 120_000 }, () => {
  let parties: Parties;
  const runs: RunResult[] = [];
  before(async () => {
    parties = await startParties(3);
    const data = makeDataSet(SMALL.seed, SMALL.dataScale);
    for (const microprotocol of ['SecureFedAvg', 'PlainFedAvg'] as const) {
      runs.push(await within(60_000, microprotocol, runFederatedTraining(parties.nodes, data, microprotocol, SMALL)));
    }
  });
  after(async () => {
    await parties?.close();
  });

  test('per-round loss and accuracy of the secure run agree with the plain run to 1e-4', () => {
    const [secure, plain] = runs as [RunResult, RunResult];
    assert.equal(secure.metrics.length, SMALL.rounds + 1);
    assert.equal(plain.metrics.length, SMALL.rounds + 1);
    const diff = maxDifference(secure, plain);
    assert.ok(diff.loss <= AGREEMENT && diff.accuracy <= AGREEMENT, JSON.stringify(diff));
    // The models themselves differ by the float32 rounding of the fixed-point average at most.
    const weights = weightDifference(secure, plain);
    assert.equal(weights.total, 4 * 16 + 16 + 16 * 3 + 3);
    assert.ok(weights.max <= 1e-5, JSON.stringify(weights));
    // And the run really went through the protocols it names.
    for (const m of secure.metrics.slice(1)) assert.equal(m.report?.metadata['tessera.microprotocol'], 'SecureFedAvg');
    for (const m of plain.metrics.slice(1)) assert.equal(m.report?.metadata['tessera.microprotocol'], 'PlainFedAvg');
  });

  test('the test loss goes down and accuracy beats chance; every party ends each round with the same model', () => {
    for (const run of runs) {
      const losses = run.metrics.map((m) => m.loss);
      assert.ok(losses.at(-1)! < losses[0]! - 0.1, `${run.microprotocol} loss ${losses.join(', ')}`);
      assert.ok(losses[1]! < losses[0]!);
      assert.ok(run.metrics.at(-1)!.accuracy > 0.6, `${run.microprotocol} accuracy ${run.metrics.at(-1)!.accuracy}`);
      assert.equal(run.partyDivergence, 0);
    }
  });

  test('rounds after the first run on computations announced while the parties trained', () => {
    for (const run of runs) {
      assert.deepEqual(run.metrics.slice(1).map((m) => m.report?.prepared), [false, true, true]);
      assert.equal(run.metrics[1]!.report?.metadata['tessera.parties'], '3');
    }
  });

  test('the chart is a well-formed SVG with both curves in both panels', async () => {
    const [secure, plain] = runs as [RunResult, RunResult];
    const svg = curvesSvg(secure, plain);
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, 'curves-small.svg'), svg);
    const { root, counts } = assertWellFormedXml(svg);
    assert.equal(root, 'svg');
    assert.match(svg, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(counts.get('polyline'), 4); // two series × two panels
    assert.match(svg, /SecureFedAvg/);
    assert.match(svg, /PlainFedAvg/);
    // Each polyline has one point per round, all inside the drawing.
    for (const m of svg.matchAll(/points="([^"]+)"/g)) {
      const points = m[1]!.split(' ').map((p) => p.split(',').map(Number));
      assert.equal(points.length, SMALL.rounds + 1);
      for (const [x, y] of points) assert.ok(Number.isFinite(x) && Number.isFinite(y) && x! >= 0 && y! >= 0);
    }
  });
});

describe('chart ticks', () => {
  // [name, {given: [lo, hi], want}]
  const cases: [string, { given: [number, number]; want: number[] }][] = [
    ['unit interval', { given: [0, 1], want: [0, 0.2, 0.4, 0.6, 0.8, 1] }],
    ['rounds', { given: [0, 10], want: [0, 2, 4, 6, 8, 10] }],
    ['a loss range', { given: [0.43, 1.27], want: [0.6, 0.8, 1, 1.2] }],
    ['an empty range', { given: [3, 3], want: [3] }],
  ];
  for (const [name, { given, want }] of cases) {
    test(name, () => assert.deepEqual(niceTicks(...given), want));
  }
});

test('npx tsx examples/federated_learning/train.ts runs on free ports, prints both runs and writes --out', { timeout: 90_000 }, async () => {
  const out = join(ARTIFACTS, 'cli', 'curves.svg');
  await rm(out, { force: true });
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(join('node_modules', '.bin', 'tsx'), ['examples/federated_learning/train.ts', '--rounds', '2', '--epochs', '1', '--scale', '0.5', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`train.ts did not finish within 80 s:\n${output}`));
    }, 80_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  assert.equal(code, 0, output);
  assert.match(output, /SecureFedAvg round 2: test loss \d\.\d{4}, accuracy \d\.\d{4}/);
  assert.match(output, /PlainFedAvg round 2: test loss/);
  assert.match(output, /agree to 0\.0001/);
  assert.doesNotMatch(output, /tfjs-node/, 'the tfjs-node hint is silenced');
  const svg = await readFile(out, 'utf8');
  assert.equal(assertWellFormedXml(svg).root, 'svg');
});
