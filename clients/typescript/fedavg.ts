// SecureFedAvg from TypeScript: one call that averages named tensors with the other parties, and
// a one-line integration for a training loop (`model = await fedavg.update(model)`), including
// TensorFlow.js LayersModels.
//
//   const avg = await api.secureFedAvg({ tensors: { 'dense.kernel': w, 'dense.bias': b }, weight: 120, network });
//
//   const fedavg = new FederatedAveraging(api, { network, weight: xs.length, tf });
//   for (let round = 0; round < rounds; round++) {
//     await model.fit(xs, ys, { epochs: 1 });
//     await fedavg.update(model);          // every party's model is now Σ n_k·w_k / Σ n_k
//   }
//   await fedavg.close();
//
// The model goes up as safetensors and comes back as safetensors (binary both ways, no JSON
// numbers), and every representation made on the way is released, also when a call fails.
//
// This module has no runtime dependency on TensorFlow.js: a model is recognised by its shape
// (`getWeights` and `setWeights`), and new tensors are made by the `tf` the caller passes (or, when
// none is passed, by `@tensorflow/tfjs` loaded on first use). Nor does it import any Node built-in,
// so it bundles for browsers like the rest of the client.

import { BadInputError } from '../../shared/errors.js';
import { TensorSet, type Tensor } from '../../shared/tensors.js';
import { TesseraRequestError } from './errors.js';
import type { Api, Network, Remote, RequestOptions, TensorsLike } from './api.js';

export type FedAvgMicroprotocol = 'SecureFedAvg' | 'PlainFedAvg';
export type RingBits = 64 | 32;

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
   * Ring width of SecureFedAvg's fixed-point encoding (services/fedavg/index.ts): 64 (default,
   * |w| < 2^31, error ≤ n·1.2e-10) or 32 (half the bytes, |w| ≤ 2047, error ≤ n·4.8e-7).
   */
  ringBits?: RingBits;
  /** Told how the averaging goes: bytes uploaded, stages done (a progress bar for a large model). */
  onProgress?: (progress: FedAvgProgress) => void;
}

/** The stages of one averaging as a client sees it, in order. */
export const FEDAVG_STAGES = ['upload', 'compute', 'download'] as const;

/**
 * Where one averaging is. `stage` is the stage under way ("done" at the end); `stagesDone` of
 * `stages` are finished. The upload reports its bytes as they go; the compute stage waits for the
 * other parties and runs the protocol on the servers; the download reports its size when done.
 */
export interface FedAvgProgress {
  readonly stage: (typeof FEDAVG_STAGES)[number] | 'done';
  readonly stagesDone: number;
  readonly stages: number;
  readonly bytesUploaded: number;
  readonly bytesToUpload: number;
  readonly bytesDownloaded: number;
}

/** Reports progress through `onProgress` (if any); a throwing callback never breaks the averaging. */
function progressReporter(onProgress: ((p: FedAvgProgress) => void) | undefined) {
  const state = { stage: 'upload' as FedAvgProgress['stage'], stagesDone: 0, bytesUploaded: 0, bytesToUpload: 0, bytesDownloaded: 0 };
  const emit = (): void => {
    if (onProgress === undefined) return;
    try {
      onProgress({ ...state, stages: FEDAVG_STAGES.length });
    } catch {
      // A progress display must not fail the computation.
    }
  };
  return {
    uploading: (sent: number, total: number): void => {
      state.bytesUploaded = sent;
      state.bytesToUpload = total;
      emit();
    },
    stage: (stage: FedAvgProgress['stage'], stagesDone: number): void => {
      state.stage = stage;
      state.stagesDone = stagesDone;
      emit();
    },
    downloaded: (bytes: number): void => {
      state.bytesDownloaded = bytes;
    },
  };
}

function safetensorsBytes(set: TensorSet): number {
  return set.safetensorsChunks().reduce((n, c) => n + c.byteLength, 0);
}

/**
 * The averaged tensors in the form they were given: a TensorSet for a TensorSet, otherwise the same
 * keys with a Float32Array / Float64Array / Tensor where the input had one.
 */
export type Averaged<T extends TensorsLike> = T extends TensorSet
  ? TensorSet
  : { -readonly [K in keyof T]: T[K] extends Float32Array ? Float32Array : T[K] extends Float64Array ? Float64Array : Tensor };

