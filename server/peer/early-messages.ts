// The early-message buffer: authenticated envelopes of a computation that has not started here
// yet (its client has not called this server), or of a later computation on the same uuid. Held
// bounded in count, bytes and time (the stage timeout) until the session opens and adopts them.

import { ConflictError, LimitError, TooLargeError } from '../../services/errors.js';
import type { EnvelopeHeader } from './envelope.js';

export interface EarlyMessage {
  readonly header: EnvelopeHeader;
  readonly payload: Buffer;
  readonly expiresAt: number;
}

export interface EarlyMessageLimits {
  readonly maxBufferedMessages: number;
  readonly maxBufferedBytes: number;
}

export class EarlyMessages {
  private readonly byUuid = new Map<string, EarlyMessage[]>();
  private heldCount = 0;
  private heldBytes = 0;

  constructor(
    private readonly limits: EarlyMessageLimits,
    /** How long a message waits for its computation (the stage timeout). */
    private readonly holdMs: number,
  ) {}

  get count(): number {
    return this.heldCount;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Whether one more message of `bytes` fits within the limits. */
  hasRoom(bytes: number): boolean {
    return this.heldCount + 1 <= this.limits.maxBufferedMessages && this.heldBytes + bytes <= this.limits.maxBufferedBytes;
  }

  /** Parks a message; an identical resend is a no-op, a different one in the same slot a conflict. */
  hold(header: EnvelopeHeader, payload: Buffer): void {
    const list = this.byUuid.get(header.uuid) ?? [];
    const twin = list.find(
      (m) => m.header.senderKey === header.senderKey && m.header.instance === header.instance &&
        m.header.stage === header.stage && m.header.seq === header.seq,
    );
    if (twin) {
      if (twin.payload.equals(payload)) return;
      throw new ConflictError(`two different "${header.stage}" messages with seq ${header.seq} from one sender`, { where: 'envelope.header.seq' });
    }
    if (this.heldCount + 1 > this.limits.maxBufferedMessages) {
      throw new LimitError(`this server already holds ${this.heldCount} early peer messages (limit)`, { where: 'envelope' });
    }
    if (this.heldBytes + payload.length > this.limits.maxBufferedBytes) {
      throw new TooLargeError(`early peer messages would exceed ${this.limits.maxBufferedBytes} buffered bytes`, { where: 'envelope' });
    }
    list.push({ header, payload, expiresAt: Date.now() + this.holdMs });
    this.byUuid.set(header.uuid, list);
    this.heldCount += 1;
    this.heldBytes += payload.length;
  }

  /**
   * Takes out of the buffer of `uuid` every message `take` claims (called once per message, in
   * arrival order), keeping the count and bytes in step; returns them.
   */
  take(uuid: string, take: (message: EarlyMessage) => boolean): EarlyMessage[] {
    const list = this.byUuid.get(uuid);
    if (!list) return [];
    const keep: EarlyMessage[] = [];
    const taken: EarlyMessage[] = [];
    for (const message of list) (take(message) ? taken : keep).push(message);
    if (taken.length === 0) return taken;
    for (const message of taken) {
      this.heldCount -= 1;
      this.heldBytes -= message.payload.length;
    }
    if (keep.length > 0) this.byUuid.set(uuid, keep);
    else this.byUuid.delete(uuid);
    return taken;
  }

  /** Takes out every message whose hold time has passed. */
  expire(now: number): EarlyMessage[] {
    const dropped: EarlyMessage[] = [];
    for (const uuid of [...this.byUuid.keys()]) dropped.push(...this.take(uuid, (m) => m.expiresAt <= now));
    return dropped;
  }

  clear(): void {
    this.byUuid.clear();
    this.heldCount = 0;
    this.heldBytes = 0;
  }
}
