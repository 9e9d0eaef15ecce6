// A prepared SecureFedAvg that its client releases before giving the model frees its masks at
// once and the other parties fail promptly naming it, instead of waiting for the ttl.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TesseraApiError, type Remote } from '../../../clients/typescript/index.js';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { within } from '../../within.js';

let cluster: Cluster;
before(async () => {
  cluster = await startCluster(2, { stageTimeoutMs: 10_000 });
});
after(async () => {
  await cluster.close();
});

const tensors = { w: { dtype: 'F32', shape: [2], data: [1, 2] } };

/** Every party prepares one SecureFedAvg of `tensors` (a fresh uuid); the prepared computations, by party. */
function prepareAtEveryParty(): Promise<Remote[]> {
  const uuid = randomUUID();
  return within(
    20_000,
    'prepare',
    Promise.all(
      cluster.apis.map(async (api, myself) => {
        const prepare = await (await api.create({ protocol: 'Simon' })).attribute('prepare');
        return (await prepare.call({ microprotocol: 'SecureFedAvg', data: { tensors }, network: { nodes: cluster.nodes, uuid, myself } }))!;
      }),
    ),
  );
}

test('releasing a prepared computation cancels it: the other party fails promptly, naming it', { timeout: 60_000 }, async () => {
  const prepared = await prepareAtEveryParty();
  const sizeBefore = cluster.servers[0]!.bus.size;
  const submit = prepared[1]!.member('submit')({ data: { tensors, weight: 1 } }).then(
    () => assert.fail('must fail: party 0 released its computation'),
    (err: unknown) => err as TesseraApiError,
  );
  const started = Date.now();
  await cluster.apis[0]!.release(prepared[0]!);
  const err = await within(15_000, 'submit after release', submit);
  assert.ok(err instanceof TesseraApiError, String(err));
  assert.equal(err.status, 502);
  assert.match(err.problem.detail ?? '', new RegExp(`party 0 \\(${cluster.nodes[0]}\\) aborted.*released`));
  assert.ok(Date.now() - started < 5000, 'promptly, not at a timeout');
  assert.equal(cluster.servers[0]!.bus.size, sizeBefore - 1);
});

test('a model submitted after a peer already gave up gets that failure (502 naming the peer), not a generic conflict', { timeout: 60_000 }, async () => {
  const prepared = await prepareAtEveryParty();
  await prepared[0]!.member('cancel')();
  // Wait until party 1 knows: its prepared computation reports the failure.
  const deadline = Date.now() + 10_000;
  let status: { stage?: string } = {};
  while (status.stage !== 'failed' && Date.now() < deadline) {
    const rep = await prepared[1]!.member('status')();
    status = await cluster.apis[1]!.download(rep);
    if (status.stage !== 'failed') await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(status.stage, 'failed');
  const err = await prepared[1]!.member('submit')({ data: { tensors, weight: 1 } }).then(
    () => assert.fail('must fail'),
    (e: unknown) => e as TesseraApiError,
  );
  assert.ok(err instanceof TesseraApiError, String(err));
  assert.equal(err.status, 502, err.message);
  assert.match(err.problem.detail ?? '', new RegExp(`party 0 \\(${cluster.nodes[0]}\\) aborted`));
});

test('an uploaded model a computation averaged into is consumed: downloading it or computing with it again is a 409 naming it', { timeout: 120_000 }, async () => {
  const uuid = randomUUID();
  const uploaded = await Promise.all(cluster.apis.map((api) => api.uploadTensors({ w: new Float32Array([1, 2]) })));
  const compute = (myself: number, network: string) =>
    cluster.apis[myself]!.callSimon('compute', { microprotocol: 'SecureFedAvg', data: { tensors: uploaded[myself], weight: 1 }, network: { nodes: cluster.nodes, uuid: network, myself } });
  const results = await within(60_000, 'compute', Promise.all([0, 1].map((i) => compute(i, uuid))));
  assert.deepEqual(Array.from((await cluster.apis[0]!.downloadTensors(results[0]!)).get('w')!.data), [1, 2]);
  const download = await cluster.apis[0]!.downloadTensors(uploaded[0]!).then(() => assert.fail('must be refused'), (e: unknown) => e as TesseraApiError);
  assert.ok(download instanceof TesseraApiError, String(download));
  assert.equal(download.status, 409);
  assert.match(download.problem.detail ?? '', /consumed by SecureFedAvg computation/);
  const again = await compute(0, randomUUID()).then(() => assert.fail('must be refused'), (e: unknown) => e as TesseraApiError);
  assert.ok(again instanceof TesseraApiError, String(again));
  assert.equal(again.status, 409);
  assert.equal(again.problem.where, 'kwargs.data.tensors');
});
