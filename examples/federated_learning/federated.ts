// Federated training with TensorFlow.js over three Tessera servers: each party trains the same small
// network on its own (non-identical) data for a few local epochs, then the parties average their
// weights with FedAvg (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks
// from Decentralized Data", Algorithm 1: local SGD epochs, then the n_k-weighted average). The
// average runs as SecureFedAvg, so no party or server sees another party's weights, or as the
// insecure PlainFedAvg baseline for comparison.
//
// Everything is seeded (data, initial weights, each party's shuffling per round and epoch), so a
// secure run and a plain run differ only by the aggregation's rounding (a few 1e-10 on the 64-bit
// ring), far below the 1e-4 the example checks.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Api, FederatedAveraging, type FedAvgMicroprotocol, type FedAvgProgress, type RoundReport } from '../../clients/typescript/index.js';
import { startServer, type RunningServer } from '../../server/main.js';
import { CLASSES, FEATURES, permutation, seededRandom, type DataSet, type Partition, type PartyData } from './data.js';

// tfjs prints a hint to install tfjs-node on first use in Node; it prints warnings only outside
// production mode. The example runs on the pure-JS CPU backend on purpose (no native build).
tf.enableProdMode();

export interface TrainingOptions {
  rounds: number;
  /** Local epochs per round (McMahan et al.'s E). */
  epochs: number;
  /** Minibatch size (B). */
  batchSize: number;
  learningRate: number;
  /** Seeds the data, the initial model, and every shuffle. */
  seed: number;
  /** Scales the partitions' sizes (1: 120, 80 and 60 examples). */
  dataScale: number;
  /** Announce each next round while the parties train (masks prepared during training). */
  prepareNext: boolean;
  /** Party 0's averaging progress (bytes uploaded, stages done), e.g. for a progress bar. */
  onProgress?: (progress: FedAvgProgress & { readonly round: number }) => void;
}

export const DEFAULT_TRAINING: TrainingOptions = {
  rounds: 10,
  epochs: 2,
  batchSize: 16,
  learningRate: 0.1,
  seed: 2024,
  dataScale: 1,
  prepareNext: true,
};

export interface RoundMetrics {
  /** 0 is the initial model, before any training. */
  readonly round: number;
  /** Categorical cross-entropy of the averaged model on the test set. */
  readonly loss: number;
  readonly accuracy: number;
  /** What party 0's server reported about the aggregation (absent for round 0). */
  readonly report?: RoundReport;
}

export interface RunResult {
  readonly microprotocol: FedAvgMicroprotocol;
  readonly metrics: RoundMetrics[];
  /** Largest difference between two parties' averaged weights over all rounds (0: identical). */
  readonly partyDivergence: number;
  /** The final averaged model's weights (party 0's; all parties hold the same). */
  readonly finalWeights: Float32Array[];
  readonly seconds: number;
}

/** One party's server per party, in this process, on free ports, trusting each other. */
export interface Parties {
  readonly nodes: string[];
  close(): Promise<void>;
}

