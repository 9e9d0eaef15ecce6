// One policy for bad input, on real servers (issue 11): a party whose own FedAvg input is invalid
// (weight 0, a NaN weight, a tensor that is not the announced one) fails at once with a 400 naming
// its field; the others learn it from an abort naming that party and the field — a 502, not their
// stage timeout's 504 — and nothing of the value leaves the party. A manifest beyond
// --max-model-bytes is a 413 before anything is allocated (issue 15, finding 9).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Api, TesseraApiError } from '../../../clients/typescript/index.js';
import { FEDAVG_SERVICE, startFedAvgCluster, type FedAvgCluster } from '../../support/cluster.js';
import { startCluster } from '../../support/cluster.js';
import { parseServeArgs } from '../../../server/cli.js';
import { within } from '../../within.js';

const STAGE_TIMEOUT_MS = 4000;
const SECRET_WEIGHT = 2500.123456789;

describe('FedAvg bad input across real servers', { timeout: 120_000 }, () => {
  let cluster: FedAvgCluster;
  before(async () => {
    cluster = await startFedAvgCluster(3, STAGE_TIMEOUT_MS);
  });
  after(async () => {
    await cluster.close();
  });

  async function compute(myself: number, uuid: string, data: Record<string, unknown>, microprotocol = 'SecureFedAvg'): Promise<unknown> {
    const api = new Api(cluster.nodes[myself]!, { timeoutMs: 60_000 });
    const service = await api.create(FEDAVG_SERVICE);
    const member = await service.attribute('compute');
    return api.call(member, { microprotocol, data, network: { nodes: cluster.nodes, uuid, myself } });
  }

  // [name, {bad party's data, field named}]
  const cases: [string, { data: Record<string, unknown>; field: string; variant: string }][] = [
    ['weight 0 (SecureFedAvg)', { data: { tensors: { w: [1, 2] }, weight: 0 }, field: 'kwargs.data.weight', variant: 'SecureFedAvg' }],
    ['weight 0 (PlainFedAvg)', { data: { tensors: { w: [1, 2] }, weight: 0 }, field: 'kwargs.data.weight', variant: 'PlainFedAvg' }],
    ['a tensor that is not a list of numbers', { data: { tensors: { w: ['x', 2] }, weight: 1 }, field: 'kwargs.data.tensors', variant: 'SecureFedAvg' }],
  ];
  for (const [name, { data, field, variant }] of cases) {
    test(`${name}: a 400 naming ${field} there, a 502 naming that party and the field at the others`, async () => {
      const uuid = randomUUID();
      const settled = await within(10 * STAGE_TIMEOUT_MS, name, Promise.allSettled([
        compute(0, uuid, { tensors: { w: [1, 2] }, weight: SECRET_WEIGHT }, variant),
        compute(1, uuid, data, variant),
        compute(2, uuid, { tensors: { w: [3, 4] }, weight: 2 }, variant),
      ]));
      const errors = settled.map((s, i) => {
        assert.equal(s.status, 'rejected', `party ${i} must fail`);
        const err = (s as PromiseRejectedResult).reason;
        assert.ok(err instanceof TesseraApiError, String(err));
        return err;
      });
      assert.equal(errors[1]!.status, 400);
      assert.match(String(errors[1]!.problem.where), new RegExp(`^${field.replace(/\./g, '\\.')}`));
      for (const i of [0, 2]) {
        assert.equal(errors[i]!.status, 502, `party ${i}: ${errors[i]!.message}`);
        assert.match(String(errors[i]!.problem.where), /^party 1 /);
        assert.ok(String(errors[i]!.problem.detail).includes(field), String(errors[i]!.problem.detail));
      }
      for (const e of errors) assert.ok(!JSON.stringify(e.problem).includes(String(SECRET_WEIGHT)));
    });
  }

  test('an out-of-range weight is refused without its value in any problem', async () => {
    const uuid = randomUUID();
    const settled = await within(10 * STAGE_TIMEOUT_MS, 'huge weight', Promise.allSettled([
      compute(0, uuid, { tensors: { w: [1, 2] }, weight: 1 }),
      compute(1, uuid, { tensors: { w: [1, 2] }, weight: 2 ** 40 + 0.5 }),
      compute(2, uuid, { tensors: { w: [3, 4] }, weight: 2 }),
    ]));
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      const problem = ((s as PromiseRejectedResult).reason as TesseraApiError).problem;
      assert.ok(!JSON.stringify(problem).includes(String(2 ** 40 + 0.5)), JSON.stringify(problem));
    }
  });

  test('finding 9: a manifest declaring more than --max-model-bytes is a 413 naming the field; the server stays up', async () => {
    const uuid = randomUUID();
    const api = new Api(cluster.nodes[0]!, { timeoutMs: 60_000 });
    const service = await api.create(FEDAVG_SERVICE);
    const prepare = await service.attribute('prepare');
    const manifest = [{ name: 'huge', dtype: 'F64', shape: [1 << 20, 1 << 20] }];
    const before = process.memoryUsage().rss;
    const err = await api.call(prepare, { microprotocol: 'SecureFedAvg', data: { manifest }, network: { nodes: cluster.nodes, uuid, myself: 0 } }).then(
      () => assert.fail('must be refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TesseraApiError, String(err));
    assert.equal(err.status, 413);
    assert.equal(err.problem.where, 'kwargs.data.manifest');
    assert.ok(process.memoryUsage().rss - before < 256 * 1024 * 1024, 'nothing of the declared size was allocated');
    // A model within the limit still works afterwards.
    const uuid2 = randomUUID();
    const results = await within(10 * STAGE_TIMEOUT_MS, 'next', Promise.all([0, 1, 2].map((i) => compute(i, uuid2, { tensors: { w: [i, 1] }, weight: 1 }))));
    assert.equal(results.length, 3);
  });
});

describe('--max-model-bytes', { timeout: 60_000 }, () => {
  test('the flag reaches the server, and a manifest one element beyond it is a 413 naming the tensor', async () => {
    assert.equal(parseServeArgs(['--max-model-bytes', '4096'], {}).config.limits?.maxModelBytes, 4096);
    const cluster = await startCluster(2, { stageTimeoutMs: 2000, config: { limits: { maxModelBytes: 4096 } } });
    try {
      const api = new Api(cluster.nodes[0]!, { timeoutMs: 30_000 });
      const prepare = await (await api.create(FEDAVG_SERVICE)).attribute('prepare');
      const manifest = [{ name: 'a', dtype: 'F32', shape: [1000] }, { name: 'b', dtype: 'F32', shape: [25] }];
      const err = await api.call(prepare, { microprotocol: 'SecureFedAvg', data: { manifest }, network: { nodes: cluster.nodes, uuid: randomUUID(), myself: 0 } }).then(
        () => assert.fail('must be refused'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof TesseraApiError, String(err));
      assert.equal(err.status, 413);
      assert.match(String(err.problem.detail), /"b"/);
    } finally {
      await cluster.close();
    }
  });
});
