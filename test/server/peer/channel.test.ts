// The persistent peer channel (server/peer/transport-channel.ts, channel-server.ts): a SecureSum's
// envelopes travel over it between real servers; a peer that does not offer it is reached by POST;
// a channel broken mid-request fails that request like a reset socket (an idempotent one retried
// once on a fresh connection); its bounds answer 429 busy; browsers and other upgrades are refused;
// shutdown closes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { Api } from '../../../clients/typescript/index.js';
import { PeerError } from '../../../services/errors.js';
import type { PeerEndpoint } from '../../../services/peer.js';
import { PeerChannelServer } from '../../../server/peer/channel-server.js';
import { ChannelTransport } from '../../../server/peer/transport-channel.js';
import { listeningWithChannels, scriptedPeer } from './scripted-peer.js';
import { startCluster } from '../../support/cluster.js';
import { within } from '../../within.js';
import { memoryLog } from '../helpers.js';
import { vectorSumMessagesBetween } from '../../../services/common/vectorsum.js';

/** One node:http server that offers the channel (and answers plain requests with `httpAnswer`). */
async function channelServer(endpoint: PeerEndpoint, limits: { inflightBodies?: number } = {}) {
  const posts: string[] = [];
  const server: Server = createServer((req, res) => {
    posts.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  const channels = new PeerChannelServer({
    endpoint: () => endpoint,
    log: memoryLog(),
    inflightBodies: limits.inflightBodies ?? 64,
    inflightBytes: 256 * 1024 * 1024,
    maxChannels: 8,
  });
  return listeningWithChannels(server, channels, posts);
}

function secureSumAll(apis: readonly Api[], nodes: string[], inputs: readonly number[]) {
  const uuid = randomUUID();
  return Promise.all(inputs.map((data, myself) => apis[myself]!.secureSum({ data, network: { nodes, uuid, myself } })));
}

/** The envelopes party `to` receives from `senders` in one n-party SecureSum (vectorsum.ts). */
const receivedFrom = (n: number, senders: readonly number[], to: number) => senders.reduce((sum, from) => sum + vectorSumMessagesBetween(n, from, to), 0);

const envelope = (url: string) => ({ url: `${url}/peer/messages`, req: { method: 'POST' as const, body: new Uint8Array([1, 2, 3]), idempotent: true, signal: AbortSignal.timeout(5000) } });

test('a SecureSum among three servers sends every envelope over the channel, and the same sum with the channel off by POST', async () => {
  for (const noChannel of [false, true]) {
    const cluster = await startCluster(3, { config: { peer: { noChannel } } });
    try {
      // The first sum opens the channels (a request waits at most OPEN_WAIT_MS for one, so on a
      // loaded machine some of its messages may go by POST); the second runs on open channels.
      await within(30_000, 'first sum', secureSumAll(cluster.apis, cluster.nodes, [1, 2, 3]));
      const before = cluster.servers.map((s) => s.peerChannelStats().envelopes);
      const results = await within(30_000, 'sum', secureSumAll(cluster.apis, cluster.nodes, [19, 5, 61]));
      for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 85 } });
      for (const [i, server] of cluster.servers.entries()) {
        const envelopes = server.peerChannelStats().envelopes - before[i]!;
        // Every envelope a party receives in the sum came over the channel.
        assert.equal(envelopes, noChannel ? 0 : receivedFrom(3, [0, 1, 2], i), `envelopes over the channel with noChannel=${noChannel}`);
      }
    } finally {
      await cluster.close();
    }
  }
});

