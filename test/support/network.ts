import type { OpenOptions, PeerNetwork, Session } from '../../services/peer.js';

// The tests' one in-memory network: simulation mode's own (services/simulation/network.ts), n
// parties in one process without HTTP, with the session contract's semantics (matching, early
// messages, terms checks, aborts, timeouts). Re-exported here so the harness is one folder.
export { MemoryHub } from '../../services/simulation/network.js';
export { simulatedNodes } from '../../services/simulation/index.js';

/**
 * A network whose sessions pass every call through to `net`'s, except the ones `change` replaces
 * (send, receive, pairSecret): how a test plays a tampering or recording peer, or one whose key
 * of a peer is out of date, on the real session semantics.
 */
export function wrapNetwork(
  net: PeerNetwork,
  change: (session: Session) => Partial<Pick<Session, 'send' | 'receive' | 'pairSecret'>>,
): PeerNetwork {
  return {
    stageTimeoutMs: net.stageTimeoutMs,
    async open(options: OpenOptions): Promise<Session> {
      const s = await net.open(options);
      return {
        uuid: s.uuid,
        myself: s.myself,
        parties: s.parties,
        nodes: s.nodes,
        timeoutMs: s.timeoutMs,
        signal: s.signal,
        send: (to, stage, payload, seq) => s.send(to, stage, payload, seq),
        receive: (from, stage, seq, timeoutMs) => s.receive(from, stage, seq, timeoutMs),
        abort: (reason, cause) => s.abort(reason, cause),
        tell: (peer, reason, cause) => s.tell(peer, reason, cause),
        whenJoined: (timeoutMs, peer) => s.whenJoined(timeoutMs, peer),
        pairSecret: (peer, context) => s.pairSecret(peer, context),
        close: () => s.close(),
        ...change(s),
      };
    },
  };
}
