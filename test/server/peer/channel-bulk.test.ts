// Bulk envelopes on the peer channel (server/peer/transport-channel.ts CHANNEL_BULK_BYTES):
// SecureFedAvg's 1 MiB messages, given as the parts they were sealed in, travel as one channel
// frame, arrive byte for byte and are handed over as the receiver's own bytes (opened in place);
// larger envelopes go by POST. A bulk envelope on the channel fails exactly as a small one does,
// and as it would by POST: a broken channel fails it like a reset socket (an idempotent one is
// resent once), its own time limit and its signal end it, the receiver's in-flight bound answers
// 429 busy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { maskedRequestHead, parseRequest, requestFrame, FRAME_DELIVER, REQUEST_HEADER_BYTES } from '../../../server/peer/channel-frames.js';
import { PeerChannelServer } from '../../../server/peer/channel-server.js';
import { CHANNEL_BULK_BYTES, ChannelTransport } from '../../../server/peer/transport-channel.js';
import { HttpTransport, type PeerTransport } from '../../../server/peer/transport.js';
import type { PeerEndpoint } from '../../../services/peer.js';
import { makeCa, makeLeaf } from '../../support/tls.js';
import { within } from '../../within.js';
import { memoryLog } from '../helpers.js';
import { listeningWithChannels, scriptedPeer } from './scripted-peer.js';

const MiB = 1024 * 1024;
/** ws's frame builder (ws/lib/sender.js, exported as WebSocket.Sender; not in its type definitions). */
const { Sender } = createRequire(import.meta.url)('ws') as { Sender: { frame(data: Buffer, options: object): Buffer[] } };

/** A sealed envelope's shape: a short header part, then 64 KiB ciphertext slices, then the tag. */
function sealedParts(payloadBytes: number): Buffer[] {
  const parts = [randomBytes(120)];
  for (let at = 0; at < payloadBytes; at += 64 * 1024) parts.push(randomBytes(Math.min(64 * 1024, payloadBytes - at)));
  parts.push(randomBytes(16));
  return parts;
}

/** A node:http server offering the channel; POSTs are recorded and their bodies kept. */
async function channelServer(endpoint: PeerEndpoint, limits: { inflightBytes?: number } = {}) {
  const posts: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST') posts.push(Buffer.concat(chunks));
      res.writeHead(req.method === 'GET' ? 200 : 204).end(req.method === 'GET' ? '{}' : undefined);
    });
  });
  const channels = new PeerChannelServer({
    endpoint: () => endpoint,
    log: memoryLog(),
    inflightBodies: 64,
    inflightBytes: limits.inflightBytes ?? 256 * MiB,
    maxChannels: 8,
  });
  return listeningWithChannels(server, channels, posts);
}

/** The scripted peer for envelopes up to 8 MiB, answering the identity probe of openChannel. */
const BULK_PEER = { maxPayload: 8 * MiB, getAnswersJson: true } as const;

/** The envelopes a scripted peer took by POST (the fallback), not over the channel. */
function postCount(peer: { readonly posts: readonly string[] }): number {
  return peer.posts.filter((p) => p.startsWith('POST ')).length;
}

