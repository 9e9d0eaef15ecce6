// A party dropping out in every stage of SecureFedAvg in turn, with min_parties (issue 11), over
// the in-memory network: before it sent any online message (never arrives, or dies right after
// setup) the others restart without it and get their own average; once any of its online messages
// (a masked weight, a model contribution) or any part of the output reached a survivor, that
// survivor vetoes the restart and the round fails for everyone: no average over the survivors is
// ever released next to something that includes the dropped party (docs/dropouts.md).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../../services/simulation/network.js';
import { secureFedAvg } from '../../../services/fedavg/index.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { PeerError, TesseraError, TimeoutError } from '../../../services/errors.js';
import type { CallContext } from '../../../services/microservice.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const NODES = [0, 1, 2].map((i) => `http://127.0.0.1:${57000 + i}`);
const WEIGHTS = [3, 5, 11];
let counter = 0;

function modelOf(k: number): TensorSet {
  return TensorSet.from({ w: new Float64Array(40).map((_, i) => Math.cos(k * 3 + i)) });
}

async function round(hub: MemoryHub): Promise<PromiseSettledResult<unknown>[]> {
  const uuid = `dropout-${++counter}`;
  const calls = NODES.map((_, i) => {
    const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(i), log: silent };
    return secureFedAvg({ data: { tensors: modelOf(i), weight: WEIGHTS[i] }, network: { nodes: NODES, uuid, myself: i }, min_parties: 2 }, ctx);
  });
  // Party 1's own call hangs where its server died (a dead server answers nothing): only the
  // survivors are awaited.
  calls[1]!.catch(() => undefined);
  const [a, c] = await Promise.allSettled([calls[0]!, calls[2]!]);
  return [a!, { status: 'rejected', reason: new Error('dead') }, c!];
}

describe('a party dropping in each stage of SecureFedAvg (min_parties 2 of 3)', () => {
  // [where party 1 stops, {messages it sends before, what the survivors get}]
  // A 40-element model: setup 2 messages, weights 2, reduce 2, gather 2.
  const cases: [string, { messages: number; outcome: 'restart' | 'veto' }][] = [
    ['never sends anything (setup)', { messages: 0, outcome: 'restart' }],
    ['after setup, before its weight', { messages: 2, outcome: 'restart' }],
    ['in the weights stage (one masked weight sent)', { messages: 3, outcome: 'veto' }],
    ['in the reduce stage', { messages: 5, outcome: 'veto' }],
    ['in the gather stage', { messages: 7, outcome: 'veto' }],
  ];
  for (const [name, { messages, outcome }] of cases) {
    test(`${name}: ${outcome === 'restart' ? 'the survivors get their own average' : 'a survivor vetoes, the round fails for everyone'}`, async () => {
      const hub = new MemoryHub(NODES, 400);
      hub.dieAfter = { party: 1, messages };
      const settled = await round(hub);
      for (const i of [0, 2]) {
        const s = settled[i]!;
        if (outcome === 'restart') {
          assert.equal(s.status, 'fulfilled', `party ${i}: ${s.status === 'rejected' ? String((s.reason as Error).message) : ''}`);
          const got = (s as PromiseFulfilledResult<TensorSet>).value;
          const total = WEIGHTS[0]! + WEIGHTS[2]!;
          got.get('w')!.data.forEach((v, e) => {
            const want = (WEIGHTS[0]! * modelOf(0).get('w')!.data[e]! + WEIGHTS[2]! * modelOf(2).get('w')!.data[e]!) / total;
            assert.ok(Math.abs(v - want) <= 1e-6, `w[${e}]`);
          });
          assert.equal(got.metadata?.['tessera.dropped'], '[1]');
          assert.equal(got.metadata?.['tessera.included'], '[0,2]');
        } else if (s.status === 'fulfilled') {
          // A survivor that had every message of the first attempt holds the full average; what
          // must never exist is an average over the survivors alone.
          const got = (s as PromiseFulfilledResult<TensorSet>).value;
          assert.equal(got.metadata?.['tessera.dropped'], '[]');
          assert.equal(got.metadata?.['tessera.parties'], '3');
        } else {
          const err = (s as PromiseRejectedResult).reason;
          assert.ok(err instanceof TesseraError, String(err));
          // The veto, its notice, or (when the other survivor already holds the full average and
          // does not restart) the restart's timeout: a clean failure, never a survivors' average.
          assert.ok(err instanceof PeerError || err instanceof TimeoutError, String(err));
          if (err instanceof PeerError) assert.match(err.message, /cannot continue without the dropped parties|aborted the computation/);
        }
      }
    });
  }
});
