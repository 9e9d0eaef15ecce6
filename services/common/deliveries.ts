// Sends whose receipts a protocol does not wait for before it goes on.
//
// Session.send resolves once the receiver has accepted the message (its 2xx: the receipt). A step
// that awaits its sends before the next step therefore pays a round trip per message, where the
// next step needs only the peers' messages, which arrive after one one-way trip: in an exchange in
// which every party sends to every other at once (a GMW layer, an opening), a party has the
// others' messages about half a round trip before the receipts of its own. The order blocks send
// through this tracker instead: a send goes out and is recorded, the protocol waits only for what it
// receives (or the first failed send, whichever comes first), and every send is awaited before the
// block returns, so no message is still in flight when the session closes.
//
// What this changes at the receiver: one sender's messages may arrive out of the order they were
// sent (the carrier need not keep it), e.g. an opening before the AND layer sent just before it.
// Each (stage, seq) is received by name, so the protocol reads the same messages either way; the
// stage order a session declares lets exactly these overtakings (order/stages.ts circuitLoops;
// StatisticsUnivariate's opening after the moments' last stage).
//
// The stage machinery takes a tracker too (stages.ts scatter/broadcast/gather `deliveries`), so a
// building block (the secure vector sum's last stage) can leave its receipts to a caller that
// runs several blocks in one session and settles one tracker once, at its end.

export class Deliveries {
  readonly #pending: Promise<void>[] = [];
  #reject!: (err: unknown) => void;
  /** Rejects with the first failed send's error; never resolves. */
  readonly #failure = new Promise<never>((_, reject) => {
    this.#reject = reject;
  });

  constructor() {
    this.#failure.catch(() => undefined);
  }

  /** Records a send that is not awaited now. */
  track(send: Promise<void>): void {
    this.#pending.push(send);
    send.catch((err: unknown) => this.#reject(err));
  }

  /** `waiting`, or the first failed send's error if one fails first (a send that failed never arrives). */
  race<T>(waiting: Promise<T>): Promise<T> {
    return Promise.race([waiting, this.#failure]);
  }

  /** Resolves once every tracked send was accepted; rejects with the first failure. */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }
}
