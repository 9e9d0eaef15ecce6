// The order microprotocols (SecureMedian, KthElement, MinimumMaximum) on the SIMON engine
// (services/simon/engine.ts microprotocol(spec)): the engine's one bad-input policy (input and
// keywords read after the session opens: the party at fault answers 400 naming the field, the
// others fail at once naming that party, never by their own timeout), and their declared stage
// order, every transition checked against a table written out by hand, then at delivery.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../../services/simulation/network.js';
import { BadInputError, PeerError, TesseraError, TimeoutError } from '../../../../services/errors.js';
import { StageOrder } from '../../../../services/common/stages.js';
import { secureMedian } from '../../../../services/simon/order/median.js';
import { kthElement } from '../../../../services/simon/order/kthelement.js';
import { minimumMaximum } from '../../../../services/simon/order/minmax.js';
import { circuitLoops, countBesideLoops, orderStages, searchLoops } from '../../../../services/simon/order/stages.js';
import type { Microprotocol } from '../../../../services/simon/engine.js';
import type { CallContext } from '../../../../services/microservice.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const NODES = ['http://party0.test', 'http://party1.test', 'http://party2.test'];
/** Far above what an abort takes: a party that waited for its own timeout fails with a TimeoutError. */
const TIMEOUT_MS = 20_000;

/** Every party runs `run` with its own kwargs (so one party can differ); each outcome is returned. */
async function runAll(run: Microprotocol, kwargs: Record<string, unknown>[]): Promise<({ ok: true; value: unknown } | { ok: false; error: Error })[]> {
  const hub = new MemoryHub(NODES, TIMEOUT_MS);
  const uuid = `engine-${Math.random()}`;
  return Promise.all(
    kwargs.map(async (k, myself) => {
      const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(myself), log: silent };
      try {
        return { ok: true as const, value: await run({ ...k, network: { nodes: NODES, uuid, myself } }, ctx) };
      } catch (error) {
        return { ok: false as const, error: error as Error };
      }
    }),
  );
}

/** Party 2's input is bad: it answers 400 naming `where`; parties 0 and 1 fail at once, naming it. */
async function assertAbortsNamingParty2(run: Microprotocol, kwargs: Record<string, unknown>[], where: string): Promise<void> {
  const started = performance.now();
  const outcomes = await runAll(run, kwargs);
  const errors = outcomes.map((o, i) => {
    assert.ok(!o.ok, `party ${i} should have failed`);
    return o.error;
  });
  const [p0, p1, p2] = errors;
  assert.ok(p2 instanceof BadInputError, String(p2));
  assert.equal(p2.where, where);
  for (const e of [p0, p1]) {
    assert.ok(e instanceof TesseraError && !(e instanceof TimeoutError), `${e?.name}: ${e?.message}`);
    assert.ok(e instanceof PeerError || e.status === 409, e.message);
    assert.match(`${e.message} ${e.where ?? ''}`, /party 2/);
  }
  assert.ok(performance.now() - started < TIMEOUT_MS, 'the others failed before their stage timeout');
}

const KTH = (array: unknown[], rank: unknown = 2) => ({ array, rank, lower_bound: -100, upper_bound: 100 });

describe('order microprotocols on the engine: one bad-input policy', () => {
  test('SecureMedian: a NaN at party 2 is its 400 naming the element; the others abort naming party 2', async () => {
    await assertAbortsNamingParty2(secureMedian, [{ data: [1, 2] }, { data: [3] }, { data: [4, 'five'] }], 'kwargs.data[1]');
  });

  test('KthElement: a value outside the bounds at party 2', async () => {
    await assertAbortsNamingParty2(kthElement, [{ data: KTH([1, 2]) }, { data: [KTH([3])] }, { data: KTH([4, 500]) }], 'kwargs.data.array[1]');
  });

  test('MinimumMaximum: a record without "maximum" at party 2', async () => {
    const ok = { minimum: 1, maximum: 2 };
    await assertAbortsNamingParty2(minimumMaximum, [{ data: [ok] }, { data: ok }, { data: [ok, { minimum: 3 }] }], 'kwargs.data[1].maximum');
  });

  test('an unknown keyword at one party is checked after the session opens: its 400, the others abort at once', async () => {
    for (const run of [secureMedian, minimumMaximum]) {
      const data = run === secureMedian ? [1, 2] : { minimum: 1, maximum: 2 };
      await assertAbortsNamingParty2(run, [{ data }, { data }, { data, ring_bit: 32 }], 'kwargs.ring_bit');
    }
  });

  test('N = 0 is the same 400 at every party, none blaming another', async () => {
    for (const [run, data] of [[secureMedian, []], [minimumMaximum, []], [kthElement, KTH([])]] as const) {
      const outcomes = await runAll(run, NODES.map(() => ({ data })));
      for (const o of outcomes) {
        assert.ok(!o.ok && o.error instanceof BadInputError && /^kwargs\.data(\.rank)?$/.test(o.error.where ?? ''), !o.ok ? `${o.error.message} at ${String((o.error as TesseraError).where)}` : 'succeeded');
        assert.doesNotMatch(o.error.message, /party \d/);
      }
    }
  });

  test('the three still compute on the engine (KthElement, MinimumMaximum, SecureMedian)', async () => {
    const kth = await runAll(kthElement, [{ data: KTH([5, -3]) }, { data: KTH([7]) }, { data: KTH([0, 9]) }]);
    for (const o of kth) assert.deepEqual(o.ok && o.value, { inputs: 3, result: { item: 0, samples: 5 } });
    const mm = await runAll(minimumMaximum, [{ data: { minimum: 4, maximum: 17.5 } }, { data: [] }, { data: [{ minimum: -12, maximum: 3 }] }]);
    for (const o of mm) assert.deepEqual(o.ok && o.value, { inputs: 3, result: { minimum: -12, maximum: 17.5, samples: 2 } });
    const median = await runAll(secureMedian, [{ data: [1, 10] }, { data: 2 }, { data: [7] }]);
    for (const o of median) assert.deepEqual(o.ok && o.value, { inputs: 3, result: { median: 4.5 } });
  });
});

