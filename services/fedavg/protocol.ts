// SecureFedAvg and its insecure baseline PlainFedAvg as one stage machine over a peer Session.
//
// Every party gives named tensors w_k and a weight n_k; every party receives Σ n_k·w_k / Σ n_k.
// Construction (docs/architecture.md §4; Bonawitz et al., "Practical Secure Aggregation for
// Privacy-Preserving Machine Learning", CCS 2017, §4; its dropout recovery, double masking, runs
// only with min_parties below the party count and lives in double.ts — the stages below are the
// default round, which it leaves unchanged):
//
//   setup    (before the model exists) each party sends every other party its tensor manifest and
//            32 fresh CSPRNG bytes r_{i→j}. Manifests are compared here, so a mismatch is reported
//            — naming the tensor and the party — before any masked data exists. Each pair derives
//            its seed s_ij = HKDF-SHA256(r_{lo→hi} ‖ r_{hi→lo}, info = pair) (RFC 5869): both
//            contribute, so one party's bad randomness alone cannot fix it, and it is fresh per
//            computation even when the network uuid is reused. Each party expands its masks with
//            AES-256-CTR (services/common/prg.ts) into one combined mask
//            M_i = Σ_{j>i} PRG(s_ij) − Σ_{j<i} PRG(s_ji) over Z_2^k; Σ_i M_i = 0.
//   weights  (online) each party sends q_i + m_i (its fixed-point weight, masked the same way
//            under its own PRG label) to all; everyone learns N = Σ q_i and nothing else.
//   reduce   each party encodes x_i = round(w_i · (q_i/N) · 2^f) into M_i (range-checked before
//            anything is sent) and sends segment j of x_i + M_i to party j (a direct reduce-scatter:
//            each party sends (n−1)/n of the model, like one half of a ring all-reduce, in one hop).
//            Party j adds the n contributions of its segment: the masks cancel, leaving Σ x_i.
//            With at least three parties, segment j carries only the pairs without j (j knows
//            the seeds of its own pairs, so they hid nothing from it; masks.ts segmentTerms).
//   gather   party j decodes its segment — that is the public output — and sends it to all, in the
//            tensors' own dtypes (float32 for a float32 model: the output carries no more).
//
// Bytes sent per party: (n−1)/n·E·(k/8 + dtype bytes), i.e. 1.5x a plain float32 all-reduce with
// k = 64 and 1.0x with k = 32. A strict subset of the parties sees only masked contributions and
// partial sums that stay masked by the pairs it lacks, so a coalition of up to n−1 parties learns
// nothing beyond the output (and N). PlainFedAvg runs the same stages with floats and no masks:
// every party sees the others' scaled weights in clear — a baseline, never for private data.
//
// Memory: masks are expanded chunk by chunk, fused with the encoding; the average is written chunk
// by chunk into the input's own buffers (outputStorage); messages stream in chunks (chunkElements:
// just under 1 MiB of ring elements or of float32) with seq numbers.

import { hkdfSync } from 'node:crypto';
import { BadInputError, ConflictError, PeerError, TesseraError, TimeoutError } from '../errors.js';
import type { AbortCause, Session, Terms } from '../peer.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { F25519 } from '../common/field.js';
import { freshSeed, SEED_BYTES } from '../common/prg.js';
import { expandMaskInto, maskOnto } from '../common/mask.js';
import { releaseHandedOver, RELEASE_MIN_BYTES } from '../common/release.js';
import { SHARE_BYTES, shamirShare } from '../common/shamir.js';
import { defineStages, gather, otherParties, partyName, runProtocol, scatter, StageOrder, whenAborted } from '../common/stages.js';
import { TensorSet, type Tensor } from '../common/tensors.js';
import {
  addBytesInto,
  addPackedInto,
  addInto,
  allocRing,
  checkEncodable,
  decodeInto,
  elementAt,
  encodeInto,
  packRing,
  ringBytes,
  ringSlice,
  wordsOf,
  type VectorFixedPoint,
  type FloatArray,
  type RingBits,
} from '../common/vector.js';
import { checkBelowMax, dhPairSeed, DOUBLE_SETUP_BYTES, keyFromSecret, LeftOutError, onlineDouble, selfSeed, type DoubleSetup, type RescueMode } from './double.js';
import { completeGraph, hararyGraph, graphSeed, SPARSE_DEFAULTS, type SparseOptions } from './graph.js';
import { combinedMask, pairTerms, segmentTerms, sparseDegree, type MaskGraphChoice, type MaskTerm } from './masks.js';
import { allocOutputs, compareManifests, floatRangeBytes, Layout, parseManifest, writeFloatRange, type Manifest } from './layout.js';

// The stages of both rounds, declared once in protocol order. decide, echo, confirm, resend, unmask and
// the four after gather run only in a round that may finish without some parties (double.ts):
// rescue, recontribute and rescued rebuild the segment of a holder that dropped after the decision,
// done lets a finished party stop serving them.
export const FEDAVG_STAGES = defineStages(['setup', 'weights', 'reduce', 'decide', 'echo', 'confirm', 'resend', 'unmask', 'gather', 'rescue', 'recontribute', 'rescued', 'done'] as const);

/**
 * The order a sender's messages may arrive in (services/common/stages.ts StageOrder, refused at
 * delivery otherwise). Back edges, each for one reason: the default round streams its output
 * (gather) while its reduce chunks are still going out; a party that already said done may still
 * be asked to recontribute or to send a rescued segment, and a party asked to recontribute may find
 * only afterwards that it lacks the same segment; without backups (rescue "none") a party may
 * answer another's request (rescued: the segment, or that it lacks it) before its own (double.ts).
 */
export const FEDAVG_ORDER = new StageOrder(FEDAVG_STAGES.all, [
  [FEDAVG_STAGES.gather, FEDAVG_STAGES.reduce],
  [FEDAVG_STAGES.recontribute, FEDAVG_STAGES.rescue],
  [FEDAVG_STAGES.done, FEDAVG_STAGES.recontribute],
  [FEDAVG_STAGES.done, FEDAVG_STAGES.rescued],
  [FEDAVG_STAGES.rescued, FEDAVG_STAGES.rescue],
]);

export type Variant = 'SecureFedAvg' | 'PlainFedAvg';

/**
 * Protocol version in the terms: parties running different wire formats fail at the first message.
 * 4: the default round leaves the segment holder's pair terms out of its segment (masks.ts
 * segmentTerms); a party of version 3 would mask differently and the average would be wrong.
 * 5: the default secure round streams 1 MiB less 8 KiB of ring elements per message (chunk_bytes),
 * 130,048 elements of Z_2^64 where version 4 sent 2^18.
 * 6: PlainFedAvg's default round is cut the same way, 260,096 float32 elements per message where
 * version 5 sent 2^18; and with rescue "none" a decide view marks a sender whose contribution
 * reached the holder in part (2), and a holder that summed a party decided out gets its segment's
 * contributions resent.
 */
export const FEDAVG_VERSION = 'tessera-fedavg/6';

/** Elements per streamed message of a round with min_parties: 1 MiB of float32, 2 MiB of Z_2^64. */
export const CHUNK_ELEMENTS = 1 << 18;

/**
 * Bytes per reduce message of the default round: of ring elements in SecureFedAvg (260,096 elements
 * of Z_2^32, 130,048 of Z_2^64), of float32 elements in PlainFedAvg (260,096; a float64 tensor's
 * elements take twice the bytes). 1 MiB less 8 KiB, so that the sealed message (its header and GCM
 * overhead: a few hundred bytes once the terms go by digest) and the relay's header room (relay.ts
 * HEADER_ROOM, 4 KiB) fit one NATS message at the nats-server's default max_payload of 1 MiB: through
 * the relay a chunk then crosses unfragmented, with no reassembly and half the NATS messages of a
 * chunk of 1 MiB (docs/relay.md "SecureFedAvg's chunks in one NATS message").
 */
export const CHUNK_RING_BYTES = (1 << 20) - (8 << 10);

/** Weights are fixed point with this many fractional bits in Z_2^64 (integers are exact). */
export const WEIGHT_FRAC_BITS = 24;
/** Largest weight: with n ≤ 256 parties, Σ q_i < 2^(30+24+8) = 2^62 fits Z_2^64 signed. */
export const MAX_WEIGHT = 2 ** 30;
export const MAX_PARTIES = 256;

