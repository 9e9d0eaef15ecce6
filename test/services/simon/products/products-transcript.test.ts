// Transcripts of the two-party products: every peer payload party 0 and party 1 receive (over
// real PeerNodes: HTTP, sealed envelopes), checked for the other party's data. Nothing the other
// party holds may appear in clear — as a float64, as decimal text, as its fixed-point integer
// (two's complement or a residue mod N), or inside a ciphertext without a randomiser — and two
// runs on the same input must share no ciphertext and no mask. A planted leak is caught by the
// same detector (the test of the test).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startNetwork, type Network } from '../../../server/peer/harness.js';
import { within } from '../../../within.js';
import type { CallContext } from '../../../../services/microservice.js';
import type { PeerNetwork } from '../../../../services/peer.js';
import type { PeerNode } from '../../../../server/peer/index.js';
import { bigintToBytes, bytesToBigint } from '../../../../services/common/modexp.js';
import { PaillierPublicKey } from '../../../../services/common/paillier.js';
import { ENTRY, leastSquaresOperator } from '../../../../services/simon/products/matrix.js';
import { secureMatrixMultiplication } from '../../../../services/simon/products/secure-matrix-multiplication.js';
import { regressionOLSVertical } from '../../../../services/simon/products/regression-ols-vertical.js';
import { packingFor } from '../../../../services/simon/products/product.js';
import { contains } from '../../../support/transcript.js';
import { wrapNetwork } from '../../../support/network.js';

interface Received {
  readonly stage: string;
  readonly seq: number;
  readonly payload: Uint8Array;
}

