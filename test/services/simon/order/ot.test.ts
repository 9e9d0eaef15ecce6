// Oblivious transfer: base OTs (Chou–Orlandi on ristretto255) and IKNP extension.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { ed25519, ristretto255 } from '@noble/curves/ed25519.js';
import { BaseOtSender, baseOtReceive, expandColumns, hashRows, iknpReceive, iknpSend, KAPPA, transpose } from '../../../../services/simon/order/ot.js';
import { ivFor, MaskStream } from '../../../../services/common/prg.js';
import { randomBits } from '../../../../services/simon/order/bits.js';

async function baseOts() {
  const sender = new BaseOtSender();
  const s = randomBits(KAPPA);
  const { reply, keys } = await baseOtReceive(sender.first, s, 'test');
  const { k0, k1 } = await sender.keys(reply, 'test');
  return { s, keys, k0, k1, reply };
}

describe('base OT (Chou–Orlandi, ristretto255)', () => {
  test("the receiver's key is the sender's key for its choice, and differs from the other", async () => {
    const { s, keys, k0, k1 } = await baseOts();
    for (let t = 0; t < KAPPA; t++) {
      assert.deepEqual(keys[t], s[t] ? k1[t] : k0[t]);
      assert.notDeepEqual(keys[t], s[t] ? k0[t] : k1[t]);
    }
    // Both choices occur, and the keys are distinct per index.
    assert.equal(new Set([...k0, ...k1].map((k) => k.toString('hex'))).size, 2 * KAPPA);
  });

  test("the receiver's points (made by OpenSSL's fixed-base X25519, ±[x]G with a random sign) do not show its choice bits", async () => {
    // With choices all 0, R_t = ±[x_t]G. Its prime-order part (an element has one Edwards point of
    // order ℓ) must not keep one x-parity: a fixed root rule would make every R_t's parity the same
    // when c_t = 0 and so tell the sender c_t. With a random sign about half are odd.
    const sender = new BaseOtSender();
    const { reply } = await baseOtReceive(sender.first, new Uint8Array(KAPPA), 'party 0 (y)');
    const eight = 8n, inverse = ed25519.Point.Fn.inv(8n);
    let odd = 0;
    for (let t = 0; t < KAPPA; t++) {
      const edwards = ed25519.Point.fromAffine(ristretto255.Point.fromBytes(reply.subarray(32 * t, 32 * (t + 1))).toAffine()).multiply(eight).multiply(inverse);
      assert.ok(edwards.isTorsionFree());
      odd += Number(edwards.toAffine().x & 1n);
    }
    // Binomial(128, ½): outside 34…94 with probability below 10^-7.
    assert.ok(odd >= 34 && odd <= 94, `${odd} of ${KAPPA} odd`);
  });

  test('a reply that is not a group element is a PeerError naming the party, not a crash', async () => {
    const sender = new BaseOtSender();
    const junk = new Uint8Array(KAPPA * 32).fill(0xff);
    await assert.rejects(sender.keys(junk, 'party 1 (x)'), (err: Error & { where?: string }) => err.name === 'PeerError' && err.where === 'party 1 (x)');
    await assert.rejects(sender.keys(new Uint8Array(5), 'party 1 (x)'), /expected 128 OT points/);
    await assert.rejects(baseOtReceive(new Uint8Array(32).fill(0xff), randomBits(KAPPA), 'party 0 (y)'), /invalid ristretto255 point/);
  });
});

