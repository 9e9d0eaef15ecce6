// SecureFedAvg and PlainFedAvg as SIMON microprotocols: argument parsing and the entry points the
// Simon microservice dispatches to. The protocol itself is in protocol.ts.
//
//   compute(microprotocol="SecureFedAvg", data={"tensors": T, "weight": n_k}, network=N,
//           ring_bits=64|48|40|32, frac_bits=f)
//     T: an uploaded safetensors model (the bus resolves {"representation_uuid"} to a TensorSet) or
//     a JSON object of named arrays. Returns the weighted average as a TensorSet with T's names,
//     shapes and dtypes (downloads as JSON or safetensors); its metadata carries the party count,
//     the total weight and this party's cost (bytes sent, prepare/online milliseconds).
//
//   prepare(microprotocol="SecureFedAvg", data={"tensors": T0} or {"manifest": M}, network=N, ...)
//     "Announce first, model later": agrees on the manifest and expands the masks now, while the
//     model trains; returns a prepared computation whose `submit(data={"tensors": T, "weight": n_k},
//     timeout=seconds)` runs only the online part. `cancel()` gives up (the peers fail naming this
//     party); unsubmitted computations expire after `ttl` seconds (default 3600).
//
// Precision (docs/architecture.md §4, services/common/vector.ts): each party encodes round(w·n_k/N·2^f), so the
// result is within n·2^-(f+1) of the exact weighted average before the final rounding to the
// tensor's dtype.
//   ring_bits 64 (default), f = 32: |w| ≤ 2^31 − 1; error ≤ n·1.2e-10 (50 parties: 5.8e-9).
//   ring_bits 48,           f = 32: |w| ≤ 32767;    error ≤ n·1.2e-10, 6 bytes per value sent.
//   ring_bits 40,           f = 24: |w| ≤ 32767;    error ≤ n·3.0e-8,  5 bytes per value sent.
//   ring_bits 32,           f = 20: |w| ≤ 2047;     error ≤ n·4.8e-7  (3 parties: 1.4e-6).
//   frac_bits moves the split: range 2^(k−1−f) − 1, error n·2^-(f+1).
// A value beyond the range, NaN or ±Inf is a 400 naming the tensor and element, for the party that
// gave it; the other parties fail naming that party. Never a clip, never a wrap.
//
// Dropouts (docs/dropouts.md): min_parties=t (SecureFedAvg: t > n/2) lets a round finish with any
// t parties; a party missing at setup is left out by a restart among the others, one dropping later
// by double masking (double.ts), whose models are scaled by the public max_weight (default 65536).
// rescue="backup" (default) also survives a segment holder dropping after the decision, for 1/n of
// the model more bytes; rescue="none" saves them and fails such a round naming the holder.
//
// Sparse masks (docs/sparse-masks.md): mask_graph="auto" (default) masks with every party below 64
// parties and with k = O(log n) neighbours of the SecAgg+ graph (graph.ts) from 64 on; "full" and
// "sparse" force either. The dropout round (min_parties below n) sizes k for its dropout budget
// too. mask_sparse_from, mask_coalition and mask_failure_bits set the 64, the ⌊n/3⌋ and the 2^-40.
//
// PlainFedAvg is the same aggregation WITHOUT ANY SECRECY: every party sees the others' scaled
// weights in clear. It exists as the benchmark baseline; never use it for private models.

import { BadInputError, PeerError, TimeoutError } from '../errors.js';
import { SERVER_OBJECT, type CallContext, type ServerObject } from '../microservice.js';
import { TensorSet } from '../common/tensors.js';
import { checkRingBits, DEFAULT_FRAC_BITS, fixedPoint } from '../common/vector.js';
import { checkOptionValues, type SimonMember } from '../simon/options.js';
import { parseNetwork, type Network } from '../simon/network.js';
import { checkModelSize, DEFAULT_MAX_MODEL_BYTES, manifestOf, parseManifest, type Manifest } from './layout.js';
import { runProtocol } from '../common/stages.js';
import type { Session, Terms } from '../peer.js';
import type { Json } from '../microservice.js';
import { MASK_GRAPH_CHOICES, type MaskGraphChoice } from './masks.js';
import { RESCUE_MODES, type RescueMode } from './double.js';
import type { SparseOptions } from './graph.js';
import { checkWeight, FEDAVG_ORDER, FEDAVG_STAGES, FEDAVG_VERSION, FedAvgComputation, MAX_PARTIES, MAX_WEIGHT, termsFor, type Attempt, type FedAvgParams, type ModelInput, type Variant } from './protocol.js';

