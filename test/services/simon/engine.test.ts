// The SIMON engine's shared rules, in simulation mode (the same compute as real servers):
// compute's keywords, the 400/501 of the dispatch table, the two-party rule, and that a bad
// input at one party aborts the others at once, naming it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate } from '../../../services/simulation/index.js';
import { BadInputError, NotImplementedError, PeerError, TesseraError, TimeoutError } from '../../../services/errors.js';
import { checkKeywords } from '../../../services/simon/engine.js';
import { requireTwoParties } from '../../../services/simon/network.js';
import { MICROPROTOCOLS } from '../../../services/simon/index.js';

const FSC_NAMES = [
  'SecureSum', 'SecureMatrixMultiplication', 'SecureMedian', 'KthElement', 'MinimumMaximum', 'SetIntersection',
  'SetIntersectionSize', 'StatisticsUnivariate', 'StatisticsBivariate', 'StatisticsFrequency', 'StatisticsContingency',
  'StatisticsContingencyVertical', 'StatisticsRegressionOLSVertical',
];

function failures(results: Awaited<ReturnType<typeof simulate>>['results']): Error[] {
  return results.map((r, i) => {
    assert.ok(!r.ok, `party ${i} should have failed`);
    return r.error;
  });
}

describe('SIMON engine', () => {
  test('the table has every FSC name and the FedAvgs', () => {
    for (const name of [...FSC_NAMES, 'SecureFedAvg', 'PlainFedAvg']) assert.ok(Object.hasOwn(MICROPROTOCOLS, name), name);
  });

  test('checkKeywords refuses unknown keys, naming the first', () => {
    checkKeywords({ microprotocol: 'x', data: 1, network: {} });
    checkKeywords({ microprotocol: 'x', data: 1, network: {}, ring_bits: 64 }, ['ring_bits']);
    assert.throws(
      () => checkKeywords({ microprotocol: 'x', data: 1, network: {}, ring_bit: 32 }),
      (e: unknown) => e instanceof BadInputError && e.where === 'kwargs.ring_bit' && /ring_bit/.test(e.message),
    );
  });

  test('two-party microprotocols need exactly two nodes', () => {
    const network = { nodes: ['http://a', 'http://b'], uuid: 'u', myself: 0 };
    assert.equal(requireTwoParties(network), network);
    assert.throws(
      () => requireTwoParties({ ...network, nodes: ['http://a', 'http://b', 'http://c'] }),
      (e: unknown) => e instanceof BadInputError && e.where === 'kwargs.network.nodes',
    );
  });

  test('an unknown name is a 400, a family member not here yet a 501, at every party', async () => {
    for (const error of failures((await simulate({ parties: 3, microprotocol: 'Median', data: [1, 2, 3] })).results)) {
      assert.ok(error instanceof BadInputError && error.where === 'kwargs.microprotocol');
    }
    const missing = FSC_NAMES.find((n) => typeof MICROPROTOCOLS[n] !== 'function');
    if (missing !== undefined) {
      for (const error of failures((await simulate({ parties: 3, microprotocol: missing, data: [1, 2, 3] })).results)) {
        assert.ok(error instanceof NotImplementedError, error.message);
      }
    }
  });

  test('SecureFedAvg refuses a misspelt option before running', async () => {
    const tensors = { w: { dtype: 'F32', shape: [1], data: [1] } };
    const run = await simulate({ parties: 2, microprotocol: 'SecureFedAvg', data: [{ tensors, weight: 1 }, { tensors, weight: 1 }], options: { ring_bit: 32 } });
    for (const error of failures(run.results)) assert.ok(error instanceof BadInputError && error.where === 'kwargs.ring_bit');
  });

  test('a bad input fails its party with a 400 naming the field and the others at once, naming that party', async () => {
    const run = await simulate({ parties: 3, microprotocol: 'StatisticsBivariate', data: [[[1, 2]], [[1, 2]], [[1, Number.NaN]]], timeoutMs: 20_000 });
    const [p0, p1, p2] = failures(run.results);
    assert.ok(p2 instanceof BadInputError && p2.where === 'kwargs.data[0][1]');
    for (const e of [p0, p1]) assert.ok(e instanceof TesseraError && (e instanceof PeerError || e.status === 409) && /party 2/.test(e.message + String(e.where)), e?.message);
    // An abort, not their own timeout: they failed because party 2 told them, not because it went quiet.
    for (const e of [p0, p1]) assert.ok(!(e instanceof TimeoutError));
  });
});
