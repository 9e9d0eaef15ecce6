// The set microprotocols on the SIMON engine (services/simon/engine.ts microprotocol(spec)):
// the engine's stage-order check, its keyword check and its one bad-input policy hold for
// SetIntersection, SetIntersectionSize and StatisticsContingencyVertical as for the others.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate, MemoryHub } from '../../../../services/simulation/index.js';
import { BadInputError, ConflictError, PeerError, TesseraError, TimeoutError } from '../../../../services/errors.js';
import type { PeerNetwork } from '../../../../services/peer.js';
import type { SimonContext } from '../../../../services/simon/engine.js';
import { setIntersection } from '../../../../services/simon/sets/intersection.js';
import { within } from '../../../within.js';
import { wrapNetwork } from '../../../support/network.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } } as unknown as SimonContext['log'];

const GOOD: Record<string, unknown[]> = {
  SetIntersection: [[['a', 'b']], [['a', 'c']], [['a', 'b', 'c']]],
  SetIntersectionSize: [[['a', 'b']], [['a', 'c']], [['a', 'b', 'c']]],
  StatisticsContingencyVertical: [[['u1', 'x']], [['u1', 'y']]],
};
/** A bad `data` for party 1 and the field its 400 must name. */
const BAD: Record<string, [unknown, string]> = {
  SetIntersection: [[['a', 7]], 'kwargs.data[0][1]'],
  SetIntersectionSize: [['a', 'b'], 'kwargs.data'],
  StatisticsContingencyVertical: [[['u1', 'y'], ['u2']], 'kwargs.data[1]'],
};

function failures(results: Awaited<ReturnType<typeof simulate>>['results']): Error[] {
  return results.map((r, i) => {
    assert.ok(!r.ok, `party ${i} should have failed`);
    return r.error;
  });
}

describe('set microprotocols on the engine', { timeout: 300_000 }, () => {
  for (const name of Object.keys(GOOD)) {
    test(`${name}: a bad input is a 400 naming the field at its party; the others fail at once, naming that party`, async () => {
      const data = [...GOOD[name]!];
      const [bad, field] = BAD[name]!;
      data[1] = bad;
      const run = await simulate({ parties: data.length, microprotocol: name, data, timeoutMs: 30_000 });
      const errors = failures(run.results);
      const own = errors[1]!;
      assert.ok(own instanceof BadInputError && own.where === field, `${own.constructor.name} ${own.message} at ${String((own as TesseraError).where)}`);
      errors.forEach((e, i) => {
        if (i === 1) return;
        assert.ok(!(e instanceof TimeoutError), `party ${i} timed out instead of being told`);
        assert.ok(e instanceof TesseraError && /party 1/.test(`${e.message} ${String(e.where)}`), e.message);
      });
    });

    test(`${name}: an unknown keyword is a 400 naming it, at every party`, async () => {
      const run = await simulate({ parties: GOOD[name]!.length, microprotocol: name, data: GOOD[name]!, options: { ring_bit: 32 }, timeoutMs: 30_000 });
      for (const e of failures(run.results)) assert.ok(e instanceof BadInputError && e.where === 'kwargs.ring_bit', e.message);
    });

    test(`${name}: the right result on the engine`, async () => {
      // SetIntersection's first run between parties pays for their base OTs: a generous stage timeout.
      const run = await simulate({ parties: GOOD[name]!.length, microprotocol: name, data: GOOD[name]!, timeoutMs: 90_000 });
      const values = run.results.map((r) => (r.ok ? r.value : assert.fail(r.error)));
      for (const v of values) assert.deepEqual(v, values[0]);
      const expected =
        name === 'SetIntersection'
          ? { inputs: 3, result: { intersection: ['a'], size_intersection: 1 } }
          : name === 'SetIntersectionSize'
            ? { inputs: 3, result: { size_intersection: 1 } }
            : { inputs: 2, result: { table: { x: { y: 1 } }, mode: ['x', 'y'] } };
      assert.deepEqual(values[0], expected);
    });
  }

  test('SetIntersection with one node is refused at once, naming the nodes', async () => {
    const run = await simulate({ parties: 1, microprotocol: 'SetIntersection', data: [[['a']]] });
    for (const e of failures(run.results)) assert.ok(e instanceof BadInputError && e.where === 'kwargs.network.nodes', e.message);
  });

  test('StatisticsContingencyVertical with three nodes is refused at once, naming the nodes', async () => {
    const run = await simulate({ parties: 3, microprotocol: 'StatisticsContingencyVertical', data: [[['u', 'x']], [['u', 'y']], [['u', 'z']]] });
    for (const e of failures(run.results)) assert.ok(e instanceof BadInputError && e.where === 'kwargs.network.nodes', e.message);
  });

  test("SetIntersection: a message for a stage out of the declared order is refused, naming its sender, and every party fails", async () => {
    // Party 1 sends party 2 a "result" before its "hop-1": the ring's order puts result last.
    const hub = new MemoryHub(['http://p0.test', 'http://p1.test', 'http://p2.test'], 20_000);
    const early = (net: PeerNetwork): PeerNetwork =>
      wrapNetwork(net, (s) => {
        let first = true;
        return {
          send: async (to, stage, payload, seq) => {
            if (first && to === 2) {
              first = false;
              await s.send(2, 'result', new Uint8Array(4), 0);
            }
            return s.send(to, stage, payload, seq);
          },
        };
      });
    const results = await within(
      60_000,
      'SetIntersection',
      Promise.allSettled(
        GOOD['SetIntersection']!.map((data, myself) =>
          setIntersection(
            { microprotocol: 'SetIntersection', data, network: { nodes: hub.nodes, uuid: 'u', myself } },
            { signal: new AbortController().signal, peers: myself === 1 ? early(hub.network(1)) : hub.network(myself), log: silent },
          ),
        ),
      ),
    );
    assert.ok(results.every((r) => r.status === 'rejected'), 'every party fails');
    const reasons = results.map((r) => (r as PromiseRejectedResult).reason as Error);
    const refused = reasons.find((e) => e instanceof ConflictError && /out of order/.test(e.message));
    assert.ok(refused instanceof ConflictError && /party 1/.test(`${refused.message} ${String(refused.where)}`), reasons.map((e) => e.message).join(' | '));
    for (const e of reasons) assert.ok(!(e instanceof TimeoutError) && (e instanceof ConflictError || e instanceof PeerError || e instanceof TesseraError), e.message);
  });
});
