// One meaning of "loopback" (server/loopback.ts) for binding, the Host header and peer trust.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopback, isLoopbackUrl } from '../../server/loopback.js';
import { Trust } from '../../server/peer/trust.js';

const CASES: [string, boolean][] = [
  ['localhost', true],
  ['LOCALHOST', true],
  ['127.0.0.1', true],
  ['127.0.0.2', true],
  ['127.255.255.254', true],
  ['::1', true],
  ['[::1]', true],
  ['0:0:0:0:0:0:0:1', true],
  ['::ffff:127.0.0.1', true],
  ['0.0.0.0', false],
  ['::', false],
  ['10.0.0.5', false],
  ['128.0.0.1', false],
  ['127.0.0.1.nip.io', false],
  ['localhost.example', false],
  ['example.org', false],
];

for (const [host, loopback] of CASES) {
  test(`${host}: ${loopback ? '' : 'not '}loopback, for binding and for peer trust alike`, () => {
    assert.equal(isLoopback(host), loopback);
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const url = `http://${bracketed}:55501`;
    assert.equal(isLoopbackUrl(url), loopback);
    // A server without a network secret trusts loopback node URLs only: the same answer.
    const trust = new Trust({ secret: Buffer.alloc(32, 1), secretIsLocal: true });
    assert.equal(trust.isTrustedUrl(url), loopback);
  });
}

test('only http and https URLs count', () => {
  assert.equal(isLoopbackUrl('ftp://127.0.0.1/'), false);
  assert.equal(isLoopbackUrl('not a url'), false);
});
