// The building blocks of the set protocols: hashing onto the group (against @noble/curves'
// RFC 9380 hash_to_ristretto255), commuting X25519 exponents, the checks on a peer's group elements,
// exponential ElGamal on ristretto255, and how `data` is read.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519, ristretto255, ristretto255_hasher, x25519 } from '@noble/curves/ed25519.js';
import { PeerError, BadInputError } from '../../../../services/errors.js';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { createHash } from 'node:crypto';
import { POOL_THRESHOLD } from '../../../../services/simon/sets/x25519-pool.js';
import { ExponentKey, checkElements, elementAt, hashToGroup, referenceU, sortElements, uniformBytes } from '../../../../services/simon/sets/group.js';
import { ElGamal, ZERO_CIPHERTEXT, encodeCiphertexts } from '../../../../services/simon/sets/elgamal.js';
import { compareCodePoints, parseSetInput, parseVerticalInput } from '../../../../services/simon/sets/input.js';

const P = (1n << 255n) - 19n;
const le = (v: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
const createHashHex = (s: string) => createHash('sha256').update(s).digest('hex');
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('hashing onto the group', () => {
  test('expand_message_xmd on node:crypto agrees with noble', () => {
    for (const [item, dst] of [['', 'a'], ['Zürich', 'dst-a'], ['x'.repeat(300), 'd'.repeat(200)]] as const) {
      assert.deepEqual(new Uint8Array(uniformBytes(item, dst)), expand_message_xmd(new TextEncoder().encode(item), new TextEncoder().encode(dst), 64, sha512), item);
    }
  });

  test("is 1/s² of noble's hash_to_ristretto255 for every item of several slices", async () => {
    const items = Array.from({ length: 150 }, (_, i) => (i % 3 === 0 ? `item ${i}` : i % 3 === 1 ? `ü${i}\u{1F600}` : String(i)));
    items.push('', 'e\u0301', 'x'.repeat(1000));
    const fast = await hashToGroup(items, 'dst-fast');
    items.forEach((item, i) => assert.deepEqual(Buffer.from(elementAt(fast, i)), Buffer.from(referenceU(item, 'dst-fast')), item));
  });

  test("names the ristretto255 element: a clamped key gives X25519 of noble's Edwards representative", async () => {
    const Fp = ed25519.Point.Fp;
    const items = ['Genf', 'Zürich', '', 'x'.repeat(200)];
    const us = await hashToGroup(items, 'dst-a');
    const key = new Uint8Array(32).fill(0x5a);
    items.forEach((item, i) => {
      // The representative noble decodes s to, in extended coordinates; u = (Z + Y)/(Z − Y).
      const { ep } = ristretto255_hasher.hashToCurve(new TextEncoder().encode(item), { DST: 'dst-a' }) as unknown as { ep: InstanceType<typeof ed25519.Point> };
      const u = Fp.div(Fp.add(ep.Z, ep.Y), Fp.sub(ep.Z, ep.Y));
      const theirs = Uint8Array.from({ length: 32 }, (_, j) => Number((u >> BigInt(8 * j)) & 0xffn));
      assert.deepEqual(x25519.getSharedSecret(key, elementAt(us, i)), x25519.getSharedSecret(key, theirs), item);
    });
  });

  test('every hashed element is on the curve, not on its twist', async () => {
    const us = await hashToGroup(Array.from({ length: 40 }, (_, i) => `t${i}`), 'dst-a');
    for (let i = 0; i < 40; i++) {
      const u = BigInt(`0x${Buffer.from(elementAt(us, i)).reverse().toString('hex')}`);
      const rhs = ed25519.Point.Fp.create(u * u * u + 486662n * u * u + u);
      assert.equal(ed25519.Point.Fp.pow(rhs, (P - 1n) / 2n), 1n, `element ${i}`);
    }
  });

  test('hashes the exact bytes under the domain separation tag', async () => {
    const [a, b] = [await hashToGroup(['é', 'e\u0301', 'é'], 'dst-a'), await hashToGroup(['é'], 'dst-b')];
    assert.notDeepEqual(elementAt(a, 0), elementAt(a, 1));
    assert.deepEqual(elementAt(a, 0), elementAt(a, 2));
    assert.notDeepEqual(elementAt(a, 0), elementAt(b, 0));
  });
});

describe('X25519 exponents', () => {
  test('commute', async () => {
    const h = await hashToGroup(['a', 'b', 'c'], 'dst');
    const [a, k] = [ExponentKey.random(), ExponentKey.random()];
    assert.deepEqual(await a.apply(await k.apply(h, 'test'), 'test'), await k.apply(await a.apply(h, 'test'), 'test'));
  });

  test('withBlinding: blind, other keys, then finish is the key with the other keys (the blinding comes off)', async () => {
    // On the hashed points themselves (with their cofactor component): the blind clears it, as the key would.
    const h = await hashToGroup(['a', 'b', 'c'], 'dst');
    const [key, other] = [ExponentKey.random(), ExponentKey.random()];
    const { blind, finish } = key.withBlinding();
    const blinded = await blind.apply(h, 'test');
    assert.notDeepEqual(blinded, await key.apply(h, 'test'));
    assert.deepEqual(await finish.apply(await other.apply(blinded, 'test'), 'test'), await other.apply(await key.apply(h, 'test'), 'test'));
  });

  test('fresh keys give unrelated values', async () => {
    const h = await hashToGroup(['a'], 'dst');
    assert.notDeepEqual(await ExponentKey.random().apply(h, 'test'), await ExponentKey.random().apply(h, 'test'));
  });

  // Points of small order (RFC 7748 §7; Bernstein's list): u = 0, 1, and the order-8 points.
  const smallOrder = [0n, 1n, 325606250916557431795983626356110631294008115727848805560023387167927233504n, 39382357235489614581723060781553021112529911719440698176882885853963445705823n];
  for (const u of smallOrder) {
    test(`a peer's point of small order is refused (u = ${String(u).slice(0, 12)}…), naming the peer`, async () => {
      await assert.rejects(ExponentKey.random().apply(le(u), 'party 1'), (err: unknown) => err instanceof PeerError && err.where === 'party 1' && /small order/.test(err.message));
    });
  }
});

describe('X25519 on the worker threads (long lists)', () => {
  test('a list above POOL_THRESHOLD gives what the calling thread gives in short pieces, in order', async () => {
    const count = POOL_THRESHOLD * 2 + 37;
    const h = await hashToGroup(Array.from({ length: count }, (_, i) => `pool ${i}`), 'dst');
    const key = ExponentKey.random();
    const pooled = await key.apply(h, 'test');
    const pieces: Uint8Array[] = [];
    for (let start = 0; start < count; start += POOL_THRESHOLD - 1) {
      pieces.push(await key.apply(h.subarray(start * 32, Math.min(count, start + POOL_THRESHOLD - 1) * 32), 'test'));
    }
    assert.deepEqual(Buffer.from(pooled), Buffer.concat(pieces));
  });

  test('a point of small order deep in a long list is refused, naming the peer and its position', async () => {
    const count = POOL_THRESHOLD * 2;
    const h = await hashToGroup(Array.from({ length: count }, (_, i) => `bad ${i}`), 'dst');
    h.set(le(1n), (count - 3) * 32);
    h.set(le(0n), (count - 1) * 32);
    await assert.rejects(ExponentKey.random().apply(h, 'party 2'), (err: unknown) => err instanceof PeerError && err.where === 'party 2' && err.message === `element ${count - 3} is a point of small order`);
  });
});

describe("checks on a peer's list of elements", () => {
  const good = le(9n);
  const cases: [string, Uint8Array, RegExp, number?][] = [
    ['a partial element', new Uint8Array(33), /whole number/],
    ['the top bit set (not canonical)', le((1n << 255n) + 9n), /canonical/],
    ['u = p (not reduced)', le(P), /canonical/],
    ['u = p + 9 (not reduced)', le(P + 9n), /canonical/],
    ['a repeated element', concat(good, good), /repeats/],
    ['a wrong count', concat(good, le(10n)), /expected 3/, 3],
  ];
  for (const [name, payload, message, expected] of cases) {
    test(`refuses ${name}`, () => {
      assert.throws(() => checkElements(payload, 'party 2', expected), (err: unknown) => err instanceof PeerError && err.where === 'party 2' && message.test(err.message));
    });
  }
  test('sorting is byte order, also for elements that share their first bytes; a repeat among them is found', () => {
    // Elements sharing a 4-byte prefix take the sort's tie path; the order must still be by bytes.
    const shared = Uint8Array.from([0xab, 0xcd, 0x01, 0x02]);
    const list = new Uint8Array(40 * 32);
    for (let i = 0; i < 40; i++) {
      const e = le(BigInt(`0x${createHashHex(`e${i}`)}`) % P);
      if (i % 2 === 0) e.set(shared);
      list.set(e, i * 32);
    }
    const expected = Array.from({ length: 40 }, (_, i) => Buffer.from(list.subarray(i * 32, i * 32 + 32))).sort(Buffer.compare);
    assert.deepEqual(Buffer.from(sortElements(list)), Buffer.concat(expected));
    assert.equal(checkElements(list, 'x'), list);
    const repeated = concat(list, list.subarray(2 * 32, 3 * 32));
    assert.throws(() => checkElements(repeated, 'party 1'), (err: unknown) => err instanceof PeerError && /repeats/.test(err.message));
  });

  test('u = p − 1 and u = 2^255 − 20 − 2^8 are canonical; p − 1 + 1 is not', () => {
    assert.doesNotThrow(() => checkElements(le(P - 1n), 'x'));
    assert.doesNotThrow(() => checkElements(le(P - 1n - 256n), 'x'));
    assert.doesNotThrow(() => checkElements(le((1n << 254n) + 5n), 'x'));
    assert.throws(() => checkElements(le(P - 1n + 1n), 'x'), /canonical/);
  });

  test('accepts canonical distinct elements; sorting orders them by bytes', () => {
    const list = concat(le(10n), le(9n), le(P - 1n));
    assert.equal(checkElements(list, 'x'), list);
    assert.deepEqual(sortElements(list), concat(le(9n), le(10n), le(P - 1n)));
  });
});

describe('exponential ElGamal on ristretto255 (libsodium)', async () => {
  const group = await ElGamal.load();
  const key = group.secretKey();
  const decode = group.countDecoder(1000);
  const G = ristretto255.Point.BASE;
  const noble = (p: Uint8Array) => ristretto255.Point.fromBytes(p);

  test('decrypts sums of encrypted counts; re-randomising changes the ciphertext, not the count', () => {
    const sum = [3, 0, 1, 996].map((m) => key.encrypt(m)).reduce((a, b) => group.addCiphertexts(a, b));
    assert.equal(decode(key.decryptToPoint(sum), 'test'), 1000);
    const again = key.publicKey.rerandomize(sum);
    assert.notDeepEqual(encodeCiphertexts([again]), encodeCiphertexts([sum]));
    assert.equal(decode(key.decryptToPoint(again), 'test'), 1000);
    assert.deepEqual(key.decryptToPoint(key.encrypt(7)), group.timesG(7));
    assert.equal(decode(key.decryptToPoint(group.addCiphertexts(ZERO_CIPHERTEXT, key.encrypt(0))), 'test'), 0);
  });

  test('is textbook ElGamal in an independent implementation (noble): m·G = C2 − s·C1, and the key is s·G', () => {
    const s = 0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefn;
    const known = group.secretKeyFrom(le(s));
    assert.ok(noble(known.publicKey.toBytes()).equals(G.multiply(s)));
    for (const m of [0, 1, 2, 41, 1000]) {
      const { c1, c2 } = known.encrypt(m);
      const mG = noble(c2).subtract(noble(c1).multiply(s));
      assert.ok(m === 0 ? mG.is0() : mG.equals(G.multiply(BigInt(m))), `m = ${m}`);
      const { c1: r1, c2: r2 } = known.publicKey.rerandomize({ c1, c2 });
      assert.ok(noble(r2).subtract(noble(r1).multiply(s)).equals(mG), `re-randomised m = ${m}`);
      assert.ok(!noble(r1).equals(noble(c1)));
    }
    assert.deepEqual(group.timesG(5), G.multiply(5n).toBytes());
    assert.deepEqual(group.add(group.timesG(2), group.timesG(3)), G.multiply(5n).toBytes());
    assert.deepEqual(group.times(le(7n), group.timesG(3)), G.multiply(21n).toBytes());
  });

  test('a count beyond the bound is refused', () => {
    assert.throws(() => decode(key.decryptToPoint(key.encrypt(1001)), 'party 0'), PeerError);
  });

  test('round-trips ciphertexts and refuses invalid encodings from a peer', () => {
    const c = [key.encrypt(1), key.encrypt(2)];
    const bytes = encodeCiphertexts(c);
    assert.equal(decode(key.decryptToPoint(group.decodeCiphertexts(bytes, 2, 'p')[1]!), 'p'), 2);
    assert.throws(() => group.decodeCiphertexts(bytes, 3, 'party 1'), PeerError);
    // Not canonical: a field element ≥ p, a negative (odd) s, and bytes that decode to no point.
    for (const bad of [new Uint8Array(32).fill(0xff), le(1n), le(P - 2n)]) {
      assert.throws(() => noble(bad));
      assert.throws(() => group.decodePoint(bad, 'party 1'), (err: unknown) => err instanceof PeerError && err.where === 'party 1');
      assert.throws(() => group.decodeCiphertexts(concat(bad, G.toBytes()), 1, 'party 1'), PeerError);
    }
    assert.deepEqual(group.decodePoint(G.toBytes(), 'x'), G.toBytes());
    assert.throws(() => group.publicKey(new Uint8Array(32), 'party 1'), (err: unknown) => err instanceof PeerError && /identity/.test(err.message));
  });
});

describe('reading data', () => {
  const sets: [string, { given: unknown; want?: string[]; where?: string }][] = [
    ['a set is the intersection of its lists', { given: [['a', 'b', 'c', 'b'], ['c', 'b', 'z']], want: ['b', 'c'] }],
    ['no lists: the empty set', { given: [], want: [] }],
    ['one empty list', { given: [[]], want: [] }],
    ['a flat list of strings is refused, not read as characters', { given: ['ab', 'bc'], where: 'kwargs.data' }],
    ['a number item', { given: [['a', 1]], where: 'kwargs.data[0][1]' }],
    ['null item', { given: [['a'], [null]], where: 'kwargs.data[1][0]' }],
    ['an object', { given: { a: 1 }, where: 'kwargs.data' }],
  ];
  for (const [name, { given, want, where }] of sets) {
    test(`sets: ${name}`, () => {
      if (want !== undefined) assert.deepEqual(parseSetInput(given), want);
      else assert.throws(() => parseSetInput(given), (err: unknown) => err instanceof BadInputError && err.where === where);
    });
  }

  test('vertical records: a later pair replaces, categories by first appearance of the final records', () => {
    const r = parseVerticalInput([['u1', 'b'], ['u2', 'a'], ['u1', 'c'], ['u3', 'a']]);
    assert.deepEqual(r.ids, ['u1', 'u2', 'u3']);
    assert.deepEqual(r.categories, ['c', 'a']);
  });

  test('code-point order, not UTF-16 order', () => {
    assert.deepEqual(['\u{1F600}', '\uFFFD', 'a'].sort(compareCodePoints), ['a', '\uFFFD', '\u{1F600}']);
  });
});
