// The SIMON microservice, registered as the model's clients look for it:
// create(namespace="federatedsecure", protocol="Simon", version="0.6.0"), then
// compute(microprotocol=NAME, data=INPUT, network={nodes, uuid, myself}).
// `compute` only dispatches: each microprotocol is a small module on the shared machinery.

import { BadInputError, NotImplementedError } from '../errors.js';
import { SERVER_OBJECT, type CallContext, type Member, type Microservice } from '../microservice.js';
import { plainFedAvg, prepareFedAvg, secureFedAvg } from '../fedavg/index.js';
import { secureSum } from './securesum.js';

export const SIMON_DESCRIPTION = Object.freeze({
  namespace: 'federatedsecure',
  protocol: 'Simon',
  version: '0.6.0',
});

export type Microprotocol = (kwargs: Record<string, unknown>, ctx: CallContext) => Promise<unknown>;

/** What `compute(microprotocol=…)` runs. */
export const MICROPROTOCOLS: Readonly<Record<string, Microprotocol>> = Object.freeze({
  SecureSum: secureSum,
  SecureFedAvg: secureFedAvg,
  // INSECURE baseline (no masks): for benchmarks and comparisons only; see services/fedavg.
  PlainFedAvg: plainFedAvg,
});

/** Microprotocols that can be announced before their input exists (`prepare`, then `submit`). */
const PREPARABLE: Readonly<Record<string, Microprotocol>> = Object.freeze({
  SecureFedAvg: prepareFedAvg,
  PlainFedAvg: prepareFedAvg,
});

function pick(table: Readonly<Record<string, Microprotocol>>, kwargs: Record<string, unknown>): Microprotocol {
  const name = kwargs['microprotocol'];
  if (typeof name !== 'string') {
    throw new BadInputError('microprotocol must be a string such as "SecureSum"', { where: 'kwargs.microprotocol' });
  }
  const run = Object.hasOwn(table, name) ? table[name] : undefined;
  if (run !== undefined) return run;
  const known = Object.keys(table).join(', ');
  if (LATER.has(name)) {
    throw new NotImplementedError(`microprotocol ${name} is not implemented yet; available: ${known}`, {
      where: 'kwargs.microprotocol',
    });
  }
  throw new BadInputError(`unknown microprotocol "${name.slice(0, 100)}"; available: ${known}`, {
    where: 'kwargs.microprotocol',
  });
}

/**
 * The SIMON microprotocols of Federated Secure Computing not (yet) computed here, by their exact
 * wire names: a clear 501, so a client tells "not offered by this server" from a misspelling (400).
 */
const LATER = new Set([
  'SecureMatrixMultiplication',
  'SecureMedian',
  'KthElement',
  'MinimumMaximum',
  'SetIntersection',
  'SetIntersectionSize',
  'StatisticsUnivariate',
  'StatisticsBivariate',
  'StatisticsFrequency',
  'StatisticsContingency',
  'StatisticsContingencyVertical',
  'StatisticsRegressionOLSVertical',
]);

export function createSimon(): Microservice {
  const compute: Member = (_args, kwargs, ctx) => pick(MICROPROTOCOLS, kwargs)(kwargs, ctx);
  // Announce a computation first (agree on terms, prepare masks) and give the input later.
  const prepare: Member = (_args, kwargs, ctx) => pick(PREPARABLE, kwargs)(kwargs, ctx);
  return {
    [SERVER_OBJECT]: true,
    description: SIMON_DESCRIPTION,
    members: Object.freeze({ compute, prepare }),
  };
}
