// StatisticsRegressionOLSVertical (two parties): party 0 gives [X], the N×p design matrix, party 1
// gives [y], the N responses in the same row order; both receive {"mle": [[β_0], …, [β_{p−1}]]}
// with β = (XᵀX)⁻¹Xᵀy, and nothing else about the other's data. Party 0 forms M = (XᵀX)⁻¹Xᵀ
// alone (matrix.ts), so the one joint step is the product M·y (product.ts): β is all it opens.

import { microprotocol } from '../engine.js';
import { encodeMatrix, leastSquaresOperator, parseMatrixData, parseVectorData } from './matrix.js';
import { KEY_OWNER_TERM, PRODUCT_STAGES, secureProduct } from './product.js';

export interface RegressionOLSVerticalResult {
  inputs: 2;
  result: { mle: number[][] };
}

/** `compute(microprotocol="StatisticsRegressionOLSVertical", data=[X] or [y], network)` on the engine. */
export const regressionOLSVertical = microprotocol<RegressionOLSVerticalResult>({
  name: 'StatisticsRegressionOLSVertical',
  stages: PRODUCT_STAGES.all,
  twoParty: true,
  publicTerms: () => KEY_OWNER_TERM,
  async run({ session, data, stageTimeoutMs }) {
    let matrix: number[][];
    let where: (r: number, c: number) => string;
    if (session.myself === 0) {
      const X = parseMatrixData(data, 'X');
      // A singular XᵀX is party 0's bad input: a 400 here, an abort at party 1.
      matrix = leastSquaresOperator(X, `kwargs.data[${(data as unknown[]).length - 1}]`);
      where = (r, c) => `kwargs.data[${(data as unknown[]).length - 1}] ((XᵀX)⁻¹Xᵀ[${r}][${c}])`;
    } else {
      const y = parseVectorData(data, 'y');
      matrix = y.map((v) => [v]);
      where = (r) => `kwargs.data[${(data as unknown[]).length - 1}][${r}]`;
    }
    const encoded = encodeMatrix(matrix, where);
    const beta = await secureProduct(
      session,
      { matrix: encoded, shape: { rows: matrix.length, cols: matrix[0]!.length } },
      {
        stageTimeoutMs,
        // x is M = (XᵀX)⁻¹Xᵀ, p×N; y is the N×1 column of responses.
        mismatch: (x, y) =>
          `the shapes do not match: X at party 0 has ${x.cols} rows (samples) and y at party 1 has ${y.rows} entries; X needs one row per entry of y`,
      },
    );
    return { inputs: 2, result: { mle: beta } };
  },
});
