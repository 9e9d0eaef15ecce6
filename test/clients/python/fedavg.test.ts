// SecureFedAvg by three Python processes in parallel with NumPy models, each with the generated
// client against its own real server: models go up as safetensors, the average comes back as
// safetensors, and every party must hold sum_k n_k * w_k / sum_k n_k (float64 reference).
// Runs examples/python/fedavg.py, so the example the README shows is what is tested.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The FedAvg engineer's party servers: plain startServer ones once Simon dispatches SecureFedAvg,
// until then with a test microservice that calls the same entry points.
import { FEDAVG_SERVICE, startParty, type Party } from '../../support/cluster.js';
import { describeRun, runPython } from './python.js';

const PYTHON_TIMEOUT_MS = 90_000;

interface TensorJson {
  dtype: string;
  shape: number[];
  data: number[];
}
interface PartyOutput {
  weight: number;
  input: Record<string, TensorJson>;
  average: Record<string, TensorJson>;
  /** The result's safetensors metadata (tessera.ring_bits among it). */
  metadata: Record<string, string>;
}

describe('SecureFedAvg with NumPy and the generated Python client, three parties', () => {
  const parties: Party[] = [];
  let dataRoot: string;

  before(async () => {
    dataRoot = mkdtempSync(join(tmpdir(), 'tessera-python-fedavg-'));
    const networkSecret = randomBytes(32);
    for (let i = 0; i < 3; i++) parties.push(await startParty(join(dataRoot, `party-${i}`), networkSecret, 30_000));
  });
  after(async () => {
    await Promise.all(parties.map((p) => p.close()));
    rmSync(dataRoot, { recursive: true, force: true });
  });

  const cases: Array<[string, { microprotocol: string; weights: number[]; ringBits?: number }]> = [
    ['SecureFedAvg, unequal weights', { microprotocol: 'SecureFedAvg', weights: [120, 80, 200] }],
    ['SecureFedAvg, fractional weights', { microprotocol: 'SecureFedAvg', weights: [0.5, 1.25, 3] }],
    ['SecureFedAvg, --ring-bits 40', { microprotocol: 'SecureFedAvg', weights: [7, 11, 13], ringBits: 40 }],
  ];
  const uuid = randomUUID();
  for (const [name, { microprotocol, weights, ringBits }] of cases) {
    test(name, async () => {
      const nodes = parties.map((p) => p.url).join(',');
      const runs = await Promise.all(
        weights.map((weight, myself) =>
          runPython(
            [
              'examples/python/fedavg.py',
              String(myself),
              '--weight',
              String(weight),
              '--seed',
              String(100 + myself),
              '--nodes',
              nodes,
              '--uuid',
              uuid,
              '--microprotocol',
              microprotocol,
              '--requirements',
              JSON.stringify(FEDAVG_SERVICE),
              '--timeout',
              String(PYTHON_TIMEOUT_MS / 1000 - 5),
              '--json',
              ...(ringBits === undefined ? [] : ['--ring-bits', String(ringBits)]),
            ],
            PYTHON_TIMEOUT_MS,
          ),
        ),
      );
      const outputs = runs.map((run, myself) => {
        assert.equal(run.code, 0, describeRun(`party ${myself}`, run));
        return JSON.parse(run.stdout.trim()) as PartyOutput;
      });
      // The ring the example asked for is the ring the round ran in.
      for (const output of outputs) assert.equal(output.metadata['tessera.ring_bits'], String(ringBits ?? 64));
      // The float64 reference from the inputs the parties report.
      const total = weights.reduce((a, b) => a + b, 0);
      const names = Object.keys(outputs[0]!.input).sort();
      for (const tensor of names) {
        const inputs = outputs.map((o) => o.input[tensor]!);
        const want = inputs[0]!.data.map((_, i) => inputs.reduce((acc, t, k) => acc + (weights[k]! * t.data[i]!) / total, 0));
        const bound = 1e-6 * Math.max(1, ...inputs.flatMap((t) => t.data.map(Math.abs)));
        for (const [myself, output] of outputs.entries()) {
          const got = output.average[tensor];
          assert.ok(got, `party ${myself} has no ${tensor}`);
          assert.equal(got.dtype, inputs[0]!.dtype, `${tensor} keeps its dtype`);
          assert.deepEqual(got.shape, inputs[0]!.shape, `${tensor} keeps its shape`);
          const error = Math.max(...got.data.map((v, i) => Math.abs(v - want[i]!)));
          assert.ok(error <= bound, `party ${myself} ${tensor}: max error ${error} > ${bound}`);
          // Every party receives the same average.
          assert.deepEqual(got.data, outputs[0]!.average[tensor]!.data, `party ${myself} ${tensor} equals party 0's`);
        }
      }
    });
  }
});
