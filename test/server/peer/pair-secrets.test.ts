// Pair secrets between real peer nodes (server/peer/pair-secrets.ts): both parties of a pair
// derive the same key with no message; every other pair, uuid, context or network secret gives
// another; and a restarted server derives the same key for the same inputs, which is why the
// caller's context must be fresh per computation (services/common/vectorsum.ts uses the
// aggregator's nonce).

import assert from 'node:assert/strict';
import { createHash, createPublicKey, diffieHellman, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadOrCreateIdentity } from '../../../server/peer/identity.js';
import { PairSecrets, pairSecretInfo, referencePairRoot, referencePairSecret } from '../../../server/peer/pair-secrets.js';
import { Trust } from '../../../server/peer/trust.js';
import { openAll, startNetwork, type Network } from './harness.js';
import { within } from '../../within.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

describe('pair secrets', () => {
  let net: Network;
  let other: Network;
  before(async () => {
    net = await startNetwork(3);
    other = await startNetwork(3, { mode: 'secret', secret: randomBytes(32) });
  });
  after(async () => {
    await net.close();
    await other.close();
  });

  test('both parties of a pair derive the same 32 bytes; other pairs, contexts and uuids another', async () => {
    const sessions = await within(5000, 'open', openAll(net, 'pairs'));
    const later = await within(5000, 'open', openAll(net, 'pairs-2'));
    try {
      const context = randomBytes(32);
      const secret = (i: number, j: number, ctx = context) => hex(sessions[i]!.pairSecret(j, ctx));
      assert.equal(sessions[0]!.pairSecret(1, context).length, 32);
      assert.equal(secret(0, 1), secret(1, 0));
      assert.equal(secret(1, 2), secret(2, 1));
      const all = [secret(0, 1), secret(0, 2), secret(1, 2), secret(0, 1, randomBytes(32)), hex(later[0]!.pairSecret(1, context))];
      assert.equal(new Set(all).size, all.length);
      assert.throws(() => sessions[0]!.pairSecret(0, context), /index of another party/);
    } finally {
      [...sessions, ...later].forEach((s) => s.close());
    }
  });

  test('a network with another secret derives other keys between the same positions', async () => {
    const [a, b] = await Promise.all([within(5000, 'open', openAll(net, 'salted')), within(5000, 'open', openAll(other, 'salted'))]);
    try {
      const context = Buffer.alloc(32, 1);
      assert.notEqual(hex(a[0]!.pairSecret(1, context)), hex(b[0]!.pairSecret(1, context)));
    } finally {
      [...a, ...b].forEach((s) => s.close());
    }
  });

  test('the same pair, uuid and context after a restart give the same key: freshness is the context\'s job', async () => {
    const context = Buffer.alloc(32, 9);
    const first = await within(5000, 'open', openAll(net, 'restart'));
    const before = hex(first[1]!.pairSecret(2, context));
    first.forEach((s) => s.close());
    await net.parties[1]!.restart();
    const second = await within(5000, 'open', openAll(net, 'restart'));
    try {
      assert.equal(hex(second[1]!.pairSecret(2, context)), before);
      assert.notEqual(hex(second[1]!.pairSecret(2, Buffer.alloc(32, 10))), before);
    } finally {
      second.forEach((s) => s.close());
    }
  });
});

