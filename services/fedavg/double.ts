// SecureFedAvg's online part when the round may finish without some parties (min_parties < n):
// double masking (Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine
// Learning", CCS 2017, §4) adapted to the reduce-scatter. The argument is in docs/dropouts.md and
// SECURITY.md; in short:
//
//   setup    (protocol.ts) each party i draws an X25519 key sk_i and a self-mask secret b_i, and
//            gives every party k its Shamir shares (threshold t = min_parties) of both. Pair seeds
//            are s_ij = HKDF(X25519(sk_i, pk_j)), so whoever reconstructs sk_d can compute every
//            pair seed of d. Party i's mask is M_i + B_i, B_i = PRG(self seed of b_i).
//   reduce   each party sends its masked weight q_i + m_i + b'_i to all (no sum is possible yet),
//            and segment h of x_i + M_i + B_i to party h, where x_i is its model
//            scaled by q_i / Q (Q = the public max_weight): the scale cannot depend on who will be
//            included, since that is decided later. Holder h KEEPS each contribution apart and
//            finishes nothing yet (with rescue "none" it instead adds each onto its own
//            contribution to its segment as it arrives and keeps none: see resend).
//            Party h+1 also gets segment h of x_h + M_h + B_h, a backup of the one contribution
//            to segment h that no one but h holds (1/n of the model more bytes; not with
//            rescue "none", where a holder lost after the decision fails the round unless its
//            segment reached another party, which forwards it).
//   decide   each party tells all which parties' contributions (all chunks and the weight) it
//            holds, R_h. With C = this party and the parties in R_me whose R reached it, the
//            included set S ⊆ C is one where everyone delivered to everyone (includedSet); |S| < t fails the round
//            naming every missing party. This is the decision point: nothing was unmasked before.
//   echo     before deciding, each party passes on every R it holds, so a party that died while
//            sending its R (reaching some parties, not others) leaves every other with the same views.
//   confirm  each party states its S to the others and goes on only when t parties (itself
//            included) stated the same S and none another: at most one S is ever unmasked.
//   resend   the segments of parties outside S go to substitutes in S: each party in S sends
//            its (still masked) contribution to that segment again; with rescue "none" also to a
//            holder that added any of a party outside S (its view says so), which masks its own
//            contribution afresh.
//   unmask   each party in S sends every other party in S its view of S and its shares: of b_i
//            for every i ∈ S, of sk_d for every d ∉ S, never both for one party. Any t of them
//            (its own included) let a holder rebuild the seeds and remove Σ_{i∈S} B_i and the
//            pair masks between S and the dropped parties from the sum over S of its segment.
//   gather   each holder decodes its segment(s), scales by Q / N_S and sends them to all in S,
//            each chunk as soon as it is finished.
//   done     a party holding the whole average says so. With rescue "none" it answers its
//            client only once every other party of S said so (all or nothing, allHoldIt).
//
//   rescue   a party missing the segment of a holder h that dropped after the decision asks for
//            it; party h+1 rebuilds it from the backup and the others' contributions to it, which
//            each party still holds (recontribute), and sends it (rescued). S does not change: h
//            was decided in, and once self-mask shares are out, excluding it would reveal both of
//            its secrets. A finished party answers such requests until every other says done.
//
// So a single party dropping at any point after the decision costs a rescue, not the round; a
// second one can (a substitute's extra segments and a lost backup have no copy; docs/dropouts.md).

import { hkdfSync } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { BadInputError, ConflictError, PeerError, TesseraError, TimeoutError } from '../errors.js';
import type { Session } from '../peer.js';
import { F25519 } from '../common/field.js';
import { SEED_BYTES } from '../common/prg.js';
import { SHARE_BYTES, shamirReconstruct } from '../common/shamir.js';
import { otherParties, partyName } from '../common/stages.js';
import { addBytesInto, addInto, decodeInto, elementAt, packRing, ringBytes, ringSlice, unpackRing, wordsOf, type VectorFixedPoint, type FloatArray } from '../common/vector.js';
import { floatRangeBytes, writeFloatRange, type Layout } from './layout.js';
import { expandMaskInto, maskOnto } from '../common/mask.js';
import { combinedMask, type MaskTerm } from './masks.js';
import type { MaskGraph } from './graph.js';

/** What setup leaves for a round with dropout recovery. */
export interface DoubleSetup {
  /** t = min_parties: shares needed to rebuild a secret, and the fewest parties a round finishes with. */
  readonly threshold: number;
  /** Every party's X25519 public key for this computation (by session index). */
  readonly publicKeys: readonly Uint8Array[];
  /** The shares this party holds of each party's self-mask secret b_i and key sk_i (by owner). */
  readonly selfShares: readonly bigint[];
  readonly keyShares: readonly bigint[];
  /** Q: the public weight scale (max_weight quantised). */
  readonly maxQ: number;
  /**
   * Who masks with whom: the complete graph, or the sparse graph sized for this round's coalition
   * and dropout budget (graph.ts, docs/sparse-masks.md "The dropout round"). A dropped party's
   * pair masks are removed with its neighbours in S only: no other party added one.
   */
  readonly graph: MaskGraph;
  /**
   * With rescue "none": the terms of this party's own-segment contribution (its pair masks, no self
   * mask), kept past setup so that a holder that summed a party decided out can mask that
   * contribution afresh (onlineDouble, "dirty"). Zeroed once the included set is decided.
   */
  readonly ownTerms?: readonly MaskTerm[];
}

/** Bytes of a double-masking setup message's extra part: public key, share of b, share of sk. */
export const DOUBLE_SETUP_BYTES = 32 + 2 * SHARE_BYTES;

/** Labels of the stages this file runs (declared in protocol.ts FEDAVG_STAGES). */
export interface DoubleStages {
  readonly reduce: string;
  readonly decide: string;
  readonly echo: string;
  readonly confirm: string;
  readonly resend: string;
  readonly unmask: string;
  readonly gather: string;
  readonly rescue: string;
  readonly recontribute: string;
  readonly rescued: string;
  readonly done: string;
}

export function keyFromSecret(secret: bigint): Uint8Array {
  // X25519 clamps any 32 bytes into a valid scalar (RFC 7748 §5); a uniform element of F_p gives
  // 251 bits of key after clamping.
  return F25519.encodeBytes(secret);
}