export { FedAvgComputation, FEDAVG_STAGES } from './protocol.js';

/** How long a prepared computation waits for its model before it gives up (seconds). */
export const DEFAULT_PREPARED_TTL_S = 3600;
/** How long submit waits for the other parties' models by default (they may still train). */
export const DEFAULT_SUBMIT_WAIT_S = 600;
const MAX_WAIT_S = 24 * 3600;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof TensorSet);
}

function seconds(value: unknown, fallback: number, where: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !(value > 0) || value > MAX_WAIT_S) {
    throw new BadInputError(`must be a number of seconds in (0, ${MAX_WAIT_S}]`, { where });
  }
  return value;
}

export function parseParams(variant: Variant, kwargs: Record<string, unknown>): FedAvgParams {
  if (variant === 'PlainFedAvg') return { variant };
  const bits = checkRingBits(kwargs.ring_bits ?? 64, 'kwargs.ring_bits');
  const frac = kwargs.frac_bits ?? DEFAULT_FRAC_BITS[bits];
  const maskGraph = kwargs.mask_graph ?? 'auto';
  if (!MASK_GRAPH_CHOICES.includes(maskGraph as MaskGraphChoice)) {
    throw new BadInputError(`mask_graph must be one of ${MASK_GRAPH_CHOICES.map((c) => `"${c}"`).join(', ')}`, { where: 'kwargs.mask_graph' });
  }
  const sparse = parseSparseOptions(kwargs);
  return { variant, fixedPoint: fixedPoint(bits, frac as number, 'kwargs.frac_bits'), maskGraph: maskGraph as MaskGraphChoice, ...(sparse === undefined ? {} : { sparse }) };
}

/**
 * What sizes the sparse graph (docs/sparse-masks.md "Choosing the constants"). Per computation,
 * not per server: k is part of the agreed terms, so every party must use the same values, and one
 * server may serve consortia with different policies. The bounds say what the argument covers:
 * a coalition fraction in (0, 1/2) (the double-masked round's Shamir threshold t > n/2 must exceed
 * the coalition), a failure probability from 2^-20 (below that the graph stops being a guarantee)
 * to 2^-128, a threshold of 3 to MAX_PARTIES + 1 parties (the latter: never sparse under "auto").
 */
function parseSparseOptions(kwargs: Record<string, unknown>): Partial<SparseOptions> | undefined {
  const pick = (key: string, ok: (v: number) => boolean, what: string): number | undefined => {
    const value = kwargs[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !ok(value)) throw new BadInputError(`${key} must be ${what}`, { where: `kwargs.${key}` });
    return value;
  };
  const threshold = pick('mask_sparse_from', (v) => Number.isInteger(v) && v >= 3 && v <= MAX_PARTIES + 1, `an integer from 3 to ${MAX_PARTIES + 1}`);
  const coalition = pick('mask_coalition', (v) => v > 0 && v < 0.5, 'a number greater than 0 and less than 0.5');
  const failureBits = pick('mask_failure_bits', (v) => Number.isInteger(v) && v >= 20 && v <= 128, 'an integer from 20 to 128');
  if (threshold === undefined && coalition === undefined && failureBits === undefined) return undefined;
  return { ...(threshold === undefined ? {} : { threshold }), ...(coalition === undefined ? {} : { coalition }), ...(failureBits === undefined ? {} : { failureBits }) };
}

function parseData(kwargs: Record<string, unknown>, args: unknown[] = []): Record<string, unknown> {
  const data = kwargs.data ?? args[0];
  if (!isObject(data)) throw new BadInputError('data must be an object {"tensors": ..., "weight": n}', { where: 'kwargs.data' });
  return data;
}

