// The sealed envelope on its own: round trips across slice boundaries, and the bindings of the
// key (direction, receiver boot, trust salt) that make reflected or stale envelopes useless.

import assert from 'node:assert/strict';
import { createDecipheriv, createPublicKey, diffieHellman, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UnauthenticatedError } from '../../../services/errors.js';
import { ChannelKeys, envelopeId, LARGE_PAYLOAD_BYTES, parseEnvelope, type EnvelopeHeader } from '../../../server/peer/envelope.js';
import { loadOrCreateIdentity, type Identity } from '../../../server/peer/identity.js';
import { Trust } from '../../../server/peer/trust.js';
import { memoryLog } from '../helpers.js';

describe('envelope', () => {
  let dir: string;
  let alice: Identity;
  let bob: Identity;
  const trust = new Trust({ secret: Buffer.alloc(32, 1) });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-envelope-'));
    alice = await loadOrCreateIdentity(join(dir, 'alice'), memoryLog());
    bob = await loadOrCreateIdentity(join(dir, 'bob'), memoryLog());
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const header = (from: Identity, to: Identity): EnvelopeHeader => ({
    v: 1, uuid: 'u', instance: randomBytes(16).toString('base64url'), stage: 'share', seq: 0, from: 0, to: 1, ts: Date.now(),
    senderKey: from.publicKey, senderBoot: from.bootId, receiverKey: to.publicKey, receiverBoot: to.bootId,
    terms: { microprotocol: 'SecureSum', nodes: ['http://a', 'http://b'] },
  });

  for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7]) {
    test(`round trip of ${size} bytes`, () => {
      const payload = randomBytes(size);
      const sealed = new ChannelKeys(alice, trust).seal(header(alice, bob), payload);
      assert.ok(new ChannelKeys(bob, trust).open(parseEnvelope(sealed)).equals(payload));
    });
  }

  // The large-envelope path (above LARGE_PAYLOAD_BYTES): sealed as parts, opened in place.
  for (const size of [LARGE_PAYLOAD_BYTES + 1, (1 << 21) + 3, 5 * 65536]) {
    test(`parts and in-place opening of ${size} bytes`, () => {
      const payload = randomBytes(size);
      const { parts, length } = new ChannelKeys(alice, trust).sealParts(header(alice, bob), payload);
      assert.ok(parts.length > 2, 'a large envelope is written as parts, not copied into one buffer');
      for (const shift of [0, 1, 3, 7]) {
        // The envelope at every alignment of its ArrayBuffer, as a request body may be.
        const buffer = Buffer.alloc(length + shift);
        Buffer.concat(parts).copy(buffer, shift);
        const envelope = buffer.subarray(shift);
        assert.equal(envelope.length, length);
        const copied = new ChannelKeys(bob, trust).open(parseEnvelope(Buffer.from(envelope)));
        const opened = new ChannelKeys(bob, trust).openInPlace(parseEnvelope(envelope), envelope);
        assert.ok(opened.equals(payload) && copied.equals(payload));
        assert.equal(opened.buffer, buffer.buffer, 'decrypted in the envelope\'s own memory');
        assert.equal(opened.byteOffset % 8, 0, 'ring vectors read the payload without a copy');
      }
    });
  }

  test('in place: a tampered large envelope is refused, its bytes never returned', () => {
    const payload = randomBytes(LARGE_PAYLOAD_BYTES + 100);
    const envelope = new ChannelKeys(alice, trust).seal(header(alice, bob), payload);
    envelope[envelope.length - 1000]! ^= 1;
    assert.throws(() => new ChannelKeys(bob, trust).openInPlace(parseEnvelope(envelope), envelope), UnauthenticatedError);
  });

  test('reflection: an envelope Alice sealed for Bob does not open as one from Bob to Alice', () => {
    const sealed = new ChannelKeys(alice, trust).seal(header(alice, bob), Buffer.from('x'));
    const parsed = parseEnvelope(sealed);
    const reflected = { ...parsed, header: { ...parsed.header, senderKey: bob.publicKey, receiverKey: alice.publicKey, senderBoot: bob.bootId, receiverBoot: alice.bootId } };
    assert.throws(() => new ChannelKeys(alice, trust).open(reflected), UnauthenticatedError);
  });

  test('stale boot: after Bob restarts, an envelope sealed for his old boot no longer opens', async () => {
    const sealed = new ChannelKeys(alice, trust).seal(header(alice, bob), Buffer.from('x'));
    const restarted = await loadOrCreateIdentity(join(dir, 'bob'), memoryLog());
    const parsed = parseEnvelope(sealed);
    assert.throws(() => new ChannelKeys(restarted, trust).open({ ...parsed, header: { ...parsed.header, receiverBoot: restarted.bootId } }), UnauthenticatedError);
  });

  test('the message key is HKDF-SHA256 of the X25519 secret, 32 bytes: the receipt key beside it changes nothing on the wire', () => {
    const h = header(alice, bob);
    const parsed = parseEnvelope(new ChannelKeys(alice, trust).seal(h, Buffer.from('wire')));
    const shared = diffieHellman({ privateKey: bob.privateKey, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: alice.publicKey }, format: 'jwk' }) });
    const info = Buffer.concat([Buffer.from('tessera/v1/message'), ...[h.senderKey, h.receiverKey].map((k) => Buffer.from(k, 'base64url')), ...[h.senderBoot, h.receiverBoot].map((b) => Buffer.from(b, 'base64url'))]);
    const key = Buffer.from(hkdfSync('sha256', shared, trust.messageSalt, info, 32));
    const decipher = createDecipheriv('aes-256-gcm', key, parsed.nonce);
    decipher.setAAD(parsed.headerBytes);
    decipher.setAuthTag(parsed.tag);
    assert.equal(Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]).toString(), 'wire');
  });

  test('receipts: the receiver\'s receipt verifies for that envelope only, in that direction, for those runs', async () => {
    const h = header(alice, bob);
    const sealed = new ChannelKeys(alice, trust).sealParts(h, Buffer.from('x'));
    const parsed = parseEnvelope(Buffer.concat(sealed.parts));
    assert.ok(envelopeId(parsed).equals(sealed.id), 'sender and receiver agree on what the receipt covers');
    const receipt = new ChannelKeys(bob, trust).receiptFor(parsed.header, envelopeId(parsed));
    const alices = new ChannelKeys(alice, trust);
    assert.equal(alices.verifyReceipt(h, sealed.id, receipt), true);
    // Another envelope of the same pair: its nonce and tag differ, the receipt does not carry over.
    const other = alices.sealParts(h, Buffer.from('x'));
    assert.equal(alices.verifyReceipt(h, other.id, receipt), false);
    // Reflected: what Bob computes over the same bytes as if he had sent them is not Alice's receipt.
    const reflected = { ...h, senderKey: bob.publicKey, receiverKey: alice.publicKey, senderBoot: bob.bootId, receiverBoot: alice.bootId };
    assert.equal(alices.verifyReceipt(h, sealed.id, new ChannelKeys(bob, trust).receiptFor(reflected, sealed.id)), false);
    // Another run of Bob (restarted: new boot) cannot vouch for the run Alice sealed to.
    const restarted = await loadOrCreateIdentity(join(dir, 'bob'), memoryLog());
    assert.equal(alices.verifyReceipt(h, sealed.id, new ChannelKeys(restarted, trust).receiptFor({ ...h, receiverBoot: restarted.bootId }, sealed.id)), false);
    // Another network secret, no receipt; nor a missing, empty or garbled one.
    assert.equal(alices.verifyReceipt(h, sealed.id, new ChannelKeys(bob, new Trust({ secret: Buffer.alloc(32, 2) })).receiptFor(h, sealed.id)), false);
    for (const bad of [undefined, '', 'x'.repeat(43), 'é'.repeat(43), `${receipt.slice(0, 42)}${receipt.endsWith('A') ? 'B' : 'A'}`]) {
      assert.equal(alices.verifyReceipt(h, sealed.id, bad), false);
    }
  });

  test('wrong network secret: same keys, other salt, no message', () => {
    const sealed = new ChannelKeys(alice, new Trust({ secret: Buffer.alloc(32, 2) })).seal(header(alice, bob), Buffer.from('x'));
    assert.throws(() => new ChannelKeys(bob, trust).open(parseEnvelope(sealed)), UnauthenticatedError);
  });
});
