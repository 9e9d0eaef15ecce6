// Finding 11 of the hardening issue, the smaller ones: data-directory permissions never checked;
// a symlinked identity.json had its target's permissions changed; two log lines per garbage
// peer message; representation uuids (which grant access) in info logs; `localhost` and
// `127.0.0.1` for the same server in two parties' node lists made a 409.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/main.js';
import { loadOrCreateIdentity } from '../../server/peer/identity.js';
import { memoryLog } from '../server/helpers.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { RawClient, rawRequest } from '../support/http.js';
import { within } from '../within.js';

describe('finding 11: the data directory and the key file', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tessera-datadir-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a data directory other users can write to is refused, naming the fix', async () => {
    const dir = join(root, 'open');
    await mkdir(dir);
    await chmod(dir, 0o777);
    await assert.rejects(loadOrCreateIdentity(dir, memoryLog()), /writable by other users.*chmod 700/);
  });

  test('a data directory other users can read is tightened to 0700, with a warning', async () => {
    const dir = join(root, 'readable');
    await mkdir(dir);
    await chmod(dir, 0o755);
    const log = memoryLog();
    await loadOrCreateIdentity(dir, log);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.ok(log.lines.some((l) => l.level === 'warn' && /data directory/.test(l.msg ?? '')));
  });

  test('a symlinked identity.json is refused, and its target keeps its mode', async () => {
    const dir = join(root, 'linked');
    await mkdir(dir, { mode: 0o700 });
    const target = join(root, 'elsewhere.json');
    await writeFile(target, '{}', { mode: 0o644 });
    await symlink(target, join(dir, 'identity.json'));
    await assert.rejects(loadOrCreateIdentity(dir, memoryLog()), /symbolic link/);
    assert.equal((await stat(target)).mode & 0o777, 0o644, 'the target was not chmodded');
  });
});

describe('finding 11: logs and node spellings on running servers', { timeout: 60_000 }, () => {
  const secret = randomBytes(32);
  const log = memoryLog();
  let cluster: Cluster;
  let a: RunningServer;
  let b: RunningServer;
  before(async () => {
    cluster = await startCluster(2, { networkSecret: secret, stageTimeoutMs: 5000, party: (i) => (i === 0 ? { log, logLevel: 'info' } : {}) });
    [a, b] = cluster.servers as [RunningServer, RunningServer];
  });
  after(async () => {
    await cluster.close();
  });

  test('one log line per garbage peer message', async () => {
    const before = log.lines.length;
    const res = await rawRequest(a.url, '/peer/messages', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: randomBytes(500) });
    assert.equal(res.status, 400);
    assert.equal(log.lines.slice(before).filter((l) => l.level !== 'debug').length, 1, JSON.stringify(log.lines.slice(before)));
  });

  test('no representation uuid in any log line above debug', async () => {
    const client = new RawClient(a.url);
    const uuid = await client.uuidOf(await client.request('PUT', '/representations', { args: [1], kwargs: {} }), 'upload');
    await client.release(uuid);
    await client.request('GET', `/representation/${uuid}`); // 404, logged as refused
    await client.request('GET', `/representation/${randomUUID()}/x`);
    const text = JSON.stringify(log.lines.filter((l) => l.level !== 'debug'));
    assert.ok(!text.includes(uuid), 'a uuid in the log');
    assert.ok(!/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.test(text.replace(/"(bootId|publicKey)":"[^"]*"/g, '')));
  });

  test('localhost in one party\'s node list and 127.0.0.1 in the other\'s: the same server, the sum works', async () => {
    const uuid = randomUUID();
    const spelled = (url: string) => url.replace('127.0.0.1', 'localhost');
    const results = await within(20_000, 'the sum', Promise.all([
      new RawClient(a.url).secureSum(1, { nodes: [spelled(a.url), b.url], uuid, myself: 0 }),
      new RawClient(b.url).secureSum(2, { nodes: [a.url, spelled(b.url)], uuid, myself: 1 }),
    ]));
    for (const r of results) assert.equal(r.result.sum, 3);
  });
});
