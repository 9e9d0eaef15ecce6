// The declared stage order (services/common/stages.ts StageOrder), tested as Flower tests its
// secure-aggregation state machine: every transition that is not valid is refused. Then the
// same check at delivery, on the in-memory network and on real peer nodes over HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError } from '../../../services/errors.js';
import { StageOrder, subProtocol, defineStages } from '../../../services/common/stages.js';
import { MemoryHub } from '../../../services/simulation/network.js';
import { startNetwork, termsFor, type Network } from '../../server/peer/harness.js';
import { within } from '../../within.js';

// Two sub-protocols, the second one looping (a search's rounds).
const SUM = subProtocol('moments', defineStages(['shares', 'partials'] as const));
const SEARCH = subProtocol('extremes', defineStages(['shares', 'partials'] as const));
const STAGES = [...SUM.all, ...SEARCH.all];
const ORDER = new StageOrder(STAGES, [[SEARCH.partials, SEARCH.shares]]);

// Written out by hand (not derived from the rule under test): previous stage -> allowed next stages.
const VALID: Record<string, string[]> = {
  '(none)': ['moments.shares', 'moments.partials', 'extremes.shares', 'extremes.partials'],
  'moments.shares': ['moments.shares', 'moments.partials', 'extremes.shares', 'extremes.partials'],
  'moments.partials': ['moments.partials', 'extremes.shares', 'extremes.partials'],
  'extremes.shares': ['extremes.shares', 'extremes.partials'],
  'extremes.partials': ['extremes.partials', 'extremes.shares'],
};

describe('StageOrder', () => {
  test('sub-protocol ids prefix every stage deterministically', () => {
    assert.deepEqual(SUM.all, ['moments.shares', 'moments.partials']);
    assert.equal(SEARCH.partials, 'extremes.partials');
    assert.throws(() => subProtocol('Bad Id', defineStages(['a'] as const)));
  });

  for (const previous of ['(none)', ...STAGES]) {
    for (const next of [...STAGES, 'undeclared']) {
      const valid = VALID[previous]!.includes(next);
      test(`${previous} -> ${next}: ${valid ? 'allowed' : 'refused'}`, () => {
        assert.equal(ORDER.allows(previous === '(none)' ? undefined : previous, next), valid);
      });
    }
  }

  test('the per-sender tracker refuses a message of a finished stage, naming the sender', () => {
    const accept = ORDER.tracker((p) => `party ${p}`);
    accept(1, 'moments.shares');
    accept(2, 'moments.shares');
    accept(1, 'moments.partials');
    assert.throws(() => accept(1, 'moments.shares'), (e: unknown) => e instanceof ConflictError && e.where === 'party 1');
    accept(2, 'moments.partials'); // another sender's position is its own
  });

  test('a loop edge must go back', () => {
    assert.throws(() => new StageOrder(STAGES, [[SUM.shares, SUM.partials]]));
  });
});

describe('stage order at delivery', () => {
  test('the in-memory network refuses an out-of-order message and accepts the valid sequence', async () => {
    const nodes = ['http://a.invalid', 'http://b.invalid'];
    const hub = new MemoryHub(nodes, 2000);
    const open = (myself: number) => hub.network(myself).open({ uuid: 'u', myself, terms: { microprotocol: 'T', nodes }, stages: STAGES, order: ORDER });
    const [a, b] = await Promise.all([open(0), open(1)]);
    await a!.send(1, SUM.shares, new Uint8Array([1]));
    await a!.send(1, SUM.partials, new Uint8Array([2]));
    await assert.rejects(a!.send(1, SUM.shares, new Uint8Array([3]), 1), /out of order/);
    assert.deepEqual([...(await b!.receive(0, SUM.shares))], [1]);
    a!.close();
    b!.close();
  });

  describe('on real peer nodes over HTTP', () => {
    let net: Network;
    before(async () => {
      net = await startNetwork(2);
    });
    after(() => net.close());

    test('a message for a stage the sender already left is refused at delivery, naming it', async () => {
      const sessions = await within(5000, 'open', Promise.all(
        net.parties.map((p, myself) => p.node.open({ uuid: 'order', myself, terms: termsFor(net.urls), stages: STAGES, order: ORDER })),
      ));
      try {
        await within(5000, 'valid', sessions[0]!.send(1, SEARCH.shares, new Uint8Array([1])));
        await within(5000, 'valid', sessions[0]!.send(1, SEARCH.partials, new Uint8Array([2])));
        await within(5000, 'loop', sessions[0]!.send(1, SEARCH.shares, new Uint8Array([3]), 1));
        await assert.rejects(within(5000, 'invalid', sessions[0]!.send(1, SUM.partials, new Uint8Array([4]))), /out of order/);
      } finally {
        sessions.forEach((s) => s.close());
      }
    });
  });
});