/** Messages in flight per destination: two keep the link busy while the next chunk is prepared. */
const SEND_WINDOW = 2;

const LABEL_MODEL = `SecureFedAvg/v1/model`;
const LABEL_WEIGHT = `SecureFedAvg/v1/weight`;

export interface FedAvgParams {
  readonly variant: Variant;
  /** Fixed-point code (SecureFedAvg only). */
  readonly fixedPoint?: VectorFixedPoint;
  readonly chunkElements?: number;
  /** Fewest parties a round may finish with (services/fedavg/index.ts, docs/dropouts.md); default all. */
  readonly minParties?: number;
  /**
   * With minParties below the party count (SecureFedAvg): the public weight scale Q. Each party
   * scales its model by n_k / Q instead of n_k / N, since N over the included parties is known
   * only after the decision (double.ts); a weight above it is refused before anything is sent.
   */
  readonly maxWeight?: number;
  /**
   * With minParties below the party count: whether each party backs up its own-segment
   * contribution at its rescuer ("backup", default), so a holder dropping after the decision is
   * survived, or not ("none": 1/n of the model fewer bytes; such a drop fails the round).
   */
  readonly rescue?: RescueMode;
  /** The peer layer's per-wait timeout (not part of the terms): paces the waits of double.ts. */
  readonly stageTimeoutMs?: number;
  /** Which pairs mask (SecureFedAvg; masks.ts, graph.ts); default "auto". */
  readonly maskGraph?: MaskGraphChoice;
  /**
   * What sizes the sparse graph, when the parties set it (kwargs mask_sparse_from, mask_coalition,
   * mask_failure_bits); graph.ts SPARSE_DEFAULTS for the rest. Given ones are agreed in the terms.
   */
  readonly sparse?: Partial<SparseOptions>;
}

/**
 * k when this round masks with the sparse graph (SecureFedAvg), else undefined. The double-masked
 * round sizes it for its dropout budget n − min_parties as well as the coalition (masks.ts).
 */
export function maskNeighbours(params: FedAvgParams, parties: number): number | undefined {
  if (params.variant !== 'SecureFedAvg') return undefined;
  const dropouts = doubleMasking(params, parties) ? parties - params.minParties! : 0;
  return sparseDegree(params.maskGraph ?? 'auto', parties, dropouts, { ...SPARSE_DEFAULTS, ...params.sparse });
}

/** The sparse-graph options the parties gave, under their kwarg names (agreed in the terms). */
function sparseTerms(params: FedAvgParams): Record<string, number> {
  const given = params.sparse ?? {};
  return {
    ...(given.threshold === undefined ? {} : { mask_sparse_from: given.threshold }),
    ...(given.coalition === undefined ? {} : { mask_coalition: given.coalition }),
    ...(given.failureBits === undefined ? {} : { mask_failure_bits: given.failureBits }),
  };
}

/** max_weight when min_parties is given and max_weight is not (docs/dropouts.md: precision). */
export const DEFAULT_MAX_WEIGHT = 2 ** 16;

/** Whether this round recovers from dropouts after masked data (double masking, double.ts). */
export function doubleMasking(params: FedAvgParams, parties: number): boolean {
  return params.variant === 'SecureFedAvg' && params.minParties !== undefined && params.minParties < parties;
}

/** What a restart among the survivors needs to know of the attempt it replaces (docs/dropouts.md). */
export interface Attempt {
  /** 1 for the first attempt, 2 for the one restart among the survivors. */
  readonly number: number;
  /** Indices into the ORIGINAL node list of the parties in this attempt, in order. */
  readonly included: readonly number[];
  readonly dropped: readonly number[];
  /** This party saw something of the failed attempt that a restart would complete: it vetoes. */
  readonly vetoed: boolean;
}

const FIRST_ATTEMPT = (n: number): Attempt => ({ number: 1, included: Array.from({ length: n }, (_, i) => i), dropped: [], vetoed: false });

export interface ModelInput {
  readonly tensors: TensorSet;
  readonly weight: number;
  /** Field path of the tensors, for errors ("kwargs.data.tensors"). */
  readonly where: string;
  /** How long to wait for the other parties' models (they may still be training). */
  readonly waitMs?: number;
}

/**
 * Whether this round's chunks are sized in bytes (CHUNK_RING_BYTES): the default round, so that the
 * 64-bit ring's reduce messages are under 1 MiB, as the 32-bit ring's and PlainFedAvg's float32
 * are, and so that each fits one NATS message. What a party holds in flight (chunk buffers, sealed
 * messages, received bodies, own-segment accumulators) scales with the message, and 2 MiB messages
 * kept the 64-bit round near or above 3× the model at 25M parameters (docs/performance.md
 * "SecureFedAvg's messages of one MiB"). A round with min_parties keeps CHUNK_ELEMENTS: it holds
 * its whole mask anyway (double.ts).
 */
function chunkedByBytes(params: FedAvgParams): boolean {
  return params.chunkElements === undefined && params.minParties === undefined;
}

/** Elements per streamed message (chunk c of a segment is message seq c). */
export function chunkElements(params: FedAvgParams): number {
  if (!chunkedByBytes(params)) return params.chunkElements ?? CHUNK_ELEMENTS;
  // PlainFedAvg sends floats: sized for float32, the dtype of nearly every model.
  // The narrower rings' 5 and 6 bytes do not divide the chunk: the whole elements that fit.
  const elementBytes = params.fixedPoint === undefined ? Float32Array.BYTES_PER_ELEMENT : params.fixedPoint.elementBytes;
  return Math.floor(CHUNK_RING_BYTES / elementBytes);
}

export function termsFor(params: FedAvgParams, nodes: readonly string[]): Terms {
  // In bytes where the chunk follows from the ring, so that parties with different ring widths
  // disagree on ring_bits rather than on the chunk it implies.
  const chunk: Record<string, number> = chunkedByBytes(params) ? { chunk_bytes: CHUNK_RING_BYTES } : { chunk_elements: chunkElements(params) };
  const base = { microprotocol: params.variant, nodes, fedavg: FEDAVG_VERSION, ...chunk };
  const withMin = params.minParties === undefined ? base : { ...base, min_parties: params.minParties };
  if (params.variant === 'PlainFedAvg') return withMin;
  const withMax = params.minParties === undefined ? withMin : { ...withMin, max_weight: params.maxWeight ?? DEFAULT_MAX_WEIGHT, rescue: params.rescue ?? 'backup' };
  const fp = params.fixedPoint!;
  // With the sparse graph the degree is agreed (a party with another k would build another graph).
  const k = maskNeighbours(params, nodes.length);
  const withGraph = { ...withMax, ...sparseTerms(params), ...(k === undefined ? {} : { mask_neighbours: k }) };
  // "ring_frac_bits" sorts after "ring_bits", so a ring width mismatch is reported as such (peers
  // report the first differing key) rather than as the fractional bits that follow from it.
  return { ...withGraph, ring_bits: fp.ringBits, ring_frac_bits: fp.fracBits };
}

/** Counts the payload bytes this party sends (reported with the result). */
class CountingSession implements Session {
  bytesSent = 0;
  /** Parties whose online (post-setup) messages reached this party. */
  readonly heardOnline = new Set<number>();
  /** This party received part of the output (a gather message). */
  sawOutput = false;
  constructor(private readonly inner: Session) {}
  get uuid() { return this.inner.uuid; }
  get myself() { return this.inner.myself; }
  get parties() { return this.inner.parties; }
  get nodes() { return this.inner.nodes; }
  get timeoutMs() { return this.inner.timeoutMs; }
  get signal() { return this.inner.signal; }
  send(to: number, stage: string, payload: Uint8Array, seq?: number): Promise<void> {
    this.bytesSent += payload.length;
    return this.inner.send(to, stage, payload, seq);
  }
  async receive(from: number, stage: string, seq?: number, timeoutMs?: number): Promise<Uint8Array> {
    const payload = await this.inner.receive(from, stage, seq, timeoutMs);
    if (stage !== FEDAVG_STAGES.setup) this.heardOnline.add(from);
    if (stage === FEDAVG_STAGES.gather) this.sawOutput = true;
    return payload;
  }
  abort(reason: string, cause?: AbortCause): Promise<void> { return this.inner.abort(reason, cause); }
  close(): void { this.inner.close(); }
  tell(peer: number, reason: string, cause?: AbortCause): Promise<void> { return this.inner.tell(peer, reason, cause); }
  whenJoined(timeoutMs?: number, peer?: number): Promise<boolean> { return this.inner.whenJoined(timeoutMs, peer); }
  pairSecret(peer: number, context: Uint8Array): Uint8Array { return this.inner.pairSecret(peer, context); }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  return { promise, resolve, reject };
}

