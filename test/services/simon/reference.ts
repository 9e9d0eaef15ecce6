// Plaintext references for the SIMON linear statistics: the formulas of FSC's accumulators
// (FSC's accumulators for these microprotocols), computed directly on the pooled data in doubles, with Tessera's
// documented nulls. The secure protocols must agree with these to 1e-9 relative.

export function univariateReference(values: number[]): Record<string, number | null> {
  const N = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / N;
  const c = (k: number) => values.reduce((a, x) => a + (x - mean) ** k, 0);
  const m = (k: number) => c(k) / N;
  const m2 = m(2);
  const variance = N > 1 ? c(2) / (N - 1) : null;
  const sd = variance === null ? null : Math.sqrt(variance);
  const spread = values.some((x) => x !== values[0]);
  return {
    samples: N,
    sum: values.reduce((a, b) => a + b, 0),
    mean,
    minimum: Math.min(...values),
    maximum: Math.max(...values),
    harmonic_mean: values.includes(0) ? null : N / values.reduce((a, x) => a + 1 / x, 0),
    geometric_mean: values.some((x) => x <= 0) ? null : Math.exp(values.reduce((a, x) => a + Math.log(x), 0) / N),
    variance,
    variance_mle: m2,
    variance_of_sample_mean: variance === null ? null : variance / N,
    standard_deviation: sd,
    standard_deviation_mle: Math.sqrt(m2),
    standard_error_of_sample_mean: variance === null ? null : Math.sqrt(variance / N),
    coefficient_of_variation: sd === null || mean === 0 ? null : sd / mean,
    coefficient_of_variation_mle: mean === 0 ? null : Math.sqrt(m2) / mean,
    root_mean_square: Math.sqrt(values.reduce((a, x) => a + x * x, 0) / N),
    root_mean_square_deviation: Math.sqrt(m2),
    skewness: spread ? m(3) / m2 ** 1.5 : null,
    kurtosis: spread ? m(4) / m2 ** 2 : null,
    kurtosis_excess: spread ? m(4) / m2 ** 2 - 3 : null,
    hyper_skewness: spread ? m(5) / m2 ** 2.5 : null,
    hyper_flatness: spread ? m(6) / m2 ** 3 : null,
  };
}

export function bivariateReference(pairs: [number, number][]): Record<string, number | null> {
  const N = pairs.length;
  const mean = (f: (p: [number, number]) => number) => pairs.reduce((a, p) => a + f(p), 0) / N;
  const mx = mean(([x]) => x);
  const my = mean(([, y]) => y);
  const mxy = mean(([x, y]) => x * y);
  const mxx = mean(([x]) => x * x);
  const covMle = mxy - mx * my;
  const covariance = N > 1 ? covMle / (1 - 1 / N) : null;
  const varX = N > 1 ? pairs.reduce((a, [x]) => a + (x - mx) ** 2, 0) / (N - 1) : null;
  const varY = N > 1 ? pairs.reduce((a, [, y]) => a + (y - my) ** 2, 0) / (N - 1) : null;
  const slope = covariance !== null && varX ? covariance / varX : null;
  return {
    samples: N,
    covariance_mle: covMle,
    covariance,
    correlation_coefficient: covariance !== null && varX && varY ? covariance / Math.sqrt(varX * varY) : null,
    regression_slope: slope,
    regression_interceipt: slope === null ? null : my - slope * mx,
    regression_slope_only: mxx !== 0 ? mxy / mxx : null,
  };
}

/** Checks every key: equal nulls, numbers within `rel` relative (or `abs` absolute near 0). */
export function assertClose(actual: Record<string, unknown>, expected: Record<string, number | null>, rel = 1e-9, abs = 1e-12): void {
  const keys = Object.keys(expected).sort();
  if (JSON.stringify(Object.keys(actual).sort()) !== JSON.stringify(keys)) {
    throw new Error(`keys differ: got ${Object.keys(actual).sort().join(',')}, want ${keys.join(',')}`);
  }
  for (const key of keys) {
    const want = expected[key]!;
    const got = actual[key];
    if (want === null || got === null) {
      if (want !== got) throw new Error(`${key}: got ${String(got)}, want ${String(want)}`);
      continue;
    }
    if (typeof got !== 'number' || !(Math.abs(got - want) <= Math.max(rel * Math.abs(want), abs))) {
      throw new Error(`${key}: got ${String(got)}, want ${want}`);
    }
  }
}

/**
 * StatisticsUnivariate of the contract example [3.0, 1.5, 6.0], [2.0, 2.5], 4.5: the numbers FSC's
 * original server gave, except harmonic_mean, the exact value (FSC truncated Σ1/x).
 */
export const FSC_UNIVARIATE_EXAMPLE = {
  coefficient_of_variation: 0.521717691009636, coefficient_of_variation_mle: 0.47626091335914644,
  geometric_mean: 2.9102103463370597, harmonic_mean: 2.6213592233009706, hyper_flatness: 5.684461247637049,
  hyper_skewness: 2.6379695465685535, kurtosis: 2.084007561436673, kurtosis_excess: -0.9159924385633271,
  maximum: 6.0, mean: 3.25, minimum: 1.5, root_mean_square: 3.5997685110758626,
  root_mean_square_deviation: 1.547847968417226, samples: 6.0, skewness: 0.6741477730119637,
  standard_deviation: 1.695582495781317, standard_deviation_mle: 1.547847968417226,
  standard_error_of_sample_mean: 0.6922186552431729, sum: 19.5, variance: 2.875,
  variance_mle: 2.3958333333333335, variance_of_sample_mean: 0.4791666666666667,
};
