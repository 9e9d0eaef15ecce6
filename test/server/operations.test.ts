// What a running server shows about itself: Prometheus metrics at /metrics that move with
// SecureSum and SecureFedAvg (and hold no input or result), one info log line per computation
// at every party, readiness at /health, a page at / that sends a browser to /docs, and /metrics
// behind the client token when there is one.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../server/main.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { memoryLog } from './helpers.js';
import { within } from '../within.js';

/** Inputs nobody else should ever see, spelled so that they cannot appear by accident. */
const SECRETS = [987654.321, 1234.5678, 55555.125];
const SUM = SECRETS.reduce((a, b) => a + b, 0);
const TENSORS = [Float64Array.of(0.918273645, -7.5), Float64Array.of(0.564738291, 3.25), Float64Array.of(0.192837465, 11.125)];

/** One sample of a metric: `name{labels} value`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('operations: metrics and the computation log', { timeout: 180_000 }, () => {
  let cluster: Cluster;
  const log = memoryLog();
  let sumUuid: string;
  let fedAvgUuid: string;
  let before0: string;
  before(async () => {
    cluster = await startCluster(3, { config: { log } });
    before0 = await (await fetch(`${cluster.nodes[0]}/metrics`)).text();
    sumUuid = randomUUID();
    await within(60_000, 'SecureSum', Promise.all(cluster.apis.map((api, myself) =>
      api.secureSum({ data: SECRETS[myself]!, network: { nodes: cluster.nodes, uuid: sumUuid, myself } }))));
    fedAvgUuid = randomUUID();
    await within(60_000, 'SecureFedAvg', Promise.all(cluster.apis.map((api, myself) =>
      api.secureFedAvg({ tensors: { w: TENSORS[myself]! }, weight: 10 + myself, network: { nodes: cluster.nodes, uuid: fedAvgUuid, myself } }))));
  });
  after(async () => {
    await cluster?.close();
  });

  test('/metrics: computations by microprotocol and outcome, durations, peer traffic and gauges moved', async () => {
    const res = await fetch(`${cluster.nodes[0]}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
    const text = await res.text();
    assert.equal(sample(before0, 'tessera_computations_total', 'microprotocol="SecureSum",outcome="ok"'), undefined);
    assert.equal(sample(text, 'tessera_computations_total', 'microprotocol="SecureSum",outcome="ok"'), 1);
    assert.equal(sample(text, 'tessera_computations_total', 'microprotocol="SecureFedAvg",outcome="ok"'), 1);
    assert.equal(sample(text, 'tessera_computation_duration_seconds_count', 'microprotocol="SecureSum",outcome="ok"'), 1);
    for (const direction of ['in', 'out']) {
      assert.equal(sample(before0, 'tessera_peer_bytes_total', `direction="${direction}"`), 0);
      assert.ok(sample(text, 'tessera_peer_bytes_total', `direction="${direction}"`)! > 1000, direction);
      assert.ok(sample(text, 'tessera_peer_messages_total', `direction="${direction}"`)! >= 4, direction);
    }
    assert.equal(sample(text, 'tessera_open_sessions'), 0);
    assert.equal(sample(text, 'tessera_peer_buffered_messages'), 0);
    assert.equal(typeof sample(text, 'tessera_representations'), 'number');
    assert.ok(sample(text, 'process_cpu_user_seconds_total')! > 0, 'prom-client process metrics');
    assert.ok(text.includes('nodejs_eventloop_lag_seconds'));
  });

  test('no input or result value appears in the metrics or in any log line', async () => {
    const texts = await Promise.all(cluster.nodes.map(async (url) => (await fetch(`${url}/metrics`)).text()));
    // Every number and label in Tessera's own series, as whole tokens: prom-client's process
    // metrics (CPU seconds, memory) are the machine's, and may show any digits.
    const tokens = texts.map((text) => new Set(text.split('\n').filter((line) => line.startsWith('tessera_')).flatMap((line) => line.split(/[\s{}",=]+/))));
    // The log's numbers as whole tokens too: a substring test failed now and then on a duration
    // such as 13.25 ms, which is not the input 3.25.
    const logged = new Set(JSON.stringify(log.lines).match(/-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi) ?? []);
    const values = [...SECRETS, SUM, ...TENSORS.flatMap((t) => [...t])].map(String);
    for (const value of values) {
      for (const set of tokens) assert.ok(!set.has(value), `${value} in /metrics`);
      assert.ok(!logged.has(value), `${value} in the log`);
    }
  });

  test('one info line per computation at every party: uuid, microprotocol, parties by index and URL, duration, bytes, outcome', () => {
    for (const [uuid, microprotocol] of [[sumUuid, 'SecureSum'], [fedAvgUuid, 'SecureFedAvg']] as const) {
      const lines = log.lines.filter((l) => l.level === 'info' && l.obj.uuid === uuid && /^computation /.test(l.msg ?? ''));
      assert.equal(lines.length, 3, `${microprotocol}: one line per party`);
      assert.deepEqual(lines.map((l) => l.obj.party).sort(), [0, 1, 2]);
      for (const { obj } of lines) {
        assert.equal(obj.microprotocol, microprotocol);
        assert.equal(obj.outcome, 'ok');
        assert.deepEqual(obj.parties, cluster.nodes.map((url, index) => ({ index, url })));
        assert.equal(typeof obj.durationMs, 'number');
        assert.ok((obj.bytesSent as number) > 0 && (obj.bytesReceived as number) > 0);
        assert.ok((obj.messagesSent as number) > 0 && (obj.messagesReceived as number) > 0);
      }
    }
  });

  test('a party alone waits, then fails naming the missing parties; counted and logged with its outcome', async () => {
    const uuid = randomUUID();
    const alone = cluster.apis[0]!.secureSum({ data: 1, network: { nodes: cluster.nodes, uuid, myself: 0 }, timeoutMs: 60_000 });
    // It waits for the stage timeout, then names every party that never showed up.
    await assert.rejects(alone, (err: Error) => {
      assert.match(err.message, /504/);
      assert.ok(err.message.includes(`nothing at all has come from party 1 (${cluster.nodes[1]}), party 2 (${cluster.nodes[2]})`), err.message);
      assert.match(err.message, /must start this computation \(same nodes and uuid\) at about the same time/);
      return true;
    });
    const text = await (await fetch(`${cluster.nodes[0]}/metrics`)).text();
    assert.equal(sample(text, 'tessera_computations_total', 'microprotocol="SecureSum",outcome="timeout"'), 1);
    const line = log.lines.find((l) => l.obj.uuid === uuid && l.level === 'info');
    assert.equal(line?.obj.outcome, 'timeout');
    assert.match(String(line?.obj.where), /^party [12] \(/);
  });

  test('/health reports readiness: the data directory and the identity', async () => {
    const res = await fetch(`${cluster.nodes[1]}/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; checks: Record<string, { status: string }> };
    assert.equal(body.status, 'ok');
    assert.deepEqual(body.checks, { dataDir: { status: 'ok' }, identity: { status: 'ok' } });
  });

  test('GET / sends a browser to /docs', async () => {
    const res = await fetch(`${cluster.nodes[2]}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const page = await res.text();
    assert.match(page, /http-equiv="refresh" content="0; url=\/docs"/);
    assert.match(page, /href="\/docs"/);
  });
});

test('/metrics needs the client token when the server has one; /health does not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-metrics-auth-'));
  const token = 'metrics-token-of-enough-length';
  const server = await startServer({ dataDir: dir, logLevel: 'silent', validateResponses: true, security: { clientToken: token } });
  try {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
    const ok = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /tessera_computations_total/);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('/health answers 503 naming the failing check when the identity file is gone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-health-'));
  const server = await startServer({ dataDir: dir, logLevel: 'silent', validateResponses: true });
  try {
    await rm(join(dir, 'identity.json'));
    const res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { status: string; checks: Record<string, { status: string; detail?: string }> };
    assert.equal(body.status, 'unavailable');
    assert.equal(body.checks.dataDir?.status, 'ok');
    assert.equal(body.checks.identity?.status, 'failing');
    assert.equal(body.checks.identity?.detail, 'ENOENT');
    assert.ok(!JSON.stringify(body).includes(dir), 'no path in an open endpoint');
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
