// Attacks on the peer API of complete servers, during a live computation (SECURITY.md "Peers"):
// an envelope replayed, tampered with, forged by an outsider, or sent by a party that holds the
// network secret but is outside the computation; downloads of uuids released or never made.
// All are refused with problems, all are logged, and the computation under attack ends right.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RunningServer } from '../../server/main.js';
import { ChannelKeys, parseEnvelope, type EnvelopeHeader } from '../../server/peer/envelope.js';
import { Trust } from '../../server/peer/trust.js';
import { within } from '../within.js';
import { SECURE_SUM_STAGES } from '../../services/simon/linear/securesum.js';
import { memoryLog } from '../server/helpers.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { RawClient, rawRequest } from '../support/http.js';
import { startPeerNodeServer, type PeerNodeServer } from '../support/peer-server.js';
import type { Proxy } from '../support/proxy.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('attacks on the peer API during a live computation', { timeout: 60_000 }, () => {
  const log = memoryLog();
  let cluster: Cluster;
  let servers: RunningServer[];
  let proxy: Proxy;
  let outsider: PeerNodeServer;

  before(async () => {
    // Party 0 (its log recorded) is reached through a recording proxy: its URL in the computation is the proxy's.
    cluster = await startCluster(3, { stageTimeoutMs: 8000, party: (i) => (i === 0 ? { log } : {}), proxied: [0] });
    servers = cluster.servers;
    proxy = cluster.proxy(0);
    // An outsider holding the network secret (a fourth server of the consortium), not in the computation.
    outsider = await startPeerNodeServer({ dataDir: join(cluster.root, 'outsider'), log: silent, networkSecret: cluster.networkSecret, stageTimeoutMs: 8000 });
  });
  after(async () => {
    await outsider?.close();
    await cluster.close();
  });

  const post = (body: Buffer) =>
    rawRequest(servers[0]!.url, '/peer/messages', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });

  test('forged, tampered, replayed and outsider envelopes are refused and logged; the computation under attack is right', async () => {
    const nodes = [proxy.url, servers[1]!.url, servers[2]!.url];
    const uuid = randomUUID();
    // Parties 0 and 1 start; party 2 comes later, so party 0's computation is live during the attacks.
    const early = [0, 1].map((i) => new RawClient(i === 0 ? servers[0]!.url : servers[1]!.url).secureSum([19, 5][i]!, { nodes, uuid, myself: i }));
    const deadline = Date.now() + 5000;
    while (!proxy.envelopes.some((e) => parseEnvelope(e).header.uuid === uuid && parseEnvelope(e).header.stage === SECURE_SUM_STAGES.shares)) {
      assert.ok(Date.now() < deadline, 'party 1 sent its shares to party 0');
      await new Promise((r) => setTimeout(r, 10));
    }
    const captured = proxy.envelopes.find((e) => parseEnvelope(e).header.uuid === uuid)!;
    const header = parseEnvelope(captured).header;

    // A replay while the computation runs is an idempotent duplicate, never a second share.
    assert.equal((await post(captured)).status, 204);

    // Tampering: one flipped bit anywhere (header, nonce, ciphertext, tag) fails authentication.
    for (const at of [20, captured.length - 40, captured.length - 1]) {
      const tampered = Buffer.from(captured);
      tampered[at] = tampered[at]! ^ 0x01;
      const res = await post(tampered);
      assert.ok(res.status === 401 || res.status === 400, `bit ${at}: ${res.status} ${res.text}`);
    }

    // Forgery by someone without the network secret: a fresh key, the right header, a wrong key schedule.
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const x = publicKey.export({ format: 'jwk' }).x!;
    const forger = new ChannelKeys({ privateKey, publicKey: x, publicKeyBytes: Buffer.from(x, 'base64url'), bootId: header.senderBoot, bootIdBytes: Buffer.from(header.senderBoot, 'base64url') }, new Trust({ secret: randomBytes(32) }));
    const forgedHeader: EnvelopeHeader = { ...header, senderKey: x, ts: Date.now() };
    const forged = await post(forger.seal(forgedHeader, randomBytes(300)));
    assert.equal(forged.status, 401, forged.text);
    // Impersonation: the real sender's key in the header, sealed without its private key.
    const impersonated = await post(forger.seal({ ...header, ts: Date.now(), seq: 9 }, randomBytes(300)));
    assert.equal(impersonated.status, 401, impersonated.text);

    // A party with the secret, outside this computation, posing as party 2 of the same uuid.
    const outsiderUrl = outsider.url;
    const session = await outsider.node.open({ uuid, myself: 2, terms: { microprotocol: 'SecureSum', nodes: [proxy.url, servers[1]!.url, outsiderUrl] }, stages: SECURE_SUM_STAGES.all });
    await assert.rejects(session.send(0, SECURE_SUM_STAGES.shares, randomBytes(280)), /HTTP 403|not part of this computation/);
    session.close();

    // Party 2 arrives: the computation under attack completes, right.
    const late = new RawClient(servers[2]!.url).secureSum(61, { nodes, uuid, myself: 2 });
    const results = await within(20_000, 'computation under attack', Promise.all([...early, late]));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 85 } });

    // After it finished, the same envelope is a refused replay.
    const replay = await post(captured);
    assert.equal(replay.status, 409, replay.text);
    assert.match(String((replay.json as { detail: string }).detail), /already finished|replayed/);

    // Everything refused left a warning naming what was refused (never a payload).
    const rejected = log.lines.filter((l) => l.level === 'warn' && l.msg === 'peer message rejected');
    assert.ok(rejected.length >= 7, `${rejected.length} rejections logged`);
    assert.ok(rejected.some((l) => (l.obj as { status?: number }).status === 409));
    assert.ok(rejected.some((l) => (l.obj as { status?: number }).status === 403));
    assert.ok(rejected.filter((l) => (l.obj as { status?: number }).status === 401).length >= 2);
  });

  test('downloads of a uuid released or never made are clean 404 problems, logged', async () => {
    const client = new RawClient(servers[0]!.url);
    const uuid = await client.uuidOf(await client.request('PUT', '/representations', { args: [42], kwargs: {} }), 'upload');
    assert.equal((await client.release(uuid)).status, 200);
    for (const target of [uuid, randomUUID()]) {
      for (const [method, path] of [['GET', `/representation/${target}`], ['PATCH', `/representation/${target}`], ['DELETE', `/representation/${target}`], ['GET', `/representation/${target}/x`]] as const) {
        const res = await client.request(method, path, method === 'PATCH' ? { args: [], kwargs: {} } : undefined);
        assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
        assert.match(String(res.headers['content-type']), /problem\+json/);
      }
    }
    assert.ok(log.lines.some((l) => l.level === 'info' && (l.obj as { status?: number }).status === 404));
  });
});
