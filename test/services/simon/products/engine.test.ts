// The two-party products on the SIMON engine (services/simon/engine.ts microprotocol(spec)), in
// simulation mode over the one in-memory network: the same `compute` as real servers. What the
// engine gives them: the two-party rule before anything is sent, the keyword check and the input
// read after the session opens (so a bad input at one party fails the other at once, naming it,
// instead of leaving it to its timeout), and the declared stage order at delivery.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BadInputError, ConflictError, PeerError, TimeoutError } from '../../../../services/errors.js';
import type { CallContext } from '../../../../services/microservice.js';
import { createSimon } from '../../../../services/simon/index.js';
import { KEY_OWNER_TERM, PRODUCT_STAGES } from '../../../../services/simon/products/product.js';
import { MemoryHub, simulatedNodes } from '../../../support/network.js';
import { within } from '../../../within.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const NODES = simulatedNodes(2);

/** Each party calls compute with its own kwargs (data, extra keywords) on one hub; what each got. */
async function computeEach(hub: MemoryHub, microprotocol: string, kwargs: [Record<string, unknown>, Record<string, unknown>], nodes = NODES) {
  const simon = createSimon();
  const uuid = randomUUID();
  return within(
    120_000,
    microprotocol,
    Promise.allSettled(
      kwargs.map((k, myself) => {
        const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(myself), log: silent };
        return simon.members['compute']!([], { microprotocol, network: { nodes, uuid, myself }, ...k }, ctx);
      }),
    ),
  );
}

