// The representation bus and the registry on their own: resolution bounds, registration rules,
// matching, and what a close does to running calls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBus, createDefaultRegistry } from '../../server/app.js';
import { Registry, matches } from '../../server/registry.js';
import { SIMON_DESCRIPTION, createSimon } from '../../services/simon/index.js';
import { SERVER_OBJECT, type Microservice } from '../../services/microservice.js';
import { BadInputError, NotFoundError } from '../../services/errors.js';
import { memoryLog } from './helpers.js';

test('matches: every requirement present with an equal value', () => {
  for (const [requirements, want] of [
    [{}, true],
    [{ protocol: 'Simon' }, true],
    [{ protocol: 'Simon', version: '0.6.0' }, true],
    [{ protocol: 'simon' }, false],
    [{ protocol: 'Simon', plugin: 'Sync' }, false],
    [{ version: 0.6 }, false],
    [{ toString: 'x' }, false],
  ] as const) {
    assert.equal(matches(SIMON_DESCRIPTION, requirements), want, JSON.stringify(requirements));
  }
});

test('argument resolution returns a list of plain values as it is, and copies a list only where a member is resolved', async () => {
  const bus = createBus({ log: memoryLog(), limits: { maxArgumentDepth: 2 } });
  try {
    const plain = [1, 2.5, 'x', null, true];
    assert.equal(bus.resolve(plain, 'kwargs.data'), plain);
    const uuid = bus.upload(42);
    const mixed = [1, { representation_uuid: uuid }, [{ representation_uuid: uuid }]];
    assert.deepEqual(bus.resolve(mixed, 'kwargs.data'), [1, 42, [42]]);
    assert.deepEqual(mixed, [1, { representation_uuid: uuid }, [{ representation_uuid: uuid }]]);
    // A plain value one level past the limit is refused as before, naming the first one.
    assert.throws(() => bus.resolve([[[1, 2]]], 'args'), (err: unknown) => err instanceof BadInputError && err.where === 'args[0][0][0]');
    assert.deepEqual(bus.resolve([[[]]], 'args'), [[[]]]);
  } finally {
    await bus.close();
  }
});

test('registering two microservices with one description is refused', () => {
  const registry = new Registry();
  registry.register(createSimon());
  assert.throws(() => registry.register(createSimon()), BadInputError);
});

test('argument resolution is bounded in depth and names where it stopped', async () => {
  const bus = createBus({ log: memoryLog(), limits: { maxArgumentDepth: 4 } });
  try {
    let deep: unknown = 1;
    for (let i = 0; i < 6; i++) deep = [deep];
    assert.throws(() => bus.resolve(deep, 'args'), (err: unknown) => err instanceof BadInputError && err.where === 'args[0][0][0][0][0]');
    assert.deepEqual(bus.resolve([[[1]]], 'args'), [[[1]]]);
    assert.throws(
      () => bus.resolve({ a: { representation_uuid: 5 } }, 'kwargs'),
      (err: unknown) => err instanceof BadInputError && err.where === 'kwargs.a.representation_uuid',
    );
    // An object with more members than representation_uuid is plain data.
    assert.deepEqual(bus.resolve({ representation_uuid: 'x', note: 1 }, 'kwargs'), { representation_uuid: 'x', note: 1 });
    assert.throws(() => bus.resolve({ representation_uuid: 'x' }, 'kwargs.v'), (err: unknown) => err instanceof NotFoundError && err.where === 'kwargs.v');
  } finally {
    await bus.close();
  }
});

test('a microservice reference resolves to the microservice; a bound member is refused as an argument', async () => {
  const bus = createBus({ log: memoryLog() });
  try {
    const service = bus.create({ protocol: 'Simon' });
    const resolved = bus.resolve({ representation_uuid: service }, 'args[0]') as Microservice;
    assert.deepEqual(resolved.description, SIMON_DESCRIPTION);
    const member = bus.attribute(service, 'compute');
    assert.throws(() => bus.resolve({ representation_uuid: member }, 'args[0]'), BadInputError);
  } finally {
    await bus.close();
  }
});

test('closing the bus aborts the signal running calls see, and closes every microservice', async () => {
  let closed = 0;
  let sawAbort = false;
  const registry = createDefaultRegistry();
  registry.register({
    [SERVER_OBJECT]: true,
    description: { plugin: 'Slow' },
    members: {
      wait: (_a, _k, ctx) =>
        new Promise<void>((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve();
          });
        }),
    },
    close: () => {
      closed++;
    },
  });
  const bus = createBus({ log: memoryLog(), registry });
  const member = bus.attribute(bus.create({ plugin: 'Slow' }), 'wait');
  const running = bus.call(member, [], {});
  await bus.close();
  assert.equal(await running, undefined);
  assert.ok(sawAbort);
  assert.equal(closed, 1);
  assert.equal(bus.size, 0);
});

test('a server object is told when its representation is released, expires, or the server closes', async () => {
  const released: string[] = [];
  const registry = createDefaultRegistry();
  registry.register({
    [SERVER_OBJECT]: true,
    description: { plugin: 'Maker' },
    members: {
      make: (args) => ({
        [SERVER_OBJECT]: true,
        members: {},
        release: () => {
          released.push(String(args[0]));
        },
      }),
    },
  });
  let now = 0;
  const bus = createBus({ log: memoryLog(), registry, now: () => now, limits: { representationTtlMs: 1000 } });
  const make = bus.attribute(bus.create({ plugin: 'Maker' }), 'make');
  const made = async (name: string): Promise<string> => (await bus.call(make, [name], {}))!;

  const a = await made('a');
  bus.release(a);
  assert.deepEqual(released, ['a'], 'released by the client');
  assert.throws(() => bus.release(a), NotFoundError);
  assert.deepEqual(released, ['a'], 'told once');

  await made('b');
  now += 5000;
  bus.sweep();
  assert.deepEqual(released, ['a', 'b'], 'expired');

  await bus.call(bus.attribute(bus.create({ plugin: 'Maker' }), 'make'), ['c'], {});
  await bus.close();
  assert.deepEqual(released, ['a', 'b', 'c'], 'server closed');
});
