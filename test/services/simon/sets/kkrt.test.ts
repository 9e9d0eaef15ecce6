// The batched OPRF of kkrt.ts (KKRT, CCS 2016) on its own: the random OTs are drawn here in the
// clear (both seeds for the receiver, the chosen one for the sender), so each test can hold the
// whole state of both sides and compare with a plaintext reference.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { CODE_BITS, CODE_BYTES, HASHES, OprfReceiver, OprfSender, SEED_BYTES, VALUE_BYTES, binsFor, itemIds, outputHashes } from '../../../../services/simon/sets/kkrt.js';
import { randomBits } from '../../../../services/simon/order/bits.js';

const LABEL = 'test/kkrt';

/** CODE_BITS random OTs in the clear: the receiver's two seeds and the sender's choice and seed. */
function ots(s = randomBits(CODE_BITS)) {
  const seeds0 = Array.from({ length: CODE_BITS }, () => randomBytes(SEED_BYTES));
  const seeds1 = Array.from({ length: CODE_BITS }, () => randomBytes(SEED_BYTES));
  return { seeds0, seeds1, s, chosen: (bits: Uint8Array) => Array.from(bits, (b, j) => (b ? seeds1 : seeds0)[j]!) };
}

function values(list: Uint8Array): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < list.length; i += VALUE_BYTES) out.add(Buffer.from(list.subarray(i, i + VALUE_BYTES)).toString('latin1'));
  return out;
}

function hex(v: Uint8Array): string {
  return Buffer.from(v).toString('latin1');
}

function run(receiverItems: string[], senderItems: string[], bits = randomBits(CODE_BITS)) {
  const o = ots(bits);
  const receiver = new OprfReceiver(itemIds(receiverItems));
  const u = receiver.query(o.seeds0, o.seeds1, LABEL);
  const sender = new OprfSender(bits, o.chosen(bits), u, receiver.bins, receiver.salt, LABEL, 'test');
  return { receiver, sender, u, o };
}

describe('KKRT batched OPRF', () => {
  test('the receiver finds exactly the items both hold (plaintext reference), for sets of several sizes', () => {
    for (const [r, s, shared] of [
      [1, 1, 1],
      [1, 1, 0],
      [0, 5, 0],
      [5, 0, 0],
      [50, 70, 20],
      [3000, 2000, 700],
    ] as const) {
      const common = Array.from({ length: shared }, (_, i) => `shared ${i}`);
      const mine = [...common, ...Array.from({ length: r - shared }, (_, i) => `receiver ${i}`)];
      const theirs = [...Array.from({ length: s - shared }, (_, i) => `sender ${i}`), ...common];
      const { receiver, sender } = run(mine, theirs);
      const found = receiver.matches(values(sender.evaluate(itemIds(theirs)).values[0]!)).map((i) => mine[i]);
      const reference = mine.filter((x) => theirs.includes(x));
      assert.deepEqual(found, reference, `${r} × ${s} with ${shared} shared`);
      assert.equal(receiver.bins, binsFor(r));
    }
  });

  test('the receiver\'s value of each of its items is one of the sender\'s three evaluations of that item, and of no other item', () => {
    const mine = Array.from({ length: 200 }, (_, i) => `item ${i}`);
    const { receiver, sender } = run(mine, []);
    const own = receiver.valuesByItem();
    assert.equal(own.length, mine.length);
    const everyOther = values(sender.evaluate(itemIds(mine.map((x) => `${x}!`))).values[0]!);
    mine.forEach((x, i) => {
      const evaluations = sender.evaluate(itemIds([x])).values[0]!;
      assert.equal(evaluations.length, HASHES * VALUE_BYTES);
      assert.ok(values(evaluations).has(hex(own[i]!)), x);
      assert.ok(!everyOther.has(hex(own[i]!)));
    });
    // Distinct items get distinct values (no accidental collisions in the batch).
    assert.equal(new Set(own.map(hex)).size, mine.length);
  });

  test("the receiver's view does not determine a non-matching sender item's value: it changes with the sender's secret s, which the receiver never sees, while its own values do not", () => {
    const mine = Array.from({ length: 300 }, (_, i) => `r${i}`);
    const theirs = [...mine.slice(0, 100), ...Array.from({ length: 200 }, (_, i) => `s${i}`)];
    const o = ots();
    const receiver = new OprfReceiver(itemIds(mine));
    const u = receiver.query(o.seeds0, o.seeds1, LABEL);
    // Everything the receiver holds — its items, salt, both seeds of every OT, u — is fixed; only
    // the sender's secret choice bits differ between the two worlds.
    const s1 = randomBits(CODE_BITS);
    const s2 = randomBits(CODE_BITS);
    const world1 = new OprfSender(s1, o.chosen(s1), u, receiver.bins, receiver.salt, LABEL, 'test').evaluate(itemIds(theirs)).values[0]!;
    const world2 = new OprfSender(s2, o.chosen(s2), u, receiver.bins, receiver.salt, LABEL, 'test').evaluate(itemIds(theirs)).values[0]!;
    const own = new Set(receiver.valuesByItem().map(hex));
    for (let x = 0; x < theirs.length; x++) {
      const v1 = values(world1.subarray(x * HASHES * VALUE_BYTES, (x + 1) * HASHES * VALUE_BYTES));
      const v2 = values(world2.subarray(x * HASHES * VALUE_BYTES, (x + 1) * HASHES * VALUE_BYTES));
      const shared = [...v1].filter((v) => v2.has(v));
      if (x < 100) {
        // A matching item: exactly its value in the receiver's bin is the same in both worlds.
        assert.equal(shared.length, 1, theirs[x]);
        assert.ok(own.has(shared[0]!));
      } else {
        // A non-matching item: every one of its values depends on s, and none is a receiver value.
        assert.equal(shared.length, 0, theirs[x]);
        for (const v of v1) assert.ok(!own.has(v));
      }
    }
    // The receiver's matches are the same in both worlds: the output, and only it, is fixed.
    assert.deepEqual(receiver.matches(values(world1)), receiver.matches(values(world2)));
  });

  test("the sender's view, u, is uniformly masked: the same receiver items give unrelated rows in two runs", () => {
    const mine = ['a', 'b', 'c'];
    const first = run(mine, []);
    const second = run(mine, []);
    assert.notDeepEqual(first.u, second.u);
    // Every bit position is about half ones (the rows are T ⊕ G(k¹) ⊕ C: a one-time pad to the sender).
    const ones = [...first.u].reduce((n, byte) => n + byte.toString(2).split('1').length - 1, 0);
    const bits = first.u.length * 8;
    assert.ok(Math.abs(ones / bits - 0.5) < 0.03, `${ones} of ${bits} bits set`);
  });

  test('a query of the wrong length or salt is refused, naming the sender', () => {
    const bits = randomBits(CODE_BITS);
    const o = ots(bits);
    const receiver = new OprfReceiver(itemIds(['x']));
    const u = receiver.query(o.seeds0, o.seeds1, LABEL);
    assert.throws(() => new OprfSender(bits, o.chosen(bits), u.subarray(1), receiver.bins, receiver.salt, LABEL, 'party 0'), /OPRF query of .* bytes/);
    assert.throws(() => new OprfSender(bits, o.chosen(bits), u, receiver.bins, receiver.salt.subarray(1), LABEL, 'party 0'), /salt/);
  });
});

