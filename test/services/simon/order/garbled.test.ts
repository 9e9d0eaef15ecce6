// The garbled comparisons of the min/max tournament (services/simon/order/garbled.ts) against
// plaintext, and what each side holds: XOR shares of [x ≤ y] of which neither alone says anything.
// The OT keys here are random stand-ins for the extension's wide keys (ot.test.ts tests those).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { evaluate, garble, payloadLength } from '../../../../services/simon/order/garbled.js';

const LABEL = 16;

/** One garbling of the searches (xs[s] at the garbler, ys[s] at the evaluator), evaluated. */
function compare(xs: readonly bigint[], ys: readonly bigint[]) {
  const ots = xs.length * 64;
  const keys0 = randomBytes(ots * LABEL);
  const keys1 = randomBytes(ots * LABEL);
  // The evaluator holds the key of its own bit only.
  const chosen = new Uint8Array(ots * LABEL);
  for (let t = 0; t < ots; t++) {
    const bit = Number((ys[t >> 6]! >> BigInt(t & 63)) & 1n);
    chosen.set((bit ? keys1 : keys0).subarray(t * LABEL, (t + 1) * LABEL), t * LABEL);
  }
  const garbler = garble(xs, keys0, keys1);
  const evaluator = evaluate(ys, chosen, garbler.payload);
  return { garbler, evaluator, keys0, keys1 };
}

/**
 * A selecting pair's circuit (the pairs with the last party): xs/fs at the garbler, ys/gs at the
 * evaluator; it outputs shares of min(x, y) per search, bit by bit, and of f ∨ g per flag.
 */
function select(xs: readonly bigint[], ys: readonly bigint[], fs: readonly boolean[], gs: readonly boolean[]) {
  const ots = xs.length * 64 + gs.length;
  const keys0 = randomBytes(ots * LABEL);
  const keys1 = randomBytes(ots * LABEL);
  const choice = (t: number) => (t < xs.length * 64 ? Number((ys[t >> 6]! >> BigInt(t & 63)) & 1n) : Number(gs[t - xs.length * 64]!));
  const chosen = new Uint8Array(ots * LABEL);
  for (let t = 0; t < ots; t++) chosen.set((choice(t) ? keys1 : keys0).subarray(t * LABEL, (t + 1) * LABEL), t * LABEL);
  const garbler = garble(xs, keys0, keys1, { flags: fs });
  const evaluator = evaluate(ys, chosen, garbler.payload, { flags: gs });
  assert.equal(garbler.payload.length, payloadLength(xs.length, { flags: fs.length }));
  const min = xs.map((x, s) => {
    let v = 0n;
    for (let b = 63; b >= 0; b--) v = (v << 1n) | BigInt(garbler.shares[s * 64 + b]! ^ evaluator[s * 64 + b]!);
    return v;
  });
  const ors = fs.map((_, f) => (garbler.shares[xs.length * 64 + f]! ^ evaluator[xs.length * 64 + f]!) === 1);
  return { garbler, evaluator, min, ors };
}

