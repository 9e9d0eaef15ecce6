// Never a silent hang: a failure anywhere in a set intersection — a worker of the X25519 pool that
// throws, exits, answers a failure or never answers; a peer's invalid or small-order point; a
// message a stage handler cannot decode; an exception in a party's own protocol body — makes the
// computation fail at every party with an error that names the cause, and none of them waits for
// its stage timeout (no party's error is a TimeoutError, and every run settles within one stage
// timeout). The pool faults are planted by a real worker thread (test/support/x25519-faulty-worker.mjs)
// at one party only; the network faults by the in-memory network's fault hook.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { MemoryHub, type Fault, type InFlight } from '../../../../services/simulation/network.js';
import { ConflictError, PeerError, TesseraError, TimeoutError } from '../../../../services/errors.js';
import type { PeerNetwork } from '../../../../services/peer.js';
import type { CallContext } from '../../../../services/microservice.js';
import { StageOrder } from '../../../../services/common/stages.js';
import { freshKeys, intersectionStages, runIntersection, setIntersectionSize, type PartyKeys } from '../../../../services/simon/sets/intersection.js';
import { ELEMENT_BYTES, ExponentKey, hashToGroup, sortElements } from '../../../../services/simon/sets/group.js';
import { POOL_THRESHOLD, PoolFailure, X25519Pool } from '../../../../services/simon/sets/x25519-pool.js';
import { within } from '../../../within.js';

/** The stage timeout of every run: a party that waited for it would fail with a TimeoutError. */
const STAGE_TIMEOUT_MS = 90_000;
/** How long a party waits for its (faulty) workers. */
const POOL_DEADLINE_MS = 20_000;
const FAULTY_WORKER = new URL('../../../support/x25519-faulty-worker.mjs', import.meta.url);
const silent = pino({ level: 'silent' });

/** Long enough lists that every exponentiation goes to the worker pool. */
const COUNT = POOL_THRESHOLD + 44;
const sets = [0, 1, 2].map((p) => Array.from({ length: COUNT }, (_, i) => (i % 2 === 0 ? `shared ${i}` : `party ${p} item ${i}`)));

function onPool(keys: PartyKeys, pool: X25519Pool): PartyKeys {
  return { key: keys.key.onPool(pool), blind: keys.blind.onPool(pool), finish: keys.finish.onPool(pool) };
}

const pools: X25519Pool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

/** Runs a SetIntersectionSize (the ring, where the X25519 pool works) of `sets` on the in-memory network; every party's outcome, settled. */
async function runThree(options: { keys?: (me: number) => PartyKeys; fault?: (m: InFlight) => Fault | undefined }) {
  const hub = new MemoryHub(sets.map((_, i) => `http://party-${i}.test`), STAGE_TIMEOUT_MS);
  hub.fault = options.fault;
  const order = new StageOrder(intersectionStages(3));
  return within(
    STAGE_TIMEOUT_MS,
    'every party of the failing intersection',
    Promise.allSettled(
      sets.map(async (items, me) => {
        const session = await hub.network(me).open({ uuid: 'u', myself: me, terms: { microprotocol: 'SetIntersectionSize', nodes: hub.nodes }, stages: order.stages, order });
        return runIntersection(session, () => items, true, options.keys ?? freshKeys, undefined, POOL_DEADLINE_MS);
      }),
    ),
  );
}

/** Every party failed, none by waiting for its timeout; returns the errors. */
function everyPartyFailed(results: PromiseSettledResult<unknown>[]): Error[] {
  return results.map((r, i) => {
    assert.equal(r.status, 'rejected', `party ${i} should have failed`);
    const err = (r as PromiseRejectedResult).reason as Error;
    assert.ok(!(err instanceof TimeoutError), `party ${i} waited for its timeout: ${err.message}`);
    return err;
  });
}

/**
 * The parties other than `culprit` fail naming it: told by its abort (a 502), or, when one was
 * sending to it just as it gave up, refused by its closed session (a 409 carrying its reason).
 */
function othersNamed(errors: Error[], culprit: number): void {
  errors.forEach((e, i) => {
    if (i === culprit) return;
    assert.ok(e instanceof PeerError || e instanceof ConflictError, `party ${i}: ${e.constructor.name} ${e.message}`);
    assert.match(`${e.message} ${String(e.where)}`, new RegExp(`party ${culprit}\\b`), `party ${i} does not name party ${culprit}: ${e.message}`);
  });
}

describe('the X25519 pool settles every piece', { timeout: 600_000 }, () => {
  for (const fault of ['throw', 'exit', 'silent', 'failed'] as const) {
    test(`a worker that ${fault === 'silent' ? 'never answers' : fault === 'failed' ? 'answers a failure' : `${fault}s`}: apply rejects with PoolFailure, the next call gets a fresh worker`, async () => {
      const pool = new X25519Pool({ size: 2, workerUrl: FAULTY_WORKER, workerData: { fault, after: 1 } });
      pools.push(pool);
      const key = ExponentKey.random().onPool(pool);
      const list = sortElements(await hashToGroup(Array.from({ length: COUNT }, (_, i) => `p${i}`), 'dst'));
      // The first piece per worker is served for real: the same result as the calling thread's.
      const first = await within(60_000, 'first apply', key.apply(list, 'test', POOL_DEADLINE_MS));
      const reference = Buffer.concat(await Promise.all(Array.from({ length: COUNT / 4 }, (_, i) => key.apply(list.subarray(i * 4 * ELEMENT_BYTES, (i + 1) * 4 * ELEMENT_BYTES), 'test'))));
      assert.deepEqual(Buffer.from(first), reference);
      await within(60_000, 'second apply', assert.rejects(key.apply(list, 'test', POOL_DEADLINE_MS), (err: unknown) => err instanceof PoolFailure && /X25519 worker/.test(err.message)));
      if (fault !== 'failed') {
        // The failed worker is gone (exited, or terminated when it did not answer): a fresh one serves.
        assert.deepEqual(Buffer.from(await within(60_000, 'third apply', key.apply(list, 'test', POOL_DEADLINE_MS))), reference);
      }
    });
  }
});

