// Transcript tests: run each linear microprotocol in simulation mode (the same engine and
// cryptography as real servers, in memory), record every peer payload each party receives, and
// check that a party's single input appears in none of them in any encoding the protocol uses
// (float64, the exact ring element, its powers, reciprocal, logarithm, order key; the UTF-8 of a
// category outside the union's broadcast, which is the output). Shares must be fresh per run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub, simulate, simulatedNodes } from '../../../services/simulation/index.js';
import { EXACT_SCALAR } from '../../../services/common/fixedpoint.js';
import { powerRing, scaledPower, scaledProduct } from '../../../services/simon/linear/exact.js';
import { orderKey } from '../../../services/simon/order/encoding.js';

function floatNeedles(x: number): Buffer[] {
  const le = Buffer.alloc(8);
  le.writeDoubleLE(x);
  const be = Buffer.alloc(8);
  be.writeDoubleBE(x);
  const key = Buffer.alloc(8);
  key.writeBigUInt64BE(orderKey(x));
  const keyLe = Buffer.alloc(8);
  keyLe.writeBigUInt64LE(orderKey(x));
  const exact = (v: number) => Buffer.from(EXACT_SCALAR.ring.encodeBytes(EXACT_SCALAR.encode(v, 'x')));
  return [
    le, be, key, keyLe, Buffer.from(String(x)),
    exact(x), exact(1 / x), exact(Math.log(Math.abs(x))),
    ...[1, 2, 3, 4, 5, 6].map((j) => Buffer.from(powerRing(j).encodeBytes(scaledPower(x, j)))),
  ];
}

/** Runs a microprotocol with capture on; returns what each party received. */
async function transcript(microprotocol: string, data: unknown[]) {
  const nodes = simulatedNodes(data.length);
  // Generous waits: the first order-statistics block between two parties runs the public-key base
  // OTs (CPU-bound, seconds on a loaded 2-core machine); a transcript test is not a timing test.
  const hub = new MemoryHub(nodes, 120_000);
  hub.capture = true;
  const run = await simulate({ parties: data.length, microprotocol, data, hub });
  for (const r of run.results) assert.ok(r.ok, r.ok ? '' : r.error.message);
  return { hub, results: run.results };
}

function assertAbsent(hub: MemoryHub, owner: number, needles: Buffer[], except: (stage: string) => boolean = () => false): void {
  let checked = 0;
  for (const m of hub.log) {
    if (m.to === owner || except(m.stage)) continue;
    const payload = Buffer.from(m.payload!);
    for (const needle of needles) {
      assert.equal(payload.indexOf(needle), -1, `party ${owner}'s input appears in a "${m.stage}" message from party ${m.from} to party ${m.to}`);
    }
    checked += 1;
  }
  assert.ok(checked > 0, 'the transcript holds messages to check');
}