/** How long a failed party waits for an abort notice that explains its failure. */
const ROOT_CAUSE_GRACE_MS = 250;

/**
 * When party p aborts, its notice races with our own messages to a third party q that has already
 * failed from p's notice: q refuses them ("already aborted here"), which would blame q. Abort
 * notices reach everyone at about the same time, so wait briefly for ours and report the party
 * that actually gave up.
 */
async function rootCause(session: Session, err: unknown): Promise<unknown> {
  if (!(err instanceof PeerError || err instanceof ConflictError || err instanceof TimeoutError)) return err;
  if (!session.signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ROOT_CAUSE_GRACE_MS);
      session.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
  // A peer's abort notice names the party that gave up in extra.party (server/peer/session.ts
  // abortError); this party's own abort, a closed session or a shutdown names no party.
  const reason: unknown = session.signal.reason;
  const notice = reason instanceof PeerError && typeof reason.extra?.party === 'number';
  return notice ? reason : err;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What setup leaves for the online part. */
interface Prepared {
  readonly layout: Layout;
  /**
   * SecureFedAvg: the terms of the combined mask M_i over the flat model with the chunks expanded
   * during setup (the others are expanded as they are used); and the weight's mask m_i.
   */
  readonly masks?: PreparedMasks;
  /** With dropout recovery instead: the whole combined mask M_i + B_i, one buffer per global chunk id. */
  readonly modelMask?: Uint32Array[];
  readonly weightMask?: Uint32Array;
  /** With dropout recovery: keys and shares for the decision and unmasking (double.ts). */
  readonly double?: DoubleSetup;
  readonly prepareMs: number;
}

/** The stage of a computation as its client sees it. */
export type ComputationStage =
  | { readonly stage: 'setup' }
  | { readonly stage: 'prepared' }
  | { readonly stage: 'running' }
  | { readonly stage: 'done' }
  | { readonly stage: 'failed'; readonly error: Error };

/**
 * One FedAvg computation on an open session. `start` runs setup and resolves once masks are ready;
 * `submit` gives the model (once) and resolves with the averaged tensors. If no model comes within
 * `ttlMs`, or `cancel` is called, the computation aborts (the peers fail naming this party) and
 * frees everything.
 */
export class FedAvgComputation {
  #state: ComputationStage = { stage: 'setup' };
  readonly #model = deferred<ModelInput>();
  readonly #result: Promise<TensorSet>;
  /**
   * The average as the client gets it: resolved as soon as it is complete, which with dropout
   * recovery can be before the protocol ends (#result): a finished party then still serves the
   * others' rescue requests (double.ts `linger`) without keeping its client waiting.
   */
  readonly #answer = deferred<TensorSet>();
  readonly #ready = deferred<void>();
  readonly #session: CountingSession;
  readonly #ttl: NodeJS.Timeout;

  private constructor(session: Session, readonly manifest: Manifest, readonly params: FedAvgParams, ttlMs: number, readonly attempt: Attempt) {
    this.#session = new CountingSession(session);
    this.#ttl = setTimeout(() => this.cancel(`no model was submitted within ${Math.round(ttlMs / 1000)} s`), ttlMs);
    this.#ttl.unref();
    // A party the others left out (double.ts) must not abort them: they finish without it.
    this.#result = runProtocol(this.#session, () => this.#run(), { tellPeers: (err) => !(err instanceof LeftOutError) });
    this.#result.then(
      (tensors) => this.#answer.resolve(tensors),
      (error: Error) => {
        this.#state = { stage: 'failed', error };
        this.#ready.reject(error);
        this.#answer.reject(error);
      },
    );
    this.#answer.promise.then(() => {
      this.#state = { stage: 'done' };
    }, () => {});
    this.#result.catch(() => {}).finally(() => clearTimeout(this.#ttl));
  }

  /** Opens the computation and waits until setup (manifests, seeds, masks) is done. */
  static async start(session: Session, manifest: Manifest, params: FedAvgParams, ttlMs: number, attempt: Attempt = FIRST_ATTEMPT(session.parties)): Promise<FedAvgComputation> {
    const computation = new FedAvgComputation(session, manifest, params, ttlMs, attempt);
    await computation.#ready.promise;
    return computation;
  }

  /**
   * This computation recovers from dropouts itself (double masking) and this party has stated its
   * included set (double.ts, confirm stage): an output over that set may come to exist, so a
   * restart among other parties could be subtracted from it; whatever failed it now is final.
   * Before the statement a restart is safe (docs/dropouts.md, "Restarting a double-masked round").
   */
  get recoveredInside(): boolean {
    return this.#stated;
  }
  #stated = false;

  get state(): ComputationStage {
    return this.#state;
  }

  /**
   * After this attempt failed with `missing` parties gone: would a restart among the others let
   * this party learn something that, with the restart's output, reveals a missing party's input?
   * Yes once it holds anything that depends on a missing party's online message (its masked
   * weight, its contribution to this party's segment) or any part of the output (docs/dropouts.md).
   * The session is closed by then (runProtocol), so nothing more can arrive.
   */
  wouldLeakOnRestart(missing: readonly number[]): boolean {
    // Double masking, before this party's statement (else there is no restart, recoveredInside):
    // what it holds of a missing party is masked by that party's self mask B_m, and a restart that
    // completes proves no share of any b_m of this attempt is ever revealed (docs/dropouts.md).
    if (doubleMasking(this.params, this.#session.parties)) return false;
    return this.#session.sawOutput || missing.some((m) => this.#session.heardOnline.has(m));
  }

  /** Gives this party's model; resolves with the average every party receives. */
  submit(input: ModelInput): Promise<TensorSet> {
    const state = this.#state;
    // Failed already (a peer aborted, died, or disagreed): that failure is the answer, with its
    // own status and the party it names, not a generic conflict.
    if (state.stage === 'failed' && state.error instanceof TesseraError) return Promise.reject(state.error);
    if (state.stage !== 'prepared') {
      const why = state.stage === 'failed' ? `it failed: ${state.error.message}` : `it is ${state.stage}`;
      return Promise.reject(new ConflictError(`this computation cannot take a model: ${why}`, { where: 'submit' }));
    }
    this.#state = { stage: 'running' };
    clearTimeout(this.#ttl);
    this.#model.resolve(input);
    return this.#answer.promise;
  }

  /**
   * This party's model or weight was invalid: the computation ends with that error for this party
   * (returned) and, through runProtocol's abort, for the others naming the field. Only while it
   * waits for its model; otherwise the computation is left as it is.
   */
  refuse(err: unknown): unknown {
    if (this.#state.stage === 'prepared') {
      this.#state = { stage: 'running' };
      clearTimeout(this.#ttl);
      this.#model.reject(err);
    }
    return err;
  }

  /** Gives up before the model is submitted; the other parties fail promptly, naming this party. */
  cancel(reason = 'cancelled by the client'): void {
    const stage = this.#state.stage;
    if (stage === 'prepared') {
      this.#model.reject(new ConflictError(`the computation was cancelled: ${reason}`, { where: 'submit' }));
    } else if (stage === 'setup' || stage === 'running') {
      // Fails every local wait at once; runProtocol then tells the peers and closes the session.
      this.#session.abort(reason).catch(() => {});
    }
  }

  async #run(): Promise<TensorSet> {
    const session = this.#session;
    const t0 = performance.now();
    let prepared: Prepared;
    try {
      prepared = await this.#setup(session, t0);
    } catch (err) {
      // As online: a refusal from a party that already failed is explained by that party's notice.
      throw await rootCause(session, err);
    }
    this.#state = { stage: 'prepared' };
    this.#ready.resolve();
    // A peer that aborts (or dies) while this party waits for its model fails it right away.
    const aborted = whenAborted(session);
    let input: ModelInput;
    try {
      input = await Promise.race([this.#model.promise, aborted.promise]);
    } finally {
      aborted.dispose();
    }
    const t1 = performance.now();
    let result: { outputs: FloatArray[]; totalWeight: number; included?: readonly number[]; lostAfterDecision?: readonly number[]; linger?: Promise<void> };
    try {
      result = await this.#online(session, prepared, input);
    } catch (err) {
      throw await rootCause(session, err);
    }
    // Indices into the node list the clients gave: who is in this average, who dropped out (before
    // this attempt, or, with dropout recovery, during it).
    const inAverage = (result.included ?? Array.from({ length: session.parties }, (_, i) => i)).map((i) => this.attempt.included[i]!);
    const dropped = [...this.attempt.dropped, ...this.attempt.included.filter((i) => !inAverage.includes(i))].sort((a, b) => a - b);
    const metadata: Record<string, string> = {
      'tessera.microprotocol': this.params.variant,
      'tessera.parties': String(inAverage.length),
      'tessera.included': JSON.stringify(inAverage),
      'tessera.dropped': JSON.stringify(dropped),
      'tessera.weight': String(result.totalWeight),
      'tessera.bytes_sent': String(session.bytesSent),
      'tessera.prepare_ms': prepared.prepareMs.toFixed(1),
      'tessera.online_ms': (performance.now() - t1).toFixed(1),
    };
    if (result.lostAfterDecision !== undefined) {
      // Parties in tessera.included that stopped answering after the included set was decided:
      // their models are in the average (decided in before anything was unmasked, so they cannot
      // be taken out; docs/dropouts.md), their segment rebuilt for this party by their rescuer.
      metadata['tessera.dropped_after_decision'] = JSON.stringify(result.lostAfterDecision.map((i) => this.attempt.included[i]!));
    }
    if (this.params.fixedPoint) {
      // Whom each party masked with: k neighbours of the sparse graph, or every other party (n − 1).
      metadata['tessera.mask_neighbours'] = String(maskNeighbours(this.params, session.parties) ?? session.parties - 1);
      metadata['tessera.ring_bits'] = String(this.params.fixedPoint.ringBits);
      metadata['tessera.frac_bits'] = String(this.params.fixedPoint.fracBits);
    }
    const tensors = new Map<string, Tensor>();
    prepared.layout.tensors.forEach((t, i) => tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: result.outputs[i]! }));
    const average = new TensorSet(tensors, metadata);
    this.#answer.resolve(average);
    // The client has its average; the session stays open while another party may still need
    // this one to rebuild a segment (double.ts). It never fails.
    await result.linger;
    return average;
  }

  /** Stage "setup": exchange manifests and seed contributions; expand the masks. */
  async #setup(session: Session, t0: number): Promise<Prepared> {
    const secure = this.params.variant === 'SecureFedAvg';
    const double = doubleMasking(this.params, session.parties);
    const others = otherParties(session);
    const me = session.myself;
    const manifestBytes = Buffer.from(JSON.stringify(this.manifest), 'utf8');
    // Default: a fresh seed contribution per pair. With dropout recovery (double.ts) the pair seeds
    // come from X25519 instead, so that the shares of a dropped party's key rebuild all of its pair
    // seeds; each message then carries this party's public key and the recipient's Shamir shares
    // of its key and of its self-mask secret (threshold min_parties).
    const contributions = new Map(others.map((j) => [j, secure && !double ? freshSeed() : Buffer.alloc(0)]));
    const seedBytes = secure && !double ? SEED_BYTES : 0;
    // With the sparse graph (graph.ts) every party also sends one coin, the same to all; the graph
    // seed hashes all n coins, so it is uniform as long as one party's coin is.
    const degree = maskNeighbours(this.params, session.parties);
    const coin = degree === undefined ? Buffer.alloc(0) : freshSeed();
    const coinBytes = coin.length;
    const extraBytes = double ? DOUBLE_SETUP_BYTES : 0;
    const head = seedBytes + coinBytes;
    let ownDouble: { secretKey: Uint8Array; publicKey: Uint8Array; self: bigint; selfShares: bigint[]; keyShares: bigint[] } | undefined;
    if (double) {
      const key = F25519.random();
      const secretKey = keyFromSecret(key);
      const self = F25519.random();
      const t = this.params.minParties!;
      ownDouble = { secretKey, publicKey: x25519.getPublicKey(secretKey), self, selfShares: shamirShare(self, session.parties, t), keyShares: shamirShare(key, session.parties, t) };
    }
    const extraFor = (to: number): Uint8Array =>
      ownDouble === undefined ? Buffer.alloc(0) : Buffer.concat([ownDouble.publicKey, F25519.encodeBytes(ownDouble.selfShares[to]!), F25519.encodeBytes(ownDouble.keyShares[to]!)]);
    // Byte 0: 1 when this party vetoes a restart (it saw part of the failed attempt, docs/dropouts.md).
    const flag = Uint8Array.of(this.attempt.vetoed ? 1 : 0);
    const [, received] = await Promise.all([
      scatter(session, FEDAVG_STAGES.setup, (to) => Buffer.concat([flag, contributions.get(to)!, coin, extraFor(to), manifestBytes])),
      gather(session, FEDAVG_STAGES.setup, others, (payload, from) => {
        const party = partyName(session, from);
        const fail = (message: string) => new PeerError(`setup message: ${message}`, { where: party });
        if (payload.length < 1 + head + extraBytes || payload[0]! > 1) throw fail('too short or malformed');
        let json: unknown;
        try {
          json = JSON.parse(Buffer.from(payload.subarray(1 + head + extraBytes)).toString('utf8'));
        } catch {
          throw fail('the manifest is not JSON');
        }
        const extra = payload.subarray(1 + head, 1 + head + extraBytes);
        return {
          vetoed: payload[0] === 1,
          seed: Buffer.from(payload.subarray(1, 1 + seedBytes)),
          coin: Uint8Array.from(payload.subarray(1 + seedBytes, 1 + head)),
          publicKey: Uint8Array.from(extra.subarray(0, 32)),
          selfShare: double ? F25519.decodeBytes(extra.subarray(32, 32 + SHARE_BYTES), party) : 0n,
          keyShare: double ? F25519.decodeBytes(extra.subarray(32 + SHARE_BYTES), party) : 0n,
          manifest: parseManifest(json, party, fail),
        };
      }),
    ]);
    // A restart completes only if no party in it saw anything of the failed attempt that the
    // restart's output would complement; one veto ends the round for everyone, before any input.
    const vetoes = [...(this.attempt.vetoed ? [me] : []), ...others.filter((j) => received.get(j)!.vetoed)];
    if (vetoes.length > 0) {
      throw new PeerError(
        `the round cannot continue without the dropped parties: ${vetoes.map((j) => partyName(session, j)).join(', ')} already held data of theirs or part of the average`,
        { where: partyName(session, vetoes[0]!) },
      );
    }
    for (const j of others) {
      const conflict = compareManifests(this.manifest, received.get(j)!.manifest, partyName(session, j), j);
      if (conflict) throw conflict;
    }
    const layout = new Layout(this.manifest, session.parties, chunkElements(this.params));
    if (!secure) return { layout, prepareMs: performance.now() - t0 };

    const bits = this.params.fixedPoint!.bits;
    // Whom this party masks with: every other party, or its neighbours in the sparse graph, built
    // alike at every party from everyone's coins (graph.ts).
    const graph = degree === undefined
      ? completeGraph(session.parties)
      : hararyGraph(session.parties, degree, graphSeed(Array.from({ length: session.parties }, (_, j) => (j === me ? coin : received.get(j)!.coin))));
    const partners = graph.neighbours(me);
    // The mask terms of this party (masks.ts): the lower-indexed party of a pair adds the pair's
    // mask, the higher one subtracts it; with dropout recovery, plus its own self mask B_i.
    const terms: MaskTerm[] = pairTerms(me, partners, (j) => {
      if (ownDouble !== undefined) return dhPairSeed(ownDouble.secretKey, received.get(j)!.publicKey, me, j);
      const [lo, hi] = me < j ? [me, j] : [j, me];
      const ikm = me < j ? Buffer.concat([contributions.get(j)!, received.get(j)!.seed]) : Buffer.concat([received.get(j)!.seed, contributions.get(j)!]);
      const seed = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), `tessera/SecureFedAvg/v1/pair-seed/${lo}/${hi}`, SEED_BYTES));
      ikm.fill(0);
      return seed;
    });
    for (const c of contributions.values()) c.fill(0);
    let doubleSetup: DoubleSetup | undefined;
    let selfTerm: MaskTerm | undefined;
    if (ownDouble !== undefined) {
      selfTerm = { seed: selfSeed(ownDouble.self, me), sign: 1 };
      terms.push(selfTerm);
      ownDouble.secretKey.fill(0);
      doubleSetup = {
        threshold: this.params.minParties!,
        graph,
        publicKeys: Array.from({ length: session.parties }, (_, j) => (j === me ? ownDouble.publicKey : received.get(j)!.publicKey)),
        selfShares: Array.from({ length: session.parties }, (_, j) => (j === me ? ownDouble.selfShares[me]! : received.get(j)!.selfShare)),
        keyShares: Array.from({ length: session.parties }, (_, j) => (j === me ? ownDouble.keyShares[me]! : received.get(j)!.keyShare)),
        maxQ: quantiseWeight(this.params.maxWeight ?? DEFAULT_MAX_WEIGHT),
        // Without backups the own-segment contribution (masked below without the self mask) is
        // where the others' are summed as they arrive; a holder that summed a party decided out
        // masks it afresh, so these seeds outlive setup (double.ts ownTerms).
        ...(this.params.rescue === 'none' ? { ownTerms: terms.filter((t) => t !== selfTerm).map((t) => ({ seed: Buffer.from(t.seed), sign: t.sign })) } : {}),
      };
    }
    const weightMask = combinedMask(64, terms, LABEL_WEIGHT, 0, 1);
    if (doubleSetup === undefined) {
      // The default round: chunks up to MASK_PRECOMPUTE_BYTES expanded now, the rest fused with
      // the encoding when used; the seeds are kept for that and zeroed after the online part.
      const bySegment = segmentTerms(me, partners, terms, session.parties);
      const masks = await precomputeMasks(bits, terms, bySegment, LABEL_MODEL, layout, MASK_PRECOMPUTE_BYTES);
      return { layout, masks, weightMask, prepareMs: performance.now() - t0 };
    }
    // With dropout recovery every contribution is kept until the decision (double.ts), so the whole
    // combined mask is expanded here, chunk by chunk in flat order, and the seeds can go at once.
    // Without backups (rescue "none") this party's contribution to its own segment never leaves it,
    // so it carries no self mask: that is B_i's share of the online unmasking done here, in setup
    // (double.ts ownSelfMasked).
    const unsentOwn = this.params.rescue === 'none' ? terms.filter((t) => t !== selfTerm) : terms;
    const modelMask: Uint32Array[] = [];
    for (let j = 0; j < session.parties; j++) {
      for (let c = 0; c < layout.chunkCount(j); c++) {
        const [start, end] = layout.chunk(j, c);
        modelMask.push(combinedMask(bits, j === me ? unsentOwn : terms, LABEL_MODEL, start, end));
        // Let the server answer other requests (and peers' messages) during a long expansion.
        await yieldToEventLoop();
      }
    }
    for (const t of terms) t.seed.fill(0);
    return { layout, modelMask, weightMask, double: doubleSetup, prepareMs: performance.now() - t0 };
  }

  /**
   * Where the default round writes this party's average: into its input's own arrays (the uploaded
   * model's buffers) whenever nothing can need the input after this attempt. Every element of the
   * input is read (range-checked, then encoded into a contribution or into this party's own
   * accumulator) before its average can exist: a chunk of party j's segment is averaged only once
   * j holds this party's contribution to it (reduceAndGather). So a party holds its input and the
   * chunks in flight, not its input and a separate output (docs/performance.md "Memory"). The
   * input is marked consumed, so that a later use of it is a 409 rather than a read of the average.
   * Fresh arrays instead while the round may still restart among the survivors with the same
   * input (min_parties below the party count, before this party stated its included set: index.ts
   * restartAfter; the double-masked round asks only after its statement, double.ts), or when two
   * of the input's tensors share memory (the average of one would overwrite the other).
   */
  #outputStorage(layout: Layout, input: ModelInput, uuid: string): FloatArray[] {
    const roundParties = this.attempt.included.length + this.attempt.dropped.length;
    const mayRestart = this.params.minParties !== undefined && this.params.minParties < roundParties && !this.#stated;
    const arrays = layout.tensors.map((t) => input.tensors.get(t.name)!.data);
    if (mayRestart || sharesMemory(arrays)) return allocOutputs(layout);
    input.tensors.consume(`${this.params.variant} computation ${uuid}`, input.where);
    return arrays;
  }

  async #online(session: Session, prepared: Prepared, input: ModelInput): Promise<{ outputs: FloatArray[]; totalWeight: number; included?: readonly number[]; lostAfterDecision?: readonly number[]; linger?: Promise<void> }> {
    const { layout } = prepared;
    const others = otherParties(session);
    checkAgainstManifest(this.manifest, input);
    const waitOptions = input.waitMs === undefined ? {} : { timeoutMs: input.waitMs };
    const fp = this.params.fixedPoint;
    if (fp) {
      // Range-check the whole model before the first online message: a party with a bad value
      // fails here and aborts, so the others learn why (naming it) and nothing masked is sent.
      for (const t of layout.tensors) {
        checkEncodable(fp, input.tensors.get(t.name)!.data, `${input.where}.${t.name}`);
        if (t.length > 1 << 22) await yieldToEventLoop();
      }
    }

    if (prepared.double !== undefined) {
      const q = quantiseWeight(input.weight);
      checkBelowMax(q, prepared.double.maxQ, this.params.maxWeight ?? DEFAULT_MAX_WEIGHT, input.where.replace(/\.tensors$/, '.weight'));
      // x_i = round(w_i · q_i/Q · 2^f): the scale is public and fixed before anyone can drop.
      const multiplier = (q / prepared.double.maxQ) * fp!.scale;
      const encode = (chunk: Uint32Array, j: number, c: number) => {
        const [start, end] = layout.chunk(j, c);
        for (const p of layout.pieces(start, end)) {
          const t = layout.tensors[p.tensor]!;
          const data = input.tensors.get(t.name)!.data.subarray(p.from, p.to);
          const at = t.offset + p.from - start;
          encodeInto(fp!, ringSlice(fp!.bits, chunk, at, at + data.length), data, multiplier, 'add', `${input.where}.${t.name}`, p.from, true);
        }
      };
      const doubleInput = {
        layout,
        fp: fp!,
        mask: prepared.modelMask as Uint32Array[],
        weightMask: prepared.weightMask!,
        setup: prepared.double,
        modelLabel: LABEL_MODEL,
        weightLabel: LABEL_WEIGHT,
        stages: FEDAVG_STAGES,
        onStatement: () => {
          this.#stated = true;
        },
        rescue: this.params.rescue ?? 'backup',
        ...(this.params.stageTimeoutMs === undefined ? {} : { stageTimeoutMs: this.params.stageTimeoutMs }),
      };
      const outcome = await onlineDouble(session, doubleInput, q, encode, () => this.#outputStorage(layout, input, session.uuid), input.waitMs);
      return { outputs: outcome.outputs, totalWeight: outcome.totalWeight, included: outcome.included, lostAfterDecision: outcome.lostAfterDecision, linger: outcome.linger };
    }

    const outputs = this.#outputStorage(layout, input, session.uuid);

    // Stage "weights".
    let share: number;
    let totalWeight: number;
    if (this.params.variant === 'SecureFedAvg') {
      const q = quantiseWeight(input.weight);
      const masked = prepared.weightMask!;
      addBytesInto(64, masked, ringBytes(ringFromBigInt(BigInt(q))), 1);
      const [, theirs] = await Promise.all([
        scatter(session, FEDAVG_STAGES.weights, () => ringBytes(masked)),
        gather(session, FEDAVG_STAGES.weights, others, (p, from) => {
          if (p.length !== 8) throw new PeerError(`weights message of ${p.length} bytes`, { where: partyName(session, from) });
          return wordsOf(p).slice();
        }, waitOptions),
      ]);
      const sum = masked.slice();
      for (const w of theirs.values()) addBytesInto(64, sum, ringBytes(w), 1);
      const total = elementAt(64, sum, 0);
      if (total <= 0n) throw new PeerError('the weights do not sum to a positive total (a party sent a malformed weight)');
      const totalQ = Number(total);
      share = q / totalQ;
      totalWeight = totalQ / 2 ** WEIGHT_FRAC_BITS;
    } else {
      const own = Float64Array.of(input.weight);
      const [, theirs] = await Promise.all([
        scatter(session, FEDAVG_STAGES.weights, () => new Uint8Array(own.buffer)),
        gather(session, FEDAVG_STAGES.weights, others, (p, from) => {
          const w = p.length === 8 ? Buffer.from(p).readDoubleLE(0) : NaN;
          if (!(w > 0 && w <= MAX_WEIGHT)) throw new PeerError('malformed weight', { where: partyName(session, from) });
          return w;
        }, waitOptions),
      ]);
      // Summed in party order, so every party computes the same float total.
      totalWeight = 0;
      for (let i = 0; i < session.parties; i++) totalWeight += i === session.myself ? input.weight : theirs.get(i)!;
      share = input.weight / totalWeight;
    }

    const aggregator =
      this.params.variant === 'SecureFedAvg'
        ? secureAggregator(this.params.fixedPoint!, layout, prepared.masks!, input, share, outputs, session.myself)
        : plainAggregator(layout, input, share, outputs, session.myself);
    await aggregator.ready;
    try {
      await reduceAndGather(session, layout, aggregator, outputs);
    } finally {
      for (const t of prepared.masks?.terms ?? []) t.seed.fill(0);
    }
    return { outputs, totalWeight };
  }
}

