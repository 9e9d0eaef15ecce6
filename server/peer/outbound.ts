// The outbound path: sealing one message for one party of a session and handing it to the
// carrier (PeerTransport), with the answers a sender acts on: 2xx delivered; 429 "busy" (the
// receiver's in-flight budget was full, nothing was read) sent again after a short backoff; 401
// (the receiver restarted) its identity asked afresh and the message sealed again, once; anything
// else a PeerError naming the party and quoting the receiver's problem. A 2xx carries the
// envelope's receipt (envelope.ts receiptFor): when it verifies, the receiver's run we sealed to is
// proven current (directory.ts proven), which confirms that peer for the computations waiting for it.

import { release } from '../../services/common/release.js';
import { PeerError, TesseraError } from '../../services/errors.js';
import { proofTick, UNKNOWN_BOOT, type PeerDirectory } from './directory.js';
import type { ChannelKeys, EnvelopeHeader } from './envelope.js';
import type { Identity } from './identity.js';
import type { PeerObserver } from './observer.js';
import type { PeerSession } from './session.js';
import { transportFailure, type PeerResponse, type PeerTransport } from './transport.js';

const MAX_PROBLEM_CHARS = 2000;
const MESSAGES_PATH = '/peer/messages';
const ENVELOPE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/octet-stream' });

/** A 429 whose problem says `reason: "busy"`: the receiver's in-flight envelope budget was full. */
function isBusy(text: string): boolean {
  try {
    return (JSON.parse(text) as { reason?: unknown }).reason === 'busy';
  } catch {
    return false;
  }
}

export interface OutboundConfig {
  readonly self: Identity;
  readonly keys: ChannelKeys;
  readonly directory: PeerDirectory;
  readonly transport: PeerTransport;
  readonly observer: PeerObserver;
}

export class OutboundPath {
  constructor(private readonly config: OutboundConfig) {}

  async send(
    session: PeerSession,
    to: number,
    stage: string,
    seq: number,
    payload: Uint8Array,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<void> {
    const { self, keys, directory, transport, observer } = this.config;
    const party = session.party(to);
    const url = session.nodes[to]!;
    const deadline = Date.now() + timeoutMs;
    if (session.nodeBoots[to] === UNKNOWN_BOOT) await this.learnRun(session, to, signal);
    let refreshed = false;
    for (let busyWaitMs = 50; ; ) {
      const header: EnvelopeHeader = {
        v: 1,
        uuid: session.uuid,
        instance: session.instance,
        stage,
        seq,
        from: session.myself,
        to,
        ts: Date.now(),
        senderKey: self.publicKey,
        senderBoot: self.bootId,
        receiverKey: session.nodeKeys[to]!,
        receiverBoot: session.nodeBoots[to]!,
        ...session.termsFor(to),
        peer: session.bound[to] ?? '',
      };
      // Parts, not one buffer: a large envelope's ciphertext is never copied into one (envelope.ts).
      // The tick is taken before the nonce is drawn: a receipt proves the receiver alive after it.
      const tick = proofTick();
      const envelope = keys.sealParts(header, payload, session.termsJson);
      let response: PeerResponse;
      try {
        // The time limit goes with the request (timeoutMs), not as a signal of its own: the
        // channel keeps one deadline sweep for all its requests (transport-channel.ts).
        response = await transport.request(`${url}${MESSAGES_PATH}`, {
          method: 'POST',
          headers: ENVELOPE_HEADERS,
          body: envelope.parts,
          signal,
          timeoutMs: Math.max(1, deadline - Date.now()),
          maxResponseBytes: MAX_PROBLEM_CHARS * 8,
          idempotent: true,
        });
      } catch (err) {
        if (signal.aborted && signal.reason instanceof TesseraError) throw signal.reason;
        throw transportFailure(err, party, `${party} did not accept the "${stage}" message within ${timeoutMs} ms`, {
          onTimeout: { party: to, stage },
          onFailure: { party: to },
        });
      }
      const { text } = response;
      if (response.status >= 200 && response.status <= 299) {
        // Taken: every byte was written (the receiver read the whole body to answer), so the
        // cipher's output slices, this send's own, are freed now rather than by the collector.
        for (const part of envelope.parts) release(part);
        observer.message('out', envelope.length);
        // No receipt, or one that does not verify (an old peer, or an answer forged on the way):
        // delivered as before, but it proves nothing; the computation then asks the peer's identity.
        if (keys.verifyReceipt(header, envelope.id, response.receipt ?? response.text)) {
          session.delivered(to, header);
          directory.proven({ url, publicKey: header.receiverKey, bootId: header.receiverBoot }, tick);
        }
        return;
      }
      if (response.status === 429 && isBusy(text) && Date.now() + busyWaitMs < deadline && !signal.aborted) {
        // The receiver is taking in as many envelopes as it allows (server/http/body.ts
        // inflightGuard); nothing was read, so the same envelope is sent again shortly.
        await new Promise((resolve) => setTimeout(resolve, busyWaitMs));
        busyWaitMs = Math.min(busyWaitMs * 2, 1000);
        continue;
      }
      if (response.status === 401 && !refreshed) {
        refreshed = true;
        // Perhaps the peer restarted (new boot): learn its current identity and seal again, once.
        const fresh = await directory.get(url, party, true);
        // A new key (the peer was set up anew) is adopted only while nothing of this computation
        // came from the old one; the directory already authenticated it (pin or proof).
        // Or when the session itself already adopted that key (node.ts confirmPeer: it started
        // with the identity cached before the peer was set up anew, and confirmed the new one).
        const rekeyed = fresh.publicKey !== header.receiverKey && (session.bound[to] === undefined || session.nodeKeys[to] === fresh.publicKey);
        if (fresh.bootId !== header.receiverBoot && (fresh.publicKey === header.receiverKey || rekeyed)) {
          session.nodeKeys[to] = fresh.publicKey;
          session.nodeBoots[to] = fresh.bootId;
          continue;
        }
      }
      let detail = text.slice(0, MAX_PROBLEM_CHARS);
      try {
        const problem = JSON.parse(text) as Record<string, unknown>;
        if (typeof problem.detail === 'string') detail = problem.detail;
        else if (typeof problem.title === 'string') detail = problem.title;
      } catch {
        // not a problem document: keep the text
      }
      throw new PeerError(`${party} refused the "${stage}" message (HTTP ${response.status}): ${detail}`, {
        where: party,
        extra: { party: to, peerStatus: response.status },
      });
    }
  }

  /**
   * Party `to` is pinned and this server has not met its run (directory.ts known): an envelope is
   * sealed to a run, so ask which one, once (concurrent sends share the request, directory.ts get).
   * The answer is checked against the pin, and, being a fresh one, confirms that peer for the
   * sessions waiting for it (node.ts proven), this one included.
   */
  private async learnRun(session: PeerSession, to: number, signal: AbortSignal): Promise<void> {
    const party = session.party(to);
    const identity = await this.config.directory.get(session.nodes[to]!, party, false);
    if (signal.aborted && signal.reason instanceof TesseraError) throw signal.reason;
    // A confirmation that ran meanwhile has set the run already (node.ts confirmPeer).
    if (session.nodeBoots[to] !== UNKNOWN_BOOT) return;
    if (identity.publicKey !== session.nodeKeys[to]) {
      throw new PeerError(`${party} presented a public key that is not the one pinned in the peers file`, { where: party });
    }
    session.nodeBoots[to] = identity.bootId;
  }
}