/** Runs `member` of this server's Simon microservice with `kwargs`; releases Simon and the bound member. */
async function callSimon(api: Api, member: 'compute' | 'prepare', kwargs: Record<string, unknown>, options: RequestOptions): Promise<Remote> {
  const simon = await api.create({ protocol: 'Simon' }, options);
  try {
    const bound = await simon.attribute(member, options);
    try {
      const result = await api.call(bound, kwargs, [], options);
      if (result === undefined) throw new TesseraRequestError('callRepresentation', `${String(kwargs.microprotocol)} ${member} returned no result`);
      return result;
    } finally {
      await api.release(bound).catch(() => undefined);
    }
  } finally {
    await api.release(simon).catch(() => undefined);
  }
}

/** Call a member of an existing representation (a prepared computation's `submit`, `cancel`). */
async function callMember(api: Api, rep: Remote, member: string, kwargs: Record<string, unknown>, options: RequestOptions): Promise<Remote | undefined> {
  const bound = await rep.attribute(member, options);
  try {
    return await api.call(bound, kwargs, [], options);
  } finally {
    await api.release(bound).catch(() => undefined);
  }
}

function protocolKwargs(microprotocol: FedAvgMicroprotocol, ringBits: RingBits | undefined): Record<string, unknown> {
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

function checkWeight(weight: unknown): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || !(weight > 0)) {
    throw new BadInputError(`weight must be a finite number > 0 (this party's number of examples), got ${String(weight)}`, { where: 'weight' });
  }
  return weight;
}

function toTensorSet(tensors: TensorsLike): TensorSet {
  const set = tensors instanceof TensorSet ? tensors : TensorSet.from(tensors);
  if (set.size === 0) throw new BadInputError('a model needs at least one tensor', { where: 'tensors' });
  return set;
}

/** The server must give back exactly the input's names, dtypes and shapes; anything else is a fault. */
function checkSameManifest(sent: TensorSet, got: TensorSet): void {
  const want = JSON.stringify(sent.manifest());
  if (JSON.stringify(got.manifest()) !== want) {
    throw new TesseraRequestError('downloadRepresentation', `the averaged model's tensors differ from the model sent (${want.slice(0, 200)})`);
  }
}

/** The result shaped like the input (see Averaged). */
function like<T extends TensorsLike>(input: T, result: TensorSet): Averaged<T> {
  if (input instanceof TensorSet) return result as Averaged<T>;
  const out: Record<string, Float32Array | Float64Array | Tensor> = {};
  for (const [name, value] of Object.entries(input as Readonly<Record<string, Float32Array | Float64Array | Tensor>>)) {
    const t = result.get(name)!;
    out[name] = value instanceof Float32Array || value instanceof Float64Array ? t.data : t;
  }
  return out as Averaged<T>;
}

