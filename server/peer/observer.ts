// What the peer layer tells the operations side (metrics, the per-computation log line). It says
// how much and how long, never what: no payload, no input, no result reaches an observer.

/** One computation as this party saw it, when it ended (its session closed, or it never opened). */
export interface ComputationRecord {
  /** The network uuid the clients chose. */
  readonly uuid: string;
  readonly microprotocol: string;
  /** This party's index in `nodes`. */
  readonly myself: number;
  /** Every party's server URL, by index (empty when the node list itself was invalid). */
  readonly nodes: readonly string[];
  readonly durationMs: number;
  /** Payload bytes and messages this party sent to and received from its peers in this computation. */
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  /** "ok", or the slug of the error that ended it (timeout, peer-failed, bad-input, …). */
  readonly outcome: string;
  /** For a failure: the field or party at fault, as the error named it. */
  readonly where?: string;
}

export interface PeerObserver {
  /** A sealed envelope of `bytes` was accepted by its receiver ("out") or authenticated here ("in"). */
  message(direction: 'in' | 'out', bytes: number): void;
  computationEnded(record: ComputationRecord): void;
}

export const NO_OBSERVER: PeerObserver = { message() {}, computationEnded() {} };
