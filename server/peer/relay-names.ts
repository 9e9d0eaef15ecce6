// The names of the NATS relay carrier (server/peer/relay.ts), apart from it so that the options
// table (server/config.ts) and the carrier selection can check them without loading the NATS client.

import { BadInputError } from '../../services/errors.js';

/** The node URL scheme of parties reached through the relay: relay://<name>. */
export const RELAY_SCHEME = 'relay:';
/** Every party listens on SUBJECT_PREFIX + its name; NATS permissions are granted on these subjects. */
export const SUBJECT_PREFIX = 'tessera.peer.';
/** A relay name: one NATS subject token, lower case (no `.`, `*`, `>` or spaces). */
export const RELAY_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Checks a --relay URL: nats:// or tls://, host and port only (credentials go in their own options). */
export function checkRelayUrl(value: string, where: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadInputError(`"${value.slice(0, 200)}" is not a URL`, { where });
  }
  if (url.protocol !== 'nats:' && url.protocol !== 'tls:') throw new BadInputError(`a relay URL must be nats:// or tls://, not ${url.protocol}`, { where });
  if (url.username || url.password) throw new BadInputError('give relay credentials with --relay-creds, --relay-user or --relay-token, not in the URL', { where });
  if (url.hostname === '') throw new BadInputError('a relay URL needs a host', { where });
  return value;
}

export function checkRelayName(value: string, where: string): string {
  if (!RELAY_NAME.test(value)) throw new BadInputError('a relay name is 1 to 63 lower-case letters, digits, "-" or "_", starting with a letter or digit', { where });
  return value;
}
