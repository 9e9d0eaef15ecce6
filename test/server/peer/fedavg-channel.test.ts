// SecureFedAvg's 1 MiB messages travel on the peer channel (transport-channel.ts CHANNEL_BULK_BYTES)
// between real servers, and the round's average is right: once the channels are open (after a
// first round), the reduce stage's bytes arrive as channel frames, not as POSTs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Api } from '../../../clients/typescript/index.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { CHUNK_ELEMENTS } from '../../../services/fedavg/protocol.js';
import { FEDAVG_SERVICE, startFedAvgCluster, type FedAvgCluster } from '../../support/cluster.js';
import { within } from '../../within.js';

const n = 3;
const elements = n * 2 * CHUNK_ELEMENTS;

function model(seed: number): TensorSet {
  const data = new Float32Array(elements);
  let s = seed;
  for (let i = 0; i < elements; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = (s / 2147483648) * 2 - 1;
  }
  return new TensorSet(new Map([['w', { dtype: 'F32' as const, shape: [elements], data }]]));
}

let cluster: FedAvgCluster;
before(async () => {
  cluster = await startFedAvgCluster(n, 30_000);
});
after(async () => {
  await cluster.close();
});

async function round(models: TensorSet[], weights: number[]): Promise<TensorSet[]> {
  const uuid = randomUUID();
  return Promise.all(cluster.nodes.map(async (url, myself) => {
    const api = new Api(url, { timeoutMs: 60_000 });
    const uploaded = await api.uploadTensors(models[myself]!);
    const service = await api.create(FEDAVG_SERVICE);
    const compute = await service.attribute('compute');
    const result = await api.call(compute, {
      microprotocol: 'SecureFedAvg',
      data: { tensors: uploaded, weight: weights[myself] },
      network: { nodes: cluster.nodes, uuid, myself },
      ring_bits: 64,
    });
    const tensors = await api.downloadTensors(result);
    await Promise.all([api.release(result), api.release(uploaded)]);
    return tensors;
  }));
}

test('a 64-bit SecureFedAvg round sends its 1 MiB messages over the channel once it is open, and averages right', { timeout: 120_000 }, async () => {
  const models = [1, 2, 3].map(model);
  const weights = [3, 5, 11];
  await within(90_000, 'first round (opens the channels)', round(models, weights));
  const bytesBefore = cluster.parties.map((p) => p.peerChannelStats().bytes);
  const results = await within(90_000, 'second round', round(models, weights));
  const channelBytes = cluster.parties.reduce((sum, p, i) => sum + p.peerChannelStats().bytes - bytesBefore[i]!, 0);
  // Each party sends the 2/3 of its model outside its own segment, 8 bytes per element, in chunks
  // of about 1 MiB: all of it as channel frames (the envelopes add a little on top).
  const reduceBytes = n * ((n - 1) / n) * elements * 8;
  assert.ok(channelBytes >= reduceBytes, `${channelBytes} bytes over the channels, the reduce stage alone is ${reduceBytes}`);

  const total = weights.reduce((a, b) => a + b, 0);
  const inputs = models.map((m) => m.get('w')!.data);
  const first = results[0]!.get('w')!.data;
  let worst = 0;
  for (let i = 0; i < elements; i++) {
    const want = inputs.reduce((sum, data, k) => sum + (weights[k]! * data[i]!) / total, 0);
    worst = Math.max(worst, Math.abs(first[i]! - want));
  }
  assert.ok(worst <= 1e-6, `max error ${worst}`);
  const bytes = (data: Float32Array | Float64Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (const other of results.slice(1)) assert.ok(bytes(other.get('w')!.data).equals(bytes(first)), 'every party holds the same average, bit for bit');
});
