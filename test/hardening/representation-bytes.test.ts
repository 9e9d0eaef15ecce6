// Finding 3 of the hardening issue: ten accepted 16 MiB JSON uploads exhausted the JavaScript
// heap and the process died; the representation limit counted entries, not bytes. Now the bus
// has a byte budget (server/bus.ts estimatedBytes, --max-representation-bytes, by default a
// quarter of the heap limit): past it, a 429 problem; one value larger than all of it, a 413.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/cluster.js';
import { spawnParty, type ChildParty } from '../support/process.js';
import { RawClient, rawRequest } from '../support/http.js';

// 16 MiB of small objects: about 100 MB of heap once parsed.
const BIG_JSON = `{"args":[[${'{"a":0.5},'.repeat(Math.floor((16 * 1024 * 1024 - 64) / 10) - 1)}{"a":0.5}]],"kwargs":{}}`;

// A child process on purpose (spawnParty): the finding is about a process with a small heap dying.
describe('finding 3: ten 16 MiB JSON uploads to a server with a 512 MiB heap', { timeout: 240_000 }, () => {
  let dir: string;
  let party: ChildParty;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-upload-flood-'));
    party = await spawnParty(join(dir, 'p0'), randomBytes(32), 10_000, [], { NODE_OPTIONS: '--max-old-space-size=512' });
  });
  after(async () => {
    await party.kill();
    await rm(dir, { recursive: true, force: true });
  });

  test('the uploads past the budget are 429 problems, and the server is alive and serving after all ten', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await rawRequest(party.url, '/representations', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: BIG_JSON, timeoutMs: 60_000 });
      statuses.push(res.status);
      if (res.status !== 200) {
        assert.equal(res.status, 429, res.text.slice(0, 300));
        assert.match(String((res.json as { detail?: string }).detail), /max-representation-bytes/);
      }
    }
    assert.ok(statuses.includes(200), `some uploads fit: ${statuses.join(',')}`);
    assert.ok(statuses.includes(429), `the budget was reached: ${statuses.join(',')}`);
    assert.equal(party.process.exitCode, null, 'the server process is alive');
    assert.equal((await rawRequest(party.url, '/health')).status, 200);
    // And a small value still fits in what is left.
    assert.equal((await rawRequest(party.url, '/representations', { method: 'PUT', jsonBody: { args: [1], kwargs: {} } })).status, 200);
  });
});

describe('finding 3: --max-representation-bytes on a running server', { timeout: 60_000 }, () => {
  let server: TestServer;
  let client: RawClient;
  before(async () => {
    server = await startTestServer({ limits: { maxRepresentationBytes: 2 * 1024 * 1024 } });
    client = new RawClient(server.url);
  });
  after(async () => {
    await server.close();
  });

  const upload = (value: unknown) => client.request('PUT', '/representations', { args: [value], kwargs: {} });

  test('one value larger than the whole budget is a 413; values past it a 429; releasing makes room', async () => {
    const tooBig = await upload('x'.repeat(3 * 1024 * 1024));
    assert.equal(tooBig.status, 413, tooBig.text);
    const half = new Array(50_000).fill(0.5); // ~1.2 MB estimated: one fits, two do not
    const first = await upload(half);
    assert.equal(first.status, 200, first.text);
    const second = await upload(half);
    assert.equal(second.status, 429, second.text);
    assert.match(String((second.json as { detail?: string }).detail), /more than 2097152 bytes/);
    assert.equal((await client.release(await client.uuidOf(first, 'upload'))).status, 200);
    assert.equal(server.bus.bytes, 0);
    assert.equal((await upload(half)).status, 200);
  });
});
