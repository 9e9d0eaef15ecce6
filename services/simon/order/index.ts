// Order statistics for the SIMON family: the k-th ranked element of the union of all parties'
// values, revealing only that element (and the total count N), after Aggarwal, Mishra and Pinkas,
// "Secure Computation of the k-th Ranked Element", EUROCRYPT 2004. See docs/order-statistics.md.
//
// The building blocks other microprotocols call (e.g. StatisticsUnivariate for its min and max),
// all on the session the engine opened for the caller (services/simon/engine.ts):
//
//   microprotocol({ name, stages: [...MY_STAGES, ...orderStages('minmax')],
//     async run({ session, data }) { const { min, max, count } = await secureExtremes(session, values, 'minmax', total); … } });
//
// - orderStages(prefix): the stage names the blocks use under `prefix` (a lower-case word such as
//   'minmax'); declare them when opening the session. One prefix per use within a session.
// - secureCount(session, localCount, prefix): N = Σ localCount over all parties (revealed).
// - kthRanked(session, searches, prefix): for each search {values, rank, total}, the rank-th
//   smallest of the union of every party's `values` (ranks count from 1; `total` is N, known
//   to every party, e.g. from secureCount). Several searches run side by side in the same rounds.
// - secureExtremes(session, values, prefix, total?): {min, max, count}; `total` may be passed
//   when the caller knows N already (it is computed with secureCount otherwise).
// Every party must call a block with the same prefix, ranks and totals (public parameters);
// values are private. −0 counts as 0. N = 0 or a rank outside 1…N is a BadInputError at every
// party (they all know N and the rank, so they all throw the same error).

export { orderStages, secureCount, kthRanked, secureExtremes, type KthSearch, type Extremes } from './kth.js';
export { kthElement, type KthElementResult } from './kthelement.js';
export { secureMedian, type SecureMedianResult } from './median.js';
export { minimumMaximum, type MinimumMaximumResult } from './minmax.js';
