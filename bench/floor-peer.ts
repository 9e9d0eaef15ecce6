// What each piece of the peer path costs per small message, in µs of CPU, in one process: the
// pieces a 3-party SecureSum's envelope passes through between `session.send` and the receiver's
// `accept` (docs/performance.md, "The peer round trip"). Each piece runs in a tight loop after a
// warm-up; the figure is CPU time per call; it is measured as this process's CPU time (process.cpuUsage), so a loaded machine's queue
// for the cores does not count. What the carrier itself costs (a WebSocket frame each way, the system calls) is bench:sum's
// floor; this table is what Tessera adds on top of it per message.
//
//   npx tsx bench/floor-peer.ts [--ms 300]

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { answerFrame, parseAnswer, parseRequest, requestFrame, FRAME_DELIVER } from '../server/peer/channel-frames.js';
import { normaliseNodeUrl } from '../server/peer/codec.js';
import { ChannelKeys, envelopeId, parseEnvelope, type EnvelopeHeader } from '../server/peer/envelope.js';
import { loadOrCreateIdentity } from '../server/peer/identity.js';
import { boundedSignal } from '../server/peer/transport.js';
import { Trust } from '../server/peer/trust.js';
import { canonicalJson } from '../shared/json.js';
import { printTable } from './cluster.js';

const { values } = parseArgs({ options: { ms: { type: 'string', default: '300' } } });
const BUDGET_MS = Number(values.ms);

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** CPU µs (user + system) per call of `fn`, run for about BUDGET_MS of CPU after a warm-up of a third of that. */
function time(fn: () => unknown): number {
  const cpu = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const run = (ms: number): number => {
    let calls = 0;
    const started = cpu();
    let now = started;
    while (now - started < ms) {
      for (let i = 0; i < 100; i++) fn();
      calls += 100;
      now = cpu();
    }
    return ((now - started) * 1000) / calls;
  };
  run(BUDGET_MS / 3);
  return run(BUDGET_MS);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-floor-peer-'));
  try {
    const trust = new Trust({ secret: Buffer.alloc(32, 7) });
    const alice = await loadOrCreateIdentity(join(dir, 'alice'), silent as never);
    const bob = await loadOrCreateIdentity(join(dir, 'bob'), silent as never);
    const sender = new ChannelKeys(alice, trust);
    const receiver = new ChannelKeys(bob, trust);
    const nodes = ['http://127.0.0.1:40001', 'http://127.0.0.1:40002', 'http://127.0.0.1:40003'];
    // A SecureSum message as the sum sends it: one ring element (8 bytes), the sum's terms.
    const header: EnvelopeHeader = {
      v: 1, uuid: randomBytes(16).toString('hex'), instance: randomBytes(16).toString('base64url'), stage: 'share', seq: 0, from: 0, to: 1,
      ts: Date.now(), senderKey: alice.publicKey, senderBoot: alice.bootId, receiverKey: bob.publicKey, receiverBoot: bob.bootId,
      terms: { microprotocol: 'SecureSum', nodes, ring: 'Z_2^64', data: 'number' }, peer: randomBytes(16).toString('base64url'),
    };
    const payload = randomBytes(8);
    const sealed = sender.sealParts(header, payload);
    const envelope = sealed.parts[0]!;
    const parsed = parseEnvelope(envelope);
    const receipt = receiver.receiptFor(parsed.header, envelopeId(parsed));
    const frame = requestFrame(FRAME_DELIVER, 7, envelope);
    const answer = answerFrame(7, 204, receipt);
    const termsJson = canonicalJson(header.terms);
    const session = new AbortController().signal;
    const rows: [string, number][] = [
      ['header as JSON (JSON.stringify)', time(() => JSON.stringify(header))],
      ['seal, header serialised whole (sealParts)', time(() => sender.sealParts(header, payload))],
      ['seal, the session\'s terms JSON reused (sealParts with termsJson)', time(() => sender.sealParts(header, payload, termsJson))],
      ['request frame (requestFrame: copy behind a 5-byte header)', time(() => requestFrame(FRAME_DELIVER, 7, envelope))],
      ['parse request frame (parseRequest)', time(() => parseRequest(frame))],
      ['parse envelope: split, JSON.parse, field checks (parseEnvelope)', time(() => parseEnvelope(envelope))],
      ['open: AES-256-GCM decrypt and verify (open)', time(() => receiver.open(parsed))],
      ['receipt: HMAC-SHA256 of nonce | tag (receiptFor)', time(() => receiver.receiptFor(parsed.header, envelopeId(parsed)))],
      ['sender URL from the terms (normaliseNodeUrl)', time(() => normaliseNodeUrl(nodes[0], 'envelope.header.terms.nodes'))],
      ['terms compared (canonicalJson of the header terms)', time(() => canonicalJson(parsed.header.terms) === termsJson)],
      ['consumed digest (SHA-256 of the payload)', time(() => createHash('sha256').update(payload).digest())],
      ['answer frame (answerFrame)', time(() => answerFrame(7, 204, receipt))],
      ['parse answer frame (parseAnswer)', time(() => parseAnswer(answer))],
      ['check receipt (verifyReceipt)', time(() => sender.verifyReceipt(header, sealed.id, receipt))],
      ['per-message time limit as a signal (boundedSignal + dispose)', time(() => boundedSignal(session, 30_000).dispose())],
    ];
    console.log(`\nThe peer path's pieces, per small message (8-byte payload, 3-party terms), µs of CPU\n`);
    printTable(['piece', 'µs per message'], rows.map(([name, us]) => [name, us.toFixed(2)]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
