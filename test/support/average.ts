// The check the dropout tests share: a result is the weighted average of exactly the given
// parties' models, tensor by tensor, to 1e-6.

import assert from 'node:assert/strict';
import type { TensorSet } from '../../services/common/tensors.js';

export function expectWeightedAverage(got: TensorSet, modelOf: (k: number) => TensorSet, parties: readonly number[], weights: readonly number[]): void {
  const total = parties.reduce((a, k) => a + weights[k]!, 0);
  for (const name of ['dense.weight', 'dense.bias']) {
    got.get(name)!.data.forEach((v, i) => {
      const want = parties.reduce((a, k) => a + (weights[k]! * modelOf(k).get(name)!.data[i]!) / total, 0);
      assert.ok(Math.abs(v - want) <= 1e-6, `${name}[${i}]: ${v} vs ${want}`);
    });
  }
}
