// The carrier's fragments and flow control, against a real nats-server with a 64 KiB max_payload:
// a receiver that never acknowledges holds the sender at the window (4 fragments), a transfer
// within the window is sent whole without waiting, and a receiving server refuses fragments that
// do not describe one body within its limits.
import { after, before, describe, test } from 'node:test';
import { getEventListeners } from 'node:events';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { startServer, type RunningServer } from '../../server/main.js';
import { FRAGMENT_WINDOW, RelayCarrier } from '../../server/peer/relay.js';
import { startNats, type Nats } from './nats.js';

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe('fragments and flow control', { timeout: 120_000 }, () => {
  let nats: Nats;
  let carrier: RelayCarrier;
  let raw: NatsConnection;
  let server: RunningServer;
  let dataDir: string;
  before(async () => {
    nats = await startNats({ maxPayload: 64 * 1024 });
    carrier = await RelayCarrier.connect({ servers: [nats.url], name: 'sender' }, silent, 10_000);
    raw = await connect({ servers: nats.url });
    dataDir = await mkdtemp(join(tmpdir(), 'tessera-relay-frag-'));
    server = await startServer({ dataDir, port: 0, logLevel: 'silent', peer: { relay: { servers: [nats.url], name: 'receiver' }, limits: { maxMessageBytes: 256 * 1024 } } });
  });
  after(async () => {
    await server?.close();
    await raw?.close();
    await carrier?.closed();
    await nats?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test(`a receiver that acknowledges nothing holds the sender at ${FRAGMENT_WINDOW} fragments`, async () => {
    const seen: number[] = [];
    raw.subscribe('tessera.peer.slow', { callback: (err, msg) => { if (!err) seen.push(Number(msg.headers?.get('Tessera-Fragment'))); } });
    await raw.flush();
    const body = new Uint8Array(1024 * 1024); // 17 fragments of 60 KiB
    await assert.rejects(
      carrier.request('relay://slow/peer/messages', { method: 'POST', body, signal: AbortSignal.timeout(1500) }),
      (err: Error) => err.name === 'TimeoutError',
    );
    await raw.flush();
    assert.equal(body.byteLength > FRAGMENT_WINDOW * carrier.fragmentBytes, true);
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: FRAGMENT_WINDOW }, (_, i) => i));
  });

  test('a transfer within the window goes out whole before any acknowledgement, in equal fragments, the last one last', async () => {
    const seen: { index: number; bytes: number }[] = [];
    raw.subscribe('tessera.peer.mute', { callback: (err, msg) => { if (!err) seen.push({ index: Number(msg.headers?.get('Tessera-Fragment')), bytes: msg.data.byteLength }); } });
    await raw.flush();
    // Just over two fragments: the old carrier sent a third of a few bytes, and only after the
    // first two were acknowledged (two round trips through the relay per transfer).
    const body = new Uint8Array(2 * carrier.fragmentBytes + 100);
    await assert.rejects(
      carrier.request('relay://mute/peer/messages', { method: 'POST', body, signal: AbortSignal.timeout(1500) }),
      (err: Error) => err.name === 'TimeoutError',
    );
    await raw.flush();
    assert.deepEqual(seen.map((f) => f.index), [0, 1, 2]);
    const sizes = seen.map((f) => f.bytes);
    assert.equal(sizes.reduce((a, b) => a + b, 0), body.byteLength);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 2, `fragment sizes ${sizes.join(', ')}`);
  });

  test('a request\'s own time limit (timeoutMs) ends it with no signal of its own, and a fragmented body has one deadline for all its fragments', async () => {
    raw.subscribe('tessera.peer.deaf', { callback: () => undefined });
    // Acknowledges every fragment after 300 ms: each fragment alone would be within a 500 ms limit.
    raw.subscribe('tessera.peer.sluggish', {
      callback: (err, msg) => {
        if (err) return;
        const h = natsHeaders();
        h.set('Tessera-Status', '100');
        setTimeout(() => msg.respond(new Uint8Array(0), { headers: h }), 300);
      },
    });
    await raw.flush();
    // The carrier's own limit is 10 s, and nothing fires this signal: only timeoutMs can end these.
    const never = new AbortController().signal;
    const cases = [
      ['deaf', new Uint8Array(10)],
      // The window's fragments are acknowledged at 300 ms, the last one at 600 ms: past 500 ms.
      ['sluggish', new Uint8Array(FRAGMENT_WINDOW * carrier.fragmentBytes + 100)],
    ] as const;
    for (const [name, body] of cases) {
      const started = performance.now();
      await assert.rejects(
        carrier.request(`relay://${name}/peer/messages`, { method: 'POST', body, signal: never, timeoutMs: 500 }),
        (err: Error) => err.name === 'TimeoutError',
      );
      assert.ok(performance.now() - started < 3000, `${name}: ended after ${Math.round(performance.now() - started)} ms`);
    }
  });

  test('requests that share a signal share one listener on it, and its abort fails all of them with its reason', async () => {
    raw.subscribe('tessera.peer.quiet', { callback: () => undefined });
    await raw.flush();
    const stage = new AbortController();
    const pending = Array.from({ length: 5 }, () =>
      carrier.request('relay://quiet/peer/messages', { method: 'POST', body: new Uint8Array(10), signal: stage.signal, timeoutMs: 60_000 }));
    // A listener per request made a first 100-party contact add and remove 9,900 of them.
    assert.equal(getEventListeners(stage.signal, 'abort').length, 1);
    stage.abort(new Error('the stage ended'));
    const settled = await Promise.allSettled(pending);
    assert.deepEqual(settled.map((s) => (s.status === 'rejected' ? (s.reason as Error).message : 'answered')), Array(5).fill('the stage ended'));
    // Once fired, the signal ends every later request at once.
    await assert.rejects(carrier.request('relay://quiet/peer/messages', { method: 'POST', body: new Uint8Array(10), signal: stage.signal }), /the stage ended/);
  });

  /** One fragment sent to the receiving server as a raw NATS request; resolves with its status. */
  async function fragment(id: string, index: number, count: number, size: number, length: number, data: Uint8Array): Promise<number> {
    const h = natsHeaders();
    h.set('Tessera-Method', 'POST');
    h.set('Tessera-Path', '/peer/messages');
    h.set('Tessera-Transfer', id);
    h.set('Tessera-Fragment', String(index));
    h.set('Tessera-Fragments', String(count));
    h.set('Tessera-Fragment-Size', String(size));
    h.set('Tessera-Length', String(length));
    const answer = await raw.request('tessera.peer.receiver', data, { timeout: 5000, headers: h });
    return Number(answer.headers?.get('Tessera-Status'));
  }

  test('a transfer longer than the envelope limit is refused at its first fragment (413)', async () => {
    assert.equal(await fragment('big', 0, 500, 10_000, 5_000_000, new Uint8Array(10_000)), 413);
  });

  test('fragments that do not describe one body are refused (400), and the transfer is dropped', async () => {
    assert.equal(await fragment('bad', 0, 2, 1000, 5000, new Uint8Array(1000)), 400); // 2 × 1000 < 5000
    assert.equal(await fragment('twice', 0, 3, 1000, 2500, new Uint8Array(1000)), 100);
    assert.equal(await fragment('twice', 0, 3, 1000, 2500, new Uint8Array(1000)), 400);
    assert.equal(await fragment('early', 0, 3, 1000, 2500, new Uint8Array(1000)), 100);
    assert.equal(await fragment('early', 2, 3, 1000, 2500, new Uint8Array(500)), 400);
    // A transfer starts at fragment 0: a later fragment of an unknown one (its start refused as
    // busy, or its transfer dropped) is refused and reserves nothing; the next one is as well.
    assert.equal(await fragment('headless', 1, 3, 1000, 2500, new Uint8Array(1000)), 400);
    assert.equal(await fragment('headless', 2, 3, 1000, 2500, new Uint8Array(500)), 400);
  });

  test('a transfer survives a receiver whose event loop was blocked past the idle time while its last fragment waited in the socket', async () => {
    const header = (index: number) => {
      const h = natsHeaders();
      for (const [k, v] of Object.entries({ Method: 'POST', Path: '/peer/messages', Transfer: 'stalled', Fragment: String(index), Fragments: '2', 'Fragment-Size': '1000', Length: '1500' })) h.set(`Tessera-${k}`, v);
      return h;
    };
    assert.equal(Number((await raw.request('tessera.peer.receiver', new Uint8Array(1000).fill(7), { timeout: 5000, headers: header(0) })).headers?.get('Tessera-Status')), 100);
    const last = raw.request('tessera.peer.receiver', new Uint8Array(500).fill(7), { timeout: 20_000, headers: header(1) });
    // The client writes it to its socket in a microtask; then, before any I/O is read, block
    // this process (the receiving server runs in it) past the transfer's idle time (5 s plus
    // 1000 bytes at 1 MiB/s) while the last fragment arrives in the receiver's socket. When the
    // loop is free its timers run before the socket is read: the transfer must not be dropped.
    await Promise.resolve();
    await Promise.resolve();
    const until = Date.now() + 6500;
    while (Date.now() < until) { /* busy */ }
    const answer = await last;
    const status = Number(answer.headers?.get('Tessera-Status'));
    // Whole: the garbage body reaches the envelope check (a dropped transfer would answer 400
    // "the last fragment came before the others").
    assert.ok(status === 400 || status === 401, `answered ${status}`);
    assert.doesNotMatch(new TextDecoder().decode(answer.data), /fragment/);
  });

  test('a whole body of garbage fragments reaches the envelope check and is refused like any forged envelope', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await fragment('junk', i, 3, 1000, 2500, new Uint8Array(i === 2 ? 500 : 1000).fill(7)));
    assert.deepEqual(statuses.slice(0, 2), [100, 100]);
    assert.ok(statuses[2] === 400 || statuses[2] === 401, `answered ${statuses[2]}`);
  });
});