function parseTensors(value: unknown, where: string): TensorSet {
  if (value === undefined) throw new BadInputError('the model is missing', { where });
  const tensors = TensorSet.fromJson(value, where);
  if (tensors.size === 0) throw new BadInputError('a model needs at least one tensor', { where });
  return tensors;
}

/** The model (and weight) of a compute or submit call. */
export function parseModelInput(data: Record<string, unknown>, waitMs?: number): ModelInput {
  const where = 'kwargs.data.tensors';
  return {
    tensors: parseTensors(data.tensors, where),
    weight: checkWeight(data.weight, 'kwargs.data.weight'),
    where,
    ...(waitMs === undefined ? {} : { waitMs }),
  };
}

/** The network an attempt runs on: the first, or the restart among the survivors. */
function networkFor(network: Network, attempt: Attempt): Network {
  if (attempt.number === 1) return network;
  return {
    nodes: attempt.included.map((i) => network.nodes[i]!),
    // Its own uuid, so it never meets a message of the failed attempt (those are refused as
    // belonging to a closed instance) and every survivor with the same view meets the others.
    uuid: `${network.uuid}/restart-without/${attempt.dropped.join(',')}`,
    myself: attempt.included.indexOf(network.myself),
  };
}

/**
 * The options of a call, parsed, or the error that parsing them gave. One policy for bad input: a
 * bad option (min_parties, max_weight, ring_bits, frac_bits) is reported like a bad model, after
 * the session is open, so the others fail at once naming this party instead of at their timeout.
 * Its terms then carry the refused option as "invalid", so that the others' messages, which
 * state a valid one, are refused as a disagreement on that key, naming this party.
 */
type Options = { readonly params: FedAvgParams; readonly error?: undefined } | { readonly params?: undefined; readonly error: unknown; readonly terms: Terms };

const OPTION_KEYS = ['min_parties', 'max_weight', 'ring_bits', 'frac_bits', 'mask_sparse_from', 'mask_coalition', 'mask_failure_bits'] as const;

function parseOptions(member: SimonMember, variant: Variant, kwargs: Record<string, unknown>, network: Network, ctx: CallContext): Options {
  try {
    // Each value against its schema in openapi.yaml first (type, enum, range); the parsers below
    // add what a schema cannot say (a majority of the parties, frac_bits below the ring width).
    checkOptionValues(member, kwargs, [...OPTION_KEYS, 'mask_graph', 'rescue']);
    return { params: { ...parseParams(variant, kwargs), ...dropoutParams(variant, kwargs, network.nodes.length), stageTimeoutMs: ctx.peers.stageTimeoutMs } };
  } catch (error) {
    // The refused option is stated as "invalid", never by its value (nothing a client gave leaves
    // its party in an error); the others as given.
    const refused = error instanceof BadInputError ? error.where?.replace(/^kwargs\./, '') : undefined;
    const given: Record<string, Json> = {};
    for (const key of OPTION_KEYS) {
      const value = kwargs[key];
      if (value !== undefined && value !== null) given[key] = key !== refused && typeof value === 'number' && Number.isFinite(value) ? value : 'invalid';
    }
    return { error, terms: { microprotocol: variant, nodes: network.nodes, fedavg: FEDAVG_VERSION, ...given } };
  }
}

async function openSession(terms: Terms, network: Network, ctx: CallContext): Promise<Session> {
  if (network.nodes.length > MAX_PARTIES) {
    throw new BadInputError(`at most ${MAX_PARTIES} parties`, { where: 'kwargs.network.nodes' });
  }
  return ctx.peers.open({
    uuid: network.uuid,
    myself: network.myself,
    terms: { ...terms, nodes: network.nodes },
    stages: FEDAVG_STAGES.all,
    order: FEDAVG_ORDER,
  });
}

/**
 * Opens the computation, then checks this party's own input (`read`): one policy for bad input
 * everywhere (as SecureSum). A bad model or weight fails this party at once with a problem naming
 * the field, and, because the session is open, the others learn it from an abort (naming the
 * field, never the value) instead of waiting for their stage timeout.
 */
