// The values of the SIMON options follow openapi.yaml: for every option of ComputeKwargs and
// PrepareKwargs and every microprotocol its x-microprotocols names, values just outside the
// property's schema as the spec states it today (an enum's outsider, a bound's neighbour, the
// wrong type) are refused through the real `compute`/`prepare` members on a real in-memory
// session, with a 400 naming `kwargs.<option>` and without the value. The values are derived from
// openapi.yaml here, not from the generated module: tightening a schema in the spec without the
// server following (a stale generated file, or a check removed) fails this test.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { BadInputError } from '../../../services/errors.js';
import { createSimon } from '../../../services/simon/index.js';
import { MemoryHub } from '../../../services/simulation/network.js';
import { TensorSet } from '../../../services/common/tensors.js';
import type { CallContext, Member } from '../../../services/microservice.js';
import { within } from '../../within.js';

interface Property {
  readonly type?: string;
  readonly enum?: readonly (string | number)[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: boolean;
  readonly exclusiveMaximum?: boolean;
  readonly 'x-microprotocols'?: readonly string[];
}

const schemas = (parse(readFileSync('openapi.yaml', 'utf8')) as { components: { schemas: Record<string, { properties: Record<string, Property> }> } }).components.schemas;
const MEMBERS = { compute: 'ComputeKwargs', prepare: 'PrepareKwargs' } as const;

/** Values the property's schema refuses, each with why (for the test's name). */
function outside(p: Property): [string, unknown][] {
  const out: [string, unknown][] = [];
  const numeric = p.type === 'integer' || p.type === 'number';
  if (p.enum !== undefined) {
    const numbers = p.enum.filter((v): v is number => typeof v === 'number');
    out.push(['not in the enum', numeric ? Math.max(...numbers) + 1 : 'none-of-these']);
  }
  if (p.minimum !== undefined) out.push(['below the minimum', p.exclusiveMinimum === true ? p.minimum : p.minimum - 1]);
  if (p.maximum !== undefined) out.push(['above the maximum', p.exclusiveMaximum === true ? p.maximum : p.maximum + 1]);
  if (p.type === 'integer') out.push(['not an integer', (p.minimum ?? (p.enum?.[0] as number | undefined) ?? 0) + 0.5]);
  out.push(['of another type', numeric ? 'many' : 1]);
  return out;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as CallContext['log'];
const NODES = [0, 1, 2].map((i) => `http://127.0.0.1:${57300 + i}`);
let counter = 0;

/** A valid input for each microprotocol that takes options. */
function dataFor(member: 'compute' | 'prepare', microprotocol: string, i: number): unknown {
  if (microprotocol.startsWith('Set')) return [`item-${i}`, 'shared'];
  const tensors = TensorSet.from({ w: new Float64Array(4).map((_, k) => Math.sin(i + k)) });
  return member === 'compute' ? { tensors, weight: i + 1 } : { tensors };
}

/** Every party calls with the same refused value (so their terms agree); all must fail. */
async function everyParty(member: 'compute' | 'prepare', microprotocol: string, option: string, value: unknown, extra: Record<string, unknown> = {}): Promise<PromiseSettledResult<unknown>[]> {
  const hub = new MemoryHub(NODES, 60_000);
  const uuid = `option-values-${++counter}`;
  const run = createSimon().members[member] as Member;
  return within(15_000, 'every party', Promise.allSettled(NODES.map((_, i) => {
    const kwargs = { microprotocol, data: dataFor(member, microprotocol, i), network: { nodes: NODES, uuid, myself: i }, ...extra, [option]: value };
    const ctx: CallContext = { signal: new AbortController().signal, peers: hub.network(i), log: silent };
    return Promise.resolve().then(() => run([], kwargs, ctx));
  })));
}

describe('SIMON option values follow their schemas in openapi.yaml', () => {
  for (const [member, schemaName] of Object.entries(MEMBERS) as ['compute' | 'prepare', string][]) {
    for (const [option, property] of Object.entries(schemas[schemaName]!.properties)) {
      const microprotocols = property['x-microprotocols'];
      if (microprotocols === undefined) continue;
      for (const microprotocol of microprotocols) {
        test(`${member} ${microprotocol}: ${option}`, async () => {
          const values = outside(property);
          assert.ok(values.length >= 2, `${option}: the spec gives no bound to test`);
          const limits = new Set([...(property.enum ?? []), property.minimum, property.maximum].map((v) => String(v)));
          for (const [why, value] of values) {
            const settled = await everyParty(member, microprotocol, option, value);
            const own = settled.map((s) => (s.status === 'rejected' ? (s.reason as unknown) : undefined));
            assert.ok(settled.every((s) => s.status === 'rejected'), `${option} ${why}: a party accepted it`);
            const named = own.filter((e): e is BadInputError => e instanceof BadInputError && e.where === `kwargs.${option}`);
            assert.ok(named.length > 0, `${option} ${why}: no party refused it naming kwargs.${option}: ${own.map(String).join(' | ')}`);
            for (const e of named) {
              // The message says what was wrong; the value appears only where it is the spec's own limit.
              if (!limits.has(String(value))) assert.ok(!e.message.includes(String(value)), `${option} ${why}: the message echoes the value: ${e.message}`);
            }
          }
        });
      }
    }
  }

  // What a schema cannot say stays with the parser, under the same rules: the field, not the value.
  test('compute SecureFedAvg: frac_bits within its schema but too wide for a 32-bit ring', async () => {
    const settled = await everyParty('compute', 'SecureFedAvg', 'frac_bits', 61, { ring_bits: 32 });
    const named = settled.map((s) => (s.status === 'rejected' ? (s.reason as unknown) : undefined)).filter((e): e is BadInputError => e instanceof BadInputError && e.where === 'kwargs.frac_bits');
    assert.ok(named.length > 0 && settled.every((s) => s.status === 'rejected'));
    for (const e of named) assert.ok(!e.message.includes('61'), e.message);
  });
});