describe('pair secrets: the second HKDF in its parts', () => {
  test('is exactly HKDF-SHA256(root, empty salt, info, 32) as node:crypto computes it in one call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-pair-'));
    try {
      const [a, b] = await Promise.all([loadOrCreateIdentity(join(dir, 'a'), quiet), loadOrCreateIdentity(join(dir, 'b'), quiet)]);
      for (const trust of [new Trust({ secret: randomBytes(32) }), new Trust({ secret: randomBytes(32), secretIsLocal: true }), new Trust({ pinned: [{ url: 'http://127.0.0.1:2', publicKey: b.publicKey }] })]) {
        const ours = new PairSecrets(a, trust);
        const theirs = new PairSecrets(b, trust);
        for (const context of [new Uint8Array(0), randomBytes(32), randomBytes(300)]) {
          const info = pairSecretInfo(randomUUID(), JSON.stringify({ microprotocol: 'SecureSum', nodes: ['http://127.0.0.1:1', 'http://127.0.0.1:2'] }), 0, 1, context);
          const secret = ours.secret(b.publicKey, info);
          assert.equal(hex(secret), hex(referencePairSecret(ours.root(b.publicKey), info)));
          // The root in its two HMACs is hkdfSync's, over X25519 computed here without the peer layer's caches.
          const shared = diffieHellman({ privateKey: a.privateKey, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b.publicKey }, format: 'jwk' }) });
          assert.equal(hex(ours.root(b.publicKey)), hex(referencePairRoot(shared, trust.messageSalt, a.publicKeyBytes, b.publicKeyBytes)));
          assert.equal(hex(theirs.root(a.publicKey)), hex(ours.root(b.publicKey)));
          // Twice (the cached Extract step) and from the other side: the same bytes.
          assert.equal(hex(ours.secret(b.publicKey, info)), hex(secret));
          assert.equal(hex(theirs.secret(a.publicKey, info)), hex(secret));
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the identity pair proof: HKDF-Expand of the root over both keys in their roles, the run and the challenge; both sides agree', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-pair-'));
    try {
      const [a, b] = await Promise.all([loadOrCreateIdentity(join(dir, 'a'), quiet), loadOrCreateIdentity(join(dir, 'b'), quiet)]);
      const trust = new Trust({ pinned: [{ url: 'http://127.0.0.1:2', publicKey: b.publicKey }] });
      const ours = new PairSecrets(a, trust);
      const theirs = new PairSecrets(b, trust);
      const boot = randomBytes(16);
      const challenge = randomBytes(32);
      // B answers A's challenge; A checks it with its own side of the pair.
      const proof = theirs.identityProof(a.publicKey, a.publicKeyBytes, b.publicKeyBytes, boot, challenge);
      assert.equal(hex(ours.identityProof(b.publicKey, a.publicKeyBytes, b.publicKeyBytes, boot, challenge)), hex(proof));
      const length = Buffer.alloc(4);
      length.writeUInt32BE(challenge.length);
      const info = Buffer.concat([Buffer.from('tessera/v1/identity-pair-proof'), a.publicKeyBytes, b.publicKeyBytes, boot, length, challenge]);
      assert.equal(hex(proof), hex(referencePairSecret(ours.root(b.publicKey), info)));
      // The roles, the run and the challenge each change it.
      assert.notEqual(hex(ours.identityProof(b.publicKey, b.publicKeyBytes, a.publicKeyBytes, boot, challenge)), hex(proof));
      assert.notEqual(hex(ours.identityProof(b.publicKey, a.publicKeyBytes, b.publicKeyBytes, randomBytes(16), challenge)), hex(proof));
      assert.notEqual(hex(ours.identityProof(b.publicKey, a.publicKeyBytes, b.publicKeyBytes, boot, randomBytes(32))), hex(proof));
      // A third party's pair with B gives another.
      const c = await loadOrCreateIdentity(join(dir, 'c'), quiet);
      assert.notEqual(hex(new PairSecrets(c, trust).identityProof(b.publicKey, a.publicKeyBytes, b.publicKeyBytes, boot, challenge)), hex(proof));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the terms enter the info as their SHA-256, whatever terms came before', () => {
    const terms = (k: number) => JSON.stringify({ microprotocol: 'SecureSum', nodes: [`http://127.0.0.1:${k}`, 'http://127.0.0.1:2'] });
    const context = randomBytes(32);
    const first = pairSecretInfo('u', terms(1), 1, 0, context);
    for (let k = 2; k < 200; k++) pairSecretInfo('u', terms(k), 0, 1, context); // more terms than the digest cache holds
    assert.equal(hex(pairSecretInfo('u', terms(1), 0, 1, context)), hex(first));
    assert.ok(first.includes(createHash('sha256').update(terms(1), 'utf8').digest()));
    assert.notEqual(hex(pairSecretInfo('u', terms(2), 0, 1, context)), hex(first));
  });
});