async function open<T>(
  options: Options,
  network: Network,
  ctx: CallContext,
  ttlMs: () => number,
  read: () => { manifest: Manifest; where: string; value: T },
  attempt?: Attempt,
): Promise<{ computation: FedAvgComputation; value: T }> {
  const session = await openSession(options.params === undefined ? options.terms : termsFor(options.params, network.nodes), network, ctx);
  let input: { manifest: Manifest; where: string; value: T };
  try {
    if (options.params === undefined) throw options.error;
    input = read();
    checkModelSize(input.manifest, ctx.limits?.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES, input.where);
  } catch (err) {
    return runProtocol(session, () => Promise.reject(err));
  }
  return { computation: await FedAvgComputation.start(session, input.manifest, options.params, ttlMs(), attempt), value: input.value };
}

/**
 * min_parties: default n (every party: a missing party fails the round). SecureFedAvg needs a
 * majority, t > n/2: its dropout recovery reveals, per party, shares of one of two secrets with
 * threshold t, and two disjoint groups of t honest parties (one per secret) must not exist
 * (docs/dropouts.md). PlainFedAvg (no secrecy) accepts 2..n.
 */
function parseMinParties(variant: Variant, value: unknown, parties: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const least = variant === 'SecureFedAvg' ? Math.max(2, Math.floor(parties / 2) + 1) : 2;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < least || value > parties) {
    throw new BadInputError(`min_parties must be an integer from ${least} to the number of parties (${parties})${variant === 'SecureFedAvg' ? ': more than half of them' : ''}`, { where: 'kwargs.min_parties' });
  }
  return value;
}

/** max_weight (SecureFedAvg with min_parties): the public weight scale, in (0, MAX_WEIGHT]. */
function parseMaxWeight(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value > 0) || value > MAX_WEIGHT) {
    throw new BadInputError(`max_weight must be a number greater than 0 and at most ${MAX_WEIGHT}`, { where: 'kwargs.max_weight' });
  }
  return value;
}

/**
 * rescue (SecureFedAvg with min_parties below the party count): "backup" (default) or "none".
 * The default survives a segment holder dropping after the decision, which the issue asks for (a
 * drop "before the average is known"); "none" saves the backup's bytes and fails such a round
 * (docs/dropouts.md). Given where it changes nothing, it is refused: the client meant a round it
 * is not getting.
 */
function parseRescue(variant: Variant, value: unknown, minParties: number | undefined, parties: number): RescueMode | undefined {
  if (value === undefined || value === null) return undefined;
  if (variant !== 'SecureFedAvg' || minParties === undefined || minParties >= parties) {
    throw new BadInputError('rescue applies only to SecureFedAvg with min_parties below the number of parties (the round that recovers from dropouts)', { where: 'kwargs.rescue' });
  }
  if (!RESCUE_MODES.includes(value as RescueMode)) throw new BadInputError(`rescue must be one of ${RESCUE_MODES.map((m) => `"${m}"`).join(', ')}`, { where: 'kwargs.rescue' });
  return value as RescueMode;
}

/** The dropout options of a compute or prepare call, checked before any peer is contacted. */
function dropoutParams(variant: Variant, kwargs: Record<string, unknown>, parties: number): Pick<FedAvgParams, 'minParties' | 'maxWeight' | 'rescue'> {
  const minParties = parseMinParties(variant, kwargs.min_parties, parties);
  const maxWeight = variant === 'SecureFedAvg' ? parseMaxWeight(kwargs.max_weight) : undefined;
  const rescue = parseRescue(variant, kwargs.rescue, minParties, parties);
  return { ...(minParties === undefined ? {} : { minParties }), ...(maxWeight === undefined ? {} : { maxWeight }), ...(rescue === undefined ? {} : { rescue }) };
}