/** s_ij for the pair {i, j}, from either end's secret key and the other's public key. */
export function dhPairSeed(secretKey: Uint8Array, theirPublic: Uint8Array, i: number, j: number): Buffer {
  const [lo, hi] = i < j ? [i, j] : [j, i];
  const shared = x25519.getSharedSecret(secretKey, theirPublic);
  const seed = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), `tessera/SecureFedAvg/v2/dh-pair-seed/${lo}/${hi}`, SEED_BYTES));
  shared.fill(0);
  return seed;
}

/** The PRG seed of party i's self mask B_i, from its secret b_i. */
export function selfSeed(secret: bigint, i: number): Buffer {
  return Buffer.from(hkdfSync('sha256', F25519.encodeBytes(secret), Buffer.alloc(0), `tessera/SecureFedAvg/v2/self-seed/${i}`, SEED_BYTES));
}

/** The sign with which party i applies the pair mask of {i, j}: the lower index adds it. */
const pairSign = (i: number, j: number): 1 | -1 => (i < j ? 1 : -1);

/** This party was left out by the others' decision: it fails, but tells nobody (they continue). */
export class LeftOutError extends PeerError {}

/**
 * What the round does when a segment holder drops after the included set is decided (option
 * `rescue`, docs/dropouts.md "A holder that drops after the decision"):
 * - "backup" (default with min_parties): each party also sends its own-segment contribution to
 *   its rescuer (1/n of the model more bytes), so the segment can be rebuilt without it;
 * - "none": no backup; the segment is forwarded by any included party its gather reached, and if
 *   it reached none the round fails at every party, naming the holder.
 */
export type RescueMode = 'backup' | 'none';
export const RESCUE_MODES: readonly RescueMode[] = ['backup', 'none'];

/**
 * The included set S from the views (party → who delivered to it; each party's view of itself
 * included). S must be a set in which every member delivered to every member (a holder in S sums
 * the contributions of S to its segment; with a backup, delivering to the rescuer includes the
 * backup); any such set computed alike by every party from the same views will do, since the
 * confirm stage, not this rule, keeps two sets from being unmasked (docs/dropouts.md).
 *
 * Two rules, the larger set wins (ties: the first):
 * - exclude every party whose contribution missed some candidate (the rule before);
 * - repeatedly exclude the party with the most missing deliveries among those still in, either
 *   way (ties: the one whose own contribution missed more parties, then the higher index).
 * The second exists because under the first, a party that is itself about to be excluded still
 * excludes every party it did not hear from: one party with a broken inbound link (it received
 * from few) would take every party it missed out with it, where excluding it alone suffices.
 */
export function includedSet(views: ReadonlyMap<number, Uint8Array>): number[] {
  const candidates = [...views.keys()].sort((a, b) => a - b);
  const has = (h: number, i: number) => views.get(h)![i] === 1;
  const byContribution = candidates.filter((i) => candidates.every((h) => has(h, i)));
  let inSet = candidates;
  for (;;) {
    const missed = new Map(inSet.map((i) => [i, { total: 0, contribution: 0 }]));
    for (const h of inSet) {
      for (const i of inSet) {
        if (has(h, i)) continue;
        missed.get(h)!.total++;
        missed.get(i)!.total++;
        missed.get(i)!.contribution++;
      }
    }
    let worst: number | undefined;
    for (const i of inSet) {
      const m = missed.get(i)!;
      if (m.total === 0) continue;
      const w = worst === undefined ? undefined : missed.get(worst)!;
      if (w === undefined || m.total > w.total || (m.total === w.total && m.contribution >= w.contribution)) worst = i;
    }
    if (worst === undefined) break;
    inSet = inSet.filter((i) => i !== worst);
  }
  return inSet.length > byContribution.length ? inSet : byContribution;
}

export interface DoubleInput {
  readonly layout: Layout;
  readonly fp: VectorFixedPoint;
  /** x_i + M_i + B_i per global chunk id, computed in place over the mask (kept until the end). */
  readonly mask: Uint32Array[];
  /** The weight mask m_i + b'_i. */
  readonly weightMask: Uint32Array;
  readonly setup: DoubleSetup;
  readonly modelLabel: string;
  readonly weightLabel: string;
  readonly stages: DoubleStages;
  /**
   * The session's per-wait timeout, when known. Parties leave the reduce stage up to one wait
   * apart (a party missing a contribution waits it out, the others do not), and each later stage
   * can add one more: so the waits after reduce grow by one stage timeout per stage, and a party
   * that is merely behind is never taken for one that dropped.
   */
  readonly stageTimeoutMs?: number;
  /**
   * Called once, just before this party states its included set (the confirm stage). From then on
   * an output over that set may exist, so the caller must never restart this round among other
   * parties (services/fedavg/index.ts restartAfter, docs/dropouts.md "Restarting a double-masked round").
   */
  readonly onStatement?: () => void;
  /** Whether a holder dropping after the decision is survived by a backup (default) or fails the round. */
  readonly rescue?: RescueMode;
}

/** Messages in flight per destination, as the reduce-scatter of the default path. */
const SEND_WINDOW = 2;
/**
 * Gather messages in flight per destination. The gather runs after the decision, when the reduce
 * no longer competes for the links, and its chunks are float32 (half a reduce chunk's bytes).
 */
const GATHER_WINDOW = 4;

/**
 * A send or receive whose failure means a party dropped: undefined then. Still thrown: this
 * session's own failure (an abort), and a message the peer sent but we refuse (malformed). A peer
 * that answers "already finished" has ended its part (it decided without us, or gave up).
 */
async function tolerant<T>(session: Session, work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (err) {
    if (session.signal.aborted) throw err;
    const gone = err instanceof TimeoutError || (err instanceof PeerError && !/invalid|malformed|expected/.test(err.message)) || (err instanceof ConflictError && /finished or aborted|closed/.test(err.message));
    if (!gone) throw err;
    return undefined;
  }
}

export interface DoubleOutcome {
  readonly totalWeight: number;
  /** Session indices of the parties in the average. */
  readonly included: readonly number[];
  /**
   * Session indices of included parties whose segment this party got from another party, not
   * from them: they stopped answering after the decision. Their models are in the average (they
   * were decided in before anything was unmasked; docs/dropouts.md), so they are also in `included`.
   */
  readonly lostAfterDecision: readonly number[];
  /**
   * Settles once no included party can need this one any more: every other included party said
   * it holds the whole average, or the last wait for a rescue request ended. The caller answers
   * its client before this (the average is complete) and closes the session after it; it never
   * rejects.
   */
  readonly linger: Promise<void>;
  /** The average, per tensor of the layout (from outputStorage). */
  readonly outputs: FloatArray[];
}

