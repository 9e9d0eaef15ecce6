// The framer between the NATS client's socket and its parser (server/peer/relay-framing.ts): it
// must hand on exactly the bytes it got, in order, and every large message in one piece, however
// the socket cuts the stream. Through a real nats-server it carries large messages whole.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { headers as natsHeaders, type Msg } from '@nats-io/transport-node';
import { GATHER_FROM_BYTES, GATHER_UP_TO_BYTES, MessageFramer, connectFramed, publishParts } from '../../server/peer/relay-framing.js';
import { startNats } from './nats.js';

const enc = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A server's byte stream: INFO, PING, small and large MSG/HMSG (with reply subjects), +OK. */
function stream(): { bytes: Buffer; large: Buffer[] } {
  const large: Buffer[] = [];
  const parts: Buffer[] = [enc('INFO {"server_id":"x","max_payload":8388608}\r\n'), enc('PING\r\n')];
  const sizes = [10, GATHER_FROM_BYTES - 3, GATHER_FROM_BYTES - 2, 3 * GATHER_FROM_BYTES + 17, 700_001, 0, 5, 2 * 1024 * 1024 + 300];
  sizes.forEach((size, k) => {
    const payload = randomBytes(size);
    if (k % 2 === 0) {
      const op = enc(`MSG tessera.peer.a ${k} _INBOX.x.${k} ${size}\r\n`);
      parts.push(op, payload, enc('\r\n'));
      if (size + 2 >= GATHER_FROM_BYTES) large.push(Buffer.concat([op, payload, enc('\r\n')]));
    } else {
      const hdr = enc(`NATS/1.0\r\nTessera-Status: 100\r\n\r\n`);
      const op = enc(`HMSG _INBOX.y.${k} ${k} ${hdr.length} ${hdr.length + size}\r\n`);
      parts.push(op, hdr, payload, enc('\r\n'));
      if (hdr.length + size + 2 >= GATHER_FROM_BYTES) large.push(Buffer.concat([op, hdr, payload, enc('\r\n')]));
    }
    if (k === 3) parts.push(enc('+OK\r\nPONG\r\n'));
  });
  return { bytes: Buffer.concat(parts), large };
}

function cut(bytes: Buffer, sizes: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.max(1, Math.min(bytes.length - at, sizes()));
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

test('the framer hands on the same bytes and every large message in one piece, however the stream is cut', () => {
  const { bytes, large } = stream();
  let seed = 7;
  const rand = (max: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % max;
  };
  const cuts: [string, () => number][] = [
    ['64 KiB reads', () => 64 * 1024],
    ['random reads up to 100 KiB', () => 1 + rand(100 * 1024)],
    ['reads of 1 to 40 bytes (control lines cut)', () => 1 + rand(40)],
    ['one read', () => bytes.length],
  ];
  for (const [label, sizes] of cuts) {
    const framer = new MessageFramer();
    // Tiny reads only over the first messages (control lines cut anywhere), then 64 KiB reads.
    const chunks = label.startsWith('reads of 1') ? cut(bytes.subarray(0, 3 * GATHER_FROM_BYTES), sizes).concat(cut(bytes.subarray(3 * GATHER_FROM_BYTES), () => 64 * 1024)) : cut(bytes, sizes);
    const pieces = chunks.flatMap((c) => framer.push(c));
    assert.ok(Buffer.concat(pieces).equals(bytes), `${label}: the bytes changed`);
    for (const [k, message] of large.entries()) {
      assert.ok(pieces.some((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).indexOf(message) >= 0), `${label}: large message ${k} was not in one piece`);
    }
  }
});

test('a count beyond any NATS message reserves nothing: the chunk goes on to the parser as it came', () => {
  const framer = new MessageFramer();
  const chunk = enc(`MSG a 1 ${GATHER_UP_TO_BYTES + 1}\r\n`);
  const pieces = framer.push(Buffer.concat([chunk, randomBytes(1000)]));
  assert.equal(pieces.length, 1);
  assert.equal(pieces[0]!.byteLength, chunk.length + 1000);
  // What follows is that message's payload, still handed on untouched.
  assert.deepEqual(framer.push(enc('PING\r\n')).map((p) => p.byteLength), [6]);
});

test('a connection through the framer carries messages of 8 MiB whole and intact', async () => {
  const nats = await startNats({ maxPayload: 8 << 20 });
  const nc = await connectFramed({ servers: [nats.url] });
  try {
    const sizes = [1, 70_000, 3 << 20, (8 << 20) - 1024, 12];
    const sent = sizes.map((n) => randomBytes(n));
    const got: Uint8Array[] = [];
    const done = new Promise<void>((resolve) => {
      nc.subscribe('framing.test', { callback: (_err, msg) => { got.push(msg.data.slice()); if (got.length === sent.length) resolve(); } });
    });
    await nc.flush();
    for (const payload of sent) nc.publish('framing.test', payload);
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('messages did not arrive within 30 s')), 30_000).unref())]);
    assert.deepEqual(got.map((g) => g.length), sizes);
    sent.forEach((payload, k) => assert.ok(Buffer.from(got[k]!).equals(payload), `message ${k} changed`));
  } finally {
    await nc.close();
    await nats.stop();
  }
});