async function openChannel(transport: ChannelTransport, url: string): Promise<void> {
  await transport.request(`${url}/peer/identity?challenge=x`, { method: 'GET', idempotent: true, signal: AbortSignal.timeout(5000) });
  await within(10_000, 'channel open', (async () => {
    while (transport.openChannels === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  })());
}

const post = (body: Uint8Array | readonly Uint8Array[], signal: AbortSignal, extra: { timeoutMs?: number; idempotent?: boolean } = {}) =>
  ({ method: 'POST' as const, body, idempotent: extra.idempotent ?? true, signal, ...(extra.timeoutMs !== undefined ? { timeoutMs: extra.timeoutMs } : {}) });

test('a request frame built from parts is the header and the joined parts', () => {
  const parts = sealedParts(200 * 1024);
  const frame = requestFrame(FRAME_DELIVER, 0xabcdef01, parts);
  const parsed = parseRequest(frame)!;
  assert.equal(parsed.kind, FRAME_DELIVER);
  assert.equal(parsed.id, 0xabcdef01);
  assert.ok(parsed.body.equals(Buffer.concat(parts)));
  assert.equal(frame.length, REQUEST_HEADER_BYTES + Buffer.concat(parts).length);
  assert.ok(requestFrame(FRAME_DELIVER, 1, parts[0]!).subarray(REQUEST_HEADER_BYTES).equals(parts[0]!), 'a whole body too');
});

test('a message head and its body are the bytes ws sends for the whole frame with a zero mask, in each length encoding', () => {
  for (const bytes of [0, 3, 120, 121, 500, 65530, 65531, 70_000, 1024 * 1024]) {
    const body = randomBytes(bytes);
    const frame = requestFrame(FRAME_DELIVER, 0x01020304, body);
    const zero = (mask: Buffer) => mask.fill(0, 0, 4);
    const wire = Buffer.concat(Sender.frame(frame, { fin: true, opcode: 2, mask: true, readOnly: false, generateMask: zero }));
    assert.ok(Buffer.concat([maskedRequestHead(FRAME_DELIVER, 0x01020304, bytes), body]).equals(wire), `${bytes} bytes`);
  }
});

// Parts of 64 KiB and more are written to the socket behind a message head of their own
// (channel-frames.ts maskedRequestHead), smaller ones copied into a frame: a real ws server reads
// both, in the length encodings each can have.
test('envelopes given as parts reach a ws server byte for byte, whatever the length encoding of their frame', async () => {
  const delivered: Buffer[] = [];
  const peer = await channelServer({
    identity: (challenge) => ({ challenge }),
    deliver: (body) => {
      delivered.push(Buffer.from(body));
      return Promise.resolve('r');
    },
  });
  const transport = new ChannelTransport();
  try {
    await openChannel(transport, peer.url);
    const url = `${peer.url}/peer/messages`;
    const envelopes = [[randomBytes(3)], [randomBytes(100), randomBytes(200)], [randomBytes(65530)], [randomBytes(65531)], [randomBytes(64 * 1024), randomBytes(1)], sealedParts(300 * 1024)];
    for (const parts of envelopes) {
      assert.equal((await within(10_000, 'send', transport.request(url, post(parts, AbortSignal.timeout(5000))))).status, 204);
      assert.ok(delivered.at(-1)!.equals(Buffer.concat(parts)), `${Buffer.concat(parts).length} bytes`);
    }
    assert.equal(peer.posts.length, 0, 'all over the channel');
    assert.equal(peer.channels.stats().open, 1, 'on one channel: no frame broke it');
  } finally {
    transport.close();
    await peer.close();
  }
});

test('a 1 MiB envelope in sealed parts goes over the channel as one frame, owned by the receiver; one above the bulk bound by POST', async () => {
  const delivered: { body: Buffer; owned: boolean | undefined }[] = [];
  const peer = await channelServer({
    identity: (challenge) => ({ challenge }),
    deliver: (body, options) => {
      delivered.push({ body: Buffer.from(body), owned: options?.owned });
      body.fill(0); // what opening in place does to the frame's bytes: nothing else may read them
      return Promise.resolve('receipt');
    },
  });
  const transport = new ChannelTransport();
  try {
    await openChannel(transport, peer.url);
    const url = `${peer.url}/peer/messages`;
    const postsBefore = peer.posts.length;
    const chunks = [sealedParts(MiB), sealedParts(MiB), sealedParts(MiB - 8192)];
    const answers = await within(20_000, 'bulk', Promise.all(chunks.map((parts) => transport.request(url, post(parts, AbortSignal.timeout(10_000))))));
    for (const answer of answers) assert.deepEqual(answer, { status: 204, text: 'receipt' });
    assert.equal(peer.posts.length, postsBefore, 'none went by POST');
    assert.equal(delivered.length, 3);
    const byLength = (a: Buffer, b: Buffer) => a.length - b.length || Buffer.compare(a, b);
    assert.deepEqual(delivered.map((d) => d.body).sort(byLength), chunks.map((parts) => Buffer.concat(parts)).sort(byLength), 'byte for byte');
    assert.ok(delivered.every((d) => d.owned === true), 'handed over as the receiver\'s own bytes (opened in place)');
    assert.equal(peer.channels.stats().envelopes, 3);

    const big = sealedParts(CHANNEL_BULK_BYTES + 1);
    assert.equal((await within(20_000, 'above the bound', transport.request(url, post(big, AbortSignal.timeout(10_000))))).status, 204);
    assert.equal(peer.posts.length, postsBefore + 1, 'above the bulk bound: by POST');
    assert.ok(peer.posts.at(-1)!.equals(Buffer.concat(big)));
    assert.equal(delivered.length, 3);
  } finally {
    transport.close();
    await peer.close();
  }
});

// The failure semantics of the POST path, for a small and a bulk envelope on the channel alike.
for (const [size, body] of [['small', () => new Uint8Array([1, 2, 3])], ['1 MiB', () => sealedParts(MiB)]] as const) {
  test(`a ${size} envelope: a channel cut under it fails it like a reset socket, an idempotent one is resent once by POST`, async () => {
    const peer = await scriptedPeer((connection, request) => (connection === 1 && request === 2 ? 'cut' : 204), BULK_PEER);
    const transport = new ChannelTransport();
    try {
      await openChannel(transport, peer.url);
      const url = `${peer.url}/peer/messages`;
      const postsBefore = postCount(peer);
      assert.equal((await within(10_000, 'first', transport.request(url, post(body(), AbortSignal.timeout(5000))))).status, 204);
      assert.equal(postCount(peer), postsBefore, 'the first went over the channel');
      assert.equal((await within(10_000, 'second', transport.request(url, post(body(), AbortSignal.timeout(5000))))).status, 204);
      assert.equal(postCount(peer), postsBefore + 1, 'the resend went by POST while a new channel opens');
    } finally {
      transport.close();
      await peer.close();
    }
    const broken = await scriptedPeer(() => 'cut', BULK_PEER);
    const t = new ChannelTransport();
    try {
      await openChannel(t, broken.url);
      const postsBefore = postCount(broken);
      await assert.rejects(
        within(10_000, 'broken', t.request(`${broken.url}/peer/messages`, post(body(), AbortSignal.timeout(5000), { idempotent: false }))),
        (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET',
      );
      assert.equal(postCount(broken), postsBefore, 'not idempotent: not sent again');
    } finally {
      t.close();
      await broken.close();
    }
  });

  test(`a ${size} envelope on a silent channel ends at its own time limit or its signal (a TimeoutError), as by POST, and the channel stays usable`, async () => {
    const peer = await scriptedPeer((_connection, request) => (request <= 2 ? 'silent' : 204), BULK_PEER);
    const transport = new ChannelTransport();
    try {
      await openChannel(transport, peer.url);
      const url = `${peer.url}/peer/messages`;
      await assert.rejects(
        within(10_000, 'own limit', transport.request(url, post(body(), new AbortController().signal, { timeoutMs: 150 }))),
        (err: Error) => err.name === 'TimeoutError',
      );
      await assert.rejects(within(10_000, 'signal', transport.request(url, post(body(), AbortSignal.timeout(150)))), (err: Error) => err.name === 'TimeoutError');
      assert.equal((await within(10_000, 'next', transport.request(url, post(body(), AbortSignal.timeout(5000))))).status, 204);
      assert.equal(peer.connections, 1, 'the same channel');
    } finally {
      transport.close();
      await peer.close();
    }
    // The same by POST (a peer without the channel): the limit and the signal end it alike.
    const plain = createServer(() => undefined); // never answers
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const http: PeerTransport = new HttpTransport();
    try {
      const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/peer/messages`;
      await assert.rejects(within(10_000, 'POST limit', http.request(url, post(body(), new AbortController().signal, { timeoutMs: 150 }))), (err: Error) => err.name === 'TimeoutError');
      await assert.rejects(within(10_000, 'POST signal', http.request(url, post(body(), AbortSignal.timeout(150)))), (err: Error) => err.name === 'TimeoutError');
    } finally {
      http.close();
      plain.closeAllConnections();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });
}

test('a bulk envelope past the receiver\'s in-flight byte bound is answered 429 busy over the channel, as POST\'s guard answers', async () => {
  let release: (() => void) | undefined;
  const peer = await channelServer({
    identity: (challenge) => ({ challenge }),
    deliver: () => new Promise<string>((resolve) => (release = () => resolve('r'))),
  }, { inflightBytes: Math.floor(1.5 * MiB) });
  const transport = new ChannelTransport();
  try {
    await openChannel(transport, peer.url);
    const url = `${peer.url}/peer/messages`;
    const first = transport.request(url, post(sealedParts(MiB), AbortSignal.timeout(10_000)));
    await within(10_000, 'first delivered', (async () => {
      while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    })());
    const second = await within(10_000, 'second', transport.request(url, post(sealedParts(MiB), AbortSignal.timeout(10_000))));
    assert.equal(second.status, 429);
    assert.equal(JSON.parse(second.text).reason, 'busy');
    release!();
    assert.equal((await within(10_000, 'first', first)).status, 204);
    assert.equal(peer.posts.length, 0, 'both went over the channel');
  } finally {
    transport.close();
    await peer.close();
  }
});

// Over wss the parts are written to the TLS socket (a net.Socket too) behind their message head.
test('a 1 MiB envelope in parts reaches an https peer over wss byte for byte', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bulk-wss-'));
  const delivered: Buffer[] = [];
  let posts = 0;
  try {
    const ca = await makeCa(dir, 'ca');
    const leaf = await makeLeaf(dir, 'peer', 'ca');
    const server = createHttpsServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
      if (req.method === 'POST') posts += 1;
      req.resume();
      req.on('end', () => (req.method === 'GET' ? res.writeHead(200).end('{}') : res.writeHead(204).end()));
    });
    const channels = new PeerChannelServer({
      endpoint: () => ({ identity: (challenge) => ({ challenge }), deliver: (body) => (delivered.push(Buffer.from(body)), Promise.resolve('r')) }),
      log: memoryLog(),
      inflightBodies: 64,
      inflightBytes: 256 * MiB,
      maxChannels: 8,
    });
    channels.attach(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = new ChannelTransport({ ca: ca.cert });
    try {
      await openChannel(transport, url);
      const chunks = [sealedParts(MiB), sealedParts(MiB)];
      for (const parts of chunks) {
        assert.equal((await within(10_000, 'wss', transport.request(`${url}/peer/messages`, post(parts, AbortSignal.timeout(5000))))).status, 204);
        assert.ok(delivered.at(-1)!.equals(Buffer.concat(parts)));
      }
      assert.equal(posts, 0, 'over the channel');
      assert.equal(channels.stats().envelopes, 2);
    } finally {
      transport.close();
      await channels.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