/**
 * The backup holder of party i's own-segment contribution: the next party by index. A holder that
 * drops after the decision leaves its segment sum nowhere else, but every other contribution to it
 * is still held by its sender (kept for a resend), and its own by this party: the backup makes the
 * segment rebuildable without it (docs/dropouts.md, "A holder that drops after the decision").
 */
export const backupOf = (i: number, n: number): number => (i + 1) % n;

/**
 * Runs the online part with dropout recovery. `encode(chunk, segment, c)` adds x_i to chunk c of
 * that segment (the caller knows the model); q is the quantised weight (≤ maxQ, checked by the
 * caller before anything is sent). `outputStorage()` is called once, after this party stated its
 * included set and once every chunk of the model is encoded (the model is never read again): it
 * returns where the average goes, which may be the input's own arrays (protocol.ts outputStorage).
 */
export async function onlineDouble(
  session: Session,
  d: DoubleInput,
  q: number,
  encode: (chunk: Uint32Array, segment: number, c: number) => void,
  outputStorage: () => FloatArray[],
  waitMs: number | undefined,
): Promise<DoubleOutcome> {
  const { layout, fp, mask, setup, stages } = d;
  const reduceMs = waitMs ?? d.stageTimeoutMs;
  const after = (k: number): number | undefined => (reduceMs === undefined || d.stageTimeoutMs === undefined ? undefined : reduceMs + k * d.stageTimeoutMs);
  // Waits after the unmask stage: the included parties left it together (they all had what they
  // needed), so k stage timeouts from their start. A holder merely slow here costs a rescue of its
  // segment (redundant, not wrong: the rebuilt segment is the same sum).
  const later = (k: number): number | undefined => (d.stageTimeoutMs === undefined ? reduceMs : k * d.stageTimeoutMs);
  const bits = fp.bits;
  const me = session.myself;
  const n = session.parties;
  const others = otherParties(session);
  const chunksOf = (j: number) => Array.from({ length: layout.chunkCount(j) }, (_, c) => layout.chunkId(j, c));
  const withBackup = (d.rescue ?? 'backup') === 'backup';
  // The party whose own-segment contribution this one backs up (none without backups).
  const predecessor = withBackup ? (me + n - 1) % n : -1;

  // x_i + M_i + B_i, chunk by chunk as it is first needed (sent, or summed), so that sending
  // starts with the first chunk instead of after the whole model; and the masked weight.
  const position = new Map<number, [number, number]>();
  for (let j = 0; j < n; j++) for (let c = 0; c < layout.chunkCount(j); c++) position.set(layout.chunkId(j, c), [j, c]);
  const encoded = new Set<number>();
  /** The bytes chunk `id`'s contribution travels in: k/8 per element (packRing). */
  const sentBytes = (id: number): number => (mask[id]!.length / (bits / 32)) * fp.elementBytes;
  const contribution = (id: number): Uint32Array => {
    if (!encoded.has(id)) {
      const [j, c] = position.get(id)!;
      encode(mask[id]!, j, c);
      encoded.add(id);
    }
    return mask[id]!;
  };
  /**
   * Without backups: chunk `id` of the own segment back to x_i + M_i (pair masks only), as it was
   * before anything was summed onto it; for a holder that summed a party decided out (`dirty`).
   * The model is still the input as given (the average is written over it only later), so the
   * chunk is encoded again when next used.
   */
  const maskOwnAfresh = (id: number): void => {
    expandMaskInto(bits, setup.ownTerms!, d.modelLabel, mask[id]!, layout.chunk(me, position.get(id)![1])[0]);
    encoded.delete(id);
  };
  addBytesInto(64, d.weightMask, ringBytes(Uint32Array.of(q % 2 ** 32, Math.floor(q / 2 ** 32))), 1);

  // Stage "reduce": send everything; receive this party's segment from each party into its own
  // buffers (with the backup a contribution is summed only once its sender is known to be
  // included; without, as it arrives: see sumEarly). The masked
  // weight is the stage's first message, under the first chunk id no segment uses (one message
  // stream, so no extra round trip to keep the declared stage order). The backup holder also gets
  // this party's own-segment contribution, under its own chunk ids.
  const weightSeq = position.size;
  const received = new Map<number, { weight: Uint32Array; chunks: Uint32Array[] }>();
  // Without backups this party's own-segment contribution never leaves it, so each other party's
  // contribution to the own segment is added onto it as it arrives and then dropped, as the
  // default round does (reduceAndGather): one accumulator, no received contribution kept (their
  // pages were most of what this round faulted in online beyond the default round's). If a sender
  // whose contribution was added (in whole or in part) is decided out, the accumulator is masked
  // afresh and the included parties resend theirs (stage "resend", `dirty` below): the views say
  // who, so every party knows. (With the backup the own-segment chunks are sent to the rescuer,
  // so they stay as sent, and the others' are kept by sender until the decision.)
  const sumEarly = !withBackup;
  const summedFrom = new Set<number>(); // senders with some of their contribution added onto the own segment
  const backup = new Map<number, Uint32Array>(); // chunk id of the predecessor's segment → its contribution
  const sendChunks = async (to: number, stage: string, ids: readonly number[]) => {
    const inflight: Promise<void>[] = [];
    for (const id of ids) {
      if (inflight.length >= SEND_WINDOW) await inflight.shift();
      const sent = session.send(to, stage, id === weightSeq ? ringBytes(d.weightMask) : packRing(fp, contribution(id)), id);
      sent.catch(() => {});
      inflight.push(sent);
    }
    await Promise.all(inflight);
  };
  const sendAll = (to: number) => sendChunks(to, stages.reduce, [weightSeq, ...chunksOf(to), ...(withBackup && to === backupOf(me, n) ? chunksOf(me) : [])]);
  const receiveFrom = async (from: number) => {
    const party = partyName(session, from);
    const weight = wordsOf(await session.receive(from, stages.reduce, weightSeq, waitMs)).slice();
    if (weight.length !== 2) throw new PeerError('malformed weight message', { where: party });
    const take = async (id: number) => {
      const payload = await session.receive(from, stages.reduce, id, waitMs);
      if (payload.length !== sentBytes(id)) throw new PeerError(`invalid reduce message: expected ${sentBytes(id)} bytes`, { where: party });
      return keptWords(fp, payload);
    };
    const chunks: Uint32Array[] = [];
    for (const id of chunksOf(me)) {
      const words = await take(id);
      if (sumEarly) {
        addInto(bits, contribution(id), words, 1);
        summedFrom.add(from);
      } else {
        chunks.push(words);
      }
    }
    if (from === predecessor) for (const id of chunksOf(from)) backup.set(id, await take(id));
    received.set(from, { weight, chunks });
  };
  await Promise.all([...others.map((h) => tolerant(session, sendAll(h))), ...others.map((i) => tolerant(session, receiveFrom(i)))]);

  // Stage "decide": 1 for a party that delivered everything; without backups, 2 for one whose
  // contribution was added here in part (it is not in R_me, but if it is decided out this party's
  // accumulator holds some of it: see `dirty`).
  const mine = Uint8Array.from({ length: n }, (_, i) => (i === me || received.has(i) ? 1 : summedFrom.has(i) ? 2 : 0));
  const viewMax = sumEarly ? 2 : 1;
  const views = new Map<number, Uint8Array>([[me, mine]]);
  await Promise.all([
    ...others.map((h) => tolerant(session, session.send(h, stages.decide, mine, 0))),
    ...[...received.keys()].map(async (h) => {
      const view = await tolerant(session, session.receive(h, stages.decide, 0, after(1)));
      if (view === undefined) return;
      if (view.length !== n || view.some((b) => b > viewMax)) throw new PeerError('malformed decide message', { where: partyName(session, h) });
      views.set(h, view);
    }),
  ]);

  // Stage "echo": each party passes on every view it holds. A party that died while sending its
  // decide messages reached some parties and not others; without this, those two groups would
  // decide two different sets and the confirm stage would stop the round. With it, every party
  // still running holds the same views (each one that reached any of them), so they decide the same
  // set; views say only who delivered to whom. An echoed view must match the one this party got
  // from its owner, if it got one.
  const direct = [...views.keys()];
  const echo = Buffer.alloc(n + n * n);
  for (const [j, view] of views) {
    echo[j] = 1;
    echo.set(view, n + j * n);
  }
  await Promise.all([
    ...others.map((h) => tolerant(session, session.send(h, stages.echo, echo, 0))),
    ...direct.filter((h) => h !== me).map(async (h) => {
      const payload = await tolerant(session, session.receive(h, stages.echo, 0, after(2)));
      if (payload === undefined) return;
      const party = partyName(session, h);
      if (payload.length !== n + n * n || payload.some((b, k) => b > (k < n ? 1 : viewMax))) throw new PeerError('malformed echo message', { where: party });
      for (let j = 0; j < n; j++) {
        if (payload[j] !== 1) continue;
        const view = Uint8Array.from(payload.subarray(n + j * n, n + (j + 1) * n));
        const known = views.get(j);
        if (known === undefined) views.set(j, view);
        else if (!Buffer.from(known).equals(view)) throw new PeerError(`echo message: the view of ${partyName(session, j)} differs from the one it sent`, { where: party });
      }
    }),
  ]);
  const included = includedSet(views);
  const dropped = Array.from({ length: n }, (_, i) => i).filter((i) => !included.includes(i));
  if (!included.includes(me)) {
    const missed = included.find((h) => views.get(h)![me] !== 1);
    const unheard = included.find((h) => views.get(me)![h] !== 1);
    const why = missed !== undefined ? `its contribution did not reach ${partyName(session, missed)} in time`
      : unheard !== undefined ? `the contribution of ${partyName(session, unheard)} did not reach it in time`
      : 'its contribution did not reach the others in time';
    const where = partyName(session, missed ?? unheard ?? me);
    throw new LeftOutError(`this party was left out of the round: ${why}, and the others continue without it`, { where });
  }
  if (included.length < setup.threshold) {
    // Nothing is stated yet, so this round may still restart among the survivors (index.ts
    // restartAfter). A party that failed in setup (it could not reach a party that reached us)
    // went there and told us so: wait for its notice (bounded), whose naming of the missing
    // party is what the restart must agree on, rather than name everyone not heard from.
    await noticeWithin(session, d.stageTimeoutMs ?? 0);
    const names = dropped.map((i) => partyName(session, i)).join(', ');
    throw new TimeoutError(`only ${included.length} of ${n} parties remain, fewer than min_parties ${setup.threshold}; missing: ${names}`, {
      where: names,
      extra: { missing: dropped },
    });
  }

  // Who finishes which segment: its own holder if included, else a substitute in S (round robin).
  const owner = (s: number): number => (included.includes(s) ? s : included[dropped.indexOf(s) % included.length]!);
  const mySegments = Array.from({ length: n }, (_, s) => s).filter((s) => owner(s) === me);
  const peers = included.filter((i) => i !== me);
  const selfView = Uint8Array.from({ length: n }, (_, i) => (included.includes(i) ? 1 : 0));
  // Without backups, an included holder whose view shows any part of a dropped party's
  // contribution summed into its accumulator: it discards the accumulator and gets the included
  // parties' contributions to its segment again (the same masked values it received in the
  // reduce: stage "resend"). Every party computes this alike from the same views.
  const dirty = (h: number): boolean => sumEarly && included.includes(h) && dropped.some((k) => views.get(h)![k]! > 0);
  // The segments a party of S finishes from resent contributions: a dropped party's it substitutes
  // for, and its own if dirty.
  const resentSegments = (j: number): number[] => Array.from({ length: n }, (_, s) => s).filter((s) => owner(s) === j && (s !== j || dirty(j)));

  // Stage "confirm": reveal nothing until t parties (this one included) state the same included
  // set and none states another. Each party states one set, so two honest parties with different
  // views (a party that died while sending its decide messages reached one and not the other)
  // would need 2t > n distinct parties: at most one view is ever unmasked, and no party gets both
  // secrets of one party from honest parties (Bonawitz et al. 2017 §4, "ConsistencyCheck").
  const confirmed = new Set<number>([me]);
  d.onStatement?.();
  await Promise.all([
    ...peers.map((j) => tolerant(session, session.send(j, stages.confirm, selfView, 0))),
    ...peers.map(async (j) => {
      const view = await tolerant(session, session.receive(j, stages.confirm, 0, after(3)));
      if (view === undefined) return;
      if (!Buffer.from(view).equals(selfView)) {
        throw new PeerError(`${partyName(session, j)} decided another set of included parties; the round stops before anything is unmasked`, { where: partyName(session, j) });
      }
      confirmed.add(j);
    }),
  ]);
  if (confirmed.size < setup.threshold) {
    const gone = peers.filter((j) => !confirmed.has(j));
    const names = gone.map((j) => partyName(session, j)).join(', ');
    throw new TimeoutError(`stage ${stages.confirm}: only ${confirmed.size} parties confirmed the included set, fewer than min_parties ${setup.threshold}; missing: ${names}`, {
      where: names,
      extra: { missing: gone },
    });
  }

  // Nothing restarts this round any more (onStatement), so the model is needed only as its
  // contributions: encode every chunk not yet encoded, and only then take the storage of the
  // average, which may be the input's own arrays. With nobody dropped there is none (each chunk
  // was sent to its holder or summed into the own segment); a dropped party's segment may have
  // some, needed by the resend below. After this, contribution() reads only the encoded chunks
  // (the resend, the sums, a recontribution for a rescue), never the model: every element is
  // encoded before any average can be written over it.
  if (dirty(me)) for (const id of chunksOf(me)) maskOwnAfresh(id);
  for (const t of setup.ownTerms ?? []) t.seed.fill(0);
  for (const id of position.keys()) contribution(id);
  const outputs = outputStorage();

  // Stages "resend" and "unmask". The unmask message reveals, per party, a share of b_i (included)
  // or of sk_d (dropped): the one decision above is the only input to that choice.
  const unmaskMessage = Buffer.concat([
    selfView,
    ...included.map((i) => F25519.encodeBytes(setup.selfShares[i]!)),
    ...dropped.map((k) => F25519.encodeBytes(setup.keyShares[k]!)),
  ]);
  const resent = new Map<number, Map<number, Uint32Array>>(); // party → chunk id → contribution
  const toSend = async (j: number) => {
    for (const s of resentSegments(j)) await sendChunks(j, stages.resend, chunksOf(s));
    await session.send(j, stages.unmask, unmaskMessage, 0);
  };
  const receiveResent = async (from: number) => {
    const party = partyName(session, from);
    const chunks = new Map<number, Uint32Array>();
    for (const s of resentSegments(me)) {
      for (const id of chunksOf(s)) {
        const payload = await session.receive(from, stages.resend, id, after(4));
        if (payload.length !== sentBytes(id)) throw new PeerError(`invalid resend message: expected ${sentBytes(id)} bytes`, { where: party });
        chunks.set(id, keptWords(fp, payload));
      }
    }
    resent.set(from, chunks);
  };
  // Shares: this party's own, then the first t − 1 others to answer (any t rebuild each secret).
  const shareSets = new Map<number, { self: bigint[]; key: bigint[] }>([[me, { self: included.map((i) => setup.selfShares[i]!), key: dropped.map((k) => setup.keyShares[k]!) }]]);
  const need = setup.threshold - 1;
  const enough = deferredVoid();
  if (need <= 0) enough.resolve();
  let failed = 0;
  const receiveShares = async (from: number) => {
    const party = partyName(session, from);
    const payload = await tolerant(session, session.receive(from, stages.unmask, 0, after(4)));
    if (payload === undefined) {
      failed++;
      if (peers.length - failed < need && shareSets.size <= need) {
        const names = peers.filter((p) => !shareSets.has(p)).map((p) => partyName(session, p)).join(', ');
        enough.reject(new TimeoutError(`stage ${stages.unmask}: too few parties sent their shares (need ${setup.threshold}, including this one); missing: ${names}`, { where: names, extra: { missing: peers.filter((p) => !shareSets.has(p)) } }));
      }
      return;
    }
    if (payload.length !== n + (included.length + dropped.length) * SHARE_BYTES) throw new PeerError('invalid unmask message: wrong length', { where: party });
    // A party that decided another set reveals shares this party must not combine with its own.
    if (!Buffer.from(payload.subarray(0, n)).equals(selfView)) {
      throw new PeerError(`${party} decided another set of included parties; the round stops before anything is unmasked`, { where: party });
    }
    const at = (k: number) => F25519.decodeBytes(payload.subarray(n + k * SHARE_BYTES, n + (k + 1) * SHARE_BYTES), party);
    if (shareSets.size > need) return;
    shareSets.set(from, { self: included.map((_, k) => at(k)), key: dropped.map((_, k) => at(included.length + k)) });
    if (shareSets.size > need) enough.resolve();
  };
  const sharesDone = Promise.all(peers.map(receiveShares));
  sharesDone.catch(() => {});
  await Promise.all([
    // A substitute must get every resent contribution; a share message may be missing (threshold).
    ...peers.map((j) => tolerant(session, toSend(j))),
    ...peers.map(receiveResent),
    Promise.race([enough.promise, sharesDone.then(() => enough.promise)]),
  ]);

  // Rebuild the secrets: b_i of every included party, sk_d of every dropped one.
  const responders = [...shareSets.keys()].slice(0, setup.threshold);
  const rebuild = (pick: (set: { self: bigint[]; key: bigint[] }) => bigint) => shamirReconstruct(new Map(responders.map((p) => [p, pick(shareSets.get(p)!)])));
  const corrections: MaskTerm[] = included.map((i, k) => ({ seed: selfSeed(rebuild((s) => s.self[k]!), i), sign: -1 as const }));
  dropped.forEach((k, idx) => {
    const sk = keyFromSecret(rebuild((s) => s.key[idx]!));
    if (!Buffer.from(x25519.getPublicKey(sk)).equals(Buffer.from(setup.publicKeys[k]!))) {
      throw new PeerError(`the shares of ${partyName(session, k)}'s key do not rebuild its public key`, { where: partyName(session, k) });
    }
    // Each included neighbour i of k added pairSign(i, k)·PRG(s_ik); remove it.
    for (const i of setup.graph.neighbours(k).filter((j) => included.includes(j))) corrections.push({ seed: dhPairSeed(sk, setup.publicKeys[i]!, i, k), sign: (-pairSign(i, k)) as 1 | -1 });
    sk.fill(0);
  });

  // N_S, then each owned segment: Σ_{i∈S} contributions + corrections, decoded and scaled by Q/N_S.
  const weightSum = d.weightMask.slice();
  for (const i of peers) addInto(64, weightSum, received.get(i)!.weight, 1);
  addInto(64, weightSum, combinedMask(64, corrections, d.weightLabel, 0, 1), 1);
  const totalQ = elementAt(64, weightSum, 0);
  if (totalQ <= 0n) throw new PeerError('the weights do not sum to a positive total (a party sent a malformed weight)');
  const rescale = setup.maxQ / Number(totalQ);
  type Contributions = (i: number, c: number, id: number) => Uint32Array;
  // Without backups this party's own-segment contribution was masked in setup without its self
  // mask (it never leaves this party; protocol.ts), so its own B_i is not removed there.
  const ownSelfMasked = withBackup;
  const ownCorrections = ownSelfMasked ? corrections : corrections.filter((_, k) => k !== included.indexOf(me));
  // Decoding and the scale Q/N_S in one multiply per element, written straight into the outputs:
  // a fixed-point code whose scale is 2^f / (Q/N_S) decodes v to v · 2^-f · Q/N_S. (Decoding into
  // a temporary and scaling it in a second loop cost a model-sized allocation per party and, in a
  // CPU profile of the 25M-parameter round, more than the keystream of the corrections.)
  const scaled: VectorFixedPoint = { ...fp, scale: fp.scale / rescale };
  const w = bits / 32;
  /**
   * Σ_{i∈S} of chunk c of segment s (this party's own contribution in place, the others' from
   * `of`), unmasked into the outputs. One pass per cache-sized slice (mask.ts maskOnto): the
   * others' contributions are added onto this party's own, then the keystreams of the corrections
   * onto that, with no mask-sized buffer allocated per chunk.
   */
  const finishChunk = (s: number, c: number, id: number, of: Contributions) => {
    const sum = contribution(id);
    // Summed onto the own segment during the reduce (sumEarly), over exactly S unless dirty.
    const theirs = sumEarly && s === me && !dirty(me) ? [] : peers.map((i) => of(i, c, id));
    const [start, end] = layout.chunk(s, c);
    maskOnto(bits, s === me ? ownCorrections : corrections, d.modelLabel, sum, start, (slice, first) => {
      const from = (first - start) * w;
      for (const other of theirs) addInto(bits, slice, other.subarray(from, from + slice.length), 1);
    });
    for (const p of layout.pieces(start, end)) {
      const t = layout.tensors[p.tensor]!;
      const at = t.offset + p.from - start;
      decodeInto(scaled, ringSlice(bits, sum, at, at + p.to - p.from), outputs[p.tensor]!.subarray(p.from, p.to));
    }
  };
  const finishSegment = (s: number, of: Contributions) => chunksOf(s).forEach((id, c) => finishChunk(s, c, id, of));
  /** Where the others' contributions to an owned segment are: kept from the reduce stage (its own, with the backup), or resent. */
  const ownedContributions = (s: number): Contributions => (i, c, id) => (resentSegments(me).includes(s) ? resent.get(i)!.get(id)! : received.get(i)!.chunks[c]!);
  // Each owned segment is finished chunk by chunk in the gather stage below, each chunk sent as
  // soon as it is unmasked; `ready` says when a segment is complete here (owned or received).
  const ready = new Map(Array.from({ length: n }, (_, s) => [s, deferredVoid()]));

  // A segment whose holder drops from here on is rebuilt by the backup holder of the holder's own
  // contribution (its rescuer): the others recontribute theirs, which they still hold. Only a
  // holder's own segment has a backup; a substitute's extra segments do not (two dropouts).
  const rescuerOf = (s: number): number | undefined => {
    if (!withBackup) return undefined;
    const r = backupOf(s, n);
    return owner(s) === s && included.includes(r) ? r : undefined;
  };
  const segmentBytes = (s: number, id: number): Uint8Array => {
    const [start, end] = layout.chunk(s, id - layout.chunkId(s, 0));
    return floatRangeBytes(layout, outputs, start, end);
  };
  const sendSegment = async (to: number, stage: string, s: number) => {
    for (const id of chunksOf(s)) await session.send(to, stage, segmentBytes(s, id), id);
  };
  /** What this party does for a peer that asks for the segments in `wanted` (stage "rescue"). */
  const answerRescue = async (from: number, wanted: Uint8Array) => {
    const party = partyName(session, from);
    if (wanted.length !== n || wanted.some((b) => b > 1)) throw new PeerError('malformed rescue message', { where: party });
    for (let s = 0; s < n; s++) {
      if (wanted[s] !== 1 || s === me) continue;
      if (!withBackup) {
        // No backup: forward the segment if its holder's gather reached this party (it is part of
        // the output, which every included party gets), else say so at once (an empty message).
        const have = await ready.get(s)!.promise.then(() => true, () => false);
        if (have) await sendSegment(from, stages.rescued, s);
        else await session.send(from, stages.rescued, new Uint8Array(0), chunksOf(s)[0]!);
        continue;
      }
      const rescuer = rescuerOf(s);
      if (rescuer === me) {
        await ready.get(s)!.promise;
        await sendSegment(from, stages.rescued, s);
      } else if (rescuer === from) {
        // Its rescuer rebuilds segment s: it needs this party's contribution, still masked by
        // M_i + B_i and useful only summed with everyone else's.
        await sendChunks(from, stages.recontribute, chunksOf(s));
      }
    }
  };
  // Serve peers' rescue requests until each says done (or the last wait ends): a party that has
  // the average may still hold what another needs to finish.
  const finished = deferredVoid();
  // Each peer's "done" (it holds the whole average), or undefined if none came within the last
  // wait: the end of lingering, and with rescue "none" the condition for releasing the average.
  const doneFrom = new Map(peers.map((j) => [j, quiet(session.receive(j, stages.done, 0, later(6)))]));
  const serve = async (from: number) => {
    const done = doneFrom.get(from)!;
    const request = await Promise.race([done.then(() => undefined), quiet(session.receive(from, stages.rescue, 0, later(6)))]);
    if (request !== undefined) await quiet(answerRescue(from, request));
    await done;
  };
  const linger = Promise.all(peers.map(serve)).then(() => finished.promise).catch(() => {}).finally(() => {
    for (const c of corrections) c.seed.fill(0);
  });

  // Stage "gather": each owner finishes its segments chunk by chunk and streams each finished
  // chunk to every other included party, so that unmasking (the self-mask keystream) overlaps
  // the transfer instead of preceding it. Each peer has its own sender with GATHER_WINDOW chunks
  // in flight: a peer slow to accept (or gone) holds back only its own stream, never the
  // finishing or the other peers' sends. A finished chunk is a view of the outputs (no copy), and
  // the finisher yields after each one so that the sends (and the receives of the others'
  // segments) run between chunks rather than after the whole segment.
  const streamOutputs = async () => {
    const order = mySegments.flatMap((s) => chunksOf(s).map((id, c) => ({ s, c, id, finished: deferredVoid() })));
    const sendTo = async (j: number) => {
      const inflight: Promise<void>[] = [];
      let reachable = true;
      for (const { s, id, finished } of order) {
        if (inflight.length >= GATHER_WINDOW) await inflight.shift();
        await finished.promise;
        // A party gone by now needs nothing more from us; the others still get every chunk.
        // (send resolves with nothing: map success to true, so undefined means gone.)
        if (!reachable) return;
        const sent = tolerant(session, session.send(j, stages.gather, segmentBytes(s, id), id).then(() => true)).then((r) => {
          if (r === undefined) reachable = false;
        });
        sent.catch(() => {});
        inflight.push(sent);
      }
      await Promise.all(inflight);
    };
    let failed: { err: unknown } | undefined;
    const senders = Promise.all(peers.map(sendTo));
    senders.catch((err: unknown) => {
      failed = { err };
    });
    try {
      for (const { s, c, id, finished } of order) {
        // A failed or aborted round finishes nothing more (and its senders, waiting on these chunks, end).
        if (failed !== undefined) throw failed.err;
        if (session.signal.aborted) throw session.signal.reason instanceof Error ? session.signal.reason : new PeerError('the computation was aborted');
        finishChunk(s, c, id, ownedContributions(s));
        finished.resolve();
        if (c === layout.chunkCount(s) - 1) ready.get(s)!.resolve();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      for (const s of mySegments) ready.get(s)!.resolve(); // a segment of no elements has no chunk
    } catch (err) {
      for (const o of order) o.finished.reject(err);
      throw err;
    }
    await senders;
  };
  const missing = new Set<number>();
  const receiveOutputs = async (from: number) => {
    const party = partyName(session, from);
    const theirs = Array.from({ length: n }, (_, s) => s).filter((s) => owner(s) === from);
    for (const [k, s] of theirs.entries()) {
      for (const id of chunksOf(s)) {
        const [start, end] = layout.chunk(s, id - layout.chunkId(s, 0));
        let payload: Uint8Array;
        try {
          payload = await session.receive(from, stages.gather, id, later(1));
        } catch (err) {
          if (session.signal.aborted || !(err instanceof TimeoutError || err instanceof PeerError)) throw err;
          // Its segments (the rest of them) go to their rescuers below. Without backups, a segment
          // missed here is never finished by this party: a peer asking for it learns that at once.
          for (const lost of theirs.slice(k)) {
            missing.add(lost);
            if (!withBackup) ready.get(lost)!.reject(err);
          }
          return;
        }
        writeFloatRange(layout, outputs, start, end, payload, party);
      }
      ready.get(s)!.resolve();
    }
  };
  try {
    // A party gone by now needs nothing more from us.
    await Promise.all([streamOutputs(), ...peers.map(receiveOutputs)]);
    if (missing.size > 0) await rescue([...missing].sort((a, b) => a - b));
  } catch (err) {
    finished.resolve();
    for (const r of ready.values()) r.reject(err);
    throw err instanceof TesseraError ? err : new PeerError(`FedAvg failed: ${(err as Error).message}`);
  }
  // This party has the average: it says so, and serves requests until the others have it too.
  void Promise.all(peers.map((j) => tolerant(session, session.send(j, stages.done, Uint8Array.of(1), 0)))).catch(() => {}).finally(() => finished.resolve());
  if (!withBackup) await allHoldIt();
  // Included parties whose segment was rebuilt for this party: they did not deliver it after the
  // decision. Without backups none: every included party said done, so each still held the average.
  const lostAfterDecision = withBackup ? [...new Set([...missing].map(owner))].sort((a, b) => a - b) : [];
  return { totalWeight: Number(totalQ) / 2 ** 24, included, lostAfterDecision, linger, outputs };

  /**
   * Without backups (rescue "none"): the average is released only once every other included party
   * said it holds it too (stage done), so that the round ends the same way at every party: a
   * party that cannot finish (its segment reached no one, or a link broke) never says done, its
   * abort notice or its silence fails the others. The wait is bounded by the last stage's
   * (later(6)); what remains open is a party dying between its own done messages, or one done
   * lost: the parties that got every done have the average, the others fail naming it
   * (docs/dropouts.md, "All or nothing").
   */
  async function allHoldIt(): Promise<void> {
    const heard = await Promise.all(peers.map((j) => doneFrom.get(j)!));
    if (session.signal.aborted) throw session.signal.reason instanceof Error ? session.signal.reason : new PeerError('the computation was aborted');
    const silent = peers.filter((_, k) => heard[k] === undefined);
    if (silent.length === 0) return;
    const names = silent.map((j) => partyName(session, j)).join(', ');
    throw new TimeoutError(`stage ${stages.done}: ${names} did not say it holds the average; with rescue "none" the average is released only when every included party holds it, so that all get it or none does`, {
      where: names,
      extra: { missing: silent },
    });
  }

  /** Segments whose holder dropped after the decision: rebuilt by their rescuers (stage "rescue"). */
  async function rescue(lost: number[]): Promise<void> {
    const gone = new Set(lost.map(owner));
    // Without backups any number of lost segments can be forwarded by a party that holds them.
    if (!withBackup) return forwarded(lost, gone);
    if (gone.size > 1) {
      // Every segment sums a contribution of every included party, and a holder's contributions to
      // the others' segments are kept only by itself and by their holders: with two holders gone,
      // neither segment can be rebuilt (docs/dropouts.md, "Two dropouts around one segment").
      const both = [...gone].sort((a, b) => a - b);
      const names = both.map((h) => partyName(session, h)).join(', ');
      throw new TimeoutError(`${names} dropped after the included parties were decided, each holding a segment of the average and a contribution to the other's; neither can be rebuilt, and since part of the average may already be out the round cannot restart without them`, {
        where: names,
        extra: { missing: both },
      });
    }
    const unrecoverable = lost.filter((s) => rescuerOf(s) === undefined);
    if (unrecoverable.length > 0) {
      // The holder, and the party whose absence left its segment without a copy: its rescuer
      // (dropped before the decision), or, for a substitute's extra segment, the dropped party
      // whose segment it was. Part of the output may already be out, so there is no way back
      // (docs/dropouts.md, "Two dropouts around one segment").
      const holders = [...new Set(unrecoverable.map(owner))];
      const second = [...new Set(unrecoverable.map((s) => (owner(s) === s ? backupOf(s, n) : s)))].filter((p) => !holders.includes(p));
      const both = [...holders, ...second].sort((a, b) => a - b);
      const names = both.map((h) => partyName(session, h)).join(', ');
      throw new TimeoutError(`${names} dropped around one segment of the average (its holder after the decision, and the only copy's keeper); the segment cannot be rebuilt, and since part of the average may already be out the round cannot restart without them`, {
        where: names,
        extra: { missing: both },
      });
    }
    const wanted = Uint8Array.from({ length: n }, (_, s) => (lost.includes(s) ? 1 : 0));
    const asked = peers.filter((j) => !gone.has(j));
    await Promise.all([
      ...asked.map((j) => tolerant(session, session.send(j, stages.rescue, wanted, 0))),
      ...lost.map(async (s) => {
        const rescuer = rescuerOf(s)!;
        const holder = partyName(session, s);
        // The second party this segment needed: its rescuer, or (at the rescuer) a party whose
        // contribution to it was lost with it.
        let second = rescuer;
        try {
          if (rescuer === me) {
            // Σ_{i∈S} c_i[s]: this party's own, the holder's from the backup, the others recontributed.
            const recontributed = new Map<number, Map<number, Uint32Array>>();
            await Promise.all(asked.map(async (j) => {
              const chunks = new Map<number, Uint32Array>();
              for (const id of chunksOf(s)) {
                const payload = await session.receive(j, stages.recontribute, id, later(3)).catch((err: unknown) => {
                  second = j;
                  throw err;
                });
                if (payload.length !== sentBytes(id)) throw new PeerError(`invalid recontribute message: expected ${sentBytes(id)} bytes`, { where: partyName(session, j) });
                chunks.set(id, keptWords(fp, payload));
              }
              recontributed.set(j, chunks);
            }));
            finishSegment(s, (i, _c, id) => (i === s ? backup.get(id)! : recontributed.get(i)!.get(id)!));
          } else {
            for (const id of chunksOf(s)) {
              const [start, end] = layout.chunk(s, id - layout.chunkId(s, 0));
              writeFloatRange(layout, outputs, start, end, await session.receive(rescuer, stages.rescued, id, later(4)), partyName(session, rescuer));
            }
          }
        } catch (err) {
          if (session.signal.aborted || !(err instanceof TimeoutError || err instanceof PeerError)) throw err;
          // A second party around this segment dropped too (or could not be reached): both are named.
          const both = [s, second].sort((a, b) => a - b);
          const names = both.map((p) => partyName(session, p)).join(', ');
          const role = second === rescuer ? `its rescuer ${partyName(session, rescuer)} kept the only copy of its own contribution` : `${partyName(session, second)} held the only other copy of its contribution`;
          throw new TimeoutError(`${names} dropped around one segment of the average (${holder} held it after the decision, ${role}); the segment cannot be rebuilt: ${(err as Error).message}`, {
            where: names,
            extra: { missing: both },
          });
        }
        ready.get(s)!.resolve();
      }),
    ]);
  }

  /**
   * Without backups (rescue "none"): a lost segment comes from any included party that its
   * holder's gather reached; each answers with it, or at once with an empty message if it missed
   * it too. If none has it, the round fails here naming the holder, and the others learn it from
   * this party's abort notice. Nothing is unmasked again: S stays as decided (no restart once a
   * party stated it, index.ts restartAfter), so no second set is ever opened.
   */
  async function forwarded(lost: number[], gone: ReadonlySet<number>): Promise<void> {
    const wanted = Uint8Array.from({ length: n }, (_, s) => (lost.includes(s) ? 1 : 0));
    const asked = peers.filter((j) => !gone.has(j));
    const fetch = async (j: number, s: number): Promise<Uint8Array[] | undefined> => {
      const ids = chunksOf(s);
      const first = await quiet(session.receive(j, stages.rescued, ids[0]!, later(4)));
      if (first === undefined || first.length === 0) return undefined;
      const payloads = [first];
      for (const id of ids.slice(1)) {
        const payload = await quiet(session.receive(j, stages.rescued, id, later(4)));
        if (payload === undefined) return undefined;
        payloads.push(payload);
      }
      return payloads;
    };
    await Promise.all([
      ...asked.map((j) => tolerant(session, session.send(j, stages.rescue, wanted, 0))),
      ...lost.map(async (s) => {
        // The first party to send the whole segment; the values are the same at every party.
        const answers = asked.map(async (j) => ({ j, payloads: await fetch(j, s) }));
        const got = await new Promise<{ j: number; payloads: Uint8Array[] } | undefined>((resolve) => {
          for (const a of answers) void a.then((r) => r.payloads !== undefined && resolve(r as { j: number; payloads: Uint8Array[] }));
          void Promise.all(answers).then(() => resolve(undefined));
        });
        if (session.signal.aborted) throw session.signal.reason instanceof Error ? session.signal.reason : new PeerError('the computation was aborted');
        const holder = partyName(session, s);
        if (got === undefined) {
          throw new TimeoutError(`${holder} dropped after the included parties were decided, and its segment of the average reached none of the others; this round keeps no backup to rebuild it (rescue "none"), and once the set is decided it cannot restart without it`, {
            where: holder,
            extra: { missing: [s] },
          });
        }
        chunksOf(s).forEach((id, c) => {
          const [start, end] = layout.chunk(s, id - layout.chunkId(s, 0));
          writeFloatRange(layout, outputs, start, end, got.payloads[c]!, partyName(session, got.j));
        });
      }),
    ]);
  }
}

/** Resolves when the session is aborted (a peer's notice) or after `ms`, whichever is first. */
function noticeWithin(session: Session, ms: number): Promise<void> {
  if (session.signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      session.signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    session.signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * A received payload's ring words, kept past the receive (until the decision, or for a rescue).
 * A delivered payload is this round's own: the transport decrypts each message into the request
 * body read for that delivery (envelope.ts openInPlace) or a fresh buffer, and nothing here ever
 * writes into a received contribution (they are only added onto this party's own). So an 8-byte
 * aligned view is kept as it is; only one that addInto could not read on its fast path is copied
 * (wordsOf copies one that is not even 4-byte aligned). Before, every aligned payload was copied
 * too: a third of the model in the ring per party at three parties (133 MB at 25M parameters),
 * written to freshly faulted memory, on the reduce stage's path.
 */
function keptWords(fp: VectorFixedPoint, payload: Uint8Array): Uint32Array {
  // A narrower ring's packed payload is unpacked into words of its own (vector.ts unpackRing).
  if (fp.ringBits !== fp.bits) return unpackRing(fp, payload);
  const words = wordsOf(payload);
  return words.byteOffset % 8 === 0 ? words : words.slice();
}

/** A wait whose failure only means "nothing more will come": undefined then. */
function quiet<T>(work: Promise<T>): Promise<T | undefined> {
  return work.catch(() => undefined);
}

function deferredVoid(): { promise: Promise<void>; resolve(): void; reject(err: unknown): void } {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** The check a party runs on its own weight before anything is sent: q ≤ Q. */
export function checkBelowMax(q: number, maxQ: number, maxWeight: number, where: string): void {
  if (q > maxQ) throw new BadInputError(`weight is above max_weight ${maxWeight} (the public scale of a round with min_parties)`, { where });
}

