// Attacks on the peer API, each through real HTTP against running nodes: forged, tampered,
// replayed, misdirected and impersonating envelopes, outsiders, floods of early messages, and
// a client trying to use the server as a proxy. Each must be rejected, logged, and leave the
// computation it targets unharmed.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BadInputError, PeerError } from '../../../services/errors.js';
import type { Session } from '../../../services/peer.js';
import { ChannelKeys, LARGE_PAYLOAD_BYTES, parseEnvelope, type EnvelopeHeader } from '../../../server/peer/envelope.js';
import { loadOrCreateIdentity, type Identity } from '../../../server/peer/identity.js';
import { Trust } from '../../../server/peer/trust.js';
import { memoryLog } from '../helpers.js';
import { identityOf, openAll, post, STAGES, startNetwork, termsFor, type Network, type Party } from './harness.js';
import { within } from '../../within.js';

const SECRET = Buffer.alloc(32, 7); // the harness's default network secret

/** An attacker's sealing kit: any identity, any secret, any header. */
async function forger(identity: Identity, trust: Trust) {
  const keys = new ChannelKeys(identity, trust);
  return async (to: Party, header: Partial<EnvelopeHeader> & Pick<EnvelopeHeader, 'uuid' | 'terms'>, payload: Buffer) => {
    const receiver = await identityOf(to.url);
    const full: EnvelopeHeader = {
      v: 1,
      instance: randomBytes(16).toString('base64url'),
      stage: 'share',
      seq: 0,
      from: 0,
      to: 1,
      ts: Date.now(),
      senderKey: identity.publicKey,
      senderBoot: identity.bootId,
      receiverKey: receiver.publicKey,
      receiverBoot: receiver.bootId,
      ...header,
    };
    return keys.seal(full, payload);
  };
}

function rejectedLogs(party: Party): number {
  return party.log.lines.filter((e) => e.level === 'warn' && e.msg === 'peer message rejected').length;
}

/** The computation still completes after an attack: party 0 -> party 1, stage "result". */
async function stillWorks(sessions: Session[]): Promise<void> {
  await sessions[0]!.send(1, 'result', Buffer.from('fine'));
  assert.equal(Buffer.from(await within(3000, 'result', sessions[1]!.receive(0, 'result'))).toString(), 'fine');
}

