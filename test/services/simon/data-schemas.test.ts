// Each microprotocol's `data` against its `<Name>Input` schema in openapi.yaml (the table in
// ComputeKwargs): whatever the schema refuses, the server refuses too, with a 400 naming
// `kwargs.data…`, through the real `compute` member on a real in-memory session. The server's
// parsers stay the check (they say which item and why, and are stricter: empty lists, the
// two-party shapes the schemas leave free); this test keeps the spec from promising a refusal the
// server does not make: tighten a schema without the server following and it fails.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import { BadInputError, PeerError } from '../../../services/errors.js';
import { createSimon } from '../../../services/simon/index.js';
import { MemoryHub } from '../../../services/simulation/network.js';
import type { CallContext, Member } from '../../../services/microservice.js';
import { within } from '../../within.js';

const spec = parse(readFileSync('openapi.yaml', 'utf8')) as { components: { schemas: Record<string, unknown> } };

/** OpenAPI 3.0's schema object as JSON Schema draft-07 (nullable, boolean exclusive bounds, $refs). */
function jsonSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(jsonSchema);
  if (s === null || typeof s !== 'object') return s;
  const o = s as Record<string, unknown>;
  let out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (['example', 'description', 'nullable', 'exclusiveMinimum', 'exclusiveMaximum', 'format'].includes(k) || k.startsWith('x-')) continue;
    if (k === '$ref') out[k] = (v as string).replace('#/components/schemas/', 'spec#/definitions/');
    else if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as object).map(([a, b]) => [a, jsonSchema(b)]));
    else out[k] = jsonSchema(v);
  }
  if (o['exclusiveMinimum'] === true) [out['exclusiveMinimum'], out['minimum']] = [out['minimum'], undefined];
  if (o['exclusiveMaximum'] === true) [out['exclusiveMaximum'], out['maximum']] = [out['maximum'], undefined];
  out = Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
  if (o['nullable'] === true) out = { anyOf: [out, { type: 'null' }] };
  return out;
}

const ajv = new Ajv({ strict: false });
ajv.addSchema({ $id: 'spec', definitions: Object.fromEntries(Object.entries(spec.components.schemas).map(([k, v]) => [k, jsonSchema(v)])) });

/** Microprotocol, its data schema, its party count (the table in ComputeKwargs). */
const TABLE: [string, string, number][] = [
  ['SecureSum', 'SecureSumInput', 3],
  ['StatisticsUnivariate', 'StatisticsUnivariateInput', 3],
  ['StatisticsBivariate', 'StatisticsBivariateInput', 3],
  ['StatisticsFrequency', 'StatisticsFrequencyInput', 3],
  ['StatisticsContingency', 'StatisticsContingencyInput', 3],
  ['SecureMedian', 'SecureMedianInput', 3],
  ['KthElement', 'KthElementInput', 3],
  ['MinimumMaximum', 'MinimumMaximumInput', 3],
  ['SetIntersection', 'SetIntersectionInput', 3],
  ['SetIntersectionSize', 'SetIntersectionInput', 3],
  ['StatisticsContingencyVertical', 'StatisticsContingencyVerticalInput', 2],
  ['SecureMatrixMultiplication', 'SecureMatrixMultiplicationInput', 2],
  ['StatisticsRegressionOLSVertical', 'StatisticsRegressionOLSVerticalInput', 2],
];

/** Inputs of every shape the schemas distinguish: scalars, flat and nested lists, records. */
const CANDIDATES: unknown[] = [
  null, true, 'x', 19, 2.5, [], [1, 2, 3], [[1, 2], [3]], [1, 'a'], ['a', 'b'], [[1, 2], [3, 4]], {}, { a: 1 },
  [[[1]]], { x: [1, 2], y: [3, 4] }, [[1, 'yes']], [['a', 'b', 'c']], [[true, false]], [{}], [['a']], [''],
  [['']], [[]], [[null, 1]], [null], { k: 1 }, [[1, 2, 3]], [['id1', 'x'], ['id2', 'y']],
];

const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as CallContext['log'];
let counter = 0;

/** Every party gives `data`; whether it was refused naming kwargs.data (at any party). */
async function refused(microprotocol: string, parties: number, data: unknown): Promise<{ refused: boolean; why: string }> {
  const nodes = Array.from({ length: parties }, (_, i) => `http://127.0.0.1:${57400 + i}`);
  const hub = new MemoryHub(nodes, 60_000);
  const uuid = `data-schemas-${++counter}`;
  const run = createSimon().members['compute'] as Member;
  const settled = await within(15_000, 'every party', Promise.allSettled(nodes.map((_, i) => {
    const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(i), log: silent };
    return Promise.resolve().then(() => run([], { microprotocol, data, network: { nodes, uuid, myself: i } }, ctx));
  })));
  const errors = settled.map((s) => (s.status === 'rejected' ? (s.reason as unknown) : undefined));
  const named = errors.some((e) => e instanceof BadInputError && (e.where ?? '').startsWith('kwargs.data'));
  // Every party refused: its own input (400), or the others' abort naming them.
  const all = errors.every((e) => (e instanceof BadInputError && (e.where ?? '').startsWith('kwargs.data')) || e instanceof PeerError);
  return { refused: named && all, why: errors.map(String).join(' | ') };
}

describe("each microprotocol's data: what its openapi.yaml schema refuses, the server refuses", () => {
  for (const [microprotocol, schema, parties] of TABLE) {
    test(`${microprotocol} (${schema})`, async () => {
      const validate = ajv.getSchema(`spec#/definitions/${schema}`);
      assert.ok(validate !== undefined, `openapi.yaml has no ${schema}`);
      const example = (spec.components.schemas[schema] as { example?: unknown }).example;
      if (example !== undefined) assert.ok(validate(example), `${schema}'s own example does not match it`);
      let checked = 0;
      for (const data of CANDIDATES) {
        if (validate(data)) continue;
        checked += 1;
        const got = await refused(microprotocol, parties, data);
        assert.ok(got.refused, `${microprotocol}: ${schema} refuses ${JSON.stringify(data)} but the server did not: ${got.why}`);
      }
      assert.ok(checked > 0, `${schema} refuses none of the candidates`);
    });
  }
});
