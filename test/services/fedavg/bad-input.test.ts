// SecureFedAvg's one policy for bad input and its declared stage order (issues 9 and 11).
//
// Bad input: every input a party gives — its weight, its tensors, and the options min_parties,
// max_weight, ring_bits, ttl — is checked after the session is open. The party answers at once
// with a problem naming its field; the others fail at once naming that party (an abort, or a
// disagreement on the option's term), never at their stage timeout: the network below waits 60 s,
// and every call must settle within a few seconds.
//
// Stage order: FEDAVG_ORDER refuses every transition that is not in protocol order or one of the
// declared back edges (written out by hand below, not derived from the rule under test), and a
// message out of order is refused at delivery.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../services/simulation/network.js';
import { prepareFedAvg, secureFedAvg } from '../../../services/fedavg/index.js';
import { FEDAVG_ORDER, FEDAVG_STAGES, termsFor } from '../../../services/fedavg/protocol.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { BadInputError, ConflictError, TesseraError, TimeoutError } from '../../../services/errors.js';
import type { CallContext, ServerObject } from '../../../services/microservice.js';
import { fixedPoint } from '../../../services/common/vector.js';
import { within } from '../../within.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const NODES = [0, 1, 2].map((i) => `http://127.0.0.1:${57100 + i}`);
/** Far beyond the test's own bound: a party that waited for it would fail the test. */
const STAGE_TIMEOUT_MS = 60_000;
let counter = 0;

const modelOf = (k: number, length = 8): TensorSet => TensorSet.from({ w: new Float64Array(length).map((_, i) => Math.sin(k + i)) });
const ctxOf = (hub: MemoryHub, i: number): CallContext => ({ signal: new AbortController().signal, peers: hub.network(i), log: silent });

/** Parties 0 and 2 call with good input (min_parties 2 of 3); party 1 with `bad` merged into its kwargs. */
async function withBadParty(bad: Record<string, unknown>, base: Record<string, unknown> = { min_parties: 2 }): Promise<PromiseSettledResult<unknown>[]> {
  const hub = new MemoryHub(NODES, STAGE_TIMEOUT_MS);
  const uuid = `bad-input-${++counter}`;
  const calls = NODES.map((_, i) => {
    const kwargs = { data: { tensors: modelOf(i), weight: i + 1 }, network: { nodes: NODES, uuid, myself: i }, ...base };
    return secureFedAvg(i === 1 ? { ...kwargs, ...bad, data: { ...kwargs.data, ...((bad.data as object | undefined) ?? {}) } } : kwargs, ctxOf(hub, i));
  });
  return within(15_000, 'every party', Promise.allSettled(calls));
}

function expectNamed(settled: PromiseSettledResult<unknown>[], field: string, value?: string): void {
  const own = settled[1]!;
  assert.equal(own.status, 'rejected');
  const err = (own as PromiseRejectedResult).reason as TesseraError;
  assert.ok(err instanceof BadInputError, String(err));
  assert.equal(err.where, field);
  for (const i of [0, 2]) {
    const s = settled[i]!;
    assert.equal(s.status, 'rejected', `party ${i} must fail`);
    const theirs = (s as PromiseRejectedResult).reason as TesseraError;
    assert.ok(!(theirs instanceof TimeoutError), `party ${i} waited for its timeout: ${String(theirs)}`);
    assert.ok(`${theirs.where} ${theirs.message}`.includes(`party 1 (${NODES[1]})`), `party ${i}: ${String(theirs)}`);
    // The value party 1 gave never leaves it, not even in a problem.
    if (value !== undefined) assert.ok(!`${theirs.where} ${theirs.message}`.includes(value), `party ${i}: ${theirs.message}`);
  }
}

