// What the other parties receive from a SecureMedian (and a MinimumMaximum) in which party 1
// holds a single value: every peer payload is recorded (the in-memory network keeps them; the
// real transport additionally encrypts them). The value's float64 bytes and its order key never
// appear; the only values opened are the comparison bits, and they are exactly the bits
// [x_k ≤ probe] that the output determines; and the shape of the transcript (who sends what size
// to whom, in which stage) does not depend on the values, only on n and N.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../../services/simulation/network.js';
import { secureMedian } from '../../../../services/simon/order/median.js';
import { minimumMaximum } from '../../../../services/simon/order/minmax.js';
import { DIGIT_BITS } from '../../../../services/simon/order/kth.js';
import { orderKey } from '../../../../services/simon/order/encoding.js';
import { forgetBaseOts, preparedNonces } from '../../../../services/simon/order/triples.js';
import type { CallContext } from '../../../../services/microservice.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const NODES = ['http://party0.test', 'http://party1.test', 'http://party2.test'];

async function run(microprotocol: typeof secureMedian | typeof minimumMaximum, inputs: unknown[], fresh = true) {
  // Every run starts from fresh base OTs unless asked otherwise, so that runs' transcripts
  // compare (a reused base only shortens the ot-base messages, whatever the values).
  if (fresh) forgetBaseOts();
  const hub = new MemoryHub(NODES, 120_000);
  hub.capture = true;
  const results = await Promise.all(
    inputs.map((data, myself) => {
      const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(myself), log: silent };
      return microprotocol({ data, network: { nodes: NODES, uuid: 'transcript', myself } }, ctx);
    }),
  );
  return { results, log: hub.log };
}

/** Every way the value could be written into a payload: its float64 and its order key, both byte orders. */
function encodings(x: number): Buffer[] {
  const f = Buffer.alloc(8);
  const out: Buffer[] = [];
  f.writeDoubleBE(x);
  out.push(Buffer.from(f));
  f.writeDoubleLE(x);
  out.push(Buffer.from(f));
  const k = Buffer.alloc(8);
  k.writeBigUInt64BE(orderKey(x));
  out.push(Buffer.from(k));
  k.writeBigUInt64LE(orderKey(x));
  out.push(Buffer.from(k));
  out.push(Buffer.from(String(x), 'utf8'));
  return out;
}

function unpackBits(bytes: Uint8Array, length: number): number[] {
  return Array.from({ length }, (_, i) => (bytes[i >>> 3]! >>> (i & 7)) & 1);
}

/** The comparison bits a search for the element with order key `answer` opens, round by round. */
function expectedOpenings(answers: bigint[]): number[][] {
  const rounds: number[][] = [];
  let below = 64;
  while (below > 0) {
    const d = Math.min(DIGIT_BITS, below);
    below -= d;
    const bits: number[] = [];
    for (const answer of answers) {
      const prefix = (answer >> BigInt(below + d)) << BigInt(below + d);
      for (let j = 1; j < 1 << d; j++) bits.push(Number(answer <= prefix + (BigInt(j) << BigInt(below)) - 1n));
    }
    rounds.push(bits);
  }
  return rounds;
}

/** What the min/max block opens: the minimum's key, then the complement of the maximum's, LSB first. */
function extremesOpening(minimum: number, maximum: number): number[][] {
  const all = (1n << 64n) - 1n;
  const bitsOf = (k: bigint) => Array.from({ length: 64 }, (_, b) => Number((k >> BigInt(b)) & 1n));
  return [[...bitsOf(orderKey(minimum)), ...bitsOf(all - orderKey(maximum))]];
}

function checkTranscript(log: Awaited<ReturnType<typeof run>>['log'], secret: number, want: number[][], openStage: string, least = 21) {
  const forbidden = encodings(secret);
  let checked = 0;
  for (const m of log) {
    if (m.to === 1) continue; // what party 1 itself receives is not at issue
    const payload = Buffer.from(m.payload!);
    for (const needle of forbidden) assert.equal(payload.indexOf(needle), -1, `stage ${m.stage}[${m.seq}] from party ${m.from} to party ${m.to} holds the value`);
    checked += 1;
  }
  assert.ok(checked >= least, 'the transcript was recorded');

  // The openings: every party publishes its share of each round's opened bits; their XOR must be
  // exactly the bits the output implies.
  const opens = log.filter((m) => m.stage === openStage);
  assert.equal(new Set(opens.map((m) => m.seq)).size, want.length, 'one opening per round');
  want.forEach((bits, round) => {
    const shares = new Map<number, number[]>();
    for (const m of opens.filter((o) => o.seq === round)) shares.set(m.from, unpackBits(m.payload!, bits.length));
    assert.equal(shares.size, 3);
    const opened = bits.map((_, j) => [...shares.values()].reduce((x, s) => x ^ s[j]!, 0));
    assert.deepEqual(opened, bits, `round ${round}`);
  });
}