/** Whether any two of `arrays` overlap in memory. */
function sharesMemory(arrays: readonly FloatArray[]): boolean {
  const spans = new Map<ArrayBufferLike, [number, number][]>();
  for (const a of arrays) {
    const list = spans.get(a.buffer) ?? [];
    list.push([a.byteOffset, a.byteOffset + a.byteLength]);
    spans.set(a.buffer, list);
  }
  for (const list of spans.values()) {
    list.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < list.length; i++) if (list[i]![0] < list[i - 1]![1]) return true;
  }
  return false;
}

/** The submitted model must be the one announced at setup: same names, dtypes, shapes. */
function checkAgainstManifest(manifest: Manifest, input: ModelInput): void {
  const conflict = compareManifests(manifest, input.tensors.manifest(), 'the submitted model', -1);
  if (conflict) {
    throw new BadInputError(conflict.message.replace('the models differ', 'the submitted model differs from the announced one'), {
      where: `${input.where}.${String(conflict.extra?.tensor ?? '')}`,
    });
  }
}

export function checkWeight(weight: unknown, where: string): number {
  if (typeof weight !== 'number' || !(weight > 0) || !(weight <= MAX_WEIGHT)) {
    // Which rule failed, never the value (a weight is a party's private sample count).
    const why = typeof weight !== 'number' ? `a ${weight === null ? 'null' : typeof weight}` : Number.isNaN(weight) ? 'NaN' : weight > MAX_WEIGHT ? 'too large' : 'not positive';
    throw new BadInputError(`weight must be a number greater than 0 and at most ${MAX_WEIGHT}; it is ${why}`, { where });
  }
  if (quantiseWeight(weight) === 0) {
    throw new BadInputError(`weight is below the resolution 2^-${WEIGHT_FRAC_BITS}`, { where });
  }
  return weight;
}