describe('IKNP OT extension (random OT, chosen choice bits)', () => {
  test('the receiver learns the pad of its choice; the two pads are independent bits', async () => {
    const { s, keys, k0, k1 } = await baseOts();
    for (const m of [1, 7, 8, 1000, 20_001]) {
      const r = randomBits(m);
      const { u, pads } = iknpReceive(k0, k1, r, `label-${m}`);
      const { pad0, pad1 } = iknpSend(keys, s, u, m, `label-${m}`, 'test');
      let differ = 0;
      for (let t = 0; t < m; t++) {
        assert.equal(pads[t], r[t] ? pad1[t] : pad0[t], `OT ${t} of ${m}`);
        differ += pad0[t]! ^ pad1[t]!;
      }
      // pad0 ⊕ pad1 is what hides the sender's bit in a triple: about half of them must be 1
      // (for m = 20 001, 6 standard deviations either side).
      if (m > 10_000) assert.ok(Math.abs(differ - m / 2) < 6 * Math.sqrt(m / 4), `${differ} of ${m}`);
    }
  });

  test('wide keys (chosen-input OTs of many-bit messages): the receiver holds the key of its choice, never the other', async () => {
    const { s, keys, k0, k1 } = await baseOts();
    const m = 300;
    const wide = { from: 100, count: 150, blocks: 4 };
    const r = randomBits(m);
    const receiver = iknpReceive(k0, k1, r, 'wide', wide);
    const sender = iknpSend(keys, s, receiver.u, m, 'wide', 'test', wide);
    const bytes = 16 * wide.blocks;
    assert.equal(receiver.keys.length, wide.count * bytes);
    const seen = new Set<string>();
    for (let c = 0; c < wide.count; c++) {
      const key = (k: Uint8Array) => Buffer.from(k.subarray(c * bytes, (c + 1) * bytes)).toString('hex');
      const [chosen, other] = r[wide.from + c] ? [sender.keys1, sender.keys0] : [sender.keys0, sender.keys1];
      assert.equal(key(receiver.keys), key(chosen), `OT ${wide.from + c}`);
      assert.notEqual(key(receiver.keys), key(other));
      seen.add(key(sender.keys0)).add(key(sender.keys1));
      // The 16-byte blocks of one key are distinct too (each has its own tweak).
      const blocks = new Set(Array.from({ length: wide.blocks }, (_, k) => key(sender.keys0).slice(32 * k, 32 * (k + 1))));
      assert.equal(blocks.size, wide.blocks);
    }
    assert.equal(seen.size, 2 * wide.count, 'every key distinct');
    // Without wide keys requested, none are made, and the one-bit pads are unchanged by asking.
    const plain = iknpReceive(k0, k1, r, 'wide');
    assert.equal(plain.keys.length, 0);
    assert.deepEqual(plain.pads, receiver.pads);
  });

  test("the receiver's message does not depend on its choices beyond the PRG mask (same keys, other choices: other u)", async () => {
    const { k0, k1 } = await baseOts();
    const m = 512;
    const zero = new Uint8Array(m);
    const one = new Uint8Array(m).fill(1);
    const a = iknpReceive(k0, k1, zero, 'l').u;
    const b = iknpReceive(k0, k1, one, 'l').u;
    // u^j = G(k0_j) ⊕ G(k1_j) ⊕ r: flipping every choice flips every bit of every column.
    for (let i = 0; i < a.length; i++) assert.equal(a[i]! ^ b[i]!, 0xff);
  });

  test('a wrong label (PRG stream) breaks it: the pads no longer match', async () => {
    const { s, keys, k0, k1 } = await baseOts();
    const m = 256;
    const r = randomBits(m);
    const { u, pads } = iknpReceive(k0, k1, r, 'one');
    const { pad0, pad1 } = iknpSend(keys, s, u, m, 'another', 'test');
    let mismatches = 0;
    for (let t = 0; t < m; t++) mismatches += Number(pads[t] !== (r[t] ? pad1[t] : pad0[t]));
    assert.ok(mismatches > 50);
  });

  test('G is AES-256-CTR: the cached ECB ciphers give the stream of a fresh CTR cipher, on every call', () => {
    const seeds = Array.from({ length: 4 }, () => randomBytes(32));
    for (const [label, bytes] of [['a', 1], ['b', 16], ['c', 131], ['a', 1000]] as const) {
      const columns = expandColumns(seeds, label, bytes);
      seeds.forEach((seed, j) => {
        const ctr = MaskStream.rawCipher(seed, ivFor(`${label}/columns`)).update(Buffer.alloc(bytes));
        assert.deepEqual(Buffer.from(columns[j]!), ctr, `label ${label}, ${bytes} bytes, column ${j}`);
      });
    }
  });

  test('transpose moves bit t of column j to bit j of row t', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 70 }), (m) => {
      const cb = (m + 7) >> 3;
      const cols = Array.from({ length: KAPPA }, () => randomBytes(cb));
      const rows = transpose(cols, m);
      for (let t = 0; t < m; t++) {
        for (let j = 0; j < KAPPA; j++) {
          assert.equal((rows[t * 16 + (j >> 3)]! >> (j & 7)) & 1, (cols[j]![t >> 3]! >> (t & 7)) & 1);
        }
      }
    }), { numRuns: 40 });
  });

  test('the hash depends on the OT index (tweak): equal rows at different indices hash independently', () => {
    const m = 4096;
    const rows = new Uint8Array(m * 16); // every row the same (zero)
    const bits = hashRows(rows, m);
    const ones = bits.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(ones - m / 2) < 6 * Math.sqrt(m / 4), `${ones} of ${m}`);
  });
});
