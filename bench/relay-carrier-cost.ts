// The relay carrier's own cost, apart from any protocol, through a local nats-server, both
// carriers in this process; prints CPU seconds of this process and of the nats-server.
//   npx tsx bench/relay-carrier-cost.ts [--mib 190] [--max-payload BYTES] [--small 20000] [--open]
// Bulk (--mib): one sender pushes 2 MiB envelopes (as SecureFedAvg's reduce chunks, two in flight
// like its send window) to one receiver; CPU seconds per 100 MiB carried. Each envelope is given
// in the parts a large envelope is sealed in (envelope.ts sealParts: prefix, 64 KiB ciphertext
// slices, tag), as the peer layer hands it to a carrier. With --open the envelopes are real (sealed
// by one identity for another, AES-256-GCM) and the receiver opens each one as the inbound path
// does (server/peer/inbound.ts deliver): in place when the carrier hands it over owned, else into
// a buffer of its own; the CPU then includes the decryption, the same either way.
// Small (--small N): N identity requests (GET /peer/identity?challenge=…, as every party of a
// first computation sends each peer), 100 in flight; CPU milliseconds per 1,000 exchanges. This
// is what a 100-party first SecureSum sends 9,900 of through the relay (docs/relay.md).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChannelKeys, LARGE_PAYLOAD_BYTES, parseEnvelope } from '../server/peer/envelope.js';
import { loadOrCreateIdentity } from '../server/peer/identity.js';
import { RelayCarrier } from '../server/peer/relay.js';
import { startNats } from '../test/relay/nats.js';
import { Trust } from '../server/peer/trust.js';
import { cpuSeconds } from './cluster.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '190' }, 'max-payload': { type: 'string' }, small: { type: 'string', default: '0' }, open: { type: 'boolean', default: false } } });
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const nats = await startNats(values['max-payload'] !== undefined ? { maxPayload: Number(values['max-payload']) } : {});
try {
  const sender = await RelayCarrier.connect({ servers: [nats.url], name: 'cost-sender' }, silent, 60_000);
  const receiver = await RelayCarrier.connect({ servers: [nats.url], name: 'cost-receiver' }, silent, 60_000);
  let delivered = 0;
  const chunk = await chunkParts(values.open === true);
  const identity = { publicKey: randomBytes(32).toString('base64url'), bootId: randomBytes(16).toString('base64url') };
  await receiver.serve({
    identity: (challenge) => ({ ...identity, proof: randomBytes(32).toString('base64url'), challengeBytes: challenge?.length }),
    deliver: async (envelope, options) => {
      delivered += envelope.length;
      chunk.open?.(envelope, options?.owned === true);
    },
  }, { maxBody: 64 << 20, bodies: 64, bytes: 256 << 20 });
  const small = Number(values.small);
  if (small > 0) {
    const ask = async (): Promise<void> => {
      const challenge = randomBytes(32).toString('base64url');
      const answer = await sender.request(`relay://cost-receiver/peer/identity?challenge=${challenge}`, { method: 'GET', signal: AbortSignal.timeout(60_000) });
      if (answer.status !== 200 || (JSON.parse(answer.text) as { challengeBytes?: number }).challengeBytes !== challenge.length) throw new Error(`answered ${answer.status}: ${answer.text}`);
    };
    for (let i = 0; i < 200; i++) await ask(); // warm-up
    const before = [process.cpuUsage(), cpuSeconds(nats.pid)] as const;
    const t = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 100 }, async () => { while (next++ < small) await ask(); }));
    const wall = (performance.now() - t) / 1000;
    const usage = process.cpuUsage(before[0]);
    const node = (usage.user + usage.system) / 1e6;
    const natsCpu = cpuSeconds(nats.pid) - before[1];
    const per1000 = 1000 / small;
    console.log(`${small} identity requests, 100 in flight`);
    console.log('| wall s | sender+receiver CPU s | nats-server CPU s | CPU ms per 1,000 exchanges (both carriers) | nats CPU ms per 1,000 |');
    console.log('|---:|---:|---:|---:|---:|');
    console.log(`| ${wall.toFixed(2)} | ${node.toFixed(2)} | ${natsCpu.toFixed(2)} | ${(node * per1000 * 1000).toFixed(0)} | ${(natsCpu * per1000 * 1000).toFixed(0)} |`);
  }
  const mib = small > 0 ? 0 : Number(values.mib);
  if (mib > 0) {
    const { parts } = chunk;
    const count = Math.ceil((mib << 20) / chunk.length);
    const send = async (): Promise<void> => {
      const answer = await sender.request('relay://cost-receiver/peer/messages', { method: 'POST', body: parts, signal: AbortSignal.timeout(120_000) });
      if (answer.status !== 204) throw new Error(`answered ${answer.status}: ${answer.text}`);
    };
    await send(); // warm-up
    const before = [process.cpuUsage(), cpuSeconds(nats.pid)] as const;
    const t = performance.now();
    let next = 0;
    await Promise.all([0, 1].map(async () => { while (next++ < count) await send(); }));
    const wall = (performance.now() - t) / 1000;
    const usage = process.cpuUsage(before[0]);
    const node = (usage.user + usage.system) / 1e6;
    const natsCpu = cpuSeconds(nats.pid) - before[1];
    const per100 = 100 / ((count * chunk.length) / 2 ** 20);
    console.log(`${count} ${values.open === true ? 'sealed ' : ''}envelopes of ${chunk.length} bytes, fragments of ${sender.fragmentBytes}; delivered ${(delivered / 2 ** 20).toFixed(0)} MiB`);
    console.log('| wall s | sender+receiver CPU s | nats-server CPU s | CPU s per 100 MiB (both carriers) | nats CPU s per 100 MiB |');
    console.log('|---:|---:|---:|---:|---:|');
    console.log(`| ${wall.toFixed(2)} | ${node.toFixed(2)} | ${natsCpu.toFixed(2)} | ${(node * per100).toFixed(2)} | ${(natsCpu * per100).toFixed(2)} |`);
  }
  await sender.closed();
  await receiver.closed();
} finally {
  await nats.stop();
}