test('a server that does not offer the channel is reached by POST, in the same computation as channels between the others', async () => {
  const cluster = await startCluster(3, { config: { validateResponses: false }, party: (i) => ({ peer: { noChannel: i === 2 } }) });
  const servers = cluster.servers;
  try {
    const apis = servers.map((s) => new Api(s.url, { timeoutMs: 30_000 }));
    await within(30_000, 'first sum', secureSumAll(apis, servers.map((s) => s.url), [0, 0, 0]));
    const before = servers.map((s) => s.peerChannelStats().envelopes);
    const results = await within(30_000, 'sum', secureSumAll(apis, servers.map((s) => s.url), [1, 2, 3]));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 6 } });
    // Parties 0 and 1 talk over channels; party 2 offers none, and its own messages go by POST
    // too: parties 0 and 1 took over the channel exactly what came from each other.
    assert.deepEqual(servers.map((s, i) => s.peerChannelStats().envelopes - before[i]!), [receivedFrom(3, [1], 0), receivedFrom(3, [0], 1), 0]);
  } finally {
    await cluster.close();
  }
});

test('a peer that answers the upgrade with anything but 101 is reached by POST, and not asked again', async () => {
  // An older server, or an HTTP proxy in between.
  const seen: string[] = [];
  const plain = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.writeHead(req.url === '/peer/channel' ? 404 : 204).end());
  });
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  const transport = new ChannelTransport();
  try {
    const { url: target, req } = envelope(url);
    assert.equal((await within(10_000, 'first', transport.request(target, req))).status, 204);
    // The upgrade was tried alongside the first request, which went by POST; once refused, it is remembered.
    await within(10_000, 'refusal', (async () => {
      while (!seen.includes('GET /peer/channel')) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
    })());
    assert.equal((await within(10_000, 'second', transport.request(target, { ...req, signal: AbortSignal.timeout(5000) }))).status, 204);
    assert.deepEqual([...seen].sort(), ['GET /peer/channel', 'POST /peer/messages', 'POST /peer/messages']);
    assert.equal(transport.openChannels, 0);
  } finally {
    transport.close();
    plain.closeAllConnections();
    plain.close();
  }
});

test('requests on one channel are multiplexed: answers come back to their own request whatever the order', async () => {
  const delays = new Map<number, number>([[1, 80], [2, 10], [3, 40]]);
  const peer = await channelServer({
    identity: (challenge) => ({ challenge }),
    deliver: async (body) => {
      await new Promise((resolve) => setTimeout(resolve, delays.get(body[0]!) ?? 0));
      if (body[0] === 3) throw new PeerError('refused three', { where: 'envelope' });
    },
  });
  const transport = new ChannelTransport();
  try {
    await openChannel(transport, peer.url);
    const postsBefore = peer.posts.length;
    const send = (b: number) => transport.request(`${peer.url}/peer/messages`, { method: 'POST', body: new Uint8Array([b]), idempotent: true, signal: AbortSignal.timeout(5000) });
    const [one, two, three, identity] = await within(10_000, 'requests', Promise.all([
      send(1), send(2), send(3),
      transport.request(`${peer.url}/peer/identity?challenge=abc`, { method: 'GET', idempotent: true, signal: AbortSignal.timeout(5000) }),
    ]));
    assert.equal(one!.status, 204);
    assert.equal(two!.status, 204);
    assert.equal(three!.status, 502);
    assert.match(three!.text, /refused three/);
    assert.deepEqual(JSON.parse(identity!.text), { challenge: 'abc' });
    assert.equal(peer.posts.length, postsBefore, 'nothing went by POST');
    assert.equal(peer.channels.stats().open, 1, 'one channel carried all four');
  } finally {
    transport.close();
    await peer.close();
  }
});

