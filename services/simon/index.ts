// The SIMON microservice, registered as the model's clients look for it:
// create(namespace="federatedsecure", protocol="Simon", version="0.6.0"), then
// compute(microprotocol=NAME, data=INPUT, network={nodes, uuid, myself}).
//
// `compute` only dispatches, by FSC's exact names, through the table below. Each microprotocol
// is one file under its family's folder (linear/, order/, sets/, products/) on the shared engine
// (engine.ts, services/common/). A name of the family that is not implemented yet answers 501
// at every party, at once.

import { BadInputError, NotImplementedError } from '../errors.js';
import { SERVER_OBJECT, type Member, type Microservice } from '../microservice.js';
import { plainFedAvg, prepareFedAvg, secureFedAvg } from '../fedavg/index.js';
import { checkKeywords, type DisclosurePolicy, type Microprotocol, type SimonContext } from './engine.js';
import { KEYWORDS } from './generated/keywords.js';

// linear statistics: services/simon/linear/
import { secureSum } from './linear/securesum.js';
import { statisticsUnivariate } from './linear/univariate.js';
import { statisticsBivariate } from './linear/bivariate.js';
import { statisticsFrequency } from './linear/frequency.js';
import { statisticsContingency } from './linear/contingency.js';

// order statistics: services/simon/order/
import { kthElement, minimumMaximum, secureMedian } from './order/index.js';

// sets: services/simon/sets/
import { setIntersection, setIntersectionSize } from './sets/intersection.js';
import { statisticsContingencyVertical } from './sets/contingency-vertical.js';

// products: services/simon/products/
import { secureMatrixMultiplication } from './products/secure-matrix-multiplication.js';
import { regressionOLSVertical } from './products/regression-ols-vertical.js';

export const SIMON_DESCRIPTION = Object.freeze({
  namespace: 'federatedsecure',
  protocol: 'Simon',
  version: '0.6.0',
});

export type { Microprotocol } from './engine.js';

/** A member of the family that exists in FSC but not (yet) here. */
const LATER = 'not implemented yet';

/**
 * Checks the keywords of a microprotocol that opens its own session (FedAvg, order, sets) before
 * it runs: the member's keywords and the microprotocol's options, as openapi.yaml declares them
 * (ComputeKwargs, PrepareKwargs; generated into ./generated/keywords.ts).
 */
function withOptions(member: keyof typeof KEYWORDS, name: string, run: Microprotocol): Microprotocol {
  const options: Readonly<Record<string, readonly string[]>> = KEYWORDS[member].options;
  const allowed = Object.hasOwn(options, name) ? options[name]! : [];
  return (kwargs, ctx) => {
    checkKeywords(kwargs, allowed);
    return run(kwargs, ctx);
  };
}

/** What `compute(microprotocol=…)` runs, by FSC's exact names. */
export const MICROPROTOCOLS: Readonly<Record<string, Microprotocol | typeof LATER>> = Object.freeze({
  // linear statistics
  SecureSum: secureSum,
  StatisticsUnivariate: statisticsUnivariate,
  StatisticsBivariate: statisticsBivariate,
  StatisticsFrequency: statisticsFrequency,
  StatisticsContingency: statisticsContingency,

  // order statistics
  KthElement: kthElement,
  SecureMedian: secureMedian,
  MinimumMaximum: minimumMaximum,

  // sets
  SetIntersection: setIntersection,
  SetIntersectionSize: setIntersectionSize,
  StatisticsContingencyVertical: statisticsContingencyVertical,

  // products
  SecureMatrixMultiplication: secureMatrixMultiplication,
  StatisticsRegressionOLSVertical: regressionOLSVertical,

  // federated averaging (services/fedavg/)
  SecureFedAvg: withOptions('compute', 'SecureFedAvg', secureFedAvg),
  // INSECURE baseline (no masks): for benchmarks and comparisons only; see services/fedavg.
  PlainFedAvg: withOptions('compute', 'PlainFedAvg', plainFedAvg),
});

/** Microprotocols that can be announced before their input exists (`prepare`, then `submit`). */
const PREPARABLE: Readonly<Record<string, Microprotocol | typeof LATER>> = Object.freeze({
  SecureFedAvg: withOptions('prepare', 'SecureFedAvg', prepareFedAvg),
  PlainFedAvg: withOptions('prepare', 'PlainFedAvg', prepareFedAvg),
});

function pick(table: Readonly<Record<string, Microprotocol | typeof LATER>>, kwargs: Record<string, unknown>): Microprotocol {
  const name = kwargs['microprotocol'];
  if (typeof name !== 'string') {
    throw new BadInputError('microprotocol must be a string such as "SecureSum"', { where: 'kwargs.microprotocol' });
  }
  const run = Object.hasOwn(table, name) ? table[name] : undefined;
  const known = Object.keys(table).filter((k) => table[k] !== LATER).join(', ');
  if (run === LATER) {
    throw new NotImplementedError(`microprotocol ${name} is not implemented yet; available: ${known}`, { where: 'kwargs.microprotocol' });
  }
  if (run !== undefined) return run;
  throw new BadInputError(`unknown microprotocol "${name.slice(0, 100)}"; available: ${known}`, { where: 'kwargs.microprotocol' });
}

export interface SimonOptions {
  /** This server's disclosure policy (`--min-cell-count`). */
  readonly disclosure?: DisclosurePolicy;
}

export function createSimon(options: SimonOptions = {}): Microservice {
  const context = (ctx: Parameters<Member>[2]): SimonContext => ({ ...ctx, ...(options.disclosure ? { disclosure: options.disclosure } : {}) });
  const compute: Member = (_args, kwargs, ctx) => pick(MICROPROTOCOLS, kwargs)(kwargs, context(ctx));
  // Announce a computation first (agree on terms, prepare masks) and give the input later.
  const prepare: Member = (_args, kwargs, ctx) => pick(PREPARABLE, kwargs)(kwargs, context(ctx));
  return {
    [SERVER_OBJECT]: true,
    description: SIMON_DESCRIPTION,
    members: Object.freeze({ compute, prepare }),
  };
}