describe('a failing X25519 worker at one party fails the intersection at every party', { timeout: 600_000 }, () => {
  // Each fault at one party: at its first exponentiation, or later in the ring (pieces served first).
  const placements = [
    { fault: 'throw', victim: 1, served: 0 },
    { fault: 'exit', victim: 0, served: 2 },
    { fault: 'silent', victim: 2, served: 1 },
    { fault: 'failed', victim: 0, served: 0 },
  ] as const;
  for (const { fault, victim, served } of placements) {
    test(`worker ${fault} at party ${victim} after ${served} pieces`, async () => {
      const pool = new X25519Pool({ size: 1, workerUrl: FAULTY_WORKER, workerData: { fault, after: served } });
      pools.push(pool);
      const errors = everyPartyFailed(await runThree({ keys: (me) => (me === victim ? onPool(freshKeys(me), pool) : freshKeys(me)) }));
      const own = errors[victim]!;
      assert.ok(own instanceof PoolFailure && /X25519 worker/.test(own.message), `${own.constructor.name}: ${own.message}`);
      othersNamed(errors, victim);
    });
  }

  test('an exception in a party\'s own protocol body (not a TesseraError) aborts the others, naming it', async () => {
    const errors = everyPartyFailed(
      await runThree({
        keys: (me) => {
          if (me === 2) throw new TypeError('planted bug');
          return freshKeys(me);
        },
      }),
    );
    assert.ok(errors[2] instanceof TypeError);
    othersNamed(errors, 2);
  });
});

describe("a peer's bad message fails the intersection at every party", { timeout: 600_000 }, () => {
  /** 32 bytes of u-coordinate u (little-endian). */
  const le = (u: bigint) => Buffer.from(u.toString(16).padStart(64, '0'), 'hex').reverse();

  async function replacing(stage: string, from: number, payload: (original: Uint8Array) => Uint8Array) {
    return runThree({ fault: (m) => (m.stage === stage && m.from === from && !m.abort ? { kind: 'replace', payload: payload(m.payload) } : undefined) });
  }

  test('a non-canonical point in a hop: the receiver refuses it naming the sender; everyone fails at once', async () => {
    const errors = everyPartyFailed(
      await replacing('mix-1', 0, (p) => {
        const bad = Uint8Array.from(p);
        bad.fill(0xff, 5 * ELEMENT_BYTES, 6 * ELEMENT_BYTES); // u ≥ p: element 5 is not canonical
        return bad;
      }),
    );
    assert.ok(errors[1] instanceof PeerError && /canonical/.test(errors[1].message) && /party 0/.test(String(errors[1].where)), errors[1]!.message);
    othersNamed(errors, 1);
  });

  test('a point of small order in a long list (the pool\'s path): refused naming the sender and its position', async () => {
    const errors = everyPartyFailed(
      await replacing('mix-1', 2, (p) => {
        const bad = Uint8Array.from(p);
        bad.set(le(1n), 200 * ELEMENT_BYTES); // u = 1: a point of order 4
        return bad;
      }),
    );
    assert.ok(errors[0] instanceof PeerError && /element 200 is a point of small order/.test(errors[0].message) && /party 2/.test(String(errors[0].where)), errors[0]!.message);
    othersNamed(errors, 0);
  });

  test('a published result a stage handler cannot decode (not JSON) fails every party, naming the publisher', async () => {
    const results = await replacing('result', 0, () => Buffer.from('{not json'));
    // P0 published and finished; the others refuse what they received, naming P0.
    assert.equal(results[0]!.status, 'fulfilled');
    for (const i of [1, 2]) {
      const r = results[i]!;
      assert.equal(r.status, 'rejected');
      const e = (r as PromiseRejectedResult).reason as Error;
      assert.ok(e instanceof PeerError && /party 0/.test(`${e.message} ${String(e.where)}`), e.message);
    }
  });
});

describe('on the engine (compute, as a server runs it)', { timeout: 600_000 }, () => {
  test('a malformed hop message fails every party with a problem naming the culprit, none times out', async () => {
    const hub = new MemoryHub(sets.map((_, i) => `http://party-${i}.test`), STAGE_TIMEOUT_MS);
    hub.fault = (m) => (m.stage === 'mix-2' && m.from === 1 && !m.abort ? { kind: 'replace', payload: new Uint8Array(33) } : undefined);
    const ctx = (peers: PeerNetwork): CallContext => ({ signal: new AbortController().signal, peers, log: silent });
    const results = await within(
      STAGE_TIMEOUT_MS,
      'every party',
      Promise.allSettled(sets.map((items, myself) => setIntersectionSize({ data: [items], network: { nodes: hub.nodes, uuid: 'u', myself } }, ctx(hub.network(myself))))),
    );
    const errors = everyPartyFailed(results);
    assert.ok(errors[2] instanceof PeerError && /whole number/.test(errors[2].message) && /party 1/.test(String(errors[2].where)), errors[2]!.message);
    for (const e of errors) assert.ok(e instanceof TesseraError);
    othersNamed(errors, 2);
  });
});
