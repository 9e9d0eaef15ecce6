// A FedAvg round frees each bulk message once it has added it into its sum or copied it into the
// output (services/fedavg/protocol.ts releaseConsumed), but only messages its transport handed
// over (services/common/release.ts handOver, as the peer layer does for every body it opened):
// the in-memory network, which may deliver the same bytes twice, hands nothing over.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MemoryHub } from '../../../services/simulation/network.js';
import { plainFedAvg, secureFedAvg } from '../../../services/fedavg/index.js';
import { CHUNK_ELEMENTS } from '../../../services/fedavg/protocol.js';
import { handOver, RELEASE_MIN_BYTES } from '../../../services/common/release.js';
import { TensorSet } from '../../../services/common/tensors.js';
import type { PeerNetwork } from '../../../services/peer.js';
import type { CallContext } from '../../../services/microservice.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const NODES = ['http://127.0.0.1:57001', 'http://127.0.0.1:57002', 'http://127.0.0.1:57003'];
let uuidCounter = 0;

/** The network of party i, its sessions' received payloads (and their sizes when received) recorded and, when `hand`, handed over. */
function recording(hub: MemoryHub, i: number, hand: boolean, received: Uint8Array[], lengths: number[]): PeerNetwork {
  const inner = hub.network(i);
  return {
    stageTimeoutMs: inner.stageTimeoutMs,
    open: async (options) => {
      const session = await inner.open(options);
      const receive = session.receive.bind(session);
      session.receive = async (...args) => {
        const payload = await receive(...args);
        if (hand) handOver(payload);
        received.push(payload);
        lengths.push(payload.byteLength);
        return payload;
      };
      return session;
    },
  };
}

function model(k: number): TensorSet {
  const elements = 3 * 3 * CHUNK_ELEMENTS + 101;
  return TensorSet.from({ big: Float32Array.from({ length: elements }, (_, e) => ((e * 7 + k * 13) % 64) / 16 - 2) });
}

async function round(entry: typeof secureFedAvg, options: Record<string, unknown>, hand: boolean): Promise<{ received: Uint8Array[]; lengths: number[]; averages: Float32Array[] }> {
  const hub = new MemoryHub(NODES, 30_000);
  const received: Uint8Array[] = [];
  const lengths: number[] = [];
  const uuid = `consumed-${++uuidCounter}`;
  const models = [0, 1, 2].map(model);
  const want = models[0]!.get('big')!.data.map((_, e) => (models[0]!.get('big')!.data[e]! + models[1]!.get('big')!.data[e]! + models[2]!.get('big')!.data[e]!) / 3);
  const results = await Promise.all(NODES.map((_, i) => {
    const ctx: CallContext = { signal: new AbortController().signal, peers: recording(hub, i, hand, received, lengths), log: silent };
    return entry({ data: { tensors: models[i], weight: 1 }, ...options, network: { nodes: NODES, uuid, myself: i } }, ctx) as Promise<TensorSet>;
  }));
  await nextTurn();
  const averages = results.map((r) => r.get('big')!.data as Float32Array);
  for (const got of averages) for (let e = 0; e < want.length; e++) if (Math.abs(got[e]! - want[e]!) > 1e-6) assert.fail(`[${e}]: ${got[e]} vs ${want[e]}`);
  return { received, lengths, averages };
}

for (const [variant, entry, options] of [
  ['SecureFedAvg, 64-bit ring', secureFedAvg, {}],
  ['SecureFedAvg, 32-bit ring', secureFedAvg, { ring_bits: 32 }],
  ['PlainFedAvg', plainFedAvg, {}],
] as const) {
  describe(`${variant}: consumed messages`, () => {
    test('a bulk message handed over is freed once consumed; the average is right', async () => {
      const { received, lengths } = await round(entry, options, true);
      const bulk = lengths.filter((n) => n >= RELEASE_MIN_BYTES).length;
      assert.ok(bulk >= 12, `bulk messages of reduce and gather were received (${bulk})`);
      received.forEach((p, k) => {
        if (lengths[k]! >= RELEASE_MIN_BYTES) assert.equal(p.byteLength, 0, `message ${k} (${lengths[k]} bytes) was freed`);
        else assert.equal(p.byteLength, lengths[k], `message ${k} (small) is left to the collector`);
      });
    });

    test('a message its transport did not hand over is left intact', async () => {
      const { received, lengths } = await round(entry, options, false);
      received.forEach((p, k) => assert.equal(p.byteLength, lengths[k]));
    });
  });
}
