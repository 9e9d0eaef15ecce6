// Federated learning with SecureFedAvg: three parties, each with its own Tessera server, train a
// TensorFlow.js model on non-identical data; per round they average their weights securely. The
// same run with the insecure PlainFedAvg baseline follows, with the same seeds; the two must agree
// to 1e-4 per round. Prints both curves side by side and draws them as an SVG chart.
//
//   npx tsx examples/federated_learning/train.ts [--rounds 10] [--epochs 2] [--seed 2024]
//                                                [--scale 1] [--out examples/federated_learning/curves.svg]
//
// Exit status 0 when the secure and plain runs agree, 1 when they do not, 2 for bad options.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { lineChartSvg } from './chart.js';
import { makeDataSet } from './data.js';
import { DEFAULT_TRAINING, runFederatedTraining, startParties, type RunResult, type TrainingOptions } from './federated.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT = join(HERE, 'curves.svg');
/** How closely the secure run must follow the plain one, per round, in loss and in accuracy. */
export const AGREEMENT = 1e-4;

function integer(value: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be an integer in [${min}, ${max}], got ${value}`);
  return n;
}

function parseOptions(argv: string[]): { training: TrainingOptions; out: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      scale: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const scale = values.scale === undefined ? DEFAULT_TRAINING.dataScale : Number(values.scale);
  if (!(scale > 0 && scale <= 100)) throw new RangeError(`--scale must be a number in (0, 100], got ${values.scale}`);
  return {
    training: {
      ...DEFAULT_TRAINING,
      rounds: integer(values.rounds, DEFAULT_TRAINING.rounds, 'rounds', 1, 1000),
      epochs: integer(values.epochs, DEFAULT_TRAINING.epochs, 'epochs', 1, 100),
      seed: integer(values.seed, DEFAULT_TRAINING.seed, 'seed', 0, 2 ** 31 - 1),
      dataScale: scale,
    },
    out: values.out === undefined ? DEFAULT_OUT : resolve(values.out),
  };
}

const pad = (s: string, n: number) => s.padStart(n);
const f4 = (v: number) => v.toFixed(4);
const f6 = (v: number) => v.toFixed(6);

/** The per-round table of both runs and their differences. */
export function comparisonTable(secure: RunResult, plain: RunResult): string {
  const lines = [
    `${pad('round', 5)} | ${pad('SecureFedAvg loss', 17)} ${pad('acc', 6)} | ${pad('PlainFedAvg loss', 16)} ${pad('acc', 6)} | ${pad('|Δ loss|', 8)} ${pad('|Δ acc|', 8)} | ${pad('online ms', 9)} ${pad('bytes sent', 10)}`,
  ];
  secure.metrics.forEach((s, r) => {
    const p = plain.metrics[r]!;
    const meta = s.report?.metadata;
    lines.push(
      `${pad(String(s.round), 5)} | ${pad(f6(s.loss), 17)} ${pad(f4(s.accuracy), 6)} | ${pad(f6(p.loss), 16)} ${pad(f4(p.accuracy), 6)} | ` +
        `${pad(Math.abs(s.loss - p.loss).toExponential(1), 8)} ${pad(Math.abs(s.accuracy - p.accuracy).toExponential(1), 8)} | ` +
        `${pad(meta?.['tessera.online_ms'] ?? '-', 9)} ${pad(meta?.['tessera.bytes_sent'] ?? '-', 10)}`,
    );
  });
  return lines.join('\n');
}

/** Largest per-round difference between two runs, in loss and in accuracy. */
export function maxDifference(a: RunResult, b: RunResult): { loss: number; accuracy: number } {
  let loss = 0;
  let accuracy = 0;
  a.metrics.forEach((m, r) => {
    const o = b.metrics[r]!;
    loss = Math.max(loss, Math.abs(m.loss - o.loss));
    accuracy = Math.max(accuracy, Math.abs(m.accuracy - o.accuracy));
  });
  return { loss, accuracy };
}

/** Largest difference between two runs' final weights, and how many weights differ at all. */
export function weightDifference(a: RunResult, b: RunResult): { max: number; differing: number; total: number } {
  let max = 0;
  let differing = 0;
  let total = 0;
  a.finalWeights.forEach((w, i) =>
    w.forEach((v, j) => {
      const d = Math.abs(v - b.finalWeights[i]![j]!);
      total += 1;
      if (d !== 0) differing += 1;
      max = Math.max(max, d);
    }),
  );
  return { max, differing, total };
}

export function curvesSvg(secure: RunResult, plain: RunResult): string {
  const series = (pick: (m: RunResult['metrics'][number]) => number) => [
    { label: 'SecureFedAvg', colour: '#1f77b4', values: secure.metrics.map(pick) },
    { label: 'PlainFedAvg (insecure baseline)', colour: '#ff7f0e', dashed: true, values: plain.metrics.map(pick) },
  ];
  return lineChartSvg('Federated training, 3 parties (TensorFlow.js + Tessera): test loss and accuracy per round', [
    { title: 'test loss (cross-entropy)', series: series((m) => m.loss) },
    { title: 'test accuracy', series: series((m) => m.accuracy), yRange: [0, 1] },
  ]);
}

async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const { training, out } = options;
  const data = makeDataSet(training.seed, training.dataScale);
  const parties = await startParties(data.parties.length);
  try {
    console.log(`Three parties, each with its own Tessera server: ${parties.nodes.join(', ')}`);
    data.parties.forEach((p, k) => console.log(`  party ${k}: ${p.count} examples, per class ${p.classCounts.join('/')} (FedAvg weight ${p.count})`));
    console.log(`  test set: ${data.test.count} examples, balanced; seeded synthetic data (seed ${training.seed})`);
    console.log(
      `Model 4-16-3 (TensorFlow.js, CPU), SGD lr ${training.learningRate}, batch ${training.batchSize}, ` +
        `${training.epochs} local epochs per round, ${training.rounds} rounds; next round announced while training`,
    );
    const runs: RunResult[] = [];
    for (const microprotocol of ['SecureFedAvg', 'PlainFedAvg'] as const) {
      const run = await runFederatedTraining(parties.nodes, data, microprotocol, { ...training, ...progressBar() }, (m) =>
        console.log(`  ${microprotocol} round ${m.round}: test loss ${f4(m.loss)}, accuracy ${f4(m.accuracy)}`),
      );
      console.log(`  ${microprotocol}: ${run.seconds.toFixed(1)} s; parties' averaged weights identical: ${run.partyDivergence === 0}`);
      runs.push(run);
    }
    const [secure, plain] = runs as [RunResult, RunResult];
    console.log(`\n${comparisonTable(secure, plain)}\n`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, curvesSvg(secure, plain));
    console.log(`Curves written to ${out}`);
    const diff = maxDifference(secure, plain);
    const agree = diff.loss <= AGREEMENT && diff.accuracy <= AGREEMENT;
    console.log(
      `SecureFedAvg vs PlainFedAvg: max |Δ loss| ${diff.loss.toExponential(2)}, max |Δ accuracy| ${diff.accuracy.toExponential(2)} ` +
        `(${agree ? 'agree' : 'DO NOT agree'} to ${AGREEMENT})`,
    );
    const weights = weightDifference(secure, plain);
    console.log(
      `Final models: ${weights.differing} of ${weights.total} weights differ between the runs, by at most ${weights.max.toExponential(2)} ` +
        '(float32 rounding of the fixed-point average; the metrics above absorb it)',
    );
    return agree ? 0 : 1;
  } finally {
    await parties.close();
  }
}

// Run as a script (not when a test imports the helpers above).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`federated training failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

/**
 * A one-line progress bar of party 0's averaging on a terminal (stderr), redrawn in place:
 * "round 3 [########------------] compute (1/3 stages), 1.2 of 1.2 MB uploaded". Off a terminal
 * (CI, a pipe) nothing is drawn.
 */
function progressBar(): Pick<TrainingOptions, 'onProgress'> {
  if (!process.stderr.isTTY) return {};
  const WIDTH = 20;
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  return {
    onProgress(p) {
      // The upload fills the first third of the bar byte by byte; each later stage a third.
      const uploaded = p.bytesToUpload > 0 ? p.bytesUploaded / p.bytesToUpload : 0;
      const fraction = p.stage === 'upload' ? uploaded / p.stages : p.stagesDone / p.stages;
      const filled = Math.round(fraction * WIDTH);
      const line = `round ${p.round} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${p.stage} (${p.stagesDone}/${p.stages} stages), ${mb(p.bytesUploaded)} of ${mb(p.bytesToUpload)} MB uploaded`;
      process.stderr.write(`\r${line}\x1b[K${p.stage === 'done' ? '\r\x1b[K' : ''}`);
    },
  };
}
