// The peer API (tag `peer`): server to server only. Envelopes authenticate themselves
// (server/peer/envelope.ts), so these handlers only hand bytes to the peer endpoint.

import { BadInputError, NotImplementedError, TesseraError } from '../../../services/errors.js';
import type { PeerEndpoint } from '../../../services/peer.js';
import { RECEIPT_HEADER } from '../../peer/transport.js';
import type { components, HandlerMap } from '../operations.js';
import { markLogged } from '../problem.js';
import type { HandlerDeps } from './context.js';

export function peerHandlers({ peer }: Pick<HandlerDeps, 'peer'>): Pick<HandlerMap, 'getPeerIdentity' | 'deliverPeerMessage'> {
  const requirePeer = (): PeerEndpoint => {
    if (peer === undefined) throw new NotImplementedError('this server runs without a peer layer', { where: 'peer' });
    return peer;
  };
  return {
    async getPeerIdentity(req, res) {
      const challenge = typeof req.query.challenge === 'string' ? req.query.challenge : undefined;
      const asker = typeof req.query.asker === 'string' ? req.query.asker : undefined;
      // The peer layer builds the document (server/peer/node.ts identity) and types it loosely; the
      // tests' response validation checks it against PeerIdentity.
      res.json((await requirePeer().identity(challenge, asker)) as components['schemas']['PeerIdentity']);
    },
    async deliverPeerMessage(req, res) {
      if (!Buffer.isBuffer(req.body)) throw new BadInputError('the body must be one sealed envelope', { where: 'body' });
      // deliver() logs every message it refuses, with the sender and stage: one line per refusal.
      // The body was read for this request alone (binaryBody): the peer layer may open it in place.
      const receipt = await requirePeer().deliver(req.body, { owned: true }).catch((err: unknown) => {
        throw err instanceof TesseraError ? markLogged(err) : err;
      });
      // The receipt tells the sender this run of this server opened its envelope (server/peer/envelope.ts).
      if (typeof receipt === 'string') res.setHeader(RECEIPT_HEADER, receipt);
      res.status(204).end();
    },
  };
}
