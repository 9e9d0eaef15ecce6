// TensorFlow.js, duck-typed: the few members used here, so the client needs no tfjs at run time.
// A model is recognised by its shape (`getWeights` and `setWeights`), and new tensors are made by
// the `tf` the caller passes (or, when none is passed, by `@tensorflow/tfjs` loaded on first use).

import { BadInputError } from '../../../shared/errors.js';
import { TensorSet, type Tensor } from '../../../shared/tensors.js';

/** A tf.Tensor as far as this module uses it. */
export interface TfTensorLike {
  readonly shape: number[];
  readonly dtype: string;
  readonly name?: string;
  dataSync(): ArrayLike<number>;
  dispose(): void;
}

/** A tfjs LayersModel as far as this module uses it. */
export interface TfModelLike {
  getWeights(trainableOnly?: boolean): TfTensorLike[];
  setWeights(weights: TfTensorLike[]): void;
  /** LayerVariables; their `originalName` is the name without tfjs's per-process "_1" suffix. */
  readonly weights?: readonly { readonly name: string; readonly originalName?: string }[];
}

/** What creates tensors: `import * as tf from '@tensorflow/tfjs'` fits. */
export interface TfLike {
  tensor(values: Float32Array, shape: number[], dtype: 'float32'): TfTensorLike;
}

export function isTfModel(value: unknown): value is TfModelLike {
  return (
    typeof value === 'object' && value !== null &&
    typeof (value as TfModelLike).getWeights === 'function' &&
    typeof (value as TfModelLike).setWeights === 'function'
  );
}

/**
 * The name weight `i` travels under: the caller's `names`, else the layer variable's
 * `originalName`, its `name`, the tensor's own name, or its position. Reading and writing back
 * use the same chain, so a weight comes back to where it came from.
 */
function weightName(model: TfModelLike, i: number, w: TfTensorLike, names?: (index: number, weight: TfTensorLike) => string): string {
  const variable = model.weights?.[i];
  return names?.(i, w) ?? variable?.originalName ?? variable?.name ?? w.name ?? `weight_${i}`;
}

/**
 * A tfjs model's weights as named float32 tensors. Names come from the layer variables'
 * `originalName` (e.g. "hidden/kernel"), which is the same in every party's process when the
 * layers are named; tfjs appends "_1", "_2" to `.name` when one process builds several models,
 * which would make the parties disagree. Only float32 weights exist in LayersModels in practice;
 * anything else is refused naming the weight.
 */
export function tfWeightsToTensorSet(model: TfModelLike, names?: (index: number, weight: TfTensorLike) => string): TensorSet {
  const weights = model.getWeights();
  const tensors = new Map<string, Tensor>();
  weights.forEach((w, i) => {
    const name = weightName(model, i, w, names);
    if (w.dtype !== 'float32') throw new BadInputError(`only float32 weights can be averaged, this one is ${w.dtype}`, { where: name });
    if (tensors.has(name)) {
      throw new BadInputError('two weights of the model have this name; name the layers uniquely or pass `names`', { where: name });
    }
    // A copy: dataSync() may hand out the backend's own buffer, which training would change under us.
    tensors.set(name, { dtype: 'F32', shape: [...w.shape], data: Float32Array.from(w.dataSync()) });
  });
  return new TensorSet(tensors);
}

/** Write averaged tensors back into a tfjs model, weight by weight in the model's own order. */
export function setTfWeights(model: TfModelLike, averaged: TensorSet, tf: TfLike, names?: (index: number, weight: TfTensorLike) => string): void {
  const current = model.getWeights();
  const tensors = current.map((w, i) => {
    const name = weightName(model, i, w, names);
    const t = averaged.get(name);
    if (t === undefined || t.dtype !== 'F32') throw new BadInputError('the averaged model has no float32 tensor of this name', { where: name });
    return tf.tensor(t.data as Float32Array, [...t.shape], 'float32');
  });
  try {
    model.setWeights(tensors);
  } finally {
    // setWeights assigns the values to the model's variables (which keep their own reference);
    // the temporaries are ours to free.
    for (const t of tensors) t.dispose();
  }
}

// Loaded only when a tfjs model is averaged and no `tf` was given; a variable specifier, so that
// bundlers and the type checker do not treat tfjs as a dependency of the client.
const TFJS_MODULE = '@tensorflow/tfjs';
export async function loadTf(): Promise<TfLike> {
  try {
    return (await import(TFJS_MODULE)) as TfLike;
  } catch (err) {
    throw new BadInputError(`averaging a TensorFlow.js model needs @tensorflow/tfjs, or pass { tf } to FederatedAveraging (${(err as Error).message})`, { where: 'tf' });
  }
}