/** q = round(n·2^24): the weight as it is summed. Every party scales by q/Σq, so the average is exact in q. */
function quantiseWeight(weight: number): number {
  return Math.round(weight * 2 ** WEIGHT_FRAC_BITS);
}

function ringFromBigInt(v: bigint): Uint32Array {
  const u = BigInt.asUintN(64, v);
  return Uint32Array.of(Number(u & 0xffffffffn), Number(u >> 32n));
}

/** The per-variant arithmetic of the reduce-scatter; the message flow is shared. */
interface Aggregator {
  /** Resolves when this party's contribution is encoded. */
  readonly ready: Promise<void>;
  /** This party's contribution to chunk c of party j's segment. */
  contribution(j: number, c: number): Uint8Array;
  /** That contribution has been delivered: its memory may go. */
  sent(j: number, c: number): void;
  /** Adds a received contribution to chunk c of this party's segment. */
  accumulate(c: number, payload: Uint8Array, party: string): void;
  /** All contributions to chunk c of this party's segment are in: write the output values. */
  finish(c: number): void;
}

/**
 * The masks of one SecureFedAvg computation as setup leaves them: the terms (which PRG seeds, with
 * which sign — the protocol's choice) and the chunks already expanded during setup, by global
 * chunk id. Every other chunk is expanded just before its use (services/common/mask.ts).
 */
