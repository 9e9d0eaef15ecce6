// SecureMatrixMultiplication (two parties): party 0 gives [X] (p×n), party 1 gives [Y] (n×q);
// both receive {"product": X·Y} (p×q rows of floats) and nothing else about the other's matrix
// (FSC instead sends a projector of X's row space, or Y itself for a square X). The product is
// product.ts's; docs/products.md argues what each party sees.

import { microprotocol } from '../engine.js';
import { encodeMatrix, parseMatrixData } from './matrix.js';
import { KEY_OWNER_TERM, PRODUCT_STAGES, secureProduct } from './product.js';

export interface SecureMatrixMultiplicationResult {
  inputs: 2;
  result: { product: number[][] };
}

/** `compute(microprotocol="SecureMatrixMultiplication", data=[X or Y], network)` on the engine. */
export const secureMatrixMultiplication = microprotocol<SecureMatrixMultiplicationResult>({
  name: 'SecureMatrixMultiplication',
  stages: PRODUCT_STAGES.all,
  twoParty: true,
  publicTerms: () => KEY_OWNER_TERM,
  // The engine calls this once the session is open, so that a bad input aborts the other party at once.
  async run({ session, data, stageTimeoutMs }) {
    const name = session.myself === 0 ? 'X' : 'Y';
    const matrix = parseMatrixData(data, name);
    const encoded = encodeMatrix(matrix, (r, c) => `kwargs.data[${(data as unknown[]).length - 1}][${r}][${c}]`);
    const product = await secureProduct(
      session,
      { matrix: encoded, shape: { rows: matrix.length, cols: matrix[0]!.length } },
      {
        stageTimeoutMs,
        mismatch: (x, y) =>
          `the shapes do not match: X at party 0 is ${x.rows}×${x.cols} and Y at party 1 is ${y.rows}×${y.cols}; X·Y needs as many columns in X as rows in Y`,
      },
    );
    return { inputs: 2, result: { product } };
  },
});
