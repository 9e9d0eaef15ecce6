// Opening a two-party SIMON session: SecureMatrixMultiplication, StatisticsRegressionOLSVertical
// (and any other microprotocol between nodes[0] and nodes[1]) run on exactly two nodes, as FSC's
// clients call them; more or fewer is a bad input, refused before any peer is contacted.

import { BadInputError } from '../../errors.js';
import type { CallContext } from '../../microservice.js';
import type { Session } from '../../peer.js';
import { parseNetwork } from '../network.js';

export async function openTwoParty(
  microprotocol: string,
  kwargs: Record<string, unknown>,
  ctx: CallContext,
  stages: readonly string[],
): Promise<Session> {
  const network = parseNetwork(kwargs['network']);
  if (network.nodes.length !== 2) {
    throw new BadInputError(
      `${microprotocol} is a two-party microprotocol: network.nodes must list exactly 2 nodes (party 0 and party 1), got ${network.nodes.length}`,
      { where: 'kwargs.network.nodes' },
    );
  }
  return ctx.peers.open({ uuid: network.uuid, myself: network.myself, terms: { microprotocol, nodes: network.nodes }, stages });
}