describe('attacks on a network-secret deployment', () => {
  let net: Network;
  let scratch: string;
  before(async () => {
    net = await startNetwork(3, { mode: 'secret', secret: SECRET }, (i) => (i === 1 ? { limits: { maxBufferedMessages: 3, maxBufferedBytes: 4096 } } : {}));
    scratch = await mkdtemp(join(tmpdir(), 'tessera-attacker-'));
  });
  after(async () => {
    await net.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('tampered envelopes (a flipped bit in ciphertext, tag, or authenticated header) are refused; the message itself still arrives', async () => {
    const sessions = await openAll(net, 'tamper');
    const b = net.parties[1]!;
    const before = b.received.length;
    await sessions[0]!.send(1, 'share', Buffer.from('genuine share'));
    const genuine = b.received[before]!;
    const logged = rejectedLogs(b);
    const headerEnd = 9 + genuine.readUInt32BE(5);
    for (const [what, at] of [
      ['ciphertext', genuine.length - 20],
      ['tag', genuine.length - 1],
      ['nonce', headerEnd + 3],
      ['header (seq digit)', genuine.indexOf('"seq":0') + 6],
    ] as const) {
      const forged = Buffer.from(genuine);
      forged[at]! ^= what.startsWith('header') ? 0x01 : 0x80;
      const { status } = await post(b.url, forged);
      assert.equal(status, 401, what);
    }
    assert.equal(rejectedLogs(b), logged + 4);
    assert.ok(!b.log.lines.some((e) => JSON.stringify(e).includes('genuine share')), 'payload never logged');
    assert.equal(Buffer.from(await sessions[1]!.receive(0, 'share')).toString(), 'genuine share');
    await stillWorks(sessions);
    sessions.forEach((s) => s.close());
  });

  test('impersonation: an envelope sealed with the wrong private key in the name of party 0 is refused', async () => {
    const sessions = await openAll(net, 'impersonate');
    const mallory = await loadOrCreateIdentity(join(scratch, 'mallory'), memoryLog());
    const party0Key = (await identityOf(net.urls[0]!)).publicKey;
    const forge = await forger(mallory, new Trust({ secret: SECRET }));
    const envelope = await forge(net.parties[1]!, { uuid: 'impersonate', terms: termsFor(net.urls), senderKey: party0Key }, Buffer.from('evil'));
    assert.equal((await post(net.urls[1]!, envelope)).status, 401);
    await sessions[0]!.send(1, 'share', Buffer.from('good'));
    assert.equal(Buffer.from(await sessions[1]!.receive(0, 'share')).toString(), 'good');
    sessions.forEach((s) => s.close());
  });

  test('an outsider without the network secret can neither seal messages nor pass as a peer', async () => {
    const sessions = await openAll(net, 'outsider');
    const eve = await loadOrCreateIdentity(join(scratch, 'eve'), memoryLog());
    const forge = await forger(eve, new Trust({ secret: Buffer.alloc(32, 8) }));
    const envelope = await forge(net.parties[1]!, { uuid: 'outsider', terms: termsFor(net.urls) }, Buffer.from('evil'));
    assert.equal((await post(net.urls[1]!, envelope)).status, 401);
    await stillWorks(sessions);
    sessions.forEach((s) => s.close());

    // Eve runs a server with another secret; a client names it as a node: its identity proof fails.
    const evil = await startNetwork(1, { mode: 'secret', secret: Buffer.alloc(32, 8) });
    try {
      const nodes = [net.urls[0]!, evil.urls[0]!];
      await assert.rejects(
        net.parties[0]!.node.open({ uuid: 'with-eve', myself: 0, terms: termsFor(nodes), stages: STAGES }),
        (err: Error) => err instanceof PeerError && /could not prove it holds the network secret/.test(err.message) && err.where === `party 1 (${evil.urls[0]})`,
      );
    } finally {
      await evil.close();
    }
  });

  test('a party outside the computation (or posing as another index) is refused: not part of this computation', async () => {
    const two = [net.urls[0]!, net.urls[1]!];
    const [s0, s1] = await Promise.all([0, 1].map((i) => net.parties[i]!.node.open({ uuid: 'pair', myself: i, terms: termsFor(two), stages: STAGES })));
    // Party 2 holds the secret but is not in nodes. It claims index 0, then index 2.
    const carol = await loadOrCreateIdentity(net.parties[2]!.dataDir, memoryLog());
    const forge = await forger(carol, new Trust({ secret: SECRET }));
    for (const from of [0, 2]) {
      const envelope = await forge(net.parties[1]!, { uuid: 'pair', terms: termsFor(two), from }, Buffer.from('intrusion'));
      const { status, problem } = await post(net.urls[1]!, envelope);
      assert.equal(status, 403, `from ${from}`);
      assert.match(String(problem.detail), /not part of this computation/);
    }
    await s0!.send(1, 'share', Buffer.from('member'));
    assert.equal(Buffer.from(await s1!.receive(0, 'share')).toString(), 'member');
    s0!.close();
    s1!.close();
  });

  test('replay: a recorded envelope is idempotent while its computation runs and refused (409) after it finished', async () => {
    const sessions = await openAll(net, 'replay');
    const b = net.parties[1]!;
    const before = b.received.length;
    await sessions[0]!.send(1, 'share', Buffer.from('once'));
    const recorded = b.received[before]!;
    assert.equal((await post(b.url, recorded)).status, 204);
    assert.equal(Buffer.from(await sessions[1]!.receive(0, 'share')).toString(), 'once');
    assert.equal((await post(b.url, recorded)).status, 204, 'a resend of a consumed message is a harmless duplicate');
    sessions.forEach((s) => s.close());
    const { status, problem } = await post(b.url, recorded);
    assert.equal(status, 409);
    assert.match(String(problem.detail), /already finished/);
    // The next computation on the same uuid is not confused by the replay.
    const next = await openAll(net, 'replay');
    assert.equal((await post(b.url, recorded)).status, 409);
    await stillWorks(next);
    next.forEach((s) => s.close());
  });

  test('a small consumed payload: the same bytes sealed afresh are a duplicate, other bytes for its slot are refused', async () => {
    // An 8-byte payload (a sum's element) is remembered by its bytes, a 40-byte one by its SHA-256 (session.ts Fingerprint).
    for (const [name, payload] of [['8-byte', randomBytes(8)], ['40-byte', randomBytes(40)]] as const) {
      const sessions = await openAll(net, `small-replay-${name}`);
      const b = net.parties[1]!;
      const before = b.received.length;
      await sessions[0]!.send(1, 'share', payload);
      const header = parseEnvelope(b.received[before]!).header;
      assert.ok(Buffer.from(await sessions[1]!.receive(0, 'share')).equals(payload));
      const alice = await loadOrCreateIdentity(net.parties[0]!.dataDir, memoryLog());
      const keys = new ChannelKeys(alice, new Trust({ secret: SECRET }));
      assert.equal((await post(b.url, keys.seal(header, payload))).status, 204, `${name}: the same bytes again are a harmless duplicate`);
      const other = Buffer.from(payload);
      other[0] = other[0]! ^ 1;
      const { status, problem } = await post(b.url, keys.seal(header, other));
      assert.equal(status, 409, `${name}: other bytes for a consumed slot`);
      assert.match(String(problem.detail), /two different "share" messages with seq 0/);
      sessions.forEach((s) => s.close());
    }
  });

  test('a large payload is known by its envelope: its replay is a duplicate, held or consumed; the same bytes sealed afresh for a consumed slot are refused', async () => {
    // Large payloads are remembered by nonce | tag, not by a hash of their bytes (session.ts Fingerprint).
    const sessions = await openAll(net, 'large-replay');
    const b = net.parties[1]!;
    const payload = randomBytes(LARGE_PAYLOAD_BYTES + 4096);
    const before = b.received.length;
    await sessions[0]!.send(1, 'share', payload);
    const recorded = b.received[before]!;
    assert.equal((await post(b.url, recorded)).status, 204, 'a replay while the payload is held is a duplicate');
    assert.ok(Buffer.from(await sessions[1]!.receive(0, 'share')).equals(payload));
    assert.equal((await post(b.url, recorded)).status, 204, 'a replay of the consumed envelope is a duplicate');
    // Party 0's own keys sealing its own header again: a new nonce, so another envelope.
    const alice = await loadOrCreateIdentity(net.parties[0]!.dataDir, memoryLog());
    const resealed = new ChannelKeys(alice, new Trust({ secret: SECRET })).seal(parseEnvelope(recorded).header, payload);
    const { status, problem } = await post(b.url, resealed);
    assert.equal(status, 409);
    assert.match(String(problem.detail), /two different "share" messages with seq 0/);
    const other = Buffer.from(payload);
    other[other.length - 1] = other[other.length - 1]! ^ 1;
    assert.equal((await post(b.url, new ChannelKeys(alice, new Trust({ secret: SECRET })).seal(parseEnvelope(recorded).header, other))).status, 409);
    await stillWorks(sessions);
    sessions.forEach((s) => s.close());
  });

  test('replay of old traffic: an envelope outside the time window is refused', async () => {
    const sessions = await openAll(net, 'stale');
    const alice = await loadOrCreateIdentity(net.parties[0]!.dataDir, memoryLog());
    const forge = await forger(alice, new Trust({ secret: SECRET }));
    const envelope = await forge(net.parties[1]!, { uuid: 'stale', terms: termsFor(net.urls), ts: Date.now() - 10 * 60 * 1000 }, Buffer.from('old'));
    const { status, problem } = await post(net.urls[1]!, envelope);
    assert.equal(status, 401);
    assert.match(String(problem.detail), /replay window/);
    await stillWorks(sessions);
    sessions.forEach((s) => s.close());
  });

  test('authentic envelopes with an undeclared stage or addressed to another party are refused (400)', async () => {
    const sessions = await openAll(net, 'misdirected');
    const alice = await loadOrCreateIdentity(net.parties[0]!.dataDir, memoryLog());
    const forge = await forger(alice, new Trust({ secret: SECRET }));
    // Bind party 0's real instance first, so the forged ones are judged as part of this computation.
    await sessions[0]!.send(1, 'share', Buffer.from('bind'));
    const instance = (sessions[0] as unknown as { instance: string }).instance;
    for (const [name, header, where] of [
      ['an undeclared stage', { stage: 'exfiltrate' }, 'envelope.header.stage'],
      ['another receiver index', { to: 2 }, 'envelope.header.to'],
    ] as const) {
      // Sealed by party 0's current run (its boot), as party 0 itself could: only the header is wrong.
      const senderBoot = (await identityOf(net.urls[0]!)).bootId;
      const envelope = await forge(net.parties[1]!, { uuid: 'misdirected', terms: termsFor(net.urls), instance, seq: 7, senderBoot, ...header }, Buffer.from('x'));
      const { status, problem } = await post(net.urls[1]!, envelope);
      assert.equal(status, 400, name);
      assert.equal(problem.where, where, name);
    }
    assert.equal(Buffer.from(await sessions[1]!.receive(0, 'share')).toString(), 'bind');
    await stillWorks(sessions);
    sessions.forEach((s) => s.close());
  });

  test('malformed envelopes are refused with 400/413, never a crash', async () => {
    const url = net.urls[1]!;
    const header = Buffer.from(JSON.stringify({ v: 1, uuid: 'x' }));
    const prefix = (magic: string, version: number, length: number) => {
      const p = Buffer.alloc(9);
      p.write(magic, 0, 'latin1');
      p[4] = version;
      p.writeUInt32BE(length, 5);
      return p;
    };
    const cases: [string, Buffer, number][] = [
      ['empty body', Buffer.alloc(0), 400],
      ['bad magic', Buffer.concat([prefix('HTTP', 1, 2), Buffer.from('{}'), Buffer.alloc(28)]), 400],
      ['unknown version', Buffer.concat([prefix('TSPM', 9, 2), Buffer.from('{}'), Buffer.alloc(28)]), 400],
      ['header length past the end', Buffer.concat([prefix('TSPM', 1, 1e6), Buffer.alloc(40)]), 400],
      ['header not JSON', Buffer.concat([prefix('TSPM', 1, 3), Buffer.from('{{{'), Buffer.alloc(28)]), 400],
      ['header missing fields', Buffer.concat([prefix('TSPM', 1, header.length), header, Buffer.alloc(28)]), 400],
      ['truncated before nonce and tag', Buffer.concat([prefix('TSPM', 1, header.length), header]), 400],
    ];
    for (const [name, body, want] of cases) {
      assert.equal((await post(url, body)).status, want, name);
    }
  });

  test('flooding early messages: the buffer refuses past its count and byte bounds and never grows', async () => {
    // Party 1 allows 3 buffered messages and 4096 bytes; it has no session for these uuids.
    const s0 = await net.parties[0]!.node.open({ uuid: 'flood', myself: 0, terms: termsFor(net.urls), stages: STAGES });
    for (let seq = 0; seq < 3; seq++) await s0.send(1, 'share', Buffer.alloc(10, seq), seq);
    await assert.rejects(s0.send(1, 'share', Buffer.alloc(10), 3), (err: Error) => err instanceof PeerError && /HTTP 429/.test(err.message));
    const stats = () => net.parties[1]!.node.stats();
    assert.deepEqual([stats().bufferedMessages, stats().bufferedBytes], [3, 30]);
    s0.close();
    const s0b = await net.parties[0]!.node.open({ uuid: 'flood-bytes', myself: 0, terms: termsFor(net.urls), stages: STAGES });
    await assert.rejects(s0b.send(1, 'share', Buffer.alloc(5000)), (err: Error) => err instanceof PeerError);
    assert.equal(stats().bufferedMessages, 3);
    s0b.close();
    // The flood is adopted (and freed) by the computation it belongs to.
    const s1 = await net.parties[1]!.node.open({ uuid: 'flood', myself: 1, terms: termsFor(net.urls), stages: STAGES });
    assert.equal(Buffer.from(await s1.receive(0, 'share', 2))[0], 2);
    s1.close();
    assert.equal(stats().bufferedMessages, 0);
  });

  test('early messages nobody claims are dropped after the stage timeout', async () => {
    const quick = await startNetwork(2, { mode: 'secret', secret: SECRET }, () => ({ stageTimeoutMs: 200 }));
    try {
      const s0 = await quick.parties[0]!.node.open({ uuid: 'unclaimed', myself: 0, terms: termsFor(quick.urls), stages: STAGES });
      await s0.send(1, 'share', Buffer.from('nobody reads this'));
      const stats = () => quick.parties[1]!.node.stats();
      assert.equal(stats().bufferedMessages, 1);
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(stats().bufferedMessages, 0);
      s0.close();
    } finally {
      await quick.close();
    }
  });

  test('a client cannot make the server contact an untrusted URL (no proxying): refused before any request', async () => {
    const requestsBefore = net.parties.map((p) => p.requests.length);
    const cases: [string, string][] = [
      ['a remote host', 'http://192.0.2.10:8080'],
      ['a loopback look-alike host', 'http://127.0.0.1.nip.io:8080'],
      ['a non-http scheme', 'file:///etc/passwd'],
    ];
    for (const [name, url] of cases) {
      await assert.rejects(
        net.parties[0]!.node.open({ uuid: `proxy-${name}`, myself: 0, terms: termsFor([net.urls[0]!, net.urls[1]!, url]), stages: STAGES }),
        (err: Error) => {
          assert.ok(err instanceof BadInputError, name);
          assert.equal(err.where, 'kwargs.network.nodes[2]');
          return true;
        },
      );
    }
    assert.deepEqual(net.parties.map((p) => p.requests.length), requestsBefore);
  });
});

describe('attacks on a pinned-peers deployment', () => {
  let net: Network;
  let scratch: string;
  before(async () => {
    net = await startNetwork(2, { mode: 'pinned' });
    scratch = await mkdtemp(join(tmpdir(), 'tessera-attacker-'));
  });
  after(async () => {
    await net.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('pinned peers compute together', async () => {
    const sessions = await openAll(net, 'pinned');
    await stillWorks(sessions);
    sessions.forEach((s) => s.close());
  });

  test('an unknown sender (a key not in the peers file) is refused before decryption', async () => {
    const sessions = await openAll(net, 'unknown-sender');
    const mallory = await loadOrCreateIdentity(join(scratch, 'mallory'), memoryLog());
    const forge = await forger(mallory, new Trust({ pinned: [] }));
    const envelope = await forge(net.parties[1]!, { uuid: 'unknown-sender', terms: termsFor(net.urls) }, Buffer.from('evil'));
    const { status, problem } = await post(net.urls[1]!, envelope);
    assert.equal(status, 401);
    assert.match(String(problem.detail), /unknown sender/);
    await stillWorks(sessions);
    sessions.forEach((s) => s.close());
  });

  test('a URL outside the peers file is refused before any request', async () => {
    const requestsBefore = net.parties.map((p) => p.requests.length);
    await assert.rejects(
      net.parties[0]!.node.open({ uuid: 'unpinned', myself: 0, terms: termsFor([net.urls[0]!, 'http://127.0.0.1:9']), stages: STAGES }),
      (err: Error) => err instanceof BadInputError && err.where === 'kwargs.network.nodes[1]' && /not a trusted peer/.test(err.message),
    );
    assert.deepEqual(net.parties.map((p) => p.requests.length), requestsBefore);
  });

  test('restart: envelopes recorded before a restart no longer open; the next computation refetches and works', async () => {
    const sessions = await openAll(net, 'before-restart');
    const b = net.parties[1]!;
    const before = b.received.length;
    await sessions[0]!.send(1, 'share', Buffer.from('pre-restart'));
    const recorded = b.received[before]!;
    sessions.forEach((s) => s.close());
    const oldBoot = (await identityOf(b.url)).bootId;
    await b.restart();
    assert.notEqual((await identityOf(b.url)).bootId, oldBoot);
    const { status, problem } = await post(b.url, recorded);
    assert.equal(status, 401);
    assert.equal(problem.reason, 'receiver-boot-changed');
    // Party 0 still caches the old boot: its first send is refused, it refetches and retries once.
    const after = await openAll(net, 'after-restart');
    await stillWorks(after);
    after.forEach((s) => s.close());
  });
});
