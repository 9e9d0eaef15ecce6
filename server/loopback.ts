// The one answer to "does this name mean this machine?", used for binding (may a server listen
// without a client token?), for the Host header (DNS-rebinding guard) and for peer trust (which
// node URLs a server without a network secret may contact).
//
// Loopback is `localhost`, the IPv4 block 127.0.0.0/8 (RFC 1122 section 3.2.1.3 (g): "addresses of
// this form MUST NOT appear outside a host") and the IPv6 address ::1 (RFC 4291 section 2.5.3),
// including its IPv4-mapped form ::ffff:127.0.0.0/104. Node's BlockList does the address
// arithmetic, so every spelling of an address (0:0:0:0:0:0:0:1, [::1]) gets the same answer.

import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * True when `host` (a host name or an IP address, IPv6 with or without brackets, no port) denotes
 * this machine. Names other than `localhost` are never loopback: "127.0.0.1.nip.io" is a DNS name
 * that anyone can point anywhere.
 */
export function isLoopback(host: string): boolean {
  // Asked per request (the Host guard) and per peer URL: BlockList.check builds a SocketAddress
  // each time, so answers are remembered, for a bounded number of names.
  const known = answers.get(host);
  if (known !== undefined) return known;
  const answer = computeIsLoopback(host);
  if (answers.size >= MAX_REMEMBERED) answers.clear();
  answers.set(host, answer);
  return answer;
}

const MAX_REMEMBERED = 256;
const answers = new Map<string, boolean>();

function computeIsLoopback(host: string): boolean {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name === 'localhost') return true;
  const family = isIP(name);
  if (family === 0) return false;
  return LOOPBACK.check(name, family === 4 ? 'ipv4' : 'ipv6');
}

/** The URL's host is loopback (http and https URLs only). */
export function isLoopbackUrl(url: string): boolean {
  // Asked for every peer URL of every computation: parsed once per URL, as above.
  const known = urlAnswers.get(url);
  if (known !== undefined) return known;
  const answer = computeIsLoopbackUrl(url);
  if (urlAnswers.size >= MAX_REMEMBERED) urlAnswers.clear();
  urlAnswers.set(url, answer);
  return answer;
}

const urlAnswers = new Map<string, boolean>();

function computeIsLoopbackUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && isLoopback(parsed.hostname);
  } catch {
    return false;
  }
}
