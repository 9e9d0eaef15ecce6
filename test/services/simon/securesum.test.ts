// SecureSum across real servers over real HTTP: three and five parties, the classic example,
// reals, lists, negatives, uuid reuse, concurrency, and the faults a party can cause.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TesseraApiError, type Api } from '../../../clients/typescript/index.js';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { within } from '../../within.js';

function secureSumAll(cluster: Cluster, inputs: unknown[], uuid = randomUUID()) {
  return Promise.all(
    inputs.map((data, myself) =>
      (cluster.apis[myself] as Api).secureSum({ data: data as number, network: { nodes: cluster.nodes, uuid, myself } }),
    ),
  );
}

describe('SecureSum with three parties', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    // Generous: a loaded 2-core CI machine must not turn slowness into timeouts here.
    cluster = await startCluster(3, { stageTimeoutMs: 15_000 });
  });
  after(async () => {
    await cluster.close();
  });

  const cases: [string, { given: unknown[]; sum: number; samples: number }][] = [
    ['the classic example: 19, 5, 61', { given: [19, 5, 61], sum: 85, samples: 3 }],
    ['negative numbers', { given: [-19, 5, -61], sum: -75, samples: 3 }],
    ['integers up to 2^53 stay exact', { given: [2 ** 53, -1, -(2 ** 52)], sum: 2 ** 52 - 1, samples: 3 }],
    // Float addition gives 0.6000000000000001; the exact sum of these three doubles,
    // 0.60000000000000000555…, rounds to 0.6.
    ['reals are summed exactly, rounded once', { given: [0.1, 0.2, 0.3], sum: 0.6, samples: 3 }],
    ['lists add every item', { given: [[1, 2, 3], [10], [100, 200]], sum: 316, samples: 6 }],
    ['an empty list counts no samples', { given: [[], [4.5], [-0.5]], sum: 4, samples: 2 }],
    ['large and tiny reals', { given: [1e12, 1e-12, -1e12], sum: 1e-12, samples: 3 }],
    ['cancellation that float addition gets wrong', { given: [1e16, 1, -1e16], sum: 1, samples: 3 }],
  ];
  for (const [name, { given, sum, samples }] of cases) {
    test(name, async () => {
      const results = await within(20_000, name, secureSumAll(cluster, given));
      for (const result of results) {
        assert.deepEqual(result, { inputs: 3, result: { samples, sum } });
      }
    });
  }

  test('reals up to 1e12 stay within 1e-12 relative error', async () => {
    const given = [123456789.123456, -98765.4321, 999999999999.5];
    const [result] = await within(20_000, 'reals', secureSumAll(cluster, given));
    const reference = given.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(result!.result.sum - reference) <= 1e-12 * Math.abs(reference));
  });

  test('the same network uuid is reused for consecutive computations', async () => {
    const uuid = 'a7f4fea2-b5f4-4d64-9705-45b3629a8145';
    for (const [a, b, c] of [[1, 2, 3], [10, 20, 30], [19, 5, 61]] as const) {
      const results = await within(20_000, 'reuse', secureSumAll(cluster, [a, b, c], uuid));
      assert.deepEqual(results.map((r) => r.result.sum), [a + b + c, a + b + c, a + b + c]);
    }
  });

  test('a party that spells the node URLs differently still agrees (URLs are normalised)', async () => {
    const uuid = randomUUID();
    const spelled = cluster.nodes.map((url) => `${url}/`.replace('http://', 'HTTP://'));
    const results = await within(
      20_000,
      'spelling',
      Promise.all([
        cluster.apis[0]!.secureSum({ data: 1, network: { nodes: cluster.nodes, uuid, myself: 0 } }),
        cluster.apis[1]!.secureSum({ data: 2, network: { nodes: spelled, uuid, myself: 1 } }),
        cluster.apis[2]!.secureSum({ data: 3, network: { nodes: cluster.nodes, uuid, myself: 2 } }),
      ]),
    );
    assert.deepEqual(results.map((r) => r.result.sum), [6, 6, 6]);
  });

  test('20 concurrent computations with different uuids do not mix', async () => {
    const runs = Array.from({ length: 20 }, (_, k) => secureSumAll(cluster, [k, 100 * k, 10_000 * k]));
    const all = await within(60_000, '20 concurrent sums', Promise.all(runs));
    all.forEach((results, k) => {
      for (const r of results) assert.equal(r.result.sum, 10_101 * k);
    });
  });

  test('parties that disagree on the node list fail with a conflict naming the party', async () => {
    const uuid = randomUUID();
    const swapped = [cluster.nodes[1]!, cluster.nodes[0]!, cluster.nodes[2]!];
    const calls = [
      cluster.apis[0]!.secureSum({ data: 1, network: { nodes: cluster.nodes, uuid, myself: 0 } }),
      cluster.apis[1]!.secureSum({ data: 1, network: { nodes: cluster.nodes, uuid, myself: 1 } }),
      // Party 2 lists the nodes in another order (it is still itself at index 2).
      cluster.apis[2]!.secureSum({ data: 1, network: { nodes: swapped, uuid, myself: 2 } }),
    ].map((p) => p.then(() => undefined, (err: unknown) => err as TesseraApiError));
    const errors = await within(15_000, 'disagreement', Promise.all(calls));
    for (const err of errors) {
      assert.ok(err instanceof TesseraApiError, 'every party fails');
      assert.ok([409, 502].includes(err.status), `${err.status} ${err.message}`);
      assert.match(err.message, /nodes|party/);
    }
    // With a message: without one, node:assert re-parses this file under tsx's loader to quote the
    // expression, which took minutes and held every in-process server's event loop (nodejs/node#52677).
    assert.ok(
      errors.some((e) => e?.status === 409 && /disagrees on nodes/.test(e.message)),
      `no party reported the disagreement: ${errors.map((e) => `${e?.status} ${e?.message}`).join(' | ')}`,
    );
  });

  test('a malformed network is a 400 naming the field', async () => {
    const table: [string, Record<string, unknown>, string][] = [
      ['myself out of range', { nodes: cluster.nodes, uuid: 'x', myself: 3 }, 'kwargs.network.myself'],
      ['duplicate nodes', { nodes: [cluster.nodes[0], cluster.nodes[0]], uuid: 'x', myself: 0 }, 'kwargs.network.nodes[1]'],
      ['a node that is not a URL', { nodes: [cluster.nodes[0], 'not a url'], uuid: 'x', myself: 0 }, 'kwargs.network.nodes[1]'],
      ['no uuid', { nodes: cluster.nodes, myself: 0 }, 'kwargs.network.uuid'],
    ];
    for (const [name, network, where] of table) {
      await assert.rejects(
        cluster.apis[0]!.secureSum({ data: 1, network: network as never }),
        (err: unknown) => err instanceof TesseraApiError && err.status === 400 && err.problem.where === where,
        name,
      );
    }
  });

  test('a garbage peer message during a computation is rejected and the sum is unharmed', async () => {
    const uuid = randomUUID();
    const sums = secureSumAll(cluster, [19, 5, 61], uuid);
    const garbage = await fetch(`${cluster.nodes[1]}/peer/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(512).fill(7),
    });
    assert.ok(garbage.status >= 400 && garbage.status < 500);
    const results = await within(20_000, 'sum after garbage', sums);
    assert.deepEqual(results.map((r) => r.result.sum), [85, 85, 85]);
  });
});

describe('SecureSum faults: a missing party, a bad input', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    // Short, so that the tests of a party that never arrives are quick.
    cluster = await startCluster(3, { stageTimeoutMs: 3000 });
  });
  after(async () => {
    await cluster.close();
  });

  test('a party that never arrives makes the others fail with a timeout naming it', async () => {
    const uuid = randomUUID();
    const started = Date.now();
    const calls = [0, 1].map((myself) =>
      cluster.apis[myself]!.secureSum({ data: 1, network: { nodes: cluster.nodes, uuid, myself } }).then(
        () => assert.fail('must not succeed without party 2'),
        (err: unknown) => err,
      ),
    );
    const errors = await within(15_000, 'timeouts', Promise.all(calls));
    for (const err of errors) {
      assert.ok(err instanceof TesseraApiError, String(err));
      assert.equal(err.status, 504);
      assert.match(`${err.problem.detail} ${err.problem.where}`, new RegExp(`party 2 \\(${cluster.nodes[2]}\\)`));
    }
    assert.ok(Date.now() - started < 12_000, 'fails within the stage timeout, not later');
    // The task was freed: the next computation on the same uuid works for everyone.
    const results = await within(20_000, 'after timeout', secureSumAll(cluster, [1, 2, 3], randomUUID()));
    assert.equal(results[0]!.result.sum, 6);
  });

  test('a timeout passed on by the party that gave up first still names the missing party', async () => {
    const uuid = randomUUID();
    const call = (myself: number) =>
      cluster.apis[myself]!.secureSum({ data: 1, network: { nodes: cluster.nodes, uuid, myself } }).then(
        () => assert.fail('must not succeed without party 2'),
        (err: unknown) => err as TesseraApiError,
      );
    const first = call(0);
    // Party 1 joins a second later, so party 0 always times out first and aborts it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const started = Date.now();
    const late = await within(15_000, 'cascaded timeout', call(1));
    await within(15_000, 'first timeout', first);
    assert.equal(late.status, 504, late.message);
    assert.equal(late.problem.where, `party 2 (${cluster.nodes[2]})`);
    assert.match(late.problem.detail ?? '', new RegExp(`party 0 \\(${cluster.nodes[0]}\\) gave up waiting`));
    assert.ok(Date.now() - started < 2900, 'party 1 fails when party 0 gives up, before its own timeout');
  });

  test('a non-number input fails at its party and aborts the others promptly', async () => {
    const uuid = randomUUID();
    const started = Date.now();
    const outcomes = await within(
      15_000,
      'bad input',
      Promise.all(
        [19, 'abc', 61].map((data, myself) =>
          cluster.apis[myself]!.secureSum({ data: data as number, network: { nodes: cluster.nodes, uuid, myself } }).then(
            () => undefined,
            (err: unknown) => err as TesseraApiError,
          ),
        ),
      ),
    );
    const [a, bad, c] = outcomes;
    assert.equal(bad?.status, 400);
    assert.equal(bad?.problem.where, 'kwargs.data');
    for (const other of [a, c]) {
      assert.ok(other instanceof TesseraApiError);
      assert.equal(other.status, 502);
      assert.match(other.problem.detail ?? '', new RegExp(`party 1 \\(${cluster.nodes[1]}\\) aborted`));
    }
    assert.ok(Date.now() - started < 2500, `others fail by the abort, before their 3 s timeout (${Date.now() - started} ms)`);
  });

  test('infinity (1e999 in JSON) is refused at its party, naming the item', async () => {
    const uuid = randomUUID();
    const network = (myself: number) => ({ nodes: cluster.nodes, uuid, myself });
    // JSON.parse reads 1e999 as Infinity: send the raw body as an old client would.
    const simon = await cluster.apis[2]!.create({ protocol: 'Simon' });
    const compute = await simon.attribute('compute');
    const raw = fetch(`${cluster.nodes[2]}/representation/${compute.uuid}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: `{"args": [], "kwargs": {"microprotocol": "SecureSum", "data": [1, 1e999], "network": ${JSON.stringify(network(2))}}}`,
    });
    const others = [0, 1].map((myself) =>
      cluster.apis[myself]!.secureSum({ data: 1, network: network(myself) }).catch((err: unknown) => err as TesseraApiError),
    );
    const response = await within(15_000, 'infinite input', raw);
    const problem = (await response.json()) as { where?: string; detail?: string };
    assert.equal(response.status, 400);
    assert.equal(problem.where, 'kwargs.data[1]');
    assert.match(problem.detail ?? '', /infinite/);
    for (const err of await within(15_000, 'others', Promise.all(others))) {
      assert.ok(err instanceof TesseraApiError);
      assert.equal(err.status, 502);
    }
  });

});

describe('SecureSum with five parties', { timeout: 60_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(5);
  });
  after(async () => {
    await cluster.close();
  });

  test('sums five inputs, every party gets the same result', async () => {
    const given = [1.5, -2, 3, [4, 5], 1e6];
    const results = await within(20_000, 'five parties', secureSumAll(cluster, given));
    for (const r of results) assert.deepEqual(r, { inputs: 5, result: { samples: 6, sum: 1_000_011.5 } });
  });
});
