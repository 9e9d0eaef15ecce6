// The double-masked round's options around a holder dropping after the decision, and the rule
// that decides the included set (services/fedavg/double.ts, docs/dropouts.md), over the
// in-memory network:
// - rescue "none": no backup is sent; a party dropping before the decision is survived as with
//   the backup, a party dropping after it fails the round at every survivor naming it; a segment
//   that missed one party is forwarded by another; nothing is unmasked for a second set; and the
//   average is released only once every included party holds it (all or nothing).
// - the included set: a party that will be excluded no longer excludes the parties it did not hear
//   from (includedSet), so one party with a broken inbound link costs itself, not the others.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../services/simulation/network.js';
import { secureFedAvg } from '../../../services/fedavg/index.js';
import { includedSet } from '../../../services/fedavg/double.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { BadInputError, PeerError, TimeoutError, type TesseraError } from '../../../services/errors.js';
import type { CallContext } from '../../../services/microservice.js';
import { Layout, manifestOf } from '../../../services/fedavg/layout.js';
import { CHUNK_ELEMENTS } from '../../../services/fedavg/protocol.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const STAGE_MS = 800;
const WEIGHTS = [3, 5, 11, 7, 2];
let counter = 0;

const nodesOf = (n: number) => Array.from({ length: n }, (_, i) => `http://127.0.0.1:${57100 + i}`);

function modelOf(k: number): TensorSet {
  return TensorSet.from({ w: new Float64Array(40).map((_, i) => Math.cos(k * 3 + i)) });
}

function ctxOf(hub: MemoryHub, i: number): CallContext {
  return { signal: new AbortController().signal, peers: hub.network(i), log: silent };
}

function assertAverage(got: TensorSet, parties: number[]): void {
  const total = parties.reduce((a, k) => a + WEIGHTS[k]!, 0);
  got.get('w')!.data.forEach((v, e) => {
    const want = parties.reduce((a, k) => a + (WEIGHTS[k]! * modelOf(k).get('w')!.data[e]!) / total, 0);
    assert.ok(Math.abs(v - want) <= 1e-6, `w[${e}]: ${v} vs ${want}`);
  });
  assert.equal(got.metadata?.['tessera.included'], JSON.stringify(parties));
}

/** One round of n parties with min_parties t; the calls of `dead` parties are not awaited. */
async function round(hub: MemoryHub, n: number, t: number, extra: Record<string, unknown>, dead: number[] = []): Promise<PromiseSettledResult<TensorSet>[]> {
  const nodes = nodesOf(n);
  const uuid = `rescue-${++counter}`;
  const calls = nodes.map((_, i) =>
    secureFedAvg({ data: { tensors: modelOf(i), weight: WEIGHTS[i] }, network: { nodes, uuid, myself: i }, min_parties: t, max_weight: 64, ...extra }, ctxOf(hub, i)) as Promise<TensorSet>,
  );
  for (const i of dead) calls[i]!.catch(() => undefined);
  return Promise.all(calls.map((c, i) => (dead.includes(i) ? Promise.resolve({ status: 'rejected', reason: new Error('dead') } as const) : c.then((value) => ({ status: 'fulfilled', value }) as const, (reason: unknown) => ({ status: 'rejected', reason }) as const))));
}