/** Download a result in binary and release it, whatever happens. */
async function downloadAndRelease(api: Api, result: Remote, options: RequestOptions): Promise<TensorSet> {
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
    const result = await callSimon(api, 'compute', { ...protocol, data: { tensors: uploaded, weight }, network }, options);
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

// ---- Rounds ------------------------------------------------------------------------------------

const utf8 = new TextEncoder();

/**
 * The network uuid of round `round`, derived from `base` so that every party computes the same one
 * without talking: SHA-256 over a domain-separated encoding of (base, round), formatted as a
 * name-based UUID version 8 (RFC 9562 §5.8, Appendix B.2 uses SHA-256 the same way). The uuid only
 * names the computation; it is no secret and no mask derives from it (masks come from fresh
 * per-computation seeds, docs/architecture.md §4), so a guessable uuid costs nothing.
 */
export async function roundUuid(base: string, round: number): Promise<string> {
  if (typeof base !== 'string' || base.length === 0) throw new BadInputError('the base uuid must be a non-empty string', { where: 'network.uuid' });
  if (!Number.isSafeInteger(round) || round < 0) throw new BadInputError(`a round is a non-negative integer, got ${round}`, { where: 'round' });
  const name = utf8.encode(`tessera/fedavg-round/v1\u0000${base}\u0000${round}`);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', name));
  digest[6] = (digest[6]! & 0x0f) | 0x80; // version 8
  digest[8] = (digest[8]! & 0x3f) | 0x80; // variant 10 (RFC 9562 §4.1)
  const hex = Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

// TensorFlow.js, duck-typed: the few members used here, so the client needs no tfjs at run time.

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
async function loadTf(): Promise<TfLike> {
  try {
    return (await import(TFJS_MODULE)) as TfLike;
  } catch (err) {
    throw new BadInputError(`averaging a TensorFlow.js model needs @tensorflow/tfjs, or pass { tf } to FederatedAveraging (${(err as Error).message})`, { where: 'tf' });
  }
}

export interface FederatedAveragingOptions extends RequestOptions {
  /** nodes and myself as for every computation; `uuid` is the base from which each round's uuid derives. */
  network: Network;
  /** This party's weight n_k (its number of training examples); `update(model, { weight })` overrides it per round. */
  weight: number;
  microprotocol?: FedAvgMicroprotocol;
  ringBits?: RingBits;
  /** The first round's number (default 0): a party that restarts can resume where the others are. */
  startRound?: number;
  /**
   * Announce the next round as soon as one ends, so its masks are agreed and expanded while the
   * model trains ("announce first, model later"); `update` then only runs the online part.
   * Default false. Call `close()` at the end to cancel the announcement nobody will use (or give
   * `rounds`, and no round past the last is announced).
   */
  prepareNext?: boolean;
  /** Total number of rounds, if known: with prepareNext, no round past the last is announced. */
  rounds?: number;
  /** Creates tfjs tensors (`import * as tf from '@tensorflow/tfjs'`); loaded on demand when absent. */
  tf?: TfLike;
  /** Tensor names of a tfjs model's weights (default: the layer variables' originalName). */
  names?: (index: number, weight: TfTensorLike) => string;
  /** Told how each round's averaging goes: bytes uploaded, stages done. */
  onProgress?: (progress: FedAvgProgress & { readonly round: number }) => void;
}

/** What the server reports about the last round (the result's safetensors metadata). */
export interface RoundReport {
  readonly round: number;
  readonly uuid: string;
  /** True when the round ran on a computation announced in advance (prepareNext). */
  readonly prepared: boolean;
  /** The server's `tessera.*` metadata: parties, total weight, bytes sent, prepare/online ms. */
  readonly metadata: Readonly<Record<string, string>>;
}

interface Announcement {
  readonly round: number;
  readonly manifest: string;
  readonly computation: Promise<Remote>;
}

/**
 * Federated averaging across rounds for a training loop. Round r runs under the network uuid
 * `roundUuid(network.uuid, startRound + r)`, so parties agree on it by counting rounds. Every party
 * must call `update` once per round, in the same order.
 */
export class FederatedAveraging {
  readonly #api: Api;
  readonly #options: FederatedAveragingOptions;
  readonly #protocol: Record<string, unknown>;
  #round: number;
  #next: Announcement | undefined;
  #closed = false;
  #last: RoundReport | undefined;

  constructor(api: Api, options: FederatedAveragingOptions) {
    this.#api = api;
    this.#options = options;
    this.#protocol = protocolKwargs(options.microprotocol ?? 'SecureFedAvg', options.ringBits);
    checkWeight(options.weight);
    this.#round = options.startRound ?? 0;
    if (!Number.isSafeInteger(this.#round) || this.#round < 0) {
      throw new BadInputError(`startRound must be a non-negative integer, got ${options.startRound}`, { where: 'startRound' });
    }
  }

  /** The number of the next round `update` runs. */
  get round(): number {
    return this.#round;
  }

  /** What the server reported about the last completed round. */
  get lastRound(): RoundReport | undefined {
    return this.#last;
  }

  #requestOptions(): RequestOptions {
    const { timeoutMs, signal } = this.#options;
    return { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(signal === undefined ? {} : { signal }) };
  }

  #network(uuid: string): Network {
    return { nodes: this.#options.network.nodes, uuid, myself: this.#options.network.myself };
  }

  /**
   * Average this round's model with the other parties'. A tfjs model gets the average written into
   * its weights and is returned itself; named arrays or a TensorSet come back as new averaged ones.
   */
  async update<M extends TfModelLike | TensorsLike>(model: M, round: { weight?: number } = {}): Promise<M extends TfModelLike ? M : M extends TensorsLike ? Averaged<M> : never> {
    type Out = M extends TfModelLike ? M : M extends TensorsLike ? Averaged<M> : never;
    if (this.#closed) throw new BadInputError('this FederatedAveraging is closed', { where: 'update' });
    const weight = checkWeight(round.weight ?? this.#options.weight);
    const tfModel = isTfModel(model) ? model : undefined;
    const tf = tfModel ? this.#options.tf ?? (await loadTf()) : undefined;
    const tensors = tfModel ? tfWeightsToTensorSet(tfModel, this.#options.names) : toTensorSet(model as TensorsLike);
    const number = this.#round;
    // The round is spent whether it succeeds or not, so the parties' counters stay in step.
    this.#round += 1;
    const averaged = await this.#average(number, tensors, weight);
    if (tfModel) {
      setTfWeights(tfModel, averaged, tf!, this.#options.names);
      return model as Out;
    }
    return like(model as TensorsLike, averaged) as Out;
  }

  async #average(round: number, tensors: TensorSet, weight: number): Promise<TensorSet> {
    const api = this.#api;
    const options = this.#requestOptions();
    const uuid = await roundUuid(this.#options.network.uuid, round);
    const announced = this.#next;
    this.#next = undefined;
    let prepared: Remote | undefined;
    if (announced !== undefined) {
      // Announced last round with that round's manifest; a model that changed shape since cannot use it.
      const computation = await announced.computation;
      if (announced.round !== round || announced.manifest !== JSON.stringify(tensors.manifest())) {
        await this.#cancel(computation);
        throw new BadInputError(`the model's tensors changed since round ${round} was announced (prepareNext needs the same names, shapes and dtypes every round)`, { where: 'tensors' });
      }
      prepared = computation;
    }
    const onProgress = this.#options.onProgress;
    const progress = progressReporter(onProgress === undefined ? undefined : (p) => onProgress({ ...p, round }));
    progress.stage('upload', 0);
    const uploaded = await api.uploadTensors(tensors, { ...options, onUploadProgress: progress.uploading });
    let averaged: TensorSet;
    try {
      progress.stage('compute', 1);
      const data = { tensors: uploaded, weight };
      let result: Remote | undefined;
      if (prepared !== undefined) {
        // The server waits this long for the other parties' models (they may still be training).
        const timeout = Math.max(1, Math.floor((options.timeoutMs ?? api.timeoutMs) / 1000));
        try {
          result = await callMember(api, prepared, 'submit', { data, timeout }, options);
        } finally {
          await api.release(prepared).catch(() => undefined);
        }
        if (result === undefined) throw new TesseraRequestError('callRepresentation', 'submit returned no result');
      } else {
        result = await callSimon(api, 'compute', { ...this.#protocol, data, network: this.#network(uuid) }, options);
      }
      progress.stage('download', 2);
      averaged = await downloadAndRelease(api, result, options);
      progress.downloaded(safetensorsBytes(averaged));
      progress.stage('done', 3);
    } finally {
      await api.release(uploaded).catch(() => undefined);
    }
    checkSameManifest(tensors, averaged);
    this.#last = { round, uuid, prepared: prepared !== undefined, metadata: { ...averaged.metadata } };
    const { prepareNext, rounds, startRound = 0 } = this.#options;
    if (prepareNext && (rounds === undefined || round + 1 < startRound + rounds)) this.#announce(round + 1, tensors);
    return averaged;
  }

  /** Start preparing round `round` in the background; `update` picks it up. */
  #announce(round: number, tensors: TensorSet): void {
    // The TensorManifest form of openapi.yaml: {name: {dtype, shape}}, as in a safetensors header.
    const manifest = Object.fromEntries(tensors.manifest().map(({ name, dtype, shape }) => [name, { dtype, shape }]));
    const computation = (async () => {
      const uuid = await roundUuid(this.#options.network.uuid, round);
      return callSimon(this.#api, 'prepare', { ...this.#protocol, data: { manifest }, network: this.#network(uuid) }, this.#requestOptions());
    })();
    // Its failure surfaces when update() or close() awaits it, not as an unhandled rejection.
    computation.catch(() => undefined);
    this.#next = { round, manifest: JSON.stringify(tensors.manifest()), computation };
  }

  async #cancel(computation: Remote): Promise<void> {
    try {
      await callMember(this.#api, computation, 'cancel', {}, this.#requestOptions());
    } finally {
      await this.#api.release(computation).catch(() => undefined);
    }
  }

  /**
   * Cancel a round announced in advance that no `update` will use, and release it. The other
   * parties' announcements of that round fail (naming this party), which is what ends theirs too.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const announced = this.#next;
    this.#next = undefined;
    if (announced === undefined) return;
    let computation: Remote;
    try {
      computation = await announced.computation;
    } catch {
      return; // never prepared (another party closed first): nothing is left on the server
    }
    await this.#cancel(computation).catch(() => undefined);
  }
}