/** The first request to a peer goes by POST and opens the channel; this waits until it is open. */
async function openChannel(transport: ChannelTransport, url: string): Promise<void> {
  await transport.request(`${url}/peer/identity?challenge=x`, { method: 'GET', idempotent: true, signal: AbortSignal.timeout(5000) });
  await within(10_000, 'channel open', (async () => {
    while (transport.openChannels === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  })());
}

test('a channel broken mid-request fails the request like a reset socket; an idempotent one is sent again once, on a fresh connection', async () => {
  // The channel answers its first request and breaks under its second.
  const peer = await scriptedPeer((connection, request) => (connection === 1 && request === 2 ? 'cut' : 204));
  const transport = new ChannelTransport();
  try {
    await openChannel(transport, peer.url);
    const postsBefore = peer.posts.length;
    const { url, req } = envelope(peer.url);
    assert.equal((await within(10_000, 'first', transport.request(url, req))).status, 204);
    assert.equal(peer.posts.length, postsBefore, 'the first went over the channel');
    assert.equal((await within(10_000, 'second', transport.request(url, { ...req, signal: AbortSignal.timeout(5000) }))).status, 204,
      'sent again on a fresh connection');
    assert.deepEqual(peer.posts.slice(postsBefore), ['POST /peer/messages'], 'the resend went by POST while a new channel opens');
  } finally {
    transport.close();
    await peer.close();
  }
  // Not idempotent: the request fails (ECONNRESET) and is not sent again.
  const broken = await scriptedPeer(() => 'cut');
  const t = new ChannelTransport();
  try {
    await openChannel(t, broken.url);
    const postsBefore = broken.posts.length;
    const { url, req } = envelope(broken.url);
    await assert.rejects(
      within(10_000, 'broken', t.request(url, { ...req, idempotent: false })),
      (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET',
    );
    assert.equal(broken.posts.length, postsBefore, 'not sent again');
  } finally {
    t.close();
    await broken.close();
  }
});

test('a request whose signal fires on a silent channel ends with the signal, and the channel stays usable', async () => {
  const peer = await scriptedPeer((_connection, request) => (request === 1 ? 'silent' : 204));
  const transport = new ChannelTransport();
  try {
    await openChannel(transport, peer.url);
    const url = `${peer.url}/peer/messages`;
    await assert.rejects(
      within(10_000, 'timeout', transport.request(url, { method: 'POST', body: new Uint8Array([1]), idempotent: true, signal: AbortSignal.timeout(200) })),
      (err: Error) => err.name === 'TimeoutError',
    );
    assert.equal((await within(10_000, 'next', transport.request(url, { method: 'POST', body: new Uint8Array([2]), idempotent: true, signal: AbortSignal.timeout(5000) }))).status, 204);
    assert.equal(peer.connections, 1, 'the same channel');
  } finally {
    transport.close();
    await peer.close();
  }
});

// A computation's requests share its session's signal, and the channel listens on each signal once
// (transport-channel.ts Channel.watch): when it fires, every request of that signal ends with it,
// and only those.
test('requests sharing one signal all end when it fires; a request of another signal on the same channel is answered', async () => {
  const release: (() => void)[] = [];
  const peer = await channelServer({
    identity: (challenge) => ({ challenge }),
    // Envelope 1 is never answered; envelope 2 is answered once the test lets it.
    deliver: (body) => new Promise<void>((resolve) => {
      if (body[0] === 2) release.push(resolve);
    }),
  });
  const transport = new ChannelTransport();
  try {
    await openChannel(transport, peer.url);
    const url = `${peer.url}/peer/messages`;
    const send = (b: number, signal: AbortSignal) => transport.request(url, { method: 'POST', body: new Uint8Array([b]), idempotent: true, signal });
    const session = new AbortController();
    const shared = [send(1, session.signal), send(1, session.signal), send(1, session.signal)];
    const other = send(2, AbortSignal.timeout(10_000));
    await within(10_000, 'the other request delivered', (async () => {
      while (release.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    })());
    session.abort(Object.assign(new Error('the computation failed'), { name: 'AbortError' }));
    for (const request of shared) await assert.rejects(within(10_000, 'shared', request), /the computation failed/);
    release[0]!();
    assert.equal((await within(10_000, 'other', other)).status, 204, 'a request of another signal is not ended by it');
    await assert.rejects(within(10_000, 'after', send(1, session.signal)), /the computation failed/, 'a fired signal ends a new request at once');
    assert.equal(peer.posts.filter((p) => p.startsWith('POST')).length, 0, 'all went over the channel');
  } finally {
    transport.close();
    await peer.close();
  }
});

// The time limit a request carries itself (timeoutMs, what outbound.ts gives an envelope instead
// of a signal of its own): the channel's one deadline sweep fails it, re-armed for the next one.
test('a request whose own time limit passes on a silent channel fails with a TimeoutError, later limits still fire, and the channel stays usable', async () => {
  const peer = await scriptedPeer((_connection, request) => (request <= 2 ? 'silent' : 204));
  const transport = new ChannelTransport();
  const never = new AbortController().signal;
  try {
    await openChannel(transport, peer.url);
    const url = `${peer.url}/peer/messages`;
    const send = (byte: number, timeoutMs: number) =>
      transport.request(url, { method: 'POST', body: new Uint8Array([byte]), idempotent: true, signal: never, timeoutMs });
    // A long limit first, then a short one: the sweep armed for the first must be moved earlier.
    const long = send(1, 3000);
    let longSettled = false;
    long.catch(() => undefined).finally(() => (longSettled = true));
    const short = send(2, 100);
    await assert.rejects(within(10_000, 'short', short), (err: Error) => err.name === 'TimeoutError');
    assert.equal(longSettled, false, 'the short limit fired on its own, not with the long one');
    await assert.rejects(within(10_000, 'long', long), (err: Error) => err.name === 'TimeoutError');
    assert.equal((await within(10_000, 'next', send(3, 5000))).status, 204);
    assert.equal(peer.connections, 1, 'the same channel');
  } finally {
    transport.close();
    await peer.close();
  }
});

test('past its in-flight budget the channel answers 429 busy, which senders resend on', async () => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => { release = resolve; });
  const peer = await channelServer({ identity: () => ({}), deliver: () => held }, { inflightBodies: 1 });
  const transport = new ChannelTransport();
  try {
    await openChannel(transport, peer.url);
    const { url, req } = envelope(peer.url);
    const first = transport.request(url, req);
    const second = await within(10_000, 'second', transport.request(url, { ...req, signal: AbortSignal.timeout(5000) }));
    assert.equal(second.status, 429);
    assert.equal(JSON.parse(second.text).reason, 'busy');
    release();
    assert.equal((await within(10_000, 'first', first)).status, 204);
  } finally {
    transport.close();
    await peer.close();
  }
});

test('upgrades from browsers (an Origin header) are refused; other upgrades are served as plain HTTP', async () => {
  const peer = await channelServer({ identity: () => ({}), deliver: async () => undefined });
  const upgrade = (path: string, headers: Record<string, string>, body?: Buffer) => new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${peer.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), ...headers },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('error', reject);
    req.end(body);
  });
  try {
    assert.equal(await within(5000, 'browser', upgrade('/peer/channel', { origin: 'https://evil.example' })), 403);
    // A WebSocket upgrade elsewhere, and Java's HttpClient asking for h2c on a POST with a body,
    // reach the HTTP handler as the plain requests they also are (204 from channelServer's handler).
    assert.equal(await within(5000, 'other path', upgrade('/api/v1/health', {})), 204);
    const h2c = { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQBAAAAAAIAAAAA' };
    assert.equal(await within(5000, 'h2c', upgrade('/peer/messages', h2c, randomBytes(70_000))), 204);
    assert.deepEqual(peer.posts, ['GET /api/v1/health', 'POST /peer/messages']);
    assert.equal(await within(5000, 'a server', upgrade('/peer/channel', {})), 101);
  } finally {
    await peer.close();
  }
});

test('closing the receiving server closes its channels: a request in flight fails like a reset socket', async () => {
  const peer = await channelServer({ identity: () => ({}), deliver: () => new Promise(() => undefined) });
  const transport = new ChannelTransport();
  try {
    await openChannel(transport, peer.url);
    const { url, req } = envelope(peer.url);
    const pending = transport.request(url, { ...req, idempotent: false });
    pending.catch(() => undefined); // awaited below, after the close that fails it
    while (peer.channels.stats().envelopes === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await within(5000, 'close', peer.close());
    await assert.rejects(within(5000, 'pending', pending), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET');
    assert.equal(peer.channels.stats().open, 0);
  } finally {
    transport.close();
  }
});
