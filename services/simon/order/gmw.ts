// The GMW protocol over XOR-shared bits (Goldreich, Micali, Wigderson, STOC 1987; the n-party,
// semi-honest form of Cramer, Damgård, Nielsen 2015, §3), with AND gates by Beaver triples:
// for shares x_i, y_i and a triple (a_i, b_i, c_i), every party publishes d_i = x_i ⊕ a_i and
// e_i = y_i ⊕ b_i; with d = ⊕d_i, e = ⊕e_i, the shares z_i = c_i ⊕ d·b_i ⊕ e·a_i (⊕ d·e at party
// 0) XOR to x·y. d and e are x and y one-time-padded by the triple's uniform a and b, so the
// published bits are uniform whatever x and y are; each triple is used once.
//
// All AND gates of one circuit layer travel in one message per peer (stage "<prefix>-and",
// seq = the layer's number), so the number of rounds is the circuit's AND depth. XOR gates
// and XOR with public constants are local.

import { PeerError } from '../../errors.js';
import type { Session } from '../../peer.js';
import { otherParties, partyName } from '../../common/stages.js';
import { pack, unpack, type Bits } from './bits.js';
import type { Triples } from './triples.js';
import { receiveFrom } from './triples.js';
import type { Deliveries } from '../../common/deliveries.js';

/** Evaluates AND layers and openings on one session; every party makes the same calls in order. */
export interface BitEngine {
  /** x ∧ y elementwise, on shares; one round. */
  and(x: Bits, y: Bits): Promise<Bits>;
  /** Reconstructs shared bits: every party learns x. One round. */
  open(x: Bits): Promise<Bits>;
}

export class Gmw implements BitEngine {
  #used = 0;
  #layer = 0;
  #opened = 0;

  constructor(
    private readonly session: Session,
    private readonly stages: { readonly and: string; readonly open: string },
    private readonly triples: Triples,
    /**
     * If given, a layer's sends are tracked there instead of awaited (deliveries.ts): the next
     * layer needs only the peers' messages; the caller awaits `deliveries.settled()` at its end.
     */
    private readonly deliveries?: Deliveries,
  ) {}

  /** Triples still unused. */
  get remaining(): number {
    return this.triples.a.length - this.#used;
  }

  /** Publishes `mine` in (stage, seq) and returns every party's packet XORed with ours. */
  async #exchange(stage: string, seq: number, mine: Bits): Promise<Bits> {
    const session = this.session;
    const others = otherParties(session);
    const payload = pack(mine);
    const sending = Promise.all(others.map((to) => session.send(to, stage, payload, seq))).then(() => undefined);
    const receiving = Promise.all(others.map(async (from) => unpack(await receiveFrom(session, from, stage, seq), mine.length, `${partyName(session, from)}, stage ${stage}`)));
    let received: Bits[];
    if (this.deliveries === undefined) [, received] = await Promise.all([sending, receiving]);
    else {
      this.deliveries.track(sending);
      received = await this.deliveries.race(receiving);
    }
    const total = Uint8Array.from(mine);
    for (const bits of received) for (let i = 0; i < total.length; i++) total[i]! ^= bits[i]!;
    return total;
  }

  async and(x: Bits, y: Bits): Promise<Bits> {
    const m = x.length;
    if (y.length !== m) throw new RangeError('AND of vectors of different lengths');
    if (this.remaining < m) throw new PeerError(`ran out of multiplication triples (${m} needed, ${this.remaining} left)`);
    const { a, b, c } = this.triples;
    const at = this.#used;
    this.#used += m;
    const de = new Uint8Array(2 * m);
    for (let i = 0; i < m; i++) {
      de[i] = x[i]! ^ a[at + i]!;
      de[m + i] = y[i]! ^ b[at + i]!;
    }
    const opened = await this.#exchange(this.stages.and, this.#layer++, de);
    const first = this.session.myself === 0 ? 1 : 0;
    const z = new Uint8Array(m);
    for (let i = 0; i < m; i++) {
      const d = opened[i]!;
      const e = opened[m + i]!;
      z[i] = c[at + i]! ^ (d & b[at + i]!) ^ (e & a[at + i]!) ^ (d & e & first);
    }
    return z;
  }

  open(x: Bits): Promise<Bits> {
    return this.#exchange(this.stages.open, this.#opened++, x);
  }
}

/** Counts AND gates instead of evaluating them: runs a circuit once to size its triples. */
export class AndCounter implements BitEngine {
  ands = 0;
  async and(x: Bits): Promise<Bits> {
    this.ands += x.length;
    return new Uint8Array(x.length);
  }
  async open(x: Bits): Promise<Bits> {
    return new Uint8Array(x.length);
  }
}
