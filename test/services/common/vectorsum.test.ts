// The secure vector sum on the in-memory network: element-wise totals over mixed lanes (exact
// reals, counts, F_p), repeated runs numbered by seq, and a shape disagreement named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub, simulatedNodes } from '../../../services/simulation/index.js';
import { COUNT_RING, REAL_RING, secureVectorSum, vectorSumStages } from '../../../services/common/vectorsum.js';
import { F25519 } from '../../../services/common/field.js';
import { EXACT_SCALAR } from '../../../services/common/fixedpoint.js';
import { runProtocol } from '../../../services/common/stages.js';

const STAGES = vectorSumStages('test');

async function run(parties: number, lanesOf: (i: number) => Parameters<typeof secureVectorSum>[2], rounds = 1) {
  const nodes = simulatedNodes(parties);
  const hub = new MemoryHub(nodes, 5000);
  return Promise.all(
    nodes.map(async (_, myself) => {
      const session = await hub.network(myself).open({ uuid: 'v', myself, terms: { microprotocol: 'T', nodes }, stages: STAGES.all });
      return runProtocol(session, async () => {
        const out = [];
        for (let seq = 0; seq < rounds; seq++) out.push(await secureVectorSum(session, STAGES, lanesOf(myself), { seq }));
        return out;
      });
    }),
  );
}

test('sums mixed lanes element-wise, the same at every party', async () => {
  const reals = [[0.1, -5], [0.2, 2.5], [0.3, 1e300]];
  const counts = [[1n, 0n, 7n], [2n, 0n, 0n], [3n, 5n, 1n]];
  const field = [[F25519.modulus - 1n], [2n], [0n]];
  const results = await run(3, (i) => [
    { group: REAL_RING, values: reals[i]!.map((x) => EXACT_SCALAR.encode(x, 'x')) },
    { group: COUNT_RING, values: counts[i]! },
    { group: F25519, values: field[i]! },
  ], 2);
  for (const rounds of results) {
    for (const [r, c, f] of rounds) {
      assert.deepEqual(r!.map((x) => EXACT_SCALAR.decode(x, 'x')), [0.6, 1e300 - 2.5]);
      assert.deepEqual(c, [6n, 5n, 8n]);
      assert.deepEqual(f, [1n]);
    }
  }
});

test('a party with a different shape fails as a malformed message naming it', async () => {
  await assert.rejects(run(3, (i) => [{ group: COUNT_RING, values: i === 2 ? [1n, 2n] : [1n] }]), /malformed vector-sum message/);
});