// The consortium configuration (docs/relay.md, examples/secure_sum/nats-relay.conf): max_payload
// 8 MiB. The carrier takes the limit the relay advertises, so a SecureFedAvg chunk (2 MiB and its
// envelope header) crosses as one NATS message, and arrives byte for byte.
describe('a relay with max_payload 8 MiB', { timeout: 120_000 }, () => {
  let nats: Nats;
  let sender: RelayCarrier;
  let receiver: RelayCarrier;
  let raw: NatsConnection;
  before(async () => {
    nats = await startNats({ maxPayload: 8 * 1024 * 1024 });
    sender = await RelayCarrier.connect({ servers: [nats.url], name: 'big-sender' }, silent, 10_000);
    receiver = await RelayCarrier.connect({ servers: [nats.url], name: 'big-receiver' }, silent, 10_000);
    raw = await connect({ servers: nats.url });
  });
  after(async () => {
    await raw?.close();
    await sender?.closed();
    await receiver?.closed();
    await nats?.stop();
  });

  test('a 2 MiB chunk travels as one message, unfragmented, and is delivered byte for byte', async () => {
    assert.equal(sender.fragmentBytes, 8 * 1024 * 1024 - 4096);
    const delivered: Buffer[] = [];
    await receiver.serve({ identity: () => ({}), deliver: async (envelope) => { delivered.push(Buffer.from(envelope)); return 'receipt'; } }, { maxBody: 16 << 20, bodies: 4, bytes: 32 << 20 });
    // What reaches the receiver's subject, seen from outside: one message, no fragment headers.
    const seen: { bytes: number; fragment: string | undefined }[] = [];
    raw.subscribe('tessera.peer.big-receiver', { callback: (err, msg) => { if (!err) seen.push({ bytes: msg.data.byteLength, fragment: msg.headers?.get('Tessera-Fragment') || undefined }); } });
    await raw.flush();
    const body = new Uint8Array((2 << 20) + 300);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    // As the peer layer hands it over: the envelope in parts.
    const answer = await sender.request('relay://big-receiver/peer/messages', { method: 'POST', body: [body.subarray(0, 300), body.subarray(300)], signal: AbortSignal.timeout(30_000) });
    assert.equal(answer.status, 204);
    assert.equal(answer.text, 'receipt');
    assert.equal(delivered.length, 1);
    assert.ok(Buffer.from(body).equals(delivered[0]!), 'the delivered envelope differs from the one sent');
    await raw.flush();
    assert.deepEqual(seen, [{ bytes: body.byteLength, fragment: undefined }]);
  });
});

