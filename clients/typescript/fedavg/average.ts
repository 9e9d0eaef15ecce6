// SecureFedAvg from TypeScript, once: one call averages named tensors with the other parties.
//
//   const avg = await api.secureFedAvg({ tensors: { 'dense.kernel': w, 'dense.bias': b }, weight: 120, network });
//
// The model goes up as safetensors and comes back as safetensors (binary both ways, no JSON
// numbers), and every representation made on the way is released, also when a call fails.
// Training loops use FederatedAveraging (rounds.ts), which runs the same steps round after round.

import { BadInputError } from '../../../shared/errors.js';
import { TensorSet, type Tensor } from '../../../shared/tensors.js';
import { TesseraRequestError } from '../errors.js';
import type { Api, Network, Remote, RequestOptions, TensorsLike } from '../api.js';
import { progressReporter, safetensorsBytes, type FedAvgProgress } from './progress.js';

export type FedAvgMicroprotocol = 'SecureFedAvg' | 'PlainFedAvg';
export type RingBits = 64 | 48 | 40 | 32;

export interface SecureFedAvgRequest<T extends TensorsLike = TensorsLike> extends RequestOptions {
  /** This party's model: named Float32Array/Float64Array (1-D), Tensor objects, or a TensorSet. */
  tensors: T;
  /** This party's weight n_k, usually its number of training examples (> 0). */
  weight: number;
  /** The same nodes and uuid at every party; `myself` is this party's index. */
  network: Network;
  /**
   * 'SecureFedAvg' (default). 'PlainFedAvg' is the INSECURE baseline: every party sees the others'
   * scaled models in clear. Use it only to compare against.
   */
  microprotocol?: FedAvgMicroprotocol;
  /**
   * Ring width of SecureFedAvg's fixed-point encoding (services/fedavg/index.ts), ringBits/8 bytes
   * per parameter sent: 64 (default, |w| < 2^31, error ≤ n·1.2e-10), 48 (|w| ≤ 32767, error ≤
   * n·1.2e-10), 40 (|w| ≤ 32767, error ≤ n·3.0e-8) or 32 (|w| ≤ 2047, error ≤ n·4.8e-7).
   */
  ringBits?: RingBits;
  /** Told how the averaging goes: bytes uploaded, stages done (a progress bar for a large model). */
  onProgress?: (progress: FedAvgProgress) => void;
}


/**
 * The averaged tensors in the form they were given: a TensorSet for a TensorSet, otherwise the same
 * keys with a Float32Array / Float64Array / Tensor where the input had one.
 */
export type Averaged<T extends TensorsLike> = T extends TensorSet
  ? TensorSet
  : { -readonly [K in keyof T]: T[K] extends Float32Array ? Float32Array : T[K] extends Float64Array ? Float64Array : Tensor };

export function protocolKwargs(microprotocol: FedAvgMicroprotocol, ringBits: RingBits | undefined): Record<string, unknown> {
  if (microprotocol !== 'SecureFedAvg' && microprotocol !== 'PlainFedAvg') {
    throw new BadInputError(`microprotocol must be "SecureFedAvg" or "PlainFedAvg", got ${JSON.stringify(microprotocol)}`, { where: 'microprotocol' });
  }
  if (ringBits === undefined) return { microprotocol };
  if (microprotocol === 'PlainFedAvg') {
    // The baseline has no ring; accepting the option silently would suggest it changed something.
    throw new BadInputError('ringBits applies to SecureFedAvg only', { where: 'ringBits' });
  }
  return { microprotocol, ring_bits: ringBits };
}

export function checkWeight(weight: unknown): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || !(weight > 0)) {
    throw new BadInputError(`weight must be a finite number > 0 (this party's number of examples), got ${String(weight)}`, { where: 'weight' });
  }
  return weight;
}

export function toTensorSet(tensors: TensorsLike): TensorSet {
  const set = tensors instanceof TensorSet ? tensors : TensorSet.from(tensors);
  if (set.size === 0) throw new BadInputError('a model needs at least one tensor', { where: 'tensors' });
  return set;
}

/** The server must give back exactly the input's names, dtypes and shapes; anything else is a fault. */
export function checkSameManifest(sent: TensorSet, got: TensorSet): void {
  const want = JSON.stringify(sent.manifest());
  if (JSON.stringify(got.manifest()) !== want) {
    throw new TesseraRequestError('downloadRepresentation', `the averaged model's tensors differ from the model sent (${want.slice(0, 200)})`);
  }
}

/** The result shaped like the input (see Averaged). */
export function like<T extends TensorsLike>(input: T, result: TensorSet): Averaged<T> {
  if (input instanceof TensorSet) return result as Averaged<T>;
  const out: Record<string, Float32Array | Float64Array | Tensor> = {};
  for (const [name, value] of Object.entries(input as Readonly<Record<string, Float32Array | Float64Array | Tensor>>)) {
    const t = result.get(name)!;
    out[name] = value instanceof Float32Array || value instanceof Float64Array ? t.data : t;
  }
  return out as Averaged<T>;
}

/** Download a result in binary and release it, whatever happens. */
export async function downloadAndRelease(api: Api, result: Remote, options: RequestOptions): Promise<TensorSet> {
  try {
    return await api.downloadTensors(result, options);
  } finally {
    await api.release(result).catch(() => undefined);
  }
}

/**
 * One FedAvg computation: upload `tensors` as safetensors, compute, download the average as
 * safetensors, release both representations. Every party calls it with the same network nodes and
 * uuid; it resolves when all parties have given their models.
 */
export async function secureFedAvg<T extends TensorsLike>(api: Api, request: SecureFedAvgRequest<T>): Promise<Averaged<T>> {
  const { tensors, weight, network, microprotocol = 'SecureFedAvg', ringBits, onProgress, ...options } = request;
  const protocol = protocolKwargs(microprotocol, ringBits);
  checkWeight(weight);
  const sent = toTensorSet(tensors);
  const progress = progressReporter(onProgress);
  progress.stage('upload', 0);
  const uploaded = await api.uploadTensors(sent, { ...options, onUploadProgress: progress.uploading });
  try {
    progress.stage('compute', 1);
    const result = await api.callSimon('compute', { ...protocol, data: { tensors: uploaded, weight }, network }, options);
    progress.stage('download', 2);
    const averaged = await downloadAndRelease(api, result, options);
    progress.downloaded(safetensorsBytes(averaged));
    progress.stage('done', 3);
    checkSameManifest(sent, averaged);
    return like(tensors, averaged);
  } finally {
    await api.release(uploaded).catch(() => undefined);
  }
}
