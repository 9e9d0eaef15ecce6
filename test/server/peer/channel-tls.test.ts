// The peer channel to https peers (server/peer/transport-channel.ts over wss, transport.ts
// peerTlsOptions), with real TLS servers and certificates made per run (test/support/tls.ts):
// a SecureSum among https servers goes over wss once the channels are open; the wss connection
// checks the peer's certificate (chain and host name) itself, exactly as a POST does, and a
// certificate that fails is refused before anything is sent on it; a gateway that refuses
// upgrades in front of an https peer leaves that peer reached by POST; every TLS connection to
// peers uses one SecureContext per CA configuration, built once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { PeerChannelServer } from '../../../server/peer/channel-server.js';
import { ChannelTransport } from '../../../server/peer/transport-channel.js';
import { HttpTransport, peerTlsOptions, type PeerTransport } from '../../../server/peer/transport.js';
import type { PeerEndpoint } from '../../../services/peer.js';
import { startCluster } from '../../support/cluster.js';
import { RawClient } from '../../support/http.js';
import { makeCa, makeLeaf, type Pem } from '../../support/tls.js';
import { within } from '../../within.js';
import { memoryLog } from '../helpers.js';
import { listeningWithChannels } from './scripted-peer.js';
import { vectorSumMessagesBetween } from '../../../services/common/vectorsum.js';

/** The envelopes party `to` receives from `senders` in one 3-party SecureSum (vectorsum.ts). */
const receivedFrom = (senders: readonly number[], to: number) => senders.reduce((sum, from) => sum + vectorSumMessagesBetween(3, from, to), 0);

/** Polls `ready` every 5 ms until it holds, for at most 15 s. */
function until(what: string, ready: () => boolean): Promise<void> {
  return within(15_000, what, (async () => {
    while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5));
  })());
}

function sumAll(clients: readonly RawClient[], nodes: string[], inputs: readonly number[]) {
  const uuid = randomUUID();
  return Promise.all(inputs.map((data, myself) => clients[myself]!.secureSum(data, { nodes, uuid, myself })));
}

/**
 * One node:https server offering the channel (channel-server.ts) to a stub endpoint, recording the
 * requests that reach it by HTTP, the upgrades it sees and the TLS connections it accepts.
 */
async function httpsChannelServer(pem: Pem) {
  const endpoint: PeerEndpoint = { identity: (challenge) => ({ challenge }), deliver: async () => undefined };
  const posts: string[] = [];
  const server: HttpsServer = createHttpsServer({ cert: pem.cert, key: pem.key }, (req, res) => {
    posts.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    req.resume();
    req.on('end', () => (req.method === 'GET' ? res.writeHead(200, { 'content-type': 'application/json' }).end('{}') : res.writeHead(204).end()));
  });
  const channels = new PeerChannelServer({ endpoint: () => endpoint, log: memoryLog(), inflightBodies: 64, inflightBytes: 1 << 24, maxChannels: 8 });
  const listening = await listeningWithChannels(server, channels, posts, 'https');
  // Counted from here on: nothing has connected before the server is listening.
  const counts = { upgrades: 0, tlsConnections: 0 };
  server.on('upgrade', () => (counts.upgrades += 1));
  server.on('secureConnection', () => (counts.tlsConnections += 1));
  return { ...listening, counts };
}

/**
 * An HTTPS gateway in front of one party, as an operator's reverse proxy: it passes every request
 * on (over TLS, trusting `trust`) but answers every upgrade 403, as a gateway meant to see each
 * request does.
 */