/**
 * One 2 MiB envelope in the parts a large envelope is sealed in (prefix, 64 KiB ciphertext slices,
 * tag). With `real`, sealed from one fresh identity to another, and `open` opens a received one as
 * inbound.ts does: in place when owned and large, else into a fresh buffer.
 */
async function chunkParts(real: boolean): Promise<{ parts: Uint8Array[]; length: number; open?: (envelope: Buffer, owned: boolean) => void }> {
  if (!real) {
    const chunk = new Uint8Array((2 << 20) + 300).fill(1);
    const parts = [chunk.subarray(0, 284)];
    for (let at = 284; at < chunk.byteLength - 16; at += 64 * 1024) parts.push(chunk.subarray(at, Math.min(at + 64 * 1024, chunk.byteLength - 16)));
    parts.push(chunk.subarray(chunk.byteLength - 16));
    return { parts, length: chunk.byteLength };
  }
  const dir = await mkdtemp(join(tmpdir(), 'tessera-carrier-cost-'));
  try {
    const silentLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const [alice, bob] = await Promise.all([loadOrCreateIdentity(join(dir, 'a'), silentLog), loadOrCreateIdentity(join(dir, 'b'), silentLog)]);
    const trust = new Trust({ secret: randomBytes(32) });
    const header = {
      v: 1 as const, uuid: 'bench', instance: randomBytes(16).toString('base64url'), stage: 'reduce', seq: 0, from: 0, to: 1, ts: Date.now(),
      senderKey: alice.publicKey, senderBoot: alice.bootId, receiverKey: bob.publicKey, receiverBoot: bob.bootId,
      terms: { microprotocol: 'SecureFedAvg', nodes: ['relay://cost-sender', 'relay://cost-receiver'] },
    };
    const sealed = new ChannelKeys(alice, trust).sealParts(header, randomBytes(2 << 20));
    const keys = new ChannelKeys(bob, trust);
    const open = (envelope: Buffer, owned: boolean): void => {
      const parsed = parseEnvelope(envelope);
      if (owned && parsed.ciphertext.length > LARGE_PAYLOAD_BYTES) keys.openInPlace(parsed, envelope);
      else keys.open(parsed);
    };
    return { parts: [...sealed.parts], length: sealed.length, open };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
