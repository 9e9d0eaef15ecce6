// Microprotocols over the NATS relay, unchanged: SecureSum, SecureFedAvg (a model larger than the
// relay's max_payload, so every chunk travels in acknowledged fragments), a SIMON order statistic;
// and a network mixing parties reached directly and through the relay.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNats, type Nats } from './nats.js';
import { computeAll, fedAvgAll, maxDifference, plainAverage, smallModel, startRelayCluster } from './harness.js';
import { within } from '../within.js';
import { connect } from '@nats-io/transport-node';
import { CHUNK_RING_BYTES } from '../../services/fedavg/protocol.js';
import type { TensorSet } from '../../services/common/tensors.js';

describe('every party reached through the relay only', { timeout: 180_000 }, () => {
  let nats: Nats;
  let cluster: Awaited<ReturnType<typeof startRelayCluster>>;
  before(async () => {
    // 64 KiB messages: a 100k-parameter model (400 KB, chunks of up to 2 MiB) needs fragments.
    nats = await startNats({ maxPayload: 64 * 1024 });
    cluster = await startRelayCluster(nats.url, { parties: 3 });
  });
  after(async () => {
    await cluster?.close();
    await nats?.stop();
  });

  test('the node list names every party relay://<name>', () => {
    for (const node of cluster.nodes) assert.match(node, /^relay:\/\/p\d-[0-9a-f]{8}$/);
  });

  test('SecureSum: 19 + 5 + 61 = 85 at every party', async () => {
    const results = await within(60_000, 'SecureSum', computeAll(cluster, 'SecureSum', [19, 5, 61]));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 85 } });
  });

  test('SecureFedAvg of a model larger than max_payload: the plain average at every party', async () => {
    const models = [1, 2, 3].map((seed) => smallModel(100_000, seed));
    const got = await within(120_000, 'SecureFedAvg', fedAvgAll(cluster, models));
    const want = plainAverage(models);
    for (const tensors of got) assert.ok(maxDifference(tensors, want) < 1e-4, `max error ${maxDifference(tensors, want)}`);
  });

  test('SecureMedian (SIMON) over the relay', async () => {
    const results = await within(120_000, 'median', computeAll(cluster, 'SecureMedian', [[7, -1.5, 3.5], [12.25], [0, 3.5, 5, 9.75, -4]]));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { median: 3.5 } });
  });
});

describe('a mixed network: two parties reached directly, two through the relay', { timeout: 120_000 }, () => {
  let nats: Nats;
  let cluster: Awaited<ReturnType<typeof startRelayCluster>>;
  before(async () => {
    nats = await startNats();
    cluster = await startRelayCluster(nats.url, { reach: ['direct', 'relay', 'direct', 'relay'] });
  });
  after(async () => {
    await cluster?.close();
    await nats?.stop();
  });

  test('each party is named the way it is reached', () => {
    assert.match(cluster.nodes[0]!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(cluster.nodes[1]!, /^relay:\/\//);
  });

  test('SecureSum and SecureFedAvg complete', async () => {
    const results = await within(60_000, 'SecureSum', computeAll(cluster, 'SecureSum', [1, 2, 3, 4]));
    for (const r of results) assert.deepEqual(r, { inputs: 4, result: { samples: 4, sum: 10 } });
    const models = [1, 2, 3, 4].map((seed) => smallModel(1000, seed));
    const got = await within(60_000, 'SecureFedAvg', fedAvgAll(cluster, models));
    for (const tensors of got) assert.ok(maxDifference(tensors, plainAverage(models)) < 1e-4);
  });
});

// FedAvg's reduce messages are sized (protocol.ts CHUNK_RING_BYTES) so that, sealed, they fit one
// NATS message at the nats-server's default max_payload: no fragments, no reassembly.
describe("FedAvg through a relay at the nats-server's default max_payload (1 MiB)", { timeout: 120_000 }, () => {
  let nats: Nats;
  let cluster: Awaited<ReturnType<typeof startRelayCluster>>;
  before(async () => {
    nats = await startNats();
    cluster = await startRelayCluster(nats.url, { parties: 3 });
  });
  after(async () => {
    await cluster?.close();
    await nats?.stop();
  });

  /** Runs the round while watching the parties' subjects from outside: what each NATS message carried. */
  async function watched(models: TensorSet[], options: Record<string, unknown> = {}): Promise<{ bytes: number; fragment: boolean }[]> {
    const raw = await connect({ servers: nats.url });
    const seen: { bytes: number; fragment: boolean }[] = [];
    raw.subscribe('tessera.peer.>', { callback: (err, msg) => { if (!err) seen.push({ bytes: msg.data.byteLength, fragment: Boolean(msg.headers?.get('Tessera-Fragment')) }); } });
    await raw.flush();
    try {
      const got = await within(90_000, 'FedAvg', fedAvgAll(cluster, models, undefined, options));
      for (const tensors of got) assert.ok(maxDifference(tensors, plainAverage(models)) < 1e-4);
      await raw.flush();
    } finally {
      await raw.close();
    }
    return seen;
  }

  test('SecureFedAvg: every full chunk crosses as one NATS message, and the average is right', async () => {
    // Segments of 200,000 elements: a full chunk of the 64-bit ring and a partial one each.
    const seen = await watched([1, 2, 3].map((seed) => smallModel(600_000, seed)));
    const full = seen.filter((m) => m.bytes > CHUNK_RING_BYTES);
    assert.ok(full.length >= 6, `${full.length} messages carried a full chunk`);
    assert.deepEqual(seen.filter((m) => m.fragment), [], 'no message was a fragment');
  });

  test('PlainFedAvg: every full chunk crosses as one NATS message, and the average is right', async () => {
    // Segments of 300,000 float32 elements: a full chunk and a partial one each, both ways (reduce
    // and gather): 12 full chunks in all.
    const seen = await watched([1, 2, 3].map((seed) => smallModel(900_000, seed)), { microprotocol: 'PlainFedAvg' });
    const full = seen.filter((m) => m.bytes > CHUNK_RING_BYTES);
    assert.ok(full.length >= 12, `${full.length} messages carried a full chunk`);
    assert.deepEqual(seen.filter((m) => m.fragment), [], 'no message was a fragment');
  });
});