function rejected(outcome: PromiseSettledResult<unknown> | undefined): Error {
  assert.ok(outcome?.status === 'rejected', `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.reason as Error;
}

/**
 * The party that did not give the bad input failed because it was told, naming the culprit: by its
 * abort notice (502), or, when the notice came before this party's first message (in memory every
 * session counts as joined at once), by the culprit's refusal of that message (409), which names it too.
 */
function abortedBy(err: Error, culprit: number): void {
  assert.ok(err instanceof PeerError || err instanceof ConflictError, `${err.name}: ${err.message}`);
  assert.ok(!(err instanceof TimeoutError), 'an abort, not its own timeout');
  assert.equal(err.where, `party ${culprit} (${NODES[culprit]})`);
}

describe('products on the engine', { timeout: 300_000 }, () => {
  test('SecureMatrixMultiplication: SIMON §2.2 through compute, at both parties', async () => {
    const X = [[1, 0, -2, 3], [2, 1, 0, -1]];
    const Y = [[1, 2], [0, -1], [3, 1], [-2, 0.5]];
    const outcomes = await computeEach(new MemoryHub(NODES, 20_000), 'SecureMatrixMultiplication', [{ data: [X] }, { data: [Y] }]);
    for (const o of outcomes) assert.deepEqual(o.status === 'fulfilled' ? o.value : o.reason, { inputs: 2, result: { product: [[-11, 1.5], [4, 2.5]] } });
  });

  const bad: [string, { name: string; data: [unknown, unknown]; culprit: 0 | 1; where: string }][] = [
    ['a string entry of Y', { name: 'SecureMatrixMultiplication', data: [[[[1, 2]]], [[[1], ['2']]]], culprit: 1, where: 'kwargs.data[0][1][0]' }],
    ['a bare matrix X', { name: 'SecureMatrixMultiplication', data: [[[1, 2]], [[[1], [2]]]], culprit: 0, where: 'kwargs.data' }],
    ['a singular XᵀX (dependent columns)', { name: 'StatisticsRegressionOLSVertical', data: [[[[1, 2], [1, 2], [1, 2]]], [[1, 2, 3]]], culprit: 0, where: 'kwargs.data[0]' }],
    ['a null entry of y', { name: 'StatisticsRegressionOLSVertical', data: [[[[1, 0], [1, 1], [1, 2]]], [[1, null, 3]]], culprit: 1, where: 'kwargs.data[0][1]' }],
  ];
  for (const [what, { name, data, culprit, where }] of bad) {
    test(`${name}, ${what}: a 400 at party ${culprit} naming ${where}; party ${1 - culprit} aborted at once, naming it`, async () => {
      // A long stage timeout: only the abort can end the other party's wait within the test.
      const outcomes = await computeEach(new MemoryHub(NODES, 60_000), name, [{ data: data[0] }, { data: data[1] }]);
      const err = rejected(outcomes[culprit]);
      assert.ok(err instanceof BadInputError && err.where === where, `${err.name}: ${err.message} at ${String((err as BadInputError).where)}`);
      abortedBy(rejected(outcomes[1 - culprit]), culprit);
    });
  }

  const good: Record<string, [unknown, unknown]> = {
    SecureMatrixMultiplication: [[[[1]]], [[[1]]]],
    StatisticsRegressionOLSVertical: [[[[1, 0], [1, 1], [1, 2]]], [[1, 2, 3]]],
  };
  for (const name of ['SecureMatrixMultiplication', 'StatisticsRegressionOLSVertical']) {
    test(`${name}: an unknown keyword at one party is checked after the session opens, so the other is aborted at once`, async () => {
      const outcomes = await computeEach(new MemoryHub(NODES, 60_000), name, [{ data: good[name]![0], ring_bit: 32 }, { data: good[name]![1] }]);
      const err = rejected(outcomes[0]);
      assert.ok(err instanceof BadInputError && err.where === 'kwargs.ring_bit', err.message);
      abortedBy(rejected(outcomes[1]), 0);
    });

    test(`${name}: three nodes are a 400 naming kwargs.network.nodes at every party, before anything is sent`, async () => {
      const hub = new MemoryHub(simulatedNodes(3), 5_000);
      const simon = createSimon();
      const uuid = randomUUID();
      const outcomes = await Promise.allSettled([0, 1, 2].map((myself) =>
        simon.members['compute']!([], { microprotocol: name, data: [[[1]]], network: { nodes: hub.nodes, uuid, myself } }, { signal: new AbortController().signal, peers: hub.network(myself), log: silent })));
      for (const o of outcomes) {
        const err = rejected(o);
        assert.ok(err instanceof BadInputError && err.where === 'kwargs.network.nodes' && /exactly 2 nodes/.test(err.message), err.message);
      }
      assert.deepEqual(hub.log, [], 'no message sent');
    });
  }

  test('the declared stage order is checked at delivery: a "shapes" message after "opened" is refused, naming its sender', async () => {
    const hub = new MemoryHub(NODES, 60_000);
    const uuid = randomUUID();
    const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(0), log: silent };
    const party0 = Promise.resolve(createSimon().members['compute']!([], { microprotocol: 'SecureMatrixMultiplication', data: [[[1, 2]]], network: { nodes: NODES, uuid, myself: 0 } }, ctx));
    party0.catch(() => undefined);
    // Party 1 plays out of order on a session with the same terms but without the declared order.
    const rogue = await hub.network(1).open({ uuid, myself: 1, terms: { ...KEY_OWNER_TERM, microprotocol: 'SecureMatrixMultiplication', nodes: NODES }, stages: PRODUCT_STAGES.all });
    await rogue.send(0, PRODUCT_STAGES.opened, Uint8Array.of(0));
    await assert.rejects(rogue.send(0, PRODUCT_STAGES.shapes, Uint8Array.of(0)), (e: unknown) =>
      e instanceof ConflictError && e.where === `party 1 (${NODES[1]})` && /"shapes" message after "opened": out of order/.test(e.message));
    await rogue.abort('done');
    abortedBy(await within(30_000, 'party 0', party0.then(() => assert.fail('must fail'), (e: unknown) => e as Error)), 1);
  });

  for (const name of ['SecureMatrixMultiplication', 'StatisticsRegressionOLSVertical']) {
    test(`${name}: a party that always makes party 1 the key owner (no key_owner term) is refused at once, 409 naming the term`, async () => {
      const hub = new MemoryHub(NODES, 60_000);
      const uuid = randomUUID();
      const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(0), log: silent };
      const data = name === 'SecureMatrixMultiplication' ? [[[1, 2]]] : [[[1, 0.5], [1, 1.5], [1, 2.5]]];
      const party0 = Promise.resolve(createSimon().members['compute']!([], { microprotocol: name, data, network: { nodes: NODES, uuid, myself: 0 } }, ctx));
      party0.catch(() => undefined);
      // Party 1 as a server from before the orientation: the same terms less key_owner.
      const old = await hub.network(1).open({ uuid, myself: 1, terms: { microprotocol: name, nodes: NODES }, stages: PRODUCT_STAGES.all });
      await assert.rejects(old.send(0, PRODUCT_STAGES.shapes, new TextEncoder().encode('{"rows":2,"cols":1}')), (e: unknown) =>
        e instanceof ConflictError && /disagrees on key_owner/.test(e.message));
      await old.abort('done');
      const err = await within(30_000, 'party 0', party0.then(() => assert.fail('must fail'), (e: unknown) => e as Error));
      assert.ok(!(err instanceof TimeoutError), `${err.name}: ${err.message}`);
    });
  }
});
