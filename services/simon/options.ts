// The values of the SIMON members' options (ring_bits, frac_bits, min_parties, max_weight,
// mask_graph, ttl, max_set_size), checked against their property schemas in openapi.yaml
// (ComputeKwargs, PrepareKwargs), generated into ./generated/keywords.ts (OPTION_SCHEMAS) by
// scripts/generate-keywords.mjs: the spec is the one source of each option's type and range,
// so tightening it there (and regenerating) tightens the server. Ajv compiles each schema once.
//
// Callers keep the one policy for bad input: they call this where they read the options today,
// after the session is open (or with the error held until it is: services/fedavg/index.ts
// parseOptions), so the other parties abort at once instead of waiting for their timeout.
// What a schema cannot say stays hand-written at its parser: min_parties at most the number of
// parties and above half of them, frac_bits below ring_bits − 1, sparse masks with min_parties.
// The parsers also keep their own range checks where the bound is a protocol constant the code
// relies on (MAX_WEIGHT, the set-size limit, MAX_WAIT_S, the two ring widths): a spec loosened
// by mistake must not let the server run outside what its arithmetic was argued for.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { BadInputError } from '../errors.js';
import { OPTION_SCHEMAS } from './generated/keywords.js';

export type SimonMember = keyof typeof OPTION_SCHEMAS;

// strict: an unknown keyword in a generated schema is a startup error, never a check skipped.
const ajv = new Ajv({ strict: true, allErrors: false });

const VALIDATORS: Readonly<Record<SimonMember, Readonly<Record<string, ValidateFunction>>>> = Object.freeze({
  compute: compileAll(OPTION_SCHEMAS.compute),
  prepare: compileAll(OPTION_SCHEMAS.prepare),
});

function compileAll(schemas: Readonly<Record<string, object>>): Readonly<Record<string, ValidateFunction>> {
  return Object.freeze(Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, ajv.compile(schema)])));
}

/** What was wrong, in the schema's words; never the value given (no input value in an error). */
function describe(name: string, error: ErrorObject | undefined): string {
  if (error === undefined) return `${name} does not match its schema in openapi.yaml`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'enum':
      return `${name} must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `${name} must be ${params['type'] === 'integer' ? 'an integer' : `a ${String(params['type'])}`}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${name} must be ${String(params['comparison'])} ${String(params['limit'])}`;
    default:
      return `${name} ${error.message ?? 'does not match its schema in openapi.yaml'}`;
  }
}

/**
 * Checks the value of each option of `kwargs` that openapi.yaml gives `member` (or only those in
 * `names`), throwing a BadInputError whose `where` is `kwargs.<option>`. An absent option, or a
 * null one, is left to its parser's default, as the parsers have always read null (a generated
 * client may send null for an unset keyword).
 */
export function checkOptionValues(member: SimonMember, kwargs: Readonly<Record<string, unknown>>, names?: readonly string[]): void {
  const validators = VALIDATORS[member];
  for (const name of names ?? Object.keys(validators)) {
    const validate = Object.hasOwn(validators, name) ? validators[name] : undefined;
    if (validate === undefined) throw new Error(`${member} has no option ${name} in openapi.yaml`);
    const value = kwargs[name];
    if (value === undefined || value === null) continue;
    if (!validate(value)) throw new BadInputError(describe(name, validate.errors?.[0]), { where: `kwargs.${name}` });
  }
}