describe('SecureFedAvg: one policy for bad input (checked after the session opens)', () => {
  const cases: [string, Record<string, unknown>, string, string?][] = [
    ['weight 0', { data: { weight: 0 } }, 'kwargs.data.weight'],
    ['a NaN weight', { data: { weight: NaN } }, 'kwargs.data.weight'],
    ['min_parties above the party count', { min_parties: 77 }, 'kwargs.min_parties', '77'],
    ['min_parties not more than half the parties', { min_parties: 1 }, 'kwargs.min_parties'],
    ['min_parties not a number', { min_parties: 'two' }, 'kwargs.min_parties', 'two'],
    ['a negative max_weight', { max_weight: -12345 }, 'kwargs.max_weight', '12345'],
    ['ring_bits 16', { ring_bits: 16 }, 'kwargs.ring_bits'],
    ['an unknown rescue', { rescue: 'sometimes' }, 'kwargs.rescue', 'sometimes'],
  ];
  for (const [name, bad, field, value] of cases) {
    test(`${name}: a 400 naming ${field} at party 1, the others fail at once naming it`, async () => {
      expectNamed(await withBadParty(bad), field, value);
    });
  }

  test('a NaN element: named with its tensor, after setup, and the others abort at once', async () => {
    const tensors = TensorSet.from({ w: new Float64Array(8).fill(1).map((v, i) => (i === 5 ? NaN : v)) });
    const settled = await withBadParty({ data: { tensors } });
    const own = (settled[1] as PromiseRejectedResult).reason as TesseraError;
    assert.ok(own instanceof BadInputError, String(own));
    assert.match(String(own.where), /^kwargs\.data\.tensors\.w/);
    for (const i of [0, 2]) assert.ok(!((settled[i] as PromiseRejectedResult).reason instanceof TimeoutError));
  });

  test('a tensor that differs from the others (a mismatch at setup): every party fails at once, naming a party and the tensor', async () => {
    const settled = await withBadParty({ data: { tensors: modelOf(1, 9) } });
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      const err = (s as PromiseRejectedResult).reason as TesseraError;
      assert.ok(!(err instanceof TimeoutError), String(err));
      assert.match(`${err.where} ${err.message}`, /party [012] \(/);
    }
  });

  test('a submitted tensor that is not the announced one, and a bad ttl at prepare', async () => {
    const hub = new MemoryHub(NODES, STAGE_TIMEOUT_MS);
    const uuid = `bad-submit-${++counter}`;
    const prepared = (await within(15_000, 'prepare', Promise.all(NODES.map((_, i) =>
      prepareFedAvg({ microprotocol: 'SecureFedAvg', data: { tensors: modelOf(i) }, network: { nodes: NODES, uuid, myself: i }, min_parties: 2 }, ctxOf(hub, i)))))) as ServerObject[];
    const submit = (i: number, tensors: TensorSet) => prepared[i]!.members.submit!([], { data: { tensors, weight: 1 } }, ctxOf(hub, i)) as Promise<TensorSet>;
    const settled = await within(15_000, 'submit', Promise.allSettled([submit(0, modelOf(0)), submit(1, modelOf(1, 9)), submit(2, modelOf(2))]));
    const own = (settled[1] as PromiseRejectedResult).reason as TesseraError;
    assert.ok(own instanceof BadInputError, String(own));
    assert.match(String(own.where), /^kwargs\.data\.tensors/);
    for (const i of [0, 2]) {
      const err = (settled[i] as PromiseRejectedResult).reason as TesseraError;
      assert.ok(!(err instanceof TimeoutError), String(err));
      assert.ok(`${err.where} ${err.message}`.includes(`party 1 (${NODES[1]})`), String(err));
    }

    const hub2 = new MemoryHub(NODES, STAGE_TIMEOUT_MS);
    const uuid2 = `bad-ttl-${++counter}`;
    const calls = NODES.map((_, i) =>
      prepareFedAvg({ microprotocol: 'SecureFedAvg', data: { tensors: modelOf(i) }, network: { nodes: NODES, uuid: uuid2, myself: i }, ...(i === 1 ? { ttl: -5 } : {}) }, ctxOf(hub2, i)));
    const ttl = await within(15_000, 'prepare with a bad ttl', Promise.allSettled(calls));
    expectNamed(ttl, 'kwargs.ttl');
  });
});

describe('SecureFedAvg: its stages, declared once, in an explicit order', () => {
  const S = FEDAVG_STAGES;
  // The only back edges, each with its reason in protocol.ts FEDAVG_ORDER.
  const BACK: [string, string][] = [
    [S.gather, S.reduce],
    [S.recontribute, S.rescue],
    [S.done, S.recontribute],
    [S.done, S.rescued],
    [S.rescued, S.rescue],
  ];
  test('every transition: forward (or the same stage) and the declared back edges are allowed, every other is refused', () => {
    const all = S.all;
    for (const [a, from] of all.entries()) {
      for (const [b, to] of all.entries()) {
        const valid = b >= a || BACK.some(([x, y]) => x === from && y === to);
        assert.equal(FEDAVG_ORDER.allows(from, to), valid, `${from} -> ${to}`);
      }
      assert.equal(FEDAVG_ORDER.allows(from, 'undeclared'), false);
    }
    assert.equal(FEDAVG_ORDER.allows(undefined, S.setup), true);
  });

  test('a message out of order is refused at delivery, naming its sender', async () => {
    const hub = new MemoryHub(NODES, 2_000);
    const params = { variant: 'SecureFedAvg' as const, fixedPoint: fixedPoint(64, 32) };
    const open = (i: number) => hub.network(i).open({ uuid: 'order', myself: i, terms: termsFor(params, NODES), stages: S.all, order: FEDAVG_ORDER });
    const [, one] = await Promise.all([open(0), open(1)]);
    await one.send(0, S.reduce, new Uint8Array(16), 0);
    await assert.rejects(one.send(0, S.weights, new Uint8Array(8), 0), (err: unknown) => err instanceof ConflictError && /party 1 .*"weights" message after "reduce": out of order/.test(err.message));
  });
});
