// The network uuid of each round of FederatedAveraging, which every party derives alone.

import { BadInputError } from '../../../shared/errors.js';

const utf8 = new TextEncoder();

/**
 * The network uuid of round `round`, derived from `base` so that every party computes the same one
 * without talking: SHA-256 over a domain-separated encoding of (base, round), formatted as a
 * name-based UUID version 8 (RFC 9562 §5.8, Appendix B.2 uses SHA-256 the same way). The uuid only
 * names the computation; it is no secret and no mask derives from it (masks come from fresh
 * per-computation seeds, docs/architecture.md §4), so a guessable uuid costs nothing.
 */
export async function roundUuid(base: string, round: number): Promise<string> {
  if (typeof base !== 'string' || base.length === 0) throw new BadInputError('the base uuid must be a non-empty string', { where: 'network.uuid' });
  if (!Number.isSafeInteger(round) || round < 0) throw new BadInputError(`a round is a non-negative integer, got ${round}`, { where: 'round' });
  const name = utf8.encode(`tessera/fedavg-round/v1\u0000${base}\u0000${round}`);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', name));
  digest[6] = (digest[6]! & 0x0f) | 0x80; // version 8
  digest[8] = (digest[8]! & 0x3f) | 0x80; // variant 10 (RFC 9562 §4.1)
  const hex = Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