export interface PreparedMasks {
  readonly bits: RingBits;
  /** Every term of this party (their seeds are zeroed after the online part). */
  readonly terms: readonly MaskTerm[];
  /** The terms applied to each segment (masks.ts segmentTerms). */
  readonly bySegment: readonly (readonly MaskTerm[])[];
  readonly label: string;
  readonly precomputed: Map<number, Uint32Array>;
}

/**
 * Mask memory expanded ahead during setup, at most: the first chunks in the order the online part
 * uses them. Beyond it, chunks are expanded online, one at a time, fused with the encoding. This is
 * the trade between online time (keystream computed before the model arrives) and peak memory
 * (the whole mask would be k/32 times the float32 model: with the input and the output that alone
 * breaks the bound of 3× the model), docs/performance.md "Memory".
 */
export const MASK_PRECOMPUTE_BYTES = 16 * 1024 * 1024;

/** Global chunk ids in the order the online part first needs them: chunk c of every segment, then c + 1. */
function chunkUseOrder(layout: Layout): number[] {
  const order: number[] = [];
  const most = Math.max(...Array.from({ length: layout.parties }, (_, j) => layout.chunkCount(j)));
  for (let c = 0; c < most; c++) {
    for (let j = 0; j < layout.parties; j++) if (c < layout.chunkCount(j)) order.push(layout.chunkId(j, c));
  }
  return order;
}

/**
 * Expands the first chunks (in use order) up to `budgetBytes`, each with the terms of its segment
 * (`bySegment`), yielding to the event loop between chunks. A chunk without terms (this party's
 * own segment) has nothing to expand ahead.
 */
async function precomputeMasks(bits: RingBits, terms: readonly MaskTerm[], bySegment: readonly (readonly MaskTerm[])[], label: string, layout: Layout, budgetBytes: number): Promise<PreparedMasks> {
  const precomputed = new Map<number, Uint32Array>();
  const byId = new Map<number, [number, number, number]>();
  for (let j = 0; j < layout.parties; j++) for (let c = 0; c < layout.chunkCount(j); c++) byId.set(layout.chunkId(j, c), [...layout.chunk(j, c), j]);
  const prepared = { bits, terms, bySegment, label, precomputed };
  // A model whose whole mask fits the budget is expanded in one pass and cut into its chunks:
  // chunk by chunk, each chunk would start one AES-CTR cipher per mask term, (chunks × terms) in
  // all, which for a small model among many parties (1,000 parameters, 100 parties: 100 one-chunk
  // segments × 26 terms) cost far more than the keystream itself (a CPU profile of a 100-party
  // round, docs/relay.md). The chunks are disjoint views, so using one in place touches no other.
  // Only up to 1 MiB: a larger mask is expanded chunk by chunk, yielding to the event loop between.
  const wholeBytes = layout.total * (bits / 8);
  const w = bits / 32;
  if (wholeBytes <= Math.min(budgetBytes, 1024 * 1024)) {
    const whole = allocRing(bits, layout.total);
    expandMaskInto(bits, terms, label, whole, 0);
    // Then each segment loses the terms it leaves out: its own segment is cleared, a partner's
    // loses that partner's term, expanded over that segment alone (one cipher per partner, not
    // one per segment and term).
    for (let j = 0; j < layout.parties; j++) {
      const [start, end] = layout.segment(j);
      const kept = bySegment[j]!;
      const dropped = terms.filter((t) => !kept.includes(t));
      if (dropped.length === 0 || end === start) continue;
      const segment = whole.subarray(start * w, end * w);
      if (kept.length === 0) {
        segment.fill(0);
        continue;
      }
      const extra = allocRing(bits, end - start);
      expandMaskInto(bits, dropped, label, extra, start);
      addInto(bits, segment, extra, -1);
    }
    for (const [id, [start, end]] of byId) precomputed.set(id, whole.subarray(start * w, end * w));
    return prepared;
  }
  let used = 0;
  for (const id of chunkUseOrder(layout)) {
    const [start, end, j] = byId.get(id)!;
    if (bySegment[j]!.length === 0) continue;
    const bytes = (end - start) * (bits / 8);
    if (used + bytes > budgetBytes) break;
    const chunk = allocRing(bits, end - start);
    expandMaskInto(bits, bySegment[j]!, label, chunk, start);
    precomputed.set(id, chunk);
    used += bytes;
    // Let the server answer other requests (and peers' messages) during a long expansion.
    await yieldToEventLoop();
  }
  return prepared;
}