// The receiver hands every envelope over to be opened in place (PeerEndpoint.deliver `owned`,
// envelope.ts openInPlace, as the HTTP route does): a transfer's own buffer, or the client's
// bytes of one message. The endpoint here destroys each envelope as opening in place does, while
// messages of every kind (fragmented, one large message, a small one) are in flight at once:
// every envelope still arrives byte for byte and every answer is its own.
describe('envelopes handed over to be opened in place', { timeout: 120_000 }, () => {
  let nats: Nats;
  let sender: RelayCarrier;
  let receiver: RelayCarrier;
  before(async () => {
    nats = await startNats({ maxPayload: 256 * 1024 });
    sender = await RelayCarrier.connect({ servers: [nats.url], name: 'own-sender' }, silent, 10_000);
    receiver = await RelayCarrier.connect({ servers: [nats.url], name: 'own-receiver' }, silent, 10_000);
  });
  after(async () => {
    await sender?.closed();
    await receiver?.closed();
    await nats?.stop();
  });

  test('every envelope is owned by the delivery, and destroying it harms no other message nor its answer', async () => {
    const delivered = new Map<string, { owned: boolean | undefined }>();
    await receiver.serve({
      identity: () => ({}),
      deliver: async (envelope, options) => {
        const copy = Buffer.from(envelope);
        envelope.fill(0xee); // what openInPlace leaves of it
        await new Promise((resolve) => setImmediate(resolve));
        delivered.set(copy.toString('base64'), { owned: options?.owned });
        return `receipt ${copy.length}`;
      },
    }, { maxBody: 16 << 20, bodies: 64, bytes: 64 << 20 });
    const bodies = [1 << 20, 200 * 1024, 100, 700 * 1024, 1 << 20, 300].map((length, k) => {
      const body = Buffer.allocUnsafe(length);
      for (let i = 0; i < length; i++) body[i] = (i * 31 + k * 7) & 0xff;
      return body;
    });
    const answers = await Promise.all(bodies.map((body) =>
      sender.request('relay://own-receiver/peer/messages', { method: 'POST', body: [body.subarray(0, 50), body.subarray(50)], signal: AbortSignal.timeout(30_000) })));
    assert.deepEqual(answers.map((a) => [a.status, a.text]), bodies.map((b) => [204, `receipt ${b.length}`]));
    assert.equal(delivered.size, bodies.length);
    for (const body of bodies) assert.deepEqual(delivered.get(body.toString('base64')), { owned: true }, `the body of ${body.length} bytes did not arrive whole, or not owned`);
  });
});
