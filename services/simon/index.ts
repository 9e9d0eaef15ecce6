// The SIMON microservice, registered as the model's clients look for it:
// create(namespace="federatedsecure", protocol="Simon", version="0.6.0"), then
// compute(microprotocol=NAME, data=INPUT, network={nodes, uuid, myself}).
// `compute` only dispatches: each microprotocol is a small module on the shared machinery.

import { BadInputError, NotImplementedError } from '../errors.js';
import { SERVER_OBJECT, type CallContext, type Member, type Microservice } from '../microservice.js';
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
});

/** Members of the SIMON family that exist in the model but not (yet) here: a clear 501. */
const LATER = new Set([
  'StatisticsUnivariate',
  'StatisticsBivariate',
  'MinimumMaximum',
  'Median',
  'SetIntersection',
  'SetUnion',
  'ContingencyTable',
  'MatrixMultiplication',
  'RegressionOLS',
]);

export function createSimon(): Microservice {
  const compute: Member = (_args, kwargs, ctx) => {
    const name = kwargs['microprotocol'];
    if (typeof name !== 'string') {
      throw new BadInputError('microprotocol must be a string such as "SecureSum"', { where: 'kwargs.microprotocol' });
    }
    const run = Object.hasOwn(MICROPROTOCOLS, name) ? MICROPROTOCOLS[name] : undefined;
    if (run === undefined) {
      const known = Object.keys(MICROPROTOCOLS).join(', ');
      if (LATER.has(name)) {
        throw new NotImplementedError(`microprotocol ${name} is not implemented yet; available: ${known}`, {
          where: 'kwargs.microprotocol',
        });
      }
      throw new BadInputError(`unknown microprotocol "${name.slice(0, 100)}"; available: ${known}`, {
        where: 'kwargs.microprotocol',
      });
    }
    return run(kwargs, ctx);
  };
  return {
    [SERVER_OBJECT]: true,
    description: SIMON_DESCRIPTION,
    members: Object.freeze({ compute }),
  };
}