describe('transcripts: a party holding one value', () => {
  test('the search finds a planted value (the check can fail)', () => {
    const x = 4.123456789;
    const planted = Buffer.concat([Buffer.alloc(5), floatNeedles(x)[5]!, Buffer.alloc(3)]);
    assert.notEqual(planted.indexOf(floatNeedles(x)[5]!), -1);
  });

  const secret = 4.123456789;
  for (const microprotocol of ['SecureSum', 'StatisticsUnivariate']) {
    test(`${microprotocol}: party 1's value appears in no message another party receives`, async () => {
      const { hub } = await transcript(microprotocol, [[1.5, 7.25, -3], [secret], [2, 0.5]]);
      assertAbsent(hub, 1, floatNeedles(secret));
    });
  }

  test('StatisticsUnivariate: from 3 parties the moments are the masked star (nonce, masked vectors to party 0, totals), one result', async () => {
    const { hub, results } = await transcript('StatisticsUnivariate', [[1.5, 7.25, -3], [secret], [2, 0.5]]);
    const moments = hub.log.filter((m) => m.stage.startsWith('moments.')).map((m) => `${m.stage} ${m.from}→${m.to}`).sort();
    assert.deepEqual(moments, ['moments.masked 1→0', 'moments.masked 2→0', 'moments.nonce 0→1', 'moments.nonce 0→2', 'moments.total 0→1', 'moments.total 0→2']);
    const [first, ...others] = results.map((r) => (r.ok ? r.value : null));
    for (const other of others) assert.deepEqual(other, first);
    // Two parties keep additive sharing (two stages, which the 2-party min/max's opening does not outlast).
    const pair = await transcript('StatisticsUnivariate', [[1.5, 7.25, -3], [secret]]);
    assert.deepEqual(new Set(pair.hub.log.filter((m) => m.stage.startsWith('moments.')).map((m) => m.stage)), new Set(['moments.shares', 'moments.partials']));
  });

  test('StatisticsUnivariate: Σ1/x and Σ ln x open only as noise; pads are released only where their mean is defined', async () => {
    const ring = EXACT_SCALAR.ring;
    const exactSum = (values: number[], f: (x: number) => number) =>
      Buffer.from(ring.encodeBytes(values.reduce((t, x) => ring.add(t, EXACT_SCALAR.encode(f(x), 'x')), 0n)));
    const padMessages = (hub: MemoryHub) => hub.log.filter((m) => m.stage === 'means.pads');
    const width = ring.encodeBytes(0n).length;
    // All positive: both means defined, each party sends both pads to each other party; the
    // vector sum's messages never hold the plain Σ1/x or Σ ln x, only the padded totals.
    const positive = [[1.5, 7.25], [secret], [2, 0.5]];
    const all = await transcript('StatisticsUnivariate', positive);
    const flat = positive.flat();
    assertAbsent(all.hub, -1, [exactSum(flat, (x) => 1 / x), exactSum(flat, Math.log)], (stage) => !stage.startsWith('moments.'));
    assert.deepEqual(padMessages(all.hub).map((m) => `${m.from}→${m.to} ${m.payload!.length}`).sort(),
      ['0→1', '0→2', '1→0', '1→2', '2→0', '2→1'].map((e) => `${e} ${2 * width}`));
    // A negative value: the geometric mean is null, only the Σ1/x pads go.
    const negative = await transcript('StatisticsUnivariate', [[1.5, -7.25], [secret], [2, 0.5]]);
    assert.deepEqual(new Set(padMessages(negative.hub).map((m) => m.payload!.length)), new Set([width]));
    // A 0: both means are null and no pad leaves any party, so a coalition that knows the noise
    // the 0's holder added still faces the other parties' pads on their Σ1/x and Σ ln x.
    const zero = await transcript('StatisticsUnivariate', [[1.5, 0], [secret], [2, 0.5]]);
    assert.equal(padMessages(zero.hub).length, 0);
    const result = zero.results[0]!.ok ? (zero.results[0]!.value as { result: Record<string, unknown> }).result : {};
    assert.equal(result['harmonic_mean'], null);
    assert.equal(result['geometric_mean'], null);
  });

  test('StatisticsBivariate: party 1\'s pair appears in no message another party receives', async () => {
    const [x, y] = [4.123456789, -17.0625];
    const { hub } = await transcript('StatisticsBivariate', [[[1, 2], [3, 5.5]], [[x, y]], [[-2, 0.25]]]);
    assertAbsent(hub, 1, [...floatNeedles(x), ...floatNeedles(y), Buffer.from(powerRing(2).encodeBytes(scaledProduct(x, y)))]);
  });

  for (const microprotocol of ['StatisticsFrequency', 'StatisticsContingency']) {
    test(`${microprotocol}: party 1's category appears only in the union's broadcast (the output), in no share, onion or count`, async () => {
      const label = 'rare-category-Ωmega';
      const data = microprotocol === 'StatisticsFrequency'
        ? [['cat', 'dog'], [label], ['cat']]
        : [[['cat', 'yes']], [[label, 'no']], [['dog', 'no']]];
      const { hub, results } = await transcript(microprotocol, data);
      assertAbsent(hub, 1, [Buffer.from(label, 'utf8')], (stage) => stage === 'labels.union');
      assert.ok(JSON.stringify(results).includes(label), 'the category is in the output');
    });
  }

  test('shares are fresh: the same inputs give different share messages in two runs', async () => {
    const data = [[1], [2], [3]];
    const first = await transcript('SecureSum', data);
    const second = await transcript('SecureSum', data);
    const shares = (hub: MemoryHub) => hub.log.filter((m) => m.stage === 'sum.shares').map((m) => Buffer.from(m.payload!).toString('hex'));
    const a = shares(first.hub);
    const b = shares(second.hub);
    assert.equal(a.length, 6);
    for (const s of a) assert.ok(!b.includes(s));
  });
});
