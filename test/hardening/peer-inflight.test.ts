// Finding 7 of the hardening issue: POST /peer/messages let any unauthenticated connection hold
// up to 34 MiB for 300 s, with no cap on connections or total bytes (100 connections added
// 1.8 GB). Now an in-flight guard (server/http/body.ts inflightGuard) bounds the bodies and bytes
// being received at once, refuses the rest at once (429, reason "busy", connection closed), and
// cuts a body that arrives slower than 1 MiB/s after a 5 s grace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { startCluster, type Cluster } from '../support/cluster.js';
import { RawClient } from '../support/http.js';
import { within } from '../within.js';

const CONNECTIONS = 100;

/** Opens a connection, sends headers declaring `length` bytes and 1 KiB of body, then stalls. */
async function slowSender(base: string, length: number): Promise<{ socket: Socket; answer: Promise<string>; closed: Promise<void> }> {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const answer = closed.then(() => text);
  socket.write(`POST /peer/messages HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`);
  socket.write(Buffer.alloc(1024));
  return { socket, answer, closed };
}

describe('finding 7: slow unauthenticated peer bodies', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    // 1 MiB messages: a 3 MiB body limit, so a stalled body is cut after 5 s + 3 s.
    cluster = await startCluster(2, { config: { peer: { limits: { maxMessageBytes: 1024 * 1024 } } } });
  });
  after(async () => {
    await cluster.close();
  });

  test(`${CONNECTIONS} connections declaring the largest envelope: most refused at once, memory bounded, a sum still succeeds, the stalled ones are cut`, async () => {
    const rssBefore = process.memoryUsage().rss;
    const senders = [];
    for (let i = 0; i < CONNECTIONS; i++) senders.push(await slowSender(cluster.nodes[0]!, 3 * 1024 * 1024));
    // Meanwhile a computation runs between the two servers.
    const uuid = randomUUID();
    const clients = cluster.nodes.map((u) => new RawClient(u));
    const results = await within(30_000, 'a sum during the flood', Promise.all(clients.map((c, myself) => c.secureSum(myself + 1, { nodes: cluster.nodes, uuid, myself }))));
    for (const r of results) assert.equal(r.result.sum, 3);
    // Every connection ends: refused at once, or cut when its body did not arrive in time.
    const answers = await within(60_000, 'every slow connection closed', Promise.all(senders.map((s) => s.answer)));
    const refused = answers.filter((a) => a.startsWith('HTTP/1.1 429') && a.includes('"reason":"busy"'));
    const cut = answers.filter((a) => a === '');
    // At most 64 bodies in flight (and 256 MiB: 85 of 3 MiB); the rest are refused before reading.
    // The sum's own envelopes waited their turn (429 busy, sent again) while the slow ones held it.
    assert.equal(refused.length + cut.length, CONNECTIONS, answers.filter((a) => a !== '' && !refused.includes(a)).join('\n').slice(0, 500));
    assert.ok(refused.length >= CONNECTIONS - 64, `${refused.length} refused`);
    assert.ok(cut.length > 0 && cut.length <= 64, `${cut.length} cut`);
    assert.ok(process.memoryUsage().rss - rssBefore < 512 * 1024 * 1024, 'memory stayed bounded');
  });
});
