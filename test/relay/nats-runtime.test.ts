// The Go runtime settings startNats gives a nats-server (bench/relay.ts starts its relays with
// GOMAXPROCS=1 and GOGC=400: docs/relay.md "The relay's own CPU on the parties' cores"). They are
// environment variables of the server's process, read from /proc, and the server's own /varz
// reports the GOMAXPROCS it runs with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startNats } from './nats.js';

/** The environment a process was started with (/proc/PID/environ, Linux). */
function environment(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean);
  return new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

test('a nats-server started with goMaxProcs and goGC runs with GOMAXPROCS and GOGC set so', { timeout: 30_000 }, async () => {
  const nats = await startNats({ monitor: true, goMaxProcs: 1, goGC: 400 });
  try {
    const env = environment(nats.pid);
    assert.equal(env.get('GOGC'), '400');
    assert.equal(env.get('GOMAXPROCS'), '1');
    assert.equal((await nats.varz()).gomaxprocs, 1);
  } finally {
    await nats.stop();
  }
});

test('a nats-server started without them keeps the environment it inherits', { timeout: 30_000 }, async () => {
  const nats = await startNats();
  try {
    const env = environment(nats.pid);
    assert.equal(env.get('GOGC'), process.env.GOGC);
    assert.equal(env.get('GOMAXPROCS'), process.env.GOMAXPROCS);
  } finally {
    await nats.stop();
  }
});
