// The TypeScript SecureFedAvg helpers report progress: bytes uploaded as they go, and the stages
// (upload, compute, download) as each is done, for the one-shot call and for training rounds.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FederatedAveraging, FEDAVG_STAGES, type FedAvgProgress } from '../../../clients/typescript/index.js';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { within } from '../../within.js';

/** 3 MiB of float32 per party: enough for the upload to report several 1 MiB slices. */
const N = 768 * 1024;

function checkProgress(events: FedAvgProgress[]): void {
  const uploads = events.filter((e) => e.stage === 'upload' && e.bytesToUpload > 0);
  assert.ok(uploads.length >= 3, `upload reported in slices (${uploads.length} events)`);
  for (let i = 1; i < uploads.length; i++) assert.ok(uploads[i]!.bytesUploaded > uploads[i - 1]!.bytesUploaded, 'bytes uploaded grow');
  const last = uploads[uploads.length - 1]!;
  assert.equal(last.bytesUploaded, last.bytesToUpload);
  assert.ok(last.bytesToUpload > N * 4, 'the whole safetensors file');
  // The stages in order, each announced once when it starts, then "done".
  const starts = events.filter((e, i) => i === 0 || e.stage !== events[i - 1]!.stage).map((e) => [e.stage, e.stagesDone]);
  assert.deepEqual(starts, [...FEDAVG_STAGES.map((s, i) => [s, i]), ['done', 3]]);
  const done = events[events.length - 1]!;
  assert.equal(done.stages, 3);
  assert.ok(done.bytesDownloaded > N * 4);
}

describe('SecureFedAvg progress in the TypeScript client', { timeout: 180_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(2);
  });
  after(async () => {
    await cluster?.close();
  });

  test('api.secureFedAvg({ onProgress }): upload bytes as they go, then each stage', async () => {
    const events: FedAvgProgress[][] = [[], []];
    const uuid = randomUUID();
    await within(120_000, 'SecureFedAvg', Promise.all(cluster.apis.map((api, myself) =>
      api.secureFedAvg({
        tensors: { w: new Float32Array(N).fill(myself + 1) },
        weight: 1,
        network: { nodes: cluster.nodes, uuid, myself },
        onProgress: (p) => events[myself]!.push(p),
      }))));
    for (const party of events) checkProgress(party);
  });

  test('FederatedAveraging({ onProgress }): the same per round, with the round number', async () => {
    const events: (FedAvgProgress & { round: number })[][] = [[], []];
    const base = randomUUID();
    const averagers = cluster.apis.map((api, myself) =>
      new FederatedAveraging(api, { network: { nodes: cluster.nodes, uuid: base, myself }, weight: 1, onProgress: (p) => events[myself]!.push(p) }));
    for (let round = 0; round < 2; round++) {
      await within(120_000, `round ${round}`, Promise.all(averagers.map((f, k) => f.update({ w: new Float32Array(N).fill(k) }))));
    }
    for (const party of events) {
      for (const round of [0, 1]) checkProgress(party.filter((e) => e.round === round));
    }
  });

  test('a throwing progress callback does not break the averaging', async () => {
    const uuid = randomUUID();
    const results = await within(60_000, 'SecureFedAvg', Promise.all(cluster.apis.map((api, myself) =>
      api.secureFedAvg({
        tensors: { w: Float64Array.of(myself * 2) },
        weight: 1,
        network: { nodes: cluster.nodes, uuid, myself },
        onProgress: () => {
          throw new Error('display failed');
        },
      }))));
    for (const r of results) assert.ok(Math.abs(r.w[0]! - 1) < 1e-6);
  });
});