async function refusingGateway(target: string, pem: Pem, trust: string) {
  const seen: string[] = [];
  const counts = { upgrades: 0 };
  const agent = new HttpsAgent({ keepAlive: true, ca: trust });
  const server = createHttpsServer({ cert: pem.cert, key: pem.key }, (req, res) => {
    seen.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    const upstream = httpsRequest(new URL(req.url ?? '/', target), { method: req.method, headers: { ...req.headers, host: new URL(target).host }, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('upgrade', (_req, socket: Duplex) => {
    counts.upgrades += 1;
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    counts,
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the peer channel to https peers (wss)', { timeout: 180_000 }, () => {
  let dir: string;
  let ca: Pem;
  let otherCa: Pem;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-wss-'));
    ca = await makeCa(dir, 'ca');
    otherCa = await makeCa(dir, 'other-ca');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a SecureSum among three https servers goes over wss once the channels are open: no envelope by POST', async () => {
    const leaves = await Promise.all([0, 1, 2].map((i) => makeLeaf(dir, `sum${i}`, 'ca')));
    const cluster = await startCluster(3, { party: (i) => ({ tls: { cert: leaves[i]!.cert, key: leaves[i]!.key, ca: [ca.cert] } }) });
    try {
      const { nodes, servers } = cluster;
      for (const url of nodes) assert.match(url, /^https:/);
      const clients = nodes.map((url) => new RawClient(url, { ca: ca.cert }));
      // The first sum reaches each peer by POST first, which opens the channels (transport-channel.ts).
      await within(30_000, 'first sum', sumAll(clients, nodes, [1, 2, 3]));
      // Each server accepted a wss channel (the upgrade on its TLS listener) from each of the two
      // others and from itself (a server fetches its own identity at its node URL too).
      await until('channels open', () => servers.every((s) => s.peerChannelStats().open === 3));
      const before = servers.map((s) => s.peerChannelStats().envelopes);
      const results = await within(30_000, 'sum over wss', sumAll(clients, nodes, [19, 5, 61]));
      for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 85 } });
      // Every envelope a party receives in a SecureSum came over the channel, so none went by POST.
      assert.deepEqual(servers.map((s, i) => s.peerChannelStats().envelopes - before[i]!), [0, 1, 2].map((i) => receivedFrom([0, 1, 2], i)));
    } finally {
      await cluster.close();
    }
  });

  test('the wss channel checks the certificate itself, as a POST does: one that fails is refused before the upgrade, named in a warning, and the peer is reached by POST', async () => {
    const good = await makeLeaf(dir, 'channel-good', 'ca');
    // Names localhost only: reached as 127.0.0.1, the host-name check fails (RFC 6125).
    const localhostOnly = await makeLeaf(dir, 'channel-localhost', 'ca', 'DNS:localhost');
    const cases: { name: string; leaf: Pem; channelCa: string | undefined; refusal?: string }[] = [
      { name: 'a certificate of a trusted CA naming the host: the channel opens', leaf: good, channelCa: ca.cert },
      { name: 'a CA the channel is not given (--tls-ca)', leaf: good, channelCa: undefined, refusal: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
      { name: 'a certificate that does not name the host', leaf: localhostOnly, channelCa: ca.cert, refusal: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    ];
    for (const { name, leaf, channelCa, refusal } of cases) {
      const peer = await httpsChannelServer(leaf);
      // The POSTs reach the peer with its CA trusted and under a name its certificate carries, so
      // the first request succeeds and the channel is tried: what follows is the channel's own check.
      const trusted = new HttpTransport({ ca: ca.cert });
      const fallback: PeerTransport = {
        request: (url, req) => trusted.request(url.replace('//127.0.0.1:', '//localhost:'), req),
        close: () => trusted.close(),
      };
      const log = memoryLog();
      const transport = new ChannelTransport({ ...(channelCa !== undefined ? { ca: channelCa } : {}), fallback, log });
      try {
        const first = await within(10_000, `${name}: first`, transport.request(`${peer.url}/peer/identity?challenge=x`, { method: 'GET', idempotent: true, signal: AbortSignal.timeout(5000) }));
        assert.equal(first.status, 200, name);
        const refused = () => log.lines.some((l) => l.level === 'warn');
        await until(`${name}: channel open or refused`, () => transport.openChannels === 1 || refused());
        const second = await within(10_000, `${name}: second`, transport.request(`${peer.url}/peer/messages`, {
          method: 'POST', body: new Uint8Array([1, 2, 3]), idempotent: true, signal: AbortSignal.timeout(5000),
        }));
        assert.equal(second.status, 204, name);
        if (refusal === undefined) {
          assert.equal(peer.counts.upgrades, 1, `${name}: one upgrade`);
          assert.equal(peer.channels.stats().envelopes, 1, `${name}: the envelope came over wss`);
          assert.deepEqual(peer.posts, ['GET /peer/identity'], name);
          assert.equal(log.lines.filter((l) => l.level === 'warn').length, 0, name);
        } else {
          // The TLS handshake failed: the upgrade request was never written.
          assert.equal(peer.counts.upgrades, 0, `${name}: no upgrade reached the peer`);
          assert.equal(transport.openChannels, 0, name);
          assert.equal(peer.channels.stats().envelopes, 0, name);
          assert.deepEqual(peer.posts, ['GET /peer/identity', 'POST /peer/messages'], `${name}: reached by POST`);
          const warning = log.lines.find((l) => l.level === 'warn')!;
          assert.equal(warning.obj.peer, peer.url, name);
          assert.ok(warning.msg?.includes(`peer channel to ${peer.url} refused: its TLS certificate did not verify (${refusal})`), `${name}: ${warning.msg}`);
          // A POST with the channel's trust is refused for the same reason.
          const post = new HttpTransport(channelCa !== undefined ? { ca: channelCa } : {});
          try {
            await assert.rejects(
              post.request(`${peer.url}/peer/messages`, { method: 'POST', body: new Uint8Array([1]), signal: AbortSignal.timeout(5000) }),
              (err: NodeJS.ErrnoException) => err.code === refusal,
              name,
            );
          } finally {
            post.close();
          }
        }
      } finally {
        transport.close();
        await peer.close();
      }
    }
  });

  test('a gateway that refuses upgrades in front of an https peer: that peer is reached by POST through it, the others over wss', async () => {
    const leaves = await Promise.all([0, 1, 2].map((i) => makeLeaf(dir, `gw${i}`, 'ca')));
    const gatewayLeaf = await makeLeaf(dir, 'gateway', 'ca');
    const cluster = await startCluster(3, { party: (i) => ({ tls: { cert: leaves[i]!.cert, key: leaves[i]!.key, ca: [ca.cert] } }) });
    const gateway = await refusingGateway(cluster.servers[2]!.url, gatewayLeaf, ca.cert);
    try {
      const { servers } = cluster;
      // Party 2's node URL is its gateway's.
      const nodes = [servers[0]!.url, servers[1]!.url, gateway.url];
      const clients = servers.map((s) => new RawClient(s.url, { ca: ca.cert }));
      await within(30_000, 'first sum', sumAll(clients, nodes, [0, 0, 0]));
      // Every party tried a channel to party 2's node URL (party 2 too: a server fetches its own
      // identity at its node URL) and the gateway refused the three; party 2 reaches 0 and 1
      // directly, so 0 and 1 each accepted channels from the two others and from itself.
      await until('upgrades refused, channels open', () =>
        gateway.counts.upgrades === 3 && servers[0]!.peerChannelStats().open === 3 && servers[1]!.peerChannelStats().open === 3);
      const before = servers.map((s) => s.peerChannelStats().envelopes);
      const postsBefore = gateway.seen.filter((r) => r === 'POST /peer/messages').length;
      const results = await within(30_000, 'sum', sumAll(clients, nodes, [1, 2, 3]));
      for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 6 } });
      // Party 2 took every envelope by POST through its gateway; 0 and 1 took all theirs over wss,
      // party 2's included.
      assert.deepEqual(servers.map((s, i) => s.peerChannelStats().envelopes - before[i]!), [receivedFrom([0, 1, 2], 0), receivedFrom([0, 1, 2], 1), 0]);
      assert.equal(gateway.seen.filter((r) => r === 'POST /peer/messages').length - postsBefore, receivedFrom([0, 1], 2));
      assert.equal(servers[2]!.peerChannelStats().open, 0);
      assert.equal(gateway.counts.upgrades, 3, 'a refused peer is not asked again at once');
    } finally {
      await gateway.close();
      await cluster.close();
    }
  });

  test('one SecureContext per CA configuration: no TLS connection to a peer, POST or wss, builds one', async () => {
    // The same configuration given another way is the same context; another CA another context.
    const a = peerTlsOptions({ ca: ca.cert });
    assert.equal(peerTlsOptions({ ca: [Buffer.from(ca.cert)] }).secureContext, a.secureContext);
    assert.notEqual(peerTlsOptions({ ca: otherCa.cert }).secureContext, a.secureContext);
    assert.equal(peerTlsOptions().secureContext, peerTlsOptions({}).secureContext);
    assert.equal(a.rejectUnauthorized, true);

    const peer = await httpsChannelServer(await makeLeaf(dir, 'context', 'ca'));
    // Counts the contexts tls.connect builds (it calls tls.createSecureContext when given none).
    const built = { count: 0 };
    const original = tls.createSecureContext;
    tls.createSecureContext = (options) => {
      built.count += 1;
      return original(options);
    };
    const transports: PeerTransport[] = [];
    try {
      for (let i = 0; i < 3; i += 1) {
        // A fresh carrier each time: fresh POST connections and a fresh wss connection.
        const transport = new ChannelTransport({ ca: ca.cert });
        transports.push(transport);
        await within(10_000, 'identity', transport.request(`${peer.url}/peer/identity?challenge=x`, { method: 'GET', idempotent: true, signal: AbortSignal.timeout(5000) }));
        await until('channel open', () => (transport as ChannelTransport).openChannels === 1);
      }
      assert.equal(peer.counts.tlsConnections, 6, 'three POST connections and three wss connections');
      assert.equal(peer.counts.upgrades, 3);
      assert.equal(built.count, 0, 'no SecureContext built per connection');
    } finally {
      tls.createSecureContext = original;
      for (const t of transports) t.close();
      await peer.close();
    }
  });
});
