// The terms in envelope headers (server/peer/envelope.ts termsDigest, session.ts termsFor): a
// sender states the agreed terms in full until its receiver's run is known to hold them (it took
// one envelope of the computation that did, or sent one whose terms agreed), then by their
// SHA-256 digest, authenticated as the GCM associated data exactly as the terms were. These tests run real nodes over real HTTP (the peer harness) and
// check what goes on the wire, that a digest that disagrees is refused as the disagreement with a
// clear error, and that a header must state the terms one way or the other.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { canonicalJson } from '../../../server/peer/codec.js';
import { ChannelKeys, parseEnvelope, termsDigest, type EnvelopeHeader } from '../../../server/peer/envelope.js';
import { loadOrCreateIdentity } from '../../../server/peer/identity.js';
import type { PeerSession } from '../../../server/peer/session.js';
import { Trust } from '../../../server/peer/trust.js';
import { BadInputError, ConflictError } from '../../../services/errors.js';
import { within } from '../../within.js';
import { memoryLog } from '../helpers.js';
import { identityOf, openAll, post, startNetwork, termsFor, type Network } from './harness.js';

const SECRET = Buffer.alloc(32, 7); // the harness's default network secret

describe('terms in envelope headers: in full once per receiver run, then by digest', () => {
  let net: Network;
  before(async () => {
    net = await startNetwork(3, { mode: 'secret', secret: SECRET });
  });
  after(async () => {
    await net.close();
  });

  test('the first envelope to a party states the terms in full, the next ones their SHA-256 digest, and both arrive', async () => {
    const sessions = await openAll(net, 'digest-wire');
    const b = net.parties[1]!;
    const before = b.received.length;
    await sessions[0]!.send(1, 'share', Buffer.from('first'));
    await sessions[0]!.send(1, 'result', Buffer.from('second'));
    const [first, second] = b.received.slice(before).map((e) => parseEnvelope(e));
    assert.ok(first !== undefined && second !== undefined);
    const terms = termsFor(net.urls);
    assert.deepEqual(first.header.terms, terms);
    assert.equal(first.header.termsDigest, undefined);
    assert.equal(second.header.terms, undefined);
    assert.equal(second.header.termsDigest, createHash('sha256').update(canonicalJson(terms)).digest('base64url'));
    assert.ok(second.headerBytes.length < first.headerBytes.length, 'the digest header is the shorter one');
    assert.equal(Buffer.from(await within(3000, 'share', sessions[1]!.receive(0, 'share'))).toString(), 'first');
    assert.equal(Buffer.from(await within(3000, 'result', sessions[1]!.receive(0, 'result'))).toString(), 'second');
    sessions.forEach((s) => s.close());
  });

  test('a party that sent us its terms, and they agreed, is sent the digest from our first envelope on', async () => {
    const sessions = await openAll(net, 'digest-heard');
    const a = net.parties[0]!;
    const b = net.parties[1]!;
    // Party 1 speaks first (as the aggregator of a star does): its terms are compared at party 0.
    await sessions[1]!.send(0, 'share', Buffer.from('from 1'));
    assert.equal(Buffer.from(await within(3000, 'share', sessions[0]!.receive(1, 'share'))).toString(), 'from 1');
    assert.ok(parseEnvelope(a.received.at(-1)!).header.terms !== undefined, 'party 1 stated them in full');
    const before = b.received.length;
    await sessions[0]!.send(1, 'result', Buffer.from('reply'));
    const [reply] = b.received.slice(before).map((e) => parseEnvelope(e));
    assert.equal(reply?.header.terms, undefined);
    assert.equal(reply?.header.termsDigest, termsDigest(canonicalJson(termsFor(net.urls))));
    assert.equal(Buffer.from(await within(3000, 'result', sessions[1]!.receive(0, 'result'))).toString(), 'reply');
    // Party 2 has sent party 0 nothing: it is told the terms in full.
    assert.ok('terms' in (sessions[0] as PeerSession).termsFor(2));
    sessions.forEach((s) => s.close());
  });

  test('another run of the receiver is told the terms in full again', async () => {
    const sessions = await openAll(net, 'digest-reboot');
    const s0 = sessions[0] as PeerSession;
    await s0.send(1, 'share', Buffer.from('x'));
    assert.ok('termsDigest' in s0.termsFor(1), 'the run that took the terms gets the digest');
    assert.ok('terms' in s0.termsFor(2), 'a party nothing was sent to gets the terms');
    // As outbound.ts does when party 1 answers 401 (it restarted): the session learns its new boot.
    const realBoot = s0.nodeBoots[1]!;
    s0.nodeBoots[1] = randomBytes(16).toString('base64url');
    assert.ok('terms' in s0.termsFor(1), 'a new run of party 1 has not seen the terms');
    s0.nodeBoots[1] = realBoot;
    sessions.forEach((s) => s.close());
  });

  test('a digest that is not the terms here is refused (409) as the disagreement, and fails the computation with a clear error', async () => {
    const sessions = await openAll(net, 'digest-conflict');
    // Party 0's current run, its bound instance: only the terms digest in the header is wrong.
    await sessions[0]!.send(1, 'share', Buffer.from('bind'));
    assert.equal(Buffer.from(await within(3000, 'share', sessions[1]!.receive(0, 'share'))).toString(), 'bind');
    const alice = await loadOrCreateIdentity(net.parties[0]!.dataDir, memoryLog());
    const receiver = await identityOf(net.urls[1]!);
    const otherTerms = termsFor(net.urls, { microprotocol: 'SecureMean' });
    const header: EnvelopeHeader = {
      v: 1, uuid: 'digest-conflict', instance: (sessions[0] as PeerSession).instance, stage: 'result', seq: 0, from: 0, to: 1, ts: Date.now(),
      senderKey: alice.publicKey, senderBoot: (await identityOf(net.urls[0]!)).bootId,
      receiverKey: receiver.publicKey, receiverBoot: receiver.bootId,
      termsDigest: termsDigest(canonicalJson(otherTerms)),
    };
    const envelope = new ChannelKeys({ ...alice, bootId: header.senderBoot, bootIdBytes: Buffer.from(header.senderBoot, 'base64url') }, new Trust({ secret: SECRET }))
      .seal(header, Buffer.from('y'));
    const { status, problem } = await post(net.urls[1]!, envelope);
    assert.equal(status, 409);
    const ours = termsDigest(canonicalJson(termsFor(net.urls)));
    assert.match(String(problem.detail), /party 0 \(.*\) disagrees on the terms: its message states them by the digest /);
    assert.ok(String(problem.detail).includes(header.termsDigest!) && String(problem.detail).includes(ours), 'both digests are named');
    assert.equal(problem.where, `party 0 (${net.urls[0]})`);
    await assert.rejects(sessions[1]!.receive(0, 'result'), (err: Error) => err instanceof ConflictError && /disagrees on the terms/.test(err.message));
    sessions.forEach((s) => s.close());
  });

  test('a header must state the terms in full or by digest, exactly one (400 naming the field)', async () => {
    const alice = await loadOrCreateIdentity(net.parties[0]!.dataDir, memoryLog());
    const keys = new ChannelKeys(alice, new Trust({ secret: SECRET }));
    const receiver = await identityOf(net.urls[1]!);
    const base = {
      v: 1 as const, uuid: 'digest-shape', instance: randomBytes(16).toString('base64url'), stage: 'share', seq: 0, from: 0, to: 1, ts: Date.now(),
      senderKey: alice.publicKey, senderBoot: alice.bootId, receiverKey: receiver.publicKey, receiverBoot: receiver.bootId,
    };
    const terms = termsFor(net.urls);
    for (const [name, header, field] of [
      ['both', { ...base, terms, termsDigest: termsDigest(canonicalJson(terms)) }, 'envelope.header.terms'],
      ['neither', base, 'envelope.header.terms'],
      ['a digest that is not 32 bytes', { ...base, termsDigest: 'c2hvcnQ' }, 'envelope.header.termsDigest'],
    ] as const) {
      const sealed = keys.seal(header as EnvelopeHeader, Buffer.from('z'));
      assert.throws(() => parseEnvelope(sealed), (err: Error) => err instanceof BadInputError && err.where === field, name);
      const { status, problem } = await post(net.urls[1]!, sealed);
      assert.equal(status, 400, name);
      assert.equal(problem.where, field, name);
    }
  });
});