describe('rescue "none": the double-masked round without the backup (2 of 3)', () => {
  const nodes = nodesOf(3);
  const layout = new Layout(manifestOf(modelOf(0)), 3, CHUNK_ELEMENTS);
  // A 40-element model, one chunk per segment. Without the backup party 1 sends: setup to 0 and 2;
  // its masked weight and its contribution to 0 and to 2 (reduce, 4 messages); decide, echo,
  // confirm, unmask and gather to 0 and 2 (two each); done to 0 and 2.
  test('no dropout: everyone gets the average, and no party sends its own-segment contribution to anyone', async () => {
    const hub = new MemoryHub(nodes, STAGE_MS);
    const settled = await round(hub, 3, 2, { rescue: 'none' });
    for (const s of settled) assertAverage((s as PromiseFulfilledResult<TensorSet>).value, [0, 1, 2]);
    for (let i = 0; i < 3; i++) {
      assert.equal(hub.log.filter((m) => m.from === i && m.stage === 'reduce' && m.seq === layout.chunkId(i, 0)).length, 0, `party ${i} sent no backup`);
    }
    assert.equal(hub.log.filter((m) => m.stage === 'resend').length, 0, 'nobody dropped: nothing resent');
    // With the backup (the default) each party sends exactly one more reduce message: the backup.
    const withBackup = new MemoryHub(nodes, STAGE_MS);
    const full = await round(withBackup, 3, 2, {});
    for (const s of full) assertAverage((s as PromiseFulfilledResult<TensorSet>).value, [0, 1, 2]);
    for (let i = 0; i < 3; i++) {
      const count = (h: MemoryHub) => h.log.filter((m) => m.from === i && m.stage === 'reduce').length;
      assert.equal(count(withBackup), count(hub) + 1, `party ${i}: one backup message more with rescue "backup"`);
      const backups = withBackup.log.filter((m) => m.from === i && m.stage === 'reduce' && m.seq === layout.chunkId(i, 0));
      assert.deepEqual(backups.map((m) => m.to), [(i + 1) % 3]);
    }
  });

  test('party 1 dies after the reduce stage, before the decision: survived as with the backup', async () => {
    const hub = new MemoryHub(nodes, STAGE_MS);
    hub.dieAfter = { party: 1, messages: 6 };
    const settled = await round(hub, 3, 2, { rescue: 'none' }, [1]);
    for (const i of [0, 2]) {
      const s = settled[i]!;
      assert.equal(s.status, 'fulfilled', s.status === 'rejected' ? String((s.reason as Error).message) : '');
      assertAverage((s as PromiseFulfilledResult<TensorSet>).value, [0, 2]);
    }
    // Both holders had party 1's whole contribution added to their own: each masks its own afresh
    // and gets the other's contribution to its segment again (stage "resend"; double.ts `dirty`).
    // Party 0 also gets party 2's contribution to segment 1, whose substitute it is.
    const resent = (from: number, to: number) => hub.log.filter((m) => m.stage === 'resend' && m.from === from && m.to === to).map((m) => m.seq);
    assert.deepEqual(resent(2, 0), [layout.chunkId(0, 0), layout.chunkId(1, 0)]);
    assert.deepEqual(resent(0, 2), [layout.chunkId(2, 0)]);
  });

  for (const [name, messages] of [['in the confirm stage', 12], ['in the unmask stage (its shares reached party 0 only)', 13], ['after the unmask stage, before its gather', 14]] as const) {
    test(`party 1 dies ${name}, decided in: both survivors fail naming it, and nothing is unmasked for another set`, async () => {
      const hub = new MemoryHub(nodes, STAGE_MS);
      hub.dieAfter = { party: 1, messages };
      const settled = await round(hub, 3, 2, { rescue: 'none' }, [1]);
      for (const i of [0, 2]) {
        const s = settled[i]!;
        assert.equal(s.status, 'rejected', `party ${i} got an average`);
        const err = (s as PromiseRejectedResult).reason as TesseraError;
        assert.ok(err instanceof TimeoutError || err instanceof PeerError, String(err));
        assert.match(`${err.where} ${err.message}`, /party 1 \(/);
      }
      // One set was ever stated and opened: every unmask message states {0, 1, 2}; nobody restarted
      // (a restart would send setup messages again) and no segment was rebuilt.
      const unmasks = hub.log.filter((m) => m.stage === 'unmask');
      assert.ok(unmasks.length > 0);
      assert.equal(hub.log.filter((m) => m.stage === 'setup').length, 6, 'no restart');
      assert.equal(hub.log.filter((m) => m.stage === 'recontribute').length, 0);
      // The survivors asked each other, and each answered at once that it missed the segment too.
      assert.ok(hub.log.some((m) => m.from === 0 && m.to === 2 && m.stage === 'rescue'));
      assert.ok(hub.log.some((m) => m.from === 2 && m.to === 0 && m.stage === 'rescued' && m.bytes === 0));
    });
  }

  test('party 1\'s gather to party 2 is lost, party 1 alive: party 0 forwards its segment, all three get the decided average', async () => {
    const hub = new MemoryHub(nodes, STAGE_MS);
    hub.fault = (m) => (m.from === 1 && m.to === 2 && m.stage === 'gather' ? { kind: 'drop' } : undefined);
    const settled = await round(hub, 3, 2, { rescue: 'none' });
    for (const s of settled) {
      assert.equal(s.status, 'fulfilled', s.status === 'rejected' ? String((s.reason as Error).message) : '');
      assertAverage((s as PromiseFulfilledResult<TensorSet>).value, [0, 1, 2]);
      // Party 1 was slow to one party, not gone: it said done, so nobody reports it dropped.
      assert.equal((s as PromiseFulfilledResult<TensorSet>).value.metadata?.['tessera.dropped_after_decision'], '[]');
    }
    assert.ok(hub.log.some((m) => m.from === 0 && m.to === 2 && m.stage === 'rescued' && m.bytes > 0), 'party 0 forwarded segment 1');
  });

  // All or nothing: the average is released only once every included party said it holds it.
  // Before, in both cases below, the parties that held the whole average returned it while
  // another failed (or, in the first, while the party that had died was never confirmed).
  test('party 1 dies in the gather stage (its segment reached party 0 only): party 0 forwards it, yet neither survivor gets the average, since party 1 never said it holds it', async () => {
    const hub = new MemoryHub(nodes, STAGE_MS);
    hub.dieAfter = { party: 1, messages: 15 };
    const settled = await round(hub, 3, 2, { rescue: 'none' }, [1]);
    for (const i of [0, 2]) {
      const s = settled[i]!;
      assert.equal(s.status, 'rejected', `party ${i} got an average`);
      const err = (s as PromiseRejectedResult).reason as TesseraError;
      assert.ok(err instanceof TimeoutError || err instanceof PeerError, String(err));
      assert.match(`${err.where} ${err.message}`, /party 1 \(/);
    }
    assert.ok(hub.log.some((m) => m.from === 0 && m.to === 2 && m.stage === 'rescued' && m.bytes > 0), 'party 0 forwarded segment 1');
  });

  test('party 2 receives nothing from the gather stage on: it fails, and so do parties 0 and 1, which held the whole average', async () => {
    const hub = new MemoryHub(nodes, STAGE_MS);
    let cut = false;
    hub.fault = (m) => {
      if (m.to === 2 && m.stage === 'gather') cut = true;
      return cut && m.to === 2 && !m.abort ? { kind: 'drop' } : undefined;
    };
    const settled = await round(hub, 3, 2, { rescue: 'none' });
    settled.forEach((s, i) => {
      assert.equal(s.status, 'rejected', `party ${i} got an average`);
      const err = (s as PromiseRejectedResult).reason as TesseraError;
      assert.ok(err instanceof TimeoutError || err instanceof PeerError, String(err));
    });
    // Parties 0 and 1 did hold it: they said done to each other; party 2 never did.
    for (const [from, to] of [[0, 1], [1, 0]] as const) assert.ok(hub.log.some((m) => m.from === from && m.to === to && m.stage === 'done'));
    assert.ok(!hub.log.some((m) => m.from === 2 && m.stage === 'done'));
  });

  test('rescue is refused where it changes nothing, and an unknown value is refused, naming the field', async () => {
    const hub = new MemoryHub(nodes, STAGE_MS);
    const uuid = `rescue-bad-${++counter}`;
    for (const extra of [{ rescue: 'none' }, { rescue: 'none', min_parties: 3 }, { rescue: 'sometimes', min_parties: 2 }]) {
      await assert.rejects(
        secureFedAvg({ data: { tensors: modelOf(0), weight: 1 }, network: { nodes, uuid, myself: 0 }, ...extra }, ctxOf(hub, 0)),
        (err: unknown) => err instanceof BadInputError && err.where === 'kwargs.rescue',
      );
    }
  });
});

describe('the included set (includedSet)', () => {
  const views = (rows: number[][]) => new Map(rows.map((row, i) => [i, Uint8Array.from(row)] as const));

  test('a party that heard from few is excluded alone; before, it excluded everyone it missed', () => {
    // Party 4 did not receive parties 0 and 1; everyone received everyone else.
    const v = views([[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 1, 1, 1]]);
    assert.deepEqual(includedSet(v), [0, 1, 2, 3]);
  });

  test('a contribution that missed someone excludes its sender, as before', () => {
    assert.deepEqual(includedSet(views([[1, 0, 1], [1, 1, 1], [1, 0, 1]])), [0, 2]);
    assert.deepEqual(includedSet(views([[1, 1, 1], [1, 1, 1], [0, 1, 1]])), [1, 2]);
  });

  test('never fewer parties than excluding every sender that missed someone, and always a set in which everyone delivered to everyone', () => {
    // Pseudo-random views (a fixed linear congruential sequence, so a failure is reproducible).
    let x = 12345;
    const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 500; round++) {
      const n = 3 + Math.floor(next() * 6);
      const p = next() * 0.3;
      const rows = Array.from({ length: n }, (_, h) => Array.from({ length: n }, (_, i) => (i === h || next() > p ? 1 : 0)));
      const v = views(rows);
      const s = includedSet(v);
      for (const h of s) for (const i of s) assert.equal(rows[h]![i], 1, `round ${round}: ${h} lacks ${i} in ${JSON.stringify(s)}`);
      const before = [...v.keys()].filter((i) => [...v.keys()].every((h) => rows[h]![i] === 1));
      assert.ok(s.length >= before.length, `round ${round}: ${JSON.stringify(s)} smaller than ${JSON.stringify(before)}`);
    }
  });

  test('3 of 5, party 4 receives nothing from parties 0 and 1 in the reduce stage: parties 0 to 3 get their average, party 4 learns it was left out', async () => {
    const hub = new MemoryHub(nodesOf(5), STAGE_MS);
    hub.fault = (m) => (m.to === 4 && (m.from === 0 || m.from === 1) && m.stage === 'reduce' ? { kind: 'drop' } : undefined);
    const settled = await round(hub, 5, 3, {});
    for (const i of [0, 1, 2, 3]) {
      const s = settled[i]!;
      assert.equal(s.status, 'fulfilled', s.status === 'rejected' ? `party ${i}: ${String((s.reason as Error).message)}` : '');
      const got = (s as PromiseFulfilledResult<TensorSet>).value;
      assertAverage(got, [0, 1, 2, 3]);
      assert.equal(got.metadata?.['tessera.dropped'], '[4]');
    }
    const own = (settled[4] as PromiseRejectedResult).reason as Error;
    assert.match(own.message, /left out/);
  });
});