function secureAggregator(
  fp: VectorFixedPoint,
  layout: Layout,
  masks: PreparedMasks,
  input: ModelInput,
  share: number,
  outputs: FloatArray[],
  me: number,
): Aggregator {
  const bits = fp.bits;
  const w = bits / 32;
  const scratch: { buffer?: Uint32Array } = {};
  const multiplier = share * fp.scale;
  // Chunk buffers are recycled: a contribution's buffer returns once it has been sealed and
  // delivered, an own-segment accumulator once it is decoded. Memory is then bounded by the chunks
  // in flight, and the garbage collector is not asked to find 2 MiB external buffers by the hundred.
  // Only full chunks are pooled; a short one (the last of a segment, or a small model) is
  // allocated at its own size.
  const pool: Uint32Array[] = [];
  const fullWords = layout.chunkElements * w;
  const take = (elements: number): Uint32Array => (elements * w === fullWords ? pool.pop() ?? new Uint32Array(fullWords) : new Uint32Array(elements * w));
  const give = (chunk: Uint32Array): void => {
    if (chunk.length === fullWords && chunk.byteOffset === 0 && pool.length < 8) pool.push(chunk);
  };
  // Z_2^40 and Z_2^48 travel packed (vector.ts packRing): a contribution is packed into a buffer of
  // its own, pooled like the chunks, and its chunk goes back to the pool at once.
  const packs = fp.ringBits !== fp.bits;
  const packedPool: Uint8Array[] = [];
  const fullPacked = layout.chunkElements * fp.elementBytes;
  const takePacked = (elements: number): Uint8Array => {
    const bytes = elements * fp.elementBytes;
    return bytes === fullPacked ? packedPool.pop() ?? new Uint8Array(bytes) : new Uint8Array(bytes);
  };
  /**
   * Writes (mode 'set') or adds (mode 'add') the encoding of flat elements [from, to) of the model
   * into `target`, which starts at element `base`.
   */
  const encodeRange = (target: Uint32Array, base: number, from: number, to: number, mode: 'set' | 'add'): void => {
    for (const p of layout.pieces(from, to)) {
      const t = layout.tensors[p.tensor]!;
      const data = input.tensors.get(t.name)!.data.subarray(p.from, p.to);
      const at = t.offset + p.from - base;
      // Values were range-checked before the weights stage (`checked`).
      encodeInto(fp, ringSlice(bits, target, at, at + data.length), data, multiplier, mode, `${input.where}.${t.name}`, p.from, true);
    }
  };
  /**
   * x_i + M_i over chunk c of segment j, with the terms of segment j. A chunk expanded at setup
   * only gets the encoding added; any other is encoded slice by slice and the keystreams are added
   * onto it while the slice is in cache (maskOnto). This party's own segment has no terms: it is
   * only encoded.
   */
  const maskedChunk = (j: number, c: number): Uint32Array => {
    const [start, end] = layout.chunk(j, c);
    const id = layout.chunkId(j, c);
    const ready = masks.precomputed.get(id);
    if (ready !== undefined) {
      masks.precomputed.delete(id);
      encodeRange(ready, start, start, end, 'add');
      return ready;
    }
    const chunk = take(end - start);
    maskOnto(bits, masks.bySegment[j]!, masks.label, chunk, start, (slice, from) => encodeRange(chunk, start, from, from + slice.length / w, 'set'));
    return chunk;
  };
  const outgoing = new Map<number, Uint32Array | Uint8Array>();
  // Own-segment accumulators, created at the first contribution to arrive for the chunk (so they
  // live only while that chunk is being reduced) and released when it is decoded.
  const own = new Map<number, Uint32Array>();
  const finished = new Set<number>();
  const ownChunk = (c: number, party: string): Uint32Array => {
    if (finished.has(c)) throw new PeerError(`chunk ${c} of segment ${me} was already finished`, { where: party });
    let chunk = own.get(c);
    if (chunk === undefined) own.set(c, (chunk = maskedChunk(me, c)));
    return chunk;
  };
  return {
    ready: Promise.resolve(),
    contribution(j, c) {
      const chunk = maskedChunk(j, c);
      if (!packs) {
        outgoing.set(layout.chunkId(j, c), chunk);
        return ringBytes(chunk);
      }
      const packed = packRing(fp, chunk, takePacked(chunk.length / w));
      give(chunk);
      outgoing.set(layout.chunkId(j, c), packed);
      return packed;
    },
    sent(j, c) {
      const id = layout.chunkId(j, c);
      const buffer = outgoing.get(id);
      outgoing.delete(id);
      if (buffer instanceof Uint32Array) give(buffer);
      else if (buffer !== undefined && buffer.byteLength === fullPacked && buffer.byteOffset === 0 && packedPool.length < 8) packedPool.push(buffer);
    },
    accumulate(c, payload, party) {
      const [start, end] = layout.chunk(me, c);
      const expected = (end - start) * fp.elementBytes;
      if (payload.length !== expected) {
        throw new PeerError(`expected ${expected} bytes for chunk ${c}, got ${payload.length}`, { where: party });
      }
      addPackedInto(fp, ownChunk(c, party), payload, 1, scratch);
    },
    finish(c) {
      const [start, end] = layout.chunk(me, c);
      const chunk = ownChunk(c, `segment ${me}`);
      for (const p of layout.pieces(start, end)) {
        const t = layout.tensors[p.tensor]!;
        const at = t.offset + p.from - start;
        decodeInto(fp, ringSlice(bits, chunk, at, at + p.to - p.from), outputs[p.tensor]!.subarray(p.from, p.to));
      }
      own.delete(c);
      finished.add(c);
      give(chunk);
    },
  };
}