export async function startParties(count: number): Promise<Parties> {
  // One shared network secret authenticates the three servers to each other (docs/architecture.md §5).
  const networkSecret = randomBytes(32);
  const dirs = await Promise.all(Array.from({ length: count }, () => mkdtemp(join(tmpdir(), 'tessera-fl-party-'))));
  const started = await Promise.allSettled(dirs.map((dataDir) => startServer({ dataDir, port: 0, logLevel: 'silent', peer: { networkSecret } })));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = async () => {
    await Promise.all(servers.map((s: RunningServer) => s.close()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  return { nodes: servers.map((s) => s.url), close };
}

/** The small network every party trains; named layers, so weight names agree across parties. */
function buildModel(options: TrainingOptions): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        name: 'hidden',
        inputShape: [FEATURES],
        units: 16,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed }),
      }),
      tf.layers.dense({
        name: 'classes',
        units: CLASSES,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed + 1 }),
      }),
    ],
  });
  // Plain SGD: no optimiser state carries over between rounds, as in FedAvg's Algorithm 1.
  model.compile({ optimizer: tf.train.sgd(options.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

function tensorsOf(data: Partition): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  return tf.tidy(() => ({
    xs: tf.tensor2d(data.features, [data.count, FEATURES]),
    ys: tf.oneHot(tf.tensor1d(data.labels, 'int32'), CLASSES).toFloat() as tf.Tensor2D,
  }));
}

/** E local epochs of minibatch SGD, each epoch in its own seeded order. */
async function trainLocally(model: tf.Sequential, data: PartyData, xy: { xs: tf.Tensor2D; ys: tf.Tensor2D }, party: number, round: number, options: TrainingOptions): Promise<void> {
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    // fit's own shuffle uses Math.random; a seeded order keeps secure and plain runs in step.
    const order = permutation(data.count, seededRandom(options.seed * 7919 + party * 104_729 + round * 1009 + epoch));
    const index = tf.tensor1d(order, 'int32');
    const xs = tf.gather(xy.xs, index);
    const ys = tf.gather(xy.ys, index);
    try {
      await model.fit(xs, ys, { epochs: 1, batchSize: options.batchSize, shuffle: false, verbose: 0 });
    } finally {
      tf.dispose([index, xs, ys]);
    }
  }
}

function evaluate(model: tf.Sequential, test: { xs: tf.Tensor2D; ys: tf.Tensor2D }): { loss: number; accuracy: number } {
  const [loss, accuracy] = model.evaluate(test.xs, test.ys, { batchSize: test.xs.shape[0] }) as tf.Scalar[];
  const out = { loss: loss!.dataSync()[0]!, accuracy: accuracy!.dataSync()[0]! };
  tf.dispose([loss!, accuracy!]);
  return out;
}

function divergence(models: tf.Sequential[]): number {
  const weights = models.map((m) => m.getWeights().map((w) => w.dataSync()));
  let worst = 0;
  for (const other of weights.slice(1)) {
    other.forEach((w, i) => w.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - weights[0]![i]![j]!)))));
  }
  return worst;
}

/**
 * One federated training run: every party starts from the same seeded model, and each round
 * trains locally then averages with `microprotocol`. `onRound` sees each round's metrics as they come.
 */
export async function runFederatedTraining(
  nodes: readonly string[],
  data: DataSet,
  microprotocol: FedAvgMicroprotocol,
  options: TrainingOptions,
  onRound: (metrics: RoundMetrics) => void = () => {},
): Promise<RunResult> {
  const started = performance.now();
  const base = randomUUID(); // each round's network uuid derives from it (roundUuid)
  const models = data.parties.map(() => buildModel(options));
  const train = data.parties.map(tensorsOf);
  const test = tensorsOf(data.test);
  const averagers = data.parties.map(
    (party, myself) =>
      new FederatedAveraging(new Api(nodes[myself]!, { timeoutMs: 120_000 }), {
        network: { nodes: [...nodes], uuid: base, myself },
        weight: party.count, // n_k: FedAvg weighs each party by its number of examples
        microprotocol,
        tf,
        prepareNext: options.prepareNext,
        rounds: options.rounds,
        ...(myself === 0 && options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
      }),
  );
  const metrics: RoundMetrics[] = [];
  let partyDivergence = 0;
  // eslint-disable-next-line no-useless-assignment -- the empty list is the result if training fails before the end
  let finalWeights: Float32Array[] = [];
  try {
    const initial = { round: 0, ...evaluate(models[0]!, test) };
    metrics.push(initial);
    onRound(initial);
    for (let round = 1; round <= options.rounds; round++) {
      // In this one process the parties train one after the other (tfjs's CPU backend is single-
      // threaded anyway); in a real deployment each trains on its own machine at the same time.
      for (const [k, model] of models.entries()) await trainLocally(model, data.parties[k]!, train[k]!, k, round, options);
      // Every party averages with the others; this resolves when all parties have given their model.
      await Promise.all(averagers.map((fedavg, k) => fedavg.update(models[k]!)));
      partyDivergence = Math.max(partyDivergence, divergence(models));
      const report = averagers[0]!.lastRound;
      const m = { round, ...evaluate(models[0]!, test), ...(report ? { report } : {}) };
      metrics.push(m);
      onRound(m);
    }
    finalWeights = models[0]!.getWeights().map((w) => Float32Array.from(w.dataSync()));
  } finally {
    await Promise.all(averagers.map((f) => f.close()));
    tf.dispose([...train.flatMap((t) => [t.xs, t.ys]), test.xs, test.ys]);
    for (const m of models) m.dispose();
  }
  return { microprotocol, metrics, partyDivergence, finalWeights, seconds: (performance.now() - started) / 1000 };
}
