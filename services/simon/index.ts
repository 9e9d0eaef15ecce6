// The SIMON microservice, registered as the model's clients look for it:
// create(namespace="federatedsecure", protocol="Simon", version="0.6.0"), then compute(...).
// This is the registration point only; the microprotocols (SecureSum, ...) replace the body of
// `compute` here without any change to the server.

import { NotImplementedError } from '../errors.js';
import { SERVER_OBJECT, type Member, type Microservice } from '../microservice.js';

export const SIMON_DESCRIPTION = Object.freeze({
  namespace: 'federatedsecure',
  protocol: 'Simon',
  version: '0.6.0',
});

export function createSimon(): Microservice {
  const compute: Member = () => {
    throw new NotImplementedError('SecureSum lands with issue 3', { where: 'compute' });
  };
  return {
    [SERVER_OBJECT]: true,
    description: SIMON_DESCRIPTION,
    members: Object.freeze({ compute }),
  };
}
