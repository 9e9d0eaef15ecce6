// The `network` argument of every SIMON microprotocol, as the classic clients send it:
// {"nodes": [url0, url1, ...], "uuid": "<shared uuid>", "myself": <index>}.
// Only its shape is checked here; whether the nodes are trusted, reachable, and whether
// nodes[myself] is really this server is the peer layer's job (PeerNetwork.open).

import { BadInputError } from '../errors.js';

export interface Network {
  readonly nodes: readonly string[];
  readonly uuid: string;
  readonly myself: number;
}

const MAX_UUID_LENGTH = 128;

export function parseNetwork(value: unknown, where = 'kwargs.network'): Network {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadInputError('network must be an object {"nodes": [...], "uuid": "...", "myself": index}', { where });
  }
  const { nodes, uuid, myself } = value as Record<string, unknown>;
  if (!Array.isArray(nodes) || nodes.length < 2) {
    throw new BadInputError('network.nodes must be a list of at least two server URLs', { where: `${where}.nodes` });
  }
  // Normalised (origin + path, no trailing slash) so that "http://A:1/" and "http://a:1" are one
  // node for every party: the parties compare node lists when they agree on the terms.
  const normalised: string[] = [];
  const seen = new Map<string, number>();
  nodes.forEach((node: unknown, i) => {
    const at = `${where}.nodes[${i}]`;
    if (typeof node !== 'string') throw new BadInputError('a node must be a URL string', { where: at });
    let url: URL;
    try {
      url = new URL(node);
    } catch {
      throw new BadInputError(`"${node.slice(0, 200)}" is not a URL`, { where: at });
    }
    if (url.username || url.password || url.hash || url.search) {
      throw new BadInputError('a node URL must not carry credentials, a query or a fragment', { where: at });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new BadInputError(`a node must be an http or https URL, not ${url.protocol}`, { where: at });
    }
    const key = url.origin + url.pathname.replace(/\/+$/, '');
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new BadInputError(`node ${node} is listed twice (also at nodes[${earlier}])`, { where: at });
    }
    seen.set(key, i);
    normalised.push(key);
  });
  if (typeof uuid !== 'string' || uuid.length === 0 || uuid.length > MAX_UUID_LENGTH) {
    throw new BadInputError(`network.uuid must be a non-empty string of at most ${MAX_UUID_LENGTH} characters`, {
      where: `${where}.uuid`,
    });
  }
  if (typeof myself !== 'number' || !Number.isInteger(myself) || myself < 0 || myself >= nodes.length) {
    throw new BadInputError(`network.myself must be an integer index into nodes (0..${nodes.length - 1})`, {
      where: `${where}.myself`,
    });
  }
  return { nodes: normalised, uuid, myself };
}