describe('the OPRF output hash H', () => {
  // The construction written out one value and one block at a time, with its own AES calls: a
  // Matyas–Meyer–Oseas chain of a fixed-key AES-128 permutation over the row's four blocks,
  // started at AES_salt(bin ‖ tag ‖ domain) (kkrt.ts, outputHashes).
  const piKey = createHash('sha256').update('tessera/simon/sets/kkrt/out/aes-128/v2').digest().subarray(0, 16);
  const ecb = (key: Uint8Array, block: Uint8Array) => {
    const c = createCipheriv('aes-128-ecb', key, null);
    c.setAutoPadding(false);
    return c.update(block);
  };
  function reference(salt: Uint8Array, tag: number, bin: number, row: Uint8Array): Buffer {
    const tweak = Buffer.concat([Buffer.alloc(5), Buffer.from('kkrt/out/v2')]);
    tweak.writeUInt32LE(bin, 0);
    tweak[4] = tag;
    let h = ecb(salt, tweak);
    for (let j = 0; j < 4; j++) {
      const y = Buffer.alloc(16);
      for (let k = 0; k < 16; k++) y[k] = h[k]! ^ row[16 * j + k]!;
      const p = ecb(piKey, y);
      h = Buffer.alloc(16);
      for (let k = 0; k < 16; k++) h[k] = p[k]! ^ y[k]!;
    }
    return h;
  }

  test('the batched hash equals the chain computed value by value, for rows at any offset', () => {
    const salt = randomBytes(16);
    const count = 37;
    const bins = Uint32Array.from({ length: count }, () => randomBytes(4).readUInt32LE(0));
    const rows = new Uint8Array(randomBytes(1 + count * CODE_BYTES)).subarray(1);
    for (const tag of [0, 1]) {
      const batched = outputHashes(salt, tag, bins, rows);
      assert.equal(batched.length, count * VALUE_BYTES);
      for (let v = 0; v < count; v++) {
        assert.deepEqual(Buffer.from(batched.subarray(v * VALUE_BYTES, (v + 1) * VALUE_BYTES)), reference(salt, tag, bins[v]!, rows.subarray(v * CODE_BYTES, (v + 1) * CODE_BYTES)), `value ${v}, tag ${tag}`);
      }
    }
  });

  test('every input changes the value: the row (any one bit), the bin, the tag and the salt', () => {
    const salt = randomBytes(16);
    const row = new Uint8Array(randomBytes(CODE_BYTES));
    const one = (s: Uint8Array, tag: number, bin: number, r: Uint8Array) => Buffer.from(outputHashes(s, tag, Uint32Array.of(bin), r)).toString('hex');
    const base = one(salt, 0, 5, row);
    const seen = new Set([base]);
    for (let bit = 0; bit < CODE_BITS; bit++) {
      const flipped = Uint8Array.from(row);
      flipped[bit >>> 3]! ^= 1 << (bit & 7);
      seen.add(one(salt, 0, 5, flipped));
    }
    seen.add(one(salt, 1, 5, row));
    seen.add(one(salt, 0, 6, row));
    seen.add(one(randomBytes(16), 0, 5, row));
    assert.equal(seen.size, 1 + CODE_BITS + 3);
  });
});
