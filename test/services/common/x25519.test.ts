import assert from 'node:assert/strict';
import { createPublicKey, diffieHellman } from 'node:crypto';
import { test } from 'node:test';
import { freshX25519, SPKI_X25519 } from '../../../services/common/x25519.js';

test('freshX25519: the raw public key is the private key\'s own, and two parties agree on one secret', () => {
  const a = freshX25519();
  const b = freshX25519();
  assert.equal(a.publicRaw.length, 32);
  assert.notDeepEqual(a.publicRaw, b.publicRaw);
  const imported = createPublicKey({ key: Buffer.concat([SPKI_X25519, a.publicRaw]), format: 'der', type: 'spki' });
  assert.deepEqual(
    diffieHellman({ privateKey: b.privateKey, publicKey: imported }),
    diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }),
  );
});