/** The parties an error says never arrived or could not be reached (indices of its session). */
function missingParties(err: unknown): number[] {
  const gone = err instanceof TimeoutError || (err instanceof PeerError && /^cannot reach party \d+ \(/.test(err.message));
  if (!gone || err.where === undefined) return [];
  return [...new Set([...err.where.matchAll(/party (\d+) \(/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

/**
 * After attempt 1 failed: the restart among the survivors, or undefined when the error stands
 * (not a dropout, no min_parties, or already restarted: one restart per round, so a party that
 * vetoed cannot be dropped in turn — docs/dropouts.md). Fewer survivors than min_parties is a
 * timeout naming every missing party.
 */
function restartAfter(err: unknown, attempt: Attempt, computation: FedAvgComputation | undefined, params: FedAvgParams, network: Network): Attempt | undefined {
  const min = params.minParties;
  if (attempt.number !== 1 || min === undefined || min >= network.nodes.length) return undefined;
  // Dropouts after the included set was stated are recovered inside the round (double masking); a
  // failure there is final. Before it (a party that failed setup told us, mid-reduce or decide) the
  // restart is safe and is where that party went (docs/dropouts.md).
  if (computation?.recoveredInside) return undefined;
  const missing = missingParties(err);
  if (missing.length === 0 || missing.includes(network.myself)) return undefined;
  const included = attempt.included.filter((i) => !missing.includes(i));
  if (included.length < min) {
    const names = missing.map((i) => `party ${i} (${network.nodes[i]})`).join(', ');
    throw new TimeoutError(`only ${included.length} of ${network.nodes.length} parties remain, fewer than min_parties ${min}; missing: ${names}`, {
      where: names,
      extra: { missing },
    });
  }
  return { number: 2, included, dropped: missing, vetoed: computation?.wouldLeakOnRestart(missing) ?? false };
}

/** Runs `work` for `computation`, aborting it if the call's signal fires (server shutdown). */
async function whileCalled<T>(computation: FedAvgComputation, ctx: CallContext, work: () => Promise<T>): Promise<T> {
  const onAbort = () => computation.cancel('the server is shutting down or the client went away');
  if (ctx.signal.aborted) onAbort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await work();
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

async function computeDirect(variant: Variant, kwargs: Record<string, unknown>, ctx: CallContext): Promise<TensorSet> {
  const network = parseNetwork(kwargs.network);
  const options = parseOptions('compute', variant, kwargs, network, ctx);
  const read = () => {
    const model = parseModelInput(parseData(kwargs));
    return { manifest: manifestOf(model.tensors), where: model.where, value: model };
  };
  let attempt: Attempt = { number: 1, included: network.nodes.map((_, i) => i), dropped: [], vetoed: false };
  for (;;) {
    let computation: FedAvgComputation | undefined;
    try {
      const opened = await open(options, networkFor(network, attempt), ctx, () => DEFAULT_PREPARED_TTL_S * 1000, read, attempt);
      computation = opened.computation;
      const running = computation;
      return await whileCalled(running, ctx, () => running.submit(opened.value));
    } catch (err) {
      const next = options.params === undefined ? undefined : restartAfter(err, attempt, computation, options.params, network);
      if (next === undefined) throw err;
      ctx.log.info({ uuid: network.uuid, dropped: next.dropped, vetoed: next.vetoed }, 'FedAvg restarts among the remaining parties');
      attempt = next;
    }
  }
}

/** compute(microprotocol="SecureFedAvg", data={tensors, weight}, network, ring_bits?, frac_bits?). */
export function secureFedAvg(kwargs: Record<string, unknown>, ctx: CallContext): Promise<unknown> {
  return computeDirect('SecureFedAvg', kwargs, ctx);
}

/** compute(microprotocol="PlainFedAvg", ...): INSECURE baseline, no masks; see the header. */
export function plainFedAvg(kwargs: Record<string, unknown>, ctx: CallContext): Promise<unknown> {
  return computeDirect('PlainFedAvg', kwargs, ctx);
}

/** The manifest of a prepare call: data.manifest, or the names/shapes/dtypes of data.tensors. */
function parsePrepareManifest(data: Record<string, unknown>): Manifest {
  if (data.manifest !== undefined) return parseManifest(data.manifest, 'kwargs.data.manifest');
  return manifestOf(parseTensors(data.tensors, 'kwargs.data.tensors'));
}

/**
 * prepare(...): set up a computation before the model exists; returns a server object with
 * members `submit(data={tensors, weight}, timeout?)`, `cancel()` and `status()`.
 * `kwargs.microprotocol` selects SecureFedAvg (default) or PlainFedAvg.
 */
export async function prepareFedAvg(kwargs: Record<string, unknown>, ctx: CallContext): Promise<ServerObject> {
  const variant: Variant = kwargs.microprotocol === 'PlainFedAvg' ? 'PlainFedAvg' : 'SecureFedAvg';
  const network = parseNetwork(kwargs.network);
  const options = parseOptions('prepare', variant, kwargs, network, ctx);
  // Read after the session is open, as every input (open).
  const ttlMs = () => seconds(kwargs.ttl, DEFAULT_PREPARED_TTL_S, 'kwargs.ttl') * 1000;
  const read = () => {
    checkOptionValues('prepare', kwargs, ['ttl']);
    ttlMs();
    const data = parseData(kwargs);
    return { manifest: parsePrepareManifest(data), where: data.manifest !== undefined ? 'kwargs.data.manifest' : 'kwargs.data.tensors', value: undefined };
  };
  // With min_parties, a party missing at setup is left out by a restart among the others (as in
  // compute); one that drops after its model was sent is recovered inside the round (double.ts).
  let attempt: Attempt = { number: 1, included: network.nodes.map((_, i) => i), dropped: [], vetoed: false };
  for (;;) {
    try {
      const { computation } = await open(options, networkFor(network, attempt), ctx, ttlMs, read, attempt);
      // A prepared double-masked round can still fail in setup terms after this party's setup
      // completed: a party that could not reach a dropped one restarts without it and tells the
      // others (docs/dropouts.md, "Restarting a double-masked round"). Its submit then follows it
      // there, as compute does, with the same manifest and fresh masks.
      const restart = (err: unknown, failed: FedAvgComputation, call: CallContext): Promise<FedAvgComputation> | undefined => {
        const next = options.params === undefined ? undefined : restartAfter(err, failed.attempt, failed, options.params, network);
        if (next === undefined) return undefined;
        call.log.info({ uuid: network.uuid, dropped: next.dropped, vetoed: next.vetoed }, 'FedAvg submit restarts among the remaining parties');
        const same = () => ({ manifest: failed.manifest, where: 'kwargs.data.tensors', value: undefined });
        return open(options, networkFor(network, next), call, ttlMs, same, next).then((o) => o.computation);
      };
      return preparedObject(computation, restart);
    } catch (err) {
      const next = options.params === undefined ? undefined : restartAfter(err, attempt, undefined, options.params, network);
      if (next === undefined) throw err;
      ctx.log.info({ uuid: network.uuid, dropped: next.dropped }, 'FedAvg prepare restarts among the remaining parties');
      attempt = next;
    }
  }
}

type SubmitRestart = (err: unknown, failed: FedAvgComputation, call: CallContext) => Promise<FedAvgComputation> | undefined;

function preparedObject(first: FedAvgComputation, restart: SubmitRestart): ServerObject {
  // The attempt a submit, cancel or status acts on: the prepared one, or its restart.
  let computation = first;
  return {
    [SERVER_OBJECT]: true,
    members: Object.freeze({
      submit: (args: unknown[], kwargs: Record<string, unknown>, ctx: CallContext) => {
        let input: ModelInput;
        try {
          const waitMs = seconds(kwargs.timeout, DEFAULT_SUBMIT_WAIT_S, 'kwargs.timeout') * 1000;
          input = parseModelInput(parseData(kwargs, args), waitMs);
        } catch (err) {
          // A bad model or weight ends the computation for everyone at once (they learn the field).
          return Promise.reject(computation.refuse(err));
        }
        const running = computation;
        return whileCalled(running, ctx, () => running.submit(input)).catch(async (err: unknown) => {
          // restartAfter allows one restart per round: the restarted attempt's failure stands.
          const next = restart(err, running, ctx);
          if (next === undefined) throw err;
          const again = await next;
          computation = again;
          return whileCalled(again, ctx, () => again.submit(input));
        });
      },
      cancel: () => {
        computation.cancel();
        return undefined;
      },
      status: () => {
        const state = computation.state;
        return state.stage === 'failed' ? { stage: state.stage, error: state.error.message } : { stage: state.stage };
      },
    }),
    // Released (or expired) before its model came: give up now and free the masks, rather than
    // hold them until the ttl. A submit already running keeps its own reference and finishes.
    release: () => {
      if (computation.state.stage !== 'running') computation.cancel('the client released the prepared computation');
    },
  };
}
