// The SIMON members' keywords come from openapi.yaml (ComputeKwargs, PrepareKwargs and each
// option's x-microprotocols), generated into services/simon/generated/keywords.ts: the file is
// fresh, a stale one fails the check, and a keyword the spec does not give a microprotocol is
// refused with a 400 naming it before the microprotocol opens a session (no peer traffic).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { BadInputError } from '../../../services/errors.js';
import { createSimon } from '../../../services/simon/index.js';
import { KEYWORDS } from '../../../services/simon/generated/keywords.js';
import type { CallContext, Member } from '../../../services/microservice.js';
import type { PeerNetwork } from '../../../services/peer.js';

const GENERATED = 'services/simon/generated/keywords.ts';

function check(): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, ['scripts/generate-keywords.mjs', '--check'], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: r.stdout + r.stderr };
}

/** A context whose peer network records every session opened (none must be, for a refused call). */
function context(): { ctx: CallContext; opened: number } {
  const state = { opened: 0 };
  const peers: PeerNetwork = {
    stageTimeoutMs: 1000,
    open() {
      state.opened += 1;
      return Promise.reject(new Error('no session in this test'));
    },
  };
  const log = { debug() {}, info() {}, warn() {}, error() {} } as unknown as CallContext['log'];
  return { ctx: { signal: new AbortController().signal, peers, log }, get opened() { return state.opened; } };
}

const NETWORK = { nodes: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], uuid: '6f1c3d2e-0a4b-4c5d-8e9f-0a1b2c3d4e5f', myself: 0 };

describe('SIMON keywords from openapi.yaml', () => {
  test('the generated module is up to date; a hand edit fails the check', () => {
    const fresh = check();
    assert.equal(fresh.status, 0, fresh.output);
    const committed = readFileSync(GENERATED, 'utf8');
    try {
      writeFileSync(GENERATED, committed.replace("'ring_bits'", "'ring_bit'"));
      const stale = check();
      assert.equal(stale.status, 1);
      assert.match(stale.output, /stale/);
    } finally {
      writeFileSync(GENERATED, committed);
    }
  });

  test("compute's and prepare's keywords are the spec's properties", () => {
    const schemas = (parse(readFileSync('openapi.yaml', 'utf8')) as { components: { schemas: Record<string, { properties: Record<string, { 'x-microprotocols'?: string[] }> }> } }).components.schemas;
    for (const [member, schema] of [['compute', 'ComputeKwargs'], ['prepare', 'PrepareKwargs']] as const) {
      const properties = schemas[schema]!.properties;
      const generated = KEYWORDS[member];
      const all = new Set<string>([...generated.common, ...Object.values(generated.options as Record<string, readonly string[]>).flat()]);
      assert.deepEqual([...all].sort(), Object.keys(properties).sort(), member);
      for (const [name, list] of Object.entries(generated.options as Record<string, readonly string[]>)) {
        for (const keyword of list) assert.ok(properties[keyword]!['x-microprotocols']!.includes(name), `${member} ${name} ${keyword}`);
      }
    }
  });

  const refused: [string, 'compute' | 'prepare', Record<string, unknown>, string][] = [
    ['PlainFedAvg has no ring', 'compute', { microprotocol: 'PlainFedAvg', ring_bits: 32 }, 'kwargs.ring_bits'],
    ['a misspelt SecureFedAvg option', 'compute', { microprotocol: 'SecureFedAvg', ring_bit: 32 }, 'kwargs.ring_bit'],
    ['ttl belongs to prepare', 'compute', { microprotocol: 'SecureFedAvg', ttl: 60 }, 'kwargs.ttl'],
    // The order statistics are on the engine now: their keywords are checked after the session
    // opens, so the others abort at once (test/services/simon/order/engine.test.ts).
    ['prepare: PlainFedAvg has no frac_bits', 'prepare', { microprotocol: 'PlainFedAvg', frac_bits: 20 }, 'kwargs.frac_bits'],
  ];
  for (const [name, member, extra, where] of refused) {
    test(`refused before any session: ${name}`, async () => {
      const simon = createSimon();
      const run = simon.members[member] as Member;
      const c = context();
      await assert.rejects(
        Promise.resolve().then(() => run([], { data: 1, network: NETWORK, ...extra }, c.ctx)),
        (e: unknown) => e instanceof BadInputError && e.where === where && e.message.includes(JSON.stringify(where.slice('kwargs.'.length))),
      );
      assert.equal(c.opened, 0, 'a session was opened');
    });
  }
});
