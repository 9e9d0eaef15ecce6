// Federated averaging across rounds: a one-line integration for a training loop
// (`model = await fedavg.update(model)`), including TensorFlow.js LayersModels (tfjs.ts).
//
//   const fedavg = new FederatedAveraging(api, { network, weight: xs.length, tf });
//   for (let round = 0; round < rounds; round++) {
//     await model.fit(xs, ys, { epochs: 1 });
//     await fedavg.update(model);          // every party's model is now Σ n_k·w_k / Σ n_k
//   }
//   await fedavg.close();
//
// Each round is one averaging as in average.ts, under its own network uuid (round-uuid.ts); with
// prepareNext the next round is announced while the model trains.

import { BadInputError } from '../../../shared/errors.js';
import type { TensorSet } from '../../../shared/tensors.js';
import { TesseraRequestError } from '../errors.js';
import type { Api, Network, Remote, RequestOptions, TensorsLike } from '../api.js';
import { checkSameManifest, checkWeight, downloadAndRelease, like, protocolKwargs, toTensorSet, type Averaged, type FedAvgMicroprotocol, type RingBits } from './average.js';
import { progressReporter, safetensorsBytes, type FedAvgProgress } from './progress.js';
import { roundUuid } from './round-uuid.js';
import { isTfModel, loadTf, setTfWeights, tfWeightsToTensorSet, type TfLike, type TfModelLike, type TfTensorLike } from './tfjs.js';

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
          result = await api.callMember(prepared, 'submit', { data, timeout }, [], options);
        } finally {
          await api.release(prepared).catch(() => undefined);
        }
        if (result === undefined) throw new TesseraRequestError('callRepresentation', 'submit returned no result');
      } else {
        result = await api.callSimon('compute', { ...this.#protocol, data, network: this.#network(uuid) }, options);
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
      return this.#api.callSimon('prepare', { ...this.#protocol, data: { manifest }, network: this.#network(uuid) }, this.#requestOptions());
    })();
    // Its failure surfaces when update() or close() awaits it, not as an unhandled rejection.
    computation.catch(() => undefined);
    this.#next = { round, manifest: JSON.stringify(tensors.manifest()), computation };
  }

  async #cancel(computation: Remote): Promise<void> {
    try {
      await this.#api.callMember(computation, 'cancel', {}, [], this.#requestOptions());
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
