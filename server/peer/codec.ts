// Small encodings shared by the peer layer: base64url keys, node URLs, canonical JSON of terms.

import { BadInputError } from '../../services/errors.js';
import { RELAY_NAME } from './relay-names.js';

/** Decodes base64url of exactly `length` bytes, or returns undefined (no throw: callers name the field). */
export function fromBase64Url(text: unknown, length?: number): Buffer | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Reject non-canonical spellings so one key has one name (caches and pins compare strings).
  if (bytes.toString('base64url') !== text) return undefined;
  if (length !== undefined && bytes.length !== length) return undefined;
  return bytes;
}

/**
 * The one spelling of a node URL: origin + path without trailing slashes, so pins, allowlists,
 * caches and terms compare equal strings. The only check of node URLs: services only check types
 * (services/simon/network.ts) and leave the URL rules to the peer layer.
 * Throws BadInputError at `where` for anything that is not a plain http(s) URL or relay://<name>
 * (a party reached through the NATS relay, server/peer/relay.ts).
 */
export function normaliseNodeUrl(node: unknown, where: string): string {
  if (typeof node !== 'string') throw new BadInputError('a node must be a URL string', { where });
  if (node.length > 2048) throw new BadInputError('a node URL must be at most 2048 characters', { where });
  let url: URL;
  try {
    url = new URL(node);
  } catch {
    throw new BadInputError(`"${node.slice(0, 200)}" is not a URL`, { where });
  }
  if (url.protocol === 'relay:') return relayNodeUrl(url, where);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BadInputError(`a node must be an http, https or relay URL, not ${url.protocol}`, { where });
  }
  if (url.username || url.password || url.hash || url.search || node.includes('#') || node.includes('?')) {
    throw new BadInputError('a node URL must not carry credentials, a query or a fragment', { where });
  }
  // `localhost` and `127.0.0.1` name the same loopback server (servers bind 127.0.0.1 by
  // default): one spelling, or two parties' node lists would disagree and refuse each other (409).
  // Only for http: an https certificate may name localhost and not the address.
  if (url.protocol === 'http:' && url.hostname === 'localhost') url.hostname = '127.0.0.1';
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** relay://<name>: one NATS subject token, lower case; no port, path, credentials or query. */
function relayNodeUrl(url: URL, where: string): string {
  const name = url.hostname.toLowerCase();
  if (!RELAY_NAME.test(name) || url.port !== '' || url.username || url.password || url.search || url.hash || url.pathname.replace(/\/+$/, '') !== '') {
    throw new BadInputError('a relay node URL is relay://<name>, the name 1 to 63 letters, digits, "-" or "_"', { where });
  }
  return `relay://${name}`;
}

// Canonical JSON lives in shared/json.ts, where the in-memory network (services/) reaches it too.
export { canonicalJson } from '../../shared/json.js';