function plainAggregator(layout: Layout, input: ModelInput, share: number, outputs: FloatArray[], me: number): Aggregator {
  const [segStart, segEnd] = layout.segment(me);
  const data = layout.tensors.map((t) => input.tensors.get(t.name)!.data);
  const reject = (tensor: string, index: number, x: number): never => {
    throw new BadInputError(`element ${index} of ${input.where}.${tensor} is ${Number.isNaN(x) ? 'NaN' : 'infinite'}`, { where: `${input.where}.${tensor}`, extra: { element: index } });
  };
  // Full float32 chunks are recycled once sealed and delivered (`sent`), like secureAggregator's.
  const pool: Float32Array[] = [];
  const fullBytes = layout.chunkElements * 4;
  const outgoing = new Map<number, Uint8Array>();
  const takeF32 = (elements: number): Float32Array => (elements * 4 === fullBytes ? pool.pop() ?? new Float32Array(elements) : new Float32Array(elements));
  // This party's segment is summed where its average goes, in the output's own arrays and dtype,
  // as a plain float32 all-reduce sums: a chunk starts as this party's own share at the first
  // contribution to arrive for it, and each contribution is added in place. A float64 accumulator
  // per chunk (twice the message, live while the chunk is reduced, and a pass to copy it out) was
  // memory and work SecureFedAvg's round does not hold beyond its ring chunks. The sum now rounds
  // to the dtype at each of its n − 1 additions, where the float64 one rounded once.
  const started = new Set<number>();
  const finished = new Set<number>();
  const ownChunk = (c: number, party: string): void => {
    if (finished.has(c)) throw new PeerError(`chunk ${c} of segment ${me} was already finished`, { where: party });
    if (started.has(c)) return;
    const [start, end] = layout.chunk(me, c);
    for (const p of layout.pieces(start, end)) {
      const src = data[p.tensor]!;
      const out = outputs[p.tensor]!;
      // Checked finite by `ready`. `out` may be `src` itself (the average written into the input).
      for (let i = p.from; i < p.to; i++) out[i] = src[i]! * share;
    }
    started.add(c);
  };
  return {
    // This party's own segment is checked before anything is sent, as the others' are in `contribution`.
    ready: Promise.resolve().then(() => {
      for (const p of layout.pieces(segStart, segEnd)) {
        const t = layout.tensors[p.tensor]!;
        const src = data[p.tensor]!;
        for (let i = p.from; i < p.to; i++) {
          const x = src[i]!;
          if (!Number.isFinite(x)) reject(t.name, i, x);
        }
      }
    }),
    contribution(j, c) {
      const [start, end] = layout.chunk(j, c);
      const pieces = layout.pieces(start, end);
      const parts: Uint8Array[] = [];
      for (const p of pieces) {
        const t = layout.tensors[p.tensor]!;
        const src = data[p.tensor]!;
        // A chunk inside one float32 tensor (nearly every chunk of a large model) is written into a
        // recycled buffer, as SecureFedAvg's chunks are: the baseline should not pay the
        // allocation, page faults and collector work that the secure path no longer pays.
        const out = pieces.length === 1 && t.dtype === 'F32' ? takeF32(p.to - p.from) : t.dtype === 'F32' ? new Float32Array(p.to - p.from) : new Float64Array(p.to - p.from);
        for (let i = p.from; i < p.to; i++) {
          const x = src[i]!;
          if (!Number.isFinite(x)) reject(t.name, i, x);
          out[i - p.from] = x * share;
        }
        parts.push(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
      }
      if (parts.length !== 1) return Buffer.concat(parts);
      outgoing.set(layout.chunkId(j, c), parts[0]!);
      return parts[0]!;
    },
    sent(j, c) {
      const id = layout.chunkId(j, c);
      const bytes = outgoing.get(id);
      outgoing.delete(id);
      if (bytes !== undefined && bytes.byteLength === fullBytes && bytes.byteOffset === 0 && pool.length < 8) pool.push(new Float32Array(bytes.buffer));
    },
    accumulate(c, payload, party) {
      const [start, end] = layout.chunk(me, c);
      const expected = layout.floatBytes(start, end);
      if (payload.length !== expected) {
        throw new PeerError(`expected ${expected} bytes for elements ${start}..${end}, got ${payload.length}`, { where: party });
      }
      ownChunk(c, party);
      // Typed-array views need aligned offsets; a received payload may sit anywhere in a pool.
      const bytes = payload.byteOffset % 8 === 0 ? payload : Uint8Array.from(payload);
      let at = bytes.byteOffset;
      for (const p of layout.pieces(start, end)) {
        const t = layout.tensors[p.tensor]!;
        const n = p.to - p.from;
        const aligned = at % (t.dtype === 'F32' ? 4 : 8) === 0;
        const raw = aligned ? bytes.buffer : bytes.buffer.slice(at, at + n * (t.dtype === 'F32' ? 4 : 8));
        const offset = aligned ? at : 0;
        const values = t.dtype === 'F32' ? new Float32Array(raw, offset, n) : new Float64Array(raw, offset, n);
        const out = outputs[p.tensor]!.subarray(p.from, p.to);
        for (let i = 0; i < n; i++) out[i] = out[i]! + values[i]!;
        at += values.byteLength;
      }
    },
    finish(c) {
      ownChunk(c, `segment ${me}`);
      finished.add(c);
    },
  };
}

/**
 * A bulk message's body once its payload has been added into an accumulator or copied into the
 * output: freed at once (common/release.ts) instead of when a mark-compact finds it dead. A body
 * that was promoted while it waited for its turn otherwise stays until V8's external-memory limit,
 * about 64 MB of garbage later, starts one. Only a payload its transport handed over
 * (`handOver`: nothing else holds its buffer) is freed, and only a buffer that holds the payload
 * and at most an envelope's header and tag besides (CONSUMED_SLACK_BYTES). Deferred to the next
 * turn of the event loop: the delivery that handed the payload over still reads its envelope's
 * length after the session has given the payload to this round.
 */
const CONSUMED_SLACK_BYTES = 16 * 1024;
function releaseConsumed(payload: Uint8Array): void {
  if (payload.byteLength < RELEASE_MIN_BYTES) return;
  setImmediate(() => releaseHandedOver(payload, CONSUMED_SLACK_BYTES));
}

/**
 * Stages "reduce" and "gather", streamed: chunk c of segment j goes from every party to j; once j
 * holds all n−1 contributions to chunk c it finishes it and sends the result to everyone, while
 * later chunks are still arriving. Per destination at most SEND_WINDOW messages are in flight
 * (the receiver's inbox applies backpressure on top), so memory stays bounded by the chunk size.
 */
async function reduceAndGather(session: Session, layout: Layout, aggregator: Aggregator, outputs: FloatArray[]): Promise<void> {
  const me = session.myself;
  const others = otherParties(session);
  const myChunks = layout.chunkCount(me);
  const arrived = new Array<number>(myChunks).fill(0);
  const finished = Array.from({ length: myChunks }, () => deferred<Uint8Array>());

  const windowed = async (to: number, stage: string, count: number, payload: (c: number) => Promise<Uint8Array> | Uint8Array, done?: (c: number) => void) => {
    const inflight: Promise<void>[] = [];
    for (let c = 0; c < count; c++) {
      if (inflight.length >= SEND_WINDOW) await inflight.shift();
      const bytes = await payload(c);
      const sent = scatter(session, stage, () => bytes, { to: [to], seq: c }).then(() => done?.(c));
      sent.catch(() => {});
      inflight.push(sent);
    }
    await Promise.all(inflight);
  };

  const reduceSend = (to: number) =>
    windowed(
      to,
      FEDAVG_STAGES.reduce,
      layout.chunkCount(to),
      (c) => aggregator.contribution(to, c),
      (c) => aggregator.sent(to, c),
    );

  const reduceReceive = async (from: number) => {
    const party = partyName(session, from);
    for (let c = 0; c < myChunks; c++) {
      await gather(
        session,
        FEDAVG_STAGES.reduce,
        [from],
        (p) => {
          aggregator.accumulate(c, p, party);
          releaseConsumed(p);
        },
        { seq: c },
      );
      arrived[c] = arrived[c]! + 1;
      if (arrived[c] === others.length) {
        aggregator.finish(c);
        const [start, end] = layout.chunk(me, c);
        finished[c]!.resolve(floatRangeBytes(layout, outputs, start, end));
      }
    }
  };

  const gatherSend = (to: number) => windowed(to, FEDAVG_STAGES.gather, myChunks, (c) => finished[c]!.promise);

  const gatherReceive = async (from: number) => {
    const party = partyName(session, from);
    for (let c = 0; c < layout.chunkCount(from); c++) {
      const [start, end] = layout.chunk(from, c);
      await gather(
        session,
        FEDAVG_STAGES.gather,
        [from],
        (p) => {
          writeFloatRange(layout, outputs, start, end, p, party);
          releaseConsumed(p);
        },
        { seq: c },
      );
    }
  };

  const loops = others.flatMap((j) => [reduceSend(j), reduceReceive(j), gatherSend(j), gatherReceive(j)]);
  try {
    await Promise.all(loops);
  } catch (err) {
    // Release the gather sends still waiting for chunks that will never be finished; the caller
    // (runProtocol) then aborts the session, which ends every other loop at its next wait.
    for (const f of finished) f.reject(err);
    throw err instanceof TesseraError ? err : new PeerError(`FedAvg failed: ${(err as Error).message}`);
  }
}