test('a message published from its parts arrives whole, with its headers and reply subject, in publishing order', async () => {
  const nats = await startNats({ maxPayload: 1 << 20 });
  const nc = await connectFramed({ servers: [nats.url] });
  try {
    // Parts as a sealed envelope comes (a short prefix, 64 KiB slices, a tag), some empty.
    const payload = randomBytes(700_001);
    const parts = [payload.subarray(0, 300), new Uint8Array(0)];
    for (let at = 300; at < payload.length - 16; at += 64 * 1024) parts.push(payload.subarray(at, Math.min(at + 64 * 1024, payload.length - 16)));
    parts.push(payload.subarray(payload.length - 16));
    const got: Msg[] = [];
    const done = new Promise<void>((resolve) => {
      nc.subscribe('framing.parts', { callback: (_err, msg) => { got.push(msg); if (got.length === 4) resolve(); } });
    });
    await nc.flush();
    const h = natsHeaders();
    h.set('Tessera-Fragment', '3');
    // Two small messages still in the client's outbound buffer (written at the end of this turn)
    // must reach the subscriber before the large one written straight to the socket.
    nc.publish('framing.parts', 'first');
    nc.publish('framing.parts', 'second');
    assert.equal(publishParts(nc, 'framing.parts', 'reply.to.me', h, parts), true);
    nc.publish('framing.parts', 'after');
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('messages did not arrive within 30 s')), 30_000).unref())]);
    assert.deepEqual(got.map((m) => (m.data.byteLength === payload.length ? 'large' : m.string())), ['first', 'second', 'large', 'after']);
    assert.ok(Buffer.from(got[2]!.data).equals(payload), 'the payload changed');
    assert.equal(got[2]!.headers?.get('Tessera-Fragment'), '3');
    assert.equal(got[2]!.reply, 'reply.to.me');
    // Over the relay's max_payload: refused here, as the client's publish refuses it, nothing written.
    assert.throws(() => publishParts(nc, 'framing.parts', 'reply.to.me', h, [payload, payload]), /exceeds the relay's max_payload/);
    await nc.flush();
    assert.equal(got.length, 4);
  } finally {
    await nc.close();
    await nats.stop();
  }
});

test('publishParts declines a connection it cannot write to, and the caller publishes through the client', async () => {
  const nats = await startNats();
  const nc = await connectFramed({ servers: [nats.url] });
  await nc.close();
  try {
    assert.equal(publishParts(nc, 'framing.parts', 'reply.to.me', natsHeaders(), [randomBytes(100_000)]), false);
  } finally {
    await nats.stop();
  }
});