/** (from, to, stage, seq, size) of every message, in a canonical order. */
function shape(log: Awaited<ReturnType<typeof run>>['log']): string[] {
  return log.map((m) => `${m.from}>${m.to} ${m.stage}[${m.seq}] ${m.bytes}`).sort();
}

describe('order statistics transcripts', { timeout: 300_000 }, () => {
  test('SecureMedian: a one-value party’s value never reaches the others; only the comparison bits are opened', async () => {
    const secret = 1234.5678;
    const { results, log } = await run(secureMedian, [[1, 2, 3], [secret], [5, 6, 7]]);
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { median: 5 } });
    checkTranscript(log, secret, expectedOpenings([orderKey(5)]), 'median-open');
  });

  test('MinimumMaximum: the same, for a party with one record', async () => {
    const secret = -98.765;
    const { results, log } = await run(minimumMaximum, [[{ minimum: -1, maximum: 4 }], { minimum: secret, maximum: 3.0625 }, [{ minimum: 0, maximum: 9 }]]);
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { minimum: secret, maximum: 9, samples: 3 } });
    // The minimum IS the secret here (it is the output): check that its maximum, 3.0625, stays
    // hidden, and that the one opening is the two extremes' keys, nothing else.
    checkTranscript(log, 3.0625, extremesOpening(secret, 9), 'minmax-open');
  });

  test('MinimumMaximum with a reused base, whose offer carries the matrix and whose acceptance the garbled circuits: the same', async () => {
    const secret = -98.765;
    const inputs = [[{ minimum: -1, maximum: 4 }], { minimum: secret, maximum: 3.0625 }, [{ minimum: 0, maximum: 9 }]];
    await run(minimumMaximum, inputs);
    const { results, log } = await run(minimumMaximum, inputs, false);
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { minimum: secret, maximum: 9, samples: 3 } });
    assert.ok(log.some((m) => m.stage === 'minmax-ot-base-b' && m.payload![0] === 1), 'the base was reused');
    // 30 messages, 10 to each party (2 of the OTs, 4 of the count, 2 AND, 2 opening): 20 to parties 0 and 2.
    checkTranscript(log, 3.0625, extremesOpening(secret, 9), 'minmax-open', 20);
  });

  test('the transcript’s shape depends only on n and N, not on the values', async () => {
    const a = await run(secureMedian, [[1, 2, 3], [4], [5, 6, 7]]);
    const b = await run(secureMedian, [[-1e300, 0.5, 7e-300], [123], [9, 9, 9]]);
    const c = await run(secureMedian, [[], [1, 2, 3, 4], [5, 6, 7]]);
    assert.deepEqual(shape(a.log), shape(b.log));
    // A different split of the same N among the parties: the same shape too.
    assert.deepEqual(shape(a.log), shape(c.log));
  });

  test('MinimumMaximum: the shape depends only on n, not on the values or who holds how many', async () => {
    const a = await run(minimumMaximum, [[{ minimum: 1, maximum: 2 }], [{ minimum: -5, maximum: 0 }], [{ minimum: 3, maximum: 30 }]]);
    const b = await run(minimumMaximum, [[], [{ minimum: -1e300, maximum: 1e300 }, { minimum: 0, maximum: 0 }], [{ minimum: 7, maximum: 7 }]]);
    assert.deepEqual(shape(a.log), shape(b.log));
  });

  /** Per pair, the sender's answer after the triples' fix bits: ot-fix after fresh base OTs, ot-base-b (after its leading 1) when the offered base was accepted. */
  function answers(log: { stage: string; payload?: Uint8Array; from: number; to: number }[]) {
    return log.flatMap((m) => {
      if (m.stage === 'minmax-ot-fix') return [{ ...m, body: m.payload! }];
      if (m.stage === 'minmax-ot-base-b' && m.payload![0] === 1) return [{ ...m, body: m.payload!.subarray(1) }];
      return [];
    });
  }

  test('MinimumMaximum: the garbled comparisons in the OT answer carry every label under an OT key, never the garbling offset in clear', async () => {
    const inputs = [[{ minimum: 1, maximum: 2 }], [{ minimum: -5, maximum: 0 }], [{ minimum: 3, maximum: 30 }]];
    const first = await run(minimumMaximum, inputs);
    const reused = await run(minimumMaximum, inputs, false);
    // Per pair, after the triples' fix bits: 2 searches × (64 label pairs of 2 × 16 bytes, then
    // 1 + 2·63 ciphertexts of 16 bytes, then, for a pair with the last party, which selects
    // min(x, y), 2·64 more) (services/simon/order/garbled.ts).
    const LABEL = 16;
    for (const log of [first.log, reused.log]) {
      const sent = answers(log);
      assert.equal(sent.length, 3, 'one per pair');
      for (const m of sent) {
        const SEARCH = 64 * 2 * LABEL + (1 + 2 * 63) * LABEL + (m.to === 2 ? 2 * 64 * LABEL : 0);
        const garbled = m.body.subarray(m.body.length - 2 * SEARCH);
        for (let s = 0; s < 2; s++) {
          // Sent in clear, the two labels of each bit of the receiver's key would XOR to the one
          // offset R, and the receiver could decode every wire of the circuit.
          const xors = new Set<string>();
          for (let b = 0; b < 64; b++) {
            const at = s * SEARCH + 2 * b * LABEL;
            const pair = garbled.subarray(at, at + 2 * LABEL);
            xors.add(Buffer.from(pair.subarray(0, LABEL).map((v, i) => v ^ pair[LABEL + i]!)).toString('hex'));
          }
          assert.equal(xors.size, 64, `search ${s} from party ${m.from} to party ${m.to}`);
        }
      }
    }
  });

  test('a second computation between the same servers reuses the base OTs: one message each way per pair, no public-key OT messages, same results', async () => {
    const inputs = [[{ minimum: 2, maximum: 4 }], [{ minimum: -3.5, maximum: 1 }], []];
    const first = await run(minimumMaximum, inputs);
    const second = await run(minimumMaximum, inputs, false);
    for (const r of [...first.results, ...second.results]) assert.deepEqual(r, { inputs: 3, result: { minimum: -3.5, maximum: 4, samples: 2 } });
    const ots = (log: typeof first.log) => log.filter((m) => /-ot-/.test(m.stage));
    // Fresh: an offer with no matrix, KAPPA = 128 points of 32 bytes, the matrix, the answer.
    assert.equal(ots(first.log).length, 3 * 4);
    assert.ok(ots(first.log).filter((m) => /-ot-base-b$/.test(m.stage)).every((m) => m.bytes === 1 + 128 * 32));
    // Reused: per pair an 81-byte offer carrying the extension matrix, and the acceptance
    // carrying the answer; the same matrix and answer as the fresh run's, with no group element.
    const bytes = (log: typeof first.log, stage: RegExp) => log.filter((m) => stage.test(m.stage)).reduce((t, m) => t + m.bytes, 0);
    assert.deepEqual(
      ots(second.log).map((m) => m.stage).sort(),
      ['minmax-ot-base-a', 'minmax-ot-base-a', 'minmax-ot-base-a', 'minmax-ot-base-b', 'minmax-ot-base-b', 'minmax-ot-base-b'],
    );
    assert.equal(bytes(second.log, /-ot-base-a$/), 3 * 81 + bytes(first.log, /-ot-ext$/));
    assert.equal(bytes(second.log, /-ot-base-b$/), 3 * 1 + bytes(first.log, /-ot-fix$/));
    // The nonce makes every reuse fresh: the OT-extension matrices of the two runs differ.
    const matrices = (log: typeof first.log) =>
      log.filter((m) => /-ot-ext$/.test(m.stage) || (/-ot-base-a$/.test(m.stage) && m.bytes > 81)).map((m) => Buffer.from(m.payload!.subarray(m.bytes > 81 ? 81 : 0)).toString('hex'));
    assert.notDeepEqual(matrices(first.log), matrices(second.log));
  });

  test('a base one side no longer holds (it restarted) is refused, and fresh base OTs follow in the same computation', async () => {
    const inputs = [[{ minimum: 2, maximum: 4 }], [], [{ minimum: -3.5, maximum: 1 }]];
    const first = await run(minimumMaximum, inputs);
    forgetBaseOts('sender');
    const again = await run(minimumMaximum, inputs, false);
    for (const r of again.results) assert.deepEqual(r, { inputs: 3, result: { minimum: -3.5, maximum: 4, samples: 2 } });
    // Every pair's receiver offered its base with a matrix under it, every sender answered with
    // fresh points, and the matrix was sent again under the fresh base, then the answer.
    const ofStage = (stage: string) => again.log.filter((m) => m.stage === `minmax-ot-${stage}`);
    const extBytes = first.log.filter((m) => m.stage === 'minmax-ot-ext').reduce((t, m) => t + m.bytes, 0);
    assert.equal(ofStage('base-a').reduce((t, m) => t + m.bytes, 0), 3 * 81 + extBytes);
    assert.equal(ofStage('base-b').length, 3);
    for (const m of ofStage('base-b')) assert.equal(m.bytes, 1 + 128 * 32);
    assert.equal(ofStage('ext').length, 3);
    assert.equal(ofStage('fix').length, 3);
  });

  test('each OT receiver prepares its next extension after a computation, under a fresh nonce, and the next offer uses it once; a refused base discards it', async () => {
    const inputs = [[{ minimum: 2, maximum: 4 }], [{ minimum: -3.5, maximum: 1 }], []];
    const expected = { inputs: 3, result: { minimum: -3.5, maximum: 4, samples: 2 } };
    // The nonces the offers (ot-base-a: a flag byte, a 32-byte base id, then the nonce) carried.
    const offered = (log: Awaited<ReturnType<typeof run>>['log']) =>
      log.filter((m) => m.stage === 'minmax-ot-base-a').map((m) => Buffer.from(m.payload!.subarray(33, 49)).toString('hex')).sort();
    // prepareExtensions runs once the output is known, in a later turn of the event loop.
    const prepared = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return preparedNonces().sort();
    };
    const first = await run(minimumMaximum, inputs);
    const afterFirst = await prepared();
    // Fresh base OTs: nothing was prepared before; afterwards one extension per receiver and peer.
    assert.equal(afterFirst.length, 3);
    assert.equal(new Set([...afterFirst, ...offered(first.log)]).size, 6);
    const second = await run(minimumMaximum, inputs, false);
    for (const r of [...first.results, ...second.results]) assert.deepEqual(r, expected);
    // The second computation offered exactly the prepared nonces (accepted: one message each way),
    // and what it left prepared is new: no nonce, so no PRG stream or hash tweak, serves twice.
    assert.deepEqual(offered(second.log), afterFirst);
    assert.ok(second.log.filter((m) => m.stage === 'minmax-ot-base-b').every((m) => m.payload![0] === 1));
    const afterSecond = await prepared();
    assert.equal(new Set([...afterFirst, ...afterSecond]).size, 6);
    // A peer that lost its bases (it restarted) refuses the offers made with the prepared
    // extensions; fresh base OTs follow, and the extensions prepared next are under the new bases.
    forgetBaseOts('sender');
    const refused = await run(minimumMaximum, inputs, false);
    assert.deepEqual(offered(refused.log), afterSecond);
    assert.equal(refused.log.filter((m) => m.stage === 'minmax-ot-fix').length, 3);
    const afterRefused = await prepared();
    const accepted = await run(minimumMaximum, inputs, false);
    for (const r of [...refused.results, ...accepted.results]) assert.deepEqual(r, expected);
    assert.deepEqual(offered(accepted.log), afterRefused);
    assert.ok(accepted.log.filter((m) => m.stage === 'minmax-ot-base-b').every((m) => m.payload![0] === 1));
    // Two computations at once between the same servers: one takes each prepared extension, the
    // other extends under nonces of its own.
    const afterAccepted = await prepared();
    const both = await Promise.all([run(minimumMaximum, inputs, false), run(minimumMaximum, inputs, false)]);
    for (const r of both.flatMap((b) => b.results)) assert.deepEqual(r, expected);
    const nonces = both.flatMap((b) => offered(b.log));
    assert.equal(new Set(nonces).size, 6);
    assert.deepEqual(nonces.filter((n) => afterAccepted.includes(n)).sort(), afterAccepted);
  });

  test('planting the bug is caught: a payload carrying the value fails the check', () => {
    const secret = 1234.5678;
    const f = Buffer.alloc(8);
    f.writeDoubleLE(secret);
    const planted = [{ from: 1, to: 0, stage: 'median-and', seq: 0, bytes: 8, payload: new Uint8Array(f) }];
    assert.throws(() => checkTranscript(planted, secret, [], 'median-open'), /holds the value/);
  });
});