const key = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('garbled comparisons', () => {
  test('the shares XOR to [x ≤ y], for random keys and keys one bit apart', () => {
    fc.assert(
      fc.property(key, key, fc.integer({ min: 0, max: 63 }), (x, y, flip) => {
        const xs = [x, x, x];
        const ys = [y, x, x ^ (1n << BigInt(flip))];
        const { garbler, evaluator } = compare(xs, ys);
        xs.forEach((xv, s) => assert.equal(garbler.shares[s]! ^ evaluator[s]!, Number(xv <= ys[s]!), `search ${s}`));
      }),
      { numRuns: 150 },
    );
  });

  test('edges: 0, 2^64 − 1, equal keys, neighbours', () => {
    const top = (1n << 64n) - 1n;
    const cases: [bigint, bigint][] = [[0n, 0n], [0n, 1n], [1n, 0n], [top, top], [top, 0n], [0n, top], [top - 1n, top], [top, top - 1n], [1n << 63n, (1n << 63n) - 1n]];
    const { garbler, evaluator } = compare(cases.map((c) => c[0]), cases.map((c) => c[1]));
    cases.forEach(([x, y], s) => assert.equal(garbler.shares[s]! ^ evaluator[s]!, Number(x <= y), `${x} ≤ ${y}`));
  });

  test('each share alone is a fair coin, whatever the answer', () => {
    // 400 garblings of a comparison that is true and of one that is false: each side's share is
    // 1 about half the time in both (a share equal to le, or to ¬le, would be all ones or zeros).
    const runs = 400;
    for (const [x, y] of [[3n, 5n], [5n, 3n]] as const) {
      let garblerOnes = 0;
      let evaluatorOnes = 0;
      for (let i = 0; i < runs; i++) {
        const { garbler, evaluator } = compare([x], [y]);
        garblerOnes += garbler.shares[0]!;
        evaluatorOnes += evaluator[0]!;
        assert.equal(garbler.shares[0]! ^ evaluator[0]!, Number(x <= y));
      }
      const bound = 5 * Math.sqrt(runs / 4);
      assert.ok(Math.abs(garblerOnes - runs / 2) < bound, `garbler: ${garblerOnes} of ${runs}`);
      assert.ok(Math.abs(evaluatorOnes - runs / 2) < bound, `evaluator: ${evaluatorOnes} of ${runs}`);
    }
  });

  test('the labels travel under the OT keys: no two correction pairs XOR to the same offset', () => {
    // Unmasked, the two labels of every bit would XOR to the one secret offset R, and the
    // evaluator could decode every wire. Under the keys, the 64 XORs are all different.
    const { garbler } = compare([12345n], [678n]);
    const xors = new Set<string>();
    for (let b = 0; b < 64; b++) {
      const c0 = garbler.payload.subarray(2 * b * LABEL, (2 * b + 1) * LABEL);
      const c1 = garbler.payload.subarray((2 * b + 1) * LABEL, (2 * b + 2) * LABEL);
      xors.add(Buffer.from(c0.map((v, i) => v ^ c1[i]!)).toString('hex'));
    }
    assert.equal(xors.size, 64);
  });

  test('a garbling is fresh: two of the same inputs share no 16-byte block', () => {
    const a = compare([42n, 7n], [43n, 6n]).garbler.payload;
    const b = compare([42n, 7n], [43n, 6n]).garbler.payload;
    assert.equal(a.length, b.length);
    const blocks = (p: Uint8Array) => new Set(Array.from({ length: p.length / LABEL }, (_, i) => Buffer.from(p.subarray(i * LABEL, (i + 1) * LABEL)).toString('hex')));
    const seen = blocks(a);
    for (const block of blocks(b)) assert.ok(!seen.has(block));
  });

  test('a selecting pair: the shares XOR to min(x, y) and to f ∨ g, for random keys, neighbours and edges', () => {
    const top = (1n << 64n) - 1n;
    fc.assert(
      fc.property(key, key, fc.integer({ min: 0, max: 63 }), fc.array(fc.boolean(), { maxLength: 3 }), fc.array(fc.boolean(), { maxLength: 3 }), (x, y, flip, f, g) => {
        const flags = Math.min(f.length, g.length);
        const xs = [x, x, x, top, 0n];
        const ys = [y, x, x ^ (1n << BigInt(flip)), top, top];
        const out = select(xs, ys, f.slice(0, flags), g.slice(0, flags));
        xs.forEach((xv, s) => assert.equal(out.min[s], xv < ys[s]! ? xv : ys[s]!, `search ${s}`));
        assert.deepEqual(out.ors, f.slice(0, flags).map((fv, i) => fv || g[i]!));
      }),
      { numRuns: 100 },
    );
  });

  test('a selecting pair: each side’s shares alone are fair coins, whatever min(x, y) and f ∨ g are', () => {
    // The garbler's shares are its output labels' permutation bits, the evaluator's those XORed
    // with the output: over many garblings each bit of each is 1 about half the time.
    const runs = 200;
    const garblerOnes = new Array<number>(65).fill(0);
    const evaluatorOnes = new Array<number>(65).fill(0);
    for (let i = 0; i < runs; i++) {
      const out = select([5n], [3n], [false], [true]);
      assert.equal(out.min[0], 3n);
      assert.deepEqual(out.ors, [true]);
      for (let b = 0; b < 65; b++) {
        garblerOnes[b]! += out.garbler.shares[b]!;
        evaluatorOnes[b]! += out.evaluator[b]!;
      }
    }
    const bound = 5 * Math.sqrt(runs / 4);
    for (let b = 0; b < 65; b++) {
      assert.ok(Math.abs(garblerOnes[b]! - runs / 2) < bound, `garbler bit ${b}: ${garblerOnes[b]} of ${runs}`);
      assert.ok(Math.abs(evaluatorOnes[b]! - runs / 2) < bound, `evaluator bit ${b}: ${evaluatorOnes[b]} of ${runs}`);
    }
  });
});