// The stage lists the specs declare, and hand-written tables of what may follow what per sender.
const KTH_STAGES = orderStages('kth');
const MINMAX_STAGES = orderStages('minmax');

describe('order microprotocols on the engine: declared stage order', () => {
  test('the stage names, in protocol order', () => {
    assert.deepEqual(KTH_STAGES, ['kth-count-shares', 'kth-count-partials', 'kth-ot-base-a', 'kth-ot-base-b', 'kth-ot-ext', 'kth-ot-fix', 'kth-and', 'kth-open']);
  });

  // A search: the count, then the oblivious transfers, then AND layers and openings, digit after
  // digit. No send waits for its receipt (services/common/deliveries.ts), so an AND layer or
  // an opening may overtake the OT answer (ot-base-b, or ot-fix after fresh base OTs) and an
  // opening the AND layer before it; nothing overtakes the offer or the matrix.
  const SEARCH: Record<string, string[]> = {
    '(none)': KTH_STAGES,
    'kth-count-shares': KTH_STAGES,
    'kth-count-partials': KTH_STAGES.slice(1),
    'kth-ot-base-a': KTH_STAGES.slice(2),
    'kth-ot-base-b': KTH_STAGES.slice(3),
    'kth-ot-ext': KTH_STAGES.slice(4),
    'kth-ot-fix': KTH_STAGES.slice(5),
    'kth-and': ['kth-ot-base-b', 'kth-ot-fix', 'kth-and', 'kth-open'],
    'kth-open': ['kth-ot-base-b', 'kth-ot-fix', 'kth-and', 'kth-open'],
  };
  const searchOrder = new StageOrder(KTH_STAGES, searchLoops('kth'));
  for (const previous of Object.keys(SEARCH)) {
    for (const next of [...KTH_STAGES, 'kth-undeclared']) {
      const valid = SEARCH[previous]!.includes(next);
      test(`search: ${previous} -> ${next} ${valid ? 'allowed' : 'refused'}`, () => {
        assert.equal(searchOrder.allows(previous === '(none)' ? undefined : previous, next), valid);
      });
    }
  }

  // MinimumMaximum: the count runs beside the tournament, so a count message may follow any
  // tournament message; of the tournament's own stages only the overtakings of sends that do not
  // wait for their receipts (circuitLoops): an AND layer or the opening may arrive before the OT
  // answer, the opening before the AND layer.
  const count = ['minmax-count-shares', 'minmax-count-partials'];
  const BESIDE: Record<string, string[]> = {
    '(none)': MINMAX_STAGES,
    'minmax-count-shares': MINMAX_STAGES,
    'minmax-count-partials': MINMAX_STAGES.slice(1),
    'minmax-ot-base-a': [...count, ...MINMAX_STAGES.slice(2)],
    'minmax-ot-base-b': [...count, ...MINMAX_STAGES.slice(3)],
    'minmax-ot-ext': [...count, ...MINMAX_STAGES.slice(4)],
    'minmax-ot-fix': [...count, ...MINMAX_STAGES.slice(5)],
    'minmax-and': [...count, 'minmax-ot-base-b', 'minmax-ot-fix', 'minmax-and', 'minmax-open'],
    'minmax-open': [...count, 'minmax-ot-base-b', 'minmax-ot-fix', 'minmax-and', 'minmax-open'],
  };
  const besideOrder = new StageOrder(MINMAX_STAGES, [...countBesideLoops('minmax'), ...circuitLoops('minmax')]);
  for (const previous of Object.keys(BESIDE)) {
    for (const next of MINMAX_STAGES) {
      const valid = BESIDE[previous]!.includes(next);
      test(`count beside the tournament: ${previous} -> ${next} ${valid ? 'allowed' : 'refused'}`, () => {
        assert.equal(besideOrder.allows(previous === '(none)' ? undefined : previous, next), valid);
      });
    }
  }

  test('at delivery: a count share sent after AND messages is refused, naming its sender', async () => {
    const nodes = NODES.slice(0, 2);
    const hub = new MemoryHub(nodes, 2000);
    const uuid = 'rogue';
    const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(0), log: silent };
    const honest = secureMedian({ data: [1, 2, 3], network: { nodes, uuid, myself: 0 } }, ctx);
    honest.catch(() => undefined);
    // Party 1 opens the same computation without an order check of its own, and misbehaves.
    const rogue = await hub.network(1).open({ uuid, myself: 1, terms: { microprotocol: 'SecureMedian', nodes }, stages: orderStages('median') });
    await rogue.send(0, 'median-and', new Uint8Array(1));
    await assert.rejects(rogue.send(0, 'median-count-shares', new Uint8Array(8)), (e: unknown) => e instanceof TesseraError && /out of order/.test(e.message) && /party 1/.test(e.message));
    // The honest party never takes the refused share: it fails (here at its short stage timeout).
    await assert.rejects(honest, (e: unknown) => e instanceof TesseraError);
    rogue.close();
  });
});
