// The `network` argument of every SIMON microprotocol, as the classic clients send it:
// {"nodes": [url0, url1, ...], "uuid": "<shared uuid>", "myself": <index>}.
// Only the types are checked here. What the values mean — nodes are distinct, trusted http(s)
// URLs (normalised, so parties that spell a URL differently still agree), myself is in range and
// names this server, the uuid's length — is checked once, by the peer layer (PeerNetwork.open).

import { BadInputError } from '../errors.js';

export interface Network {
  readonly nodes: readonly string[];
  readonly uuid: string;
  readonly myself: number;
}

export function parseNetwork(value: unknown, where = 'kwargs.network'): Network {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadInputError('network must be an object {"nodes": [...], "uuid": "...", "myself": index}', { where });
  }
  const { nodes, uuid, myself } = value as Record<string, unknown>;
  if (!Array.isArray(nodes)) {
    throw new BadInputError('network.nodes must be a list of server URLs', { where: `${where}.nodes` });
  }
  nodes.forEach((node: unknown, i) => {
    if (typeof node !== 'string') throw new BadInputError('a node must be a URL string', { where: `${where}.nodes[${i}]` });
  });
  if (typeof uuid !== 'string') {
    throw new BadInputError('network.uuid must be a string', { where: `${where}.uuid` });
  }
  if (typeof myself !== 'number' || !Number.isInteger(myself)) {
    throw new BadInputError('network.myself must be an integer index into nodes', { where: `${where}.myself` });
  }
  return { nodes: nodes as string[], uuid, myself };
}

/**
 * The two-party microprotocols run on exactly nodes[0] (the X side) and nodes[1] (the Y side).
 * FSC quietly ignored or half-used a third node; here anything but two nodes is a bad input.
 */
export function requireTwoParties(network: Network, where = 'kwargs.network.nodes', name = 'this microprotocol'): Network {
  if (network.nodes.length !== 2) {
    throw new BadInputError(`${name} is a two-party microprotocol: network.nodes must list exactly 2 nodes (party 0 and party 1), got ${network.nodes.length}`, {
      where,
    });
  }
  return network;
}