/** The PeerNode as a PeerNetwork whose sessions record every payload they receive. */
function recording(node: PeerNode, transcript: Received[]): PeerNetwork {
  return wrapNetwork(node, (s) => ({
    async receive(from, stage, seq = 0, timeoutMs) {
      const payload = await s.receive(from, stage, seq, timeoutMs);
      transcript.push({ stage, seq, payload: Uint8Array.from(payload) });
      return payload;
    },
  }));
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

type Microprotocol = (kwargs: Record<string, unknown>, ctx: CallContext) => Promise<unknown>;

/** Runs one computation at both parties; returns each party's transcript and result. */
async function run(net: Network, microprotocol: Microprotocol, data: [unknown, unknown]) {
  const uuid = randomUUID();
  const transcripts: [Received[], Received[]] = [[], []];
  const results = await within(
    120_000,
    'two-party product',
    Promise.all(
      data.map((d, myself) =>
        microprotocol(
          { data: d, network: { nodes: net.urls, uuid, myself } },
          { signal: new AbortController().signal, peers: recording(net.parties[myself]!.node, transcripts[myself]!), log: silent },
        ),
      ),
    ),
  );
  return { transcripts, results };
}

/** Every form in which the value x could be sent in clear. */
function clearForms(x: number, n: bigint | undefined): Uint8Array[] {
  const be = Buffer.alloc(8);
  be.writeDoubleBE(x);
  const le = Buffer.alloc(8);
  le.writeDoubleLE(x);
  const fixed = ENTRY.encode(x, 'x'); // two's complement mod 2^128
  const signed = ENTRY.ring.toSigned(fixed);
  const abs = signed < 0n ? -signed : signed;
  const forms = [be, le, Buffer.from(String(x)), bigintToBytes(fixed, 16), Buffer.from(bigintToBytes(fixed, 16)).reverse()];
  if (abs >= 1n << 64n) forms.push(bigintToBytes(abs)); // long enough not to match by chance
  if (n !== undefined) forms.push(bigintToBytes(((signed % n) + n) % n, 256)); // as a residue mod N
  return forms;
}

/** The leaks of `values` in a transcript: a description of each, empty when there is none. */
function leaks(transcript: readonly Received[], values: readonly number[], n: bigint | undefined): string[] {
  const found: string[] = [];
  for (const { stage, seq, payload } of transcript) {
    values.forEach((x, i) => {
      if (clearForms(x, n).some((form) => contains(payload, form))) found.push(`value ${i} in ${stage}#${seq}`);
    });
    // A ciphertext without a randomiser is (1 + mN): m in clear. Every ciphertext must be ≠ 1 mod N.
    if (n !== undefined && (stage === 'encrypted' || stage === 'masked')) {
      for (let o = 0; o < payload.length; o += 512) {
        if (bytesToBigint(payload.subarray(o, o + 512)) % n === 1n) found.push(`a ciphertext without randomness in ${stage}#${seq}`);
      }
    }
  }
  return found;
}

/** The key owner's modulus, from the evaluator's transcript. */
function modulus(transcript: readonly Received[]): bigint {
  const key = transcript.find((r) => r.stage === 'key');
  assert.ok(key, 'the evaluator receives the key owner’s key');
  return PaillierPublicKey.fromBytes(key.payload, 'key').n;
}

function blocks(transcript: readonly Received[], stage: string, width: number): string[] {
  const out: string[] = [];
  for (const r of transcript.filter((t) => t.stage === stage)) {
    for (let o = 0; o < r.payload.length; o += width) out.push(Buffer.from(r.payload.subarray(o, o + width)).toString('hex'));
  }
  return out;
}

describe('what each party of a product receives', { timeout: 600_000 }, () => {
  let net: Network;
  before(async () => {
    net = await startNetwork(2, { mode: 'secret' }, () => ({ stageTimeoutMs: 60_000 }));
  });
  after(async () => {
    await net.close();
  });

  // Distinctive values (no digit string that a shape message could contain by chance). As given
  // (2×3 by 3×2, a tie) party 1 owns the key; with 3 rows in X and 1 column in Y the product is
  // cheaper transposed, and party 0 owns it (product.ts orientation).
  const cases = [
    { name: 'party 1 owns the key', owner: 1, X: [[1234.5678, -987.654321, 3.25], [-0.0078125, 4096.125, -77.77]], Y: [[-31.4159, 2718.28], [0.5, -1.41421356], [65536.75, -299.792458]] },
    { name: 'party 0 owns the key (transposed)', owner: 0, X: [[1234.5678, -987.654321], [3.25, -0.0078125], [4096.125, -77.77]], Y: [[-31.4159], [2718.28]] },
  ];
  for (const { name, owner, X, Y } of cases) {
    test(`SecureMatrixMultiplication, ${name}: no entry of the other matrix, in any form; fresh ciphertexts and masks`, async () => {
      const first = await run(net, secureMatrixMultiplication, [[X], [Y]]);
      const second = await run(net, secureMatrixMultiplication, [[X], [Y]]);
      const evaluator = 1 - owner;
      for (const { transcripts } of [first, second]) {
        const [p0, p1] = transcripts;
        const n = modulus(transcripts[evaluator]!);
        assert.deepEqual(leaks(p0, Y.flat(), n), [], 'party 0 sees nothing of Y');
        assert.deepEqual(leaks(p1, X.flat(), n), [], 'party 1 sees nothing of X');
        assert.deepEqual(transcripts[evaluator]!.map((r) => r.stage), ['shapes', 'key', 'encrypted', 'opened']);
        assert.deepEqual(transcripts[owner]!.map((r) => r.stage), ['shapes', 'masked', 'opened']);
        // The shapes message holds the shape and nothing else.
        assert.deepEqual(JSON.parse(Buffer.from(p0[0]!.payload).toString()), { rows: Y.length, cols: Y[0]!.length });
        assert.deepEqual(JSON.parse(Buffer.from(p1[0]!.payload).toString()), { rows: X.length, cols: X[0]!.length });
        // The opened values are packed: one per row of the evaluator's factor (X·Y's rows, or
        // Yᵀ·Xᵀ's when transposed; the other dimension fits one plaintext), and every digit of every
        // one carries a mask of more than 2^κ, far above the entry's own size.
        const { kappa, width, slots } = packingFor(Y.length);
        for (const stage of [p0, p1].map((t) => t.find((r) => r.stage === 'opened')!)) {
          const values = blocks([stage], 'opened', 256).map((h) => BigInt(`0x${h}`));
          assert.equal(values.length, owner === 1 ? X.length : Y[0]!.length);
          for (const v of values) {
            for (let t = 0; t < slots; t++) {
              const digit = (v >> BigInt(t * width)) & ((1n << BigInt(width)) - 1n);
              assert.ok(digit >= 1n << BigInt(kappa - 1), `digit ${t} is masked`);
            }
            assert.ok(v < 1n << BigInt(slots * width), 'no digit carries beyond the packing');
          }
        }
      }
      // Fresh: the two runs share no ciphertext and no mask.
      for (const [party, stage, width] of [[evaluator, 'encrypted', 512], [owner, 'masked', 512], [owner, 'opened', 256], [evaluator, 'opened', 256]] as const) {
        const a = new Set(blocks(first.transcripts[party]!, stage, width));
        const b = blocks(second.transcripts[party]!, stage, width);
        assert.ok(b.length > 0 && b.every((h) => !a.has(h)), `${stage} at party ${party} is fresh in every run`);
      }
      assert.deepEqual(first.results, second.results, 'the same product both times');
    });
  }

  test('StatisticsRegressionOLSVertical: party 1 sees nothing of X or (XᵀX)⁻¹Xᵀ, party 0 nothing of y', async () => {
    const design = [[1, 0.5], [1, 1.5], [1, 2.0], [1, 3.5], [1, 4.0]];
    const y = [1.2, 2.9, 4.1, 6.8, 8.3];
    const { transcripts } = await run(net, regressionOLSVertical, [[design], [y]]);
    const [p0, p1] = transcripts;
    // M·y is p×N by N×1, cheaper transposed: party 0 owns the key and encrypts M's columns.
    assert.deepEqual(p1.map((r) => r.stage), ['shapes', 'key', 'encrypted', 'opened']);
    assert.deepEqual(p0.map((r) => r.stage), ['shapes', 'masked', 'opened']);
    const n = modulus(p1);
    assert.deepEqual(leaks(p0, y, n), [], 'party 0 sees nothing of y');
    const M = leastSquaresOperator(design, 'X').flat();
    assert.deepEqual(leaks(p1, [...M, 0.5, 1.5, 3.5], n), [], 'party 1 sees nothing of X or M');
  });

  test('the detector finds a planted leak (a float64, a fixed-point integer, a trivial ciphertext)', async () => {
    const n = (1n << 2047n) + 12345n;
    const planted: Received[] = [
      { stage: 'encrypted', seq: 0, payload: Buffer.concat([Buffer.alloc(40, 7), clearForms(-31.4159, n)[0]!]) },
      { stage: 'opened', seq: 0, payload: clearForms(2718.28, n).at(-1)! },
      { stage: 'masked', seq: 0, payload: bigintToBytes(1n + 5n * n, 512) },
    ];
    assert.deepEqual(leaks(planted, [-31.4159, 2718.28], n), [
      'value 0 in encrypted#0',
      'value 1 in opened#0',
      'a ciphertext without randomness in masked#0',
    ]);
  });
});
