// What a party's session itself costs per SecureSum, in µs of CPU, in one process: a PeerSession
// of 3 parties opened, its two stages' four receives and the accepts that answer them (8-byte
// payloads, terms by digest), then closed: the session's own part of a 3-party sum, with no
// carrier, no sealing and no protocol (those are bench/floor-peer.ts and bench:sum). With another
// checkout as argument its session.ts is measured too, the two in alternating rounds, so a change
// to the session is compared with main in the same minutes (docs/performance.md, "A party's
// session: small payloads kept by their bytes, and one receive timer taken back").
//
//   npx tsx bench/floor-session.ts [--rounds 9] [--sessions 20000] [/path/to/other/checkout]

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { printTable } from './cluster.js';
import type { PeerSession, SessionHost } from '../server/peer/session.js';

const { values, positionals } = parseArgs({
  options: { rounds: { type: 'string', default: '9' }, sessions: { type: 'string', default: '20000' } },
  allowPositionals: true,
});
const ROUNDS = Number(values.rounds);
const SESSIONS = Number(values.sessions);

type SessionClass = typeof PeerSession;

/** A node that sends nothing and is never asked anything in this loop. */
const host: SessionHost = {
  maxInboxBytes: 1 << 20,
  post: () => Promise.resolve(),
  pairSecret: () => new Uint8Array(32),
  sessionClosed: () => undefined,
  wantConfirmation: () => undefined,
  sendsEnded: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
};
const nodes = ['http://127.0.0.1:40001', 'http://127.0.0.1:40002', 'http://127.0.0.1:40003'];
const terms = { microprotocol: 'SecureSum', nodes };
const payload = Buffer.alloc(8, 1);

/** One party's session of a 3-party sum: open, per stage wait for both peers and take their messages, close. */
async function oneSession(Session: SessionClass, uuid: string): Promise<void> {
  const session = new Session(host, uuid, 0, nodes, ['a', 'b', 'c'], ['x', 'y', 'z'], terms, ['shares', 'partials'], 30_000, 'instance');
  for (const stage of ['shares', 'partials']) {
    const waits = [1, 2].map((from) => session.receive(from, stage));
    for (const from of [1, 2]) {
      await session.accept({
        v: 1, uuid, instance: `peer${from}`, stage, seq: 0, from, to: 0, ts: Date.now(),
        senderKey: 'k', senderBoot: 'b', receiverKey: 'a', receiverBoot: 'x', termsDigest: session.termsDigest, peer: 'instance',
      }, payload);
    }
    await Promise.all(waits);
  }
  session.close();
}

/** CPU µs (user + system) per session over `count` sessions. */
async function round(Session: SessionClass, count: number): Promise<number> {
  const started = process.cpuUsage();
  for (let s = 0; s < count; s++) await oneSession(Session, `u${s}`);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / count;
}

async function main(): Promise<void> {
  const trees: [string, SessionClass][] = [['this checkout', (await import('../server/peer/session.js')).PeerSession]];
  if (positionals[0] !== undefined) {
    const other = resolve(positionals[0]);
    trees.push([other, (await import(`${other}/server/peer/session.ts`) as { PeerSession: SessionClass }).PeerSession]);
  }
  for (const [, Session] of trees) await round(Session, SESSIONS / 4);
  const results = trees.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) for (const [t, [, Session]] of trees.entries()) results[t]!.push(await round(Session, SESSIONS));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`A party's session of a 3-party SecureSum (open, 4 receives and accepts, close), ${SESSIONS} sessions per round, ${ROUNDS} rounds in turn; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(', ')}`);
  printTable(['checkout', 'median µs per session', 'min', 'max', 'ratio to this checkout'], trees.map(([name], t) => [
    name, median(results[t]!).toFixed(2), Math.min(...results[t]!).toFixed(2), Math.max(...results[t]!).toFixed(2), (median(results[t]!) / median(results[0]!)).toFixed(2),
  ]));
}
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
