// The model's coordination microservices through the HTTP API: Sync.Barrier, Sync.Broadcast,
// Util.KeyValueStorage. Concurrent calls go through one listening server on an ephemeral port.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertProblem, makeApp } from '../../server/helpers.js';
import { TestClient } from '../../support/supertest-client.js';

describe('Sync and Util microservices', () => {
  const { app, close } = makeApp();
  let server: Server;
  let client: TestClient;
  before(async () => {
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    assert.ok((server.address() as AddressInfo).port > 0);
    client = new TestClient(server);
  });
  after(async () => {
    await close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('Barrier.wait releases every caller once `parties` have arrived, and is reusable', async () => {
    const barrier = await client.create({ plugin: 'Sync', microservice: 'Barrier' });
    const wait = await client.attribute(barrier, 'wait');
    for (let round = 0; round < 2; round++) {
      const calls = [0, 1, 2].map(() => client.call(wait, ['round'], { parties: 3, timeout_seconds: 5 }));
      const results = await Promise.all(calls);
      for (const res of results) assert.deepEqual(res.body, { type: 'none' }, res.text);
    }
  });

  test('Barrier.wait does not open early: two of three time out with a 504 naming the barrier', async () => {
    const barrier = await client.create({ plugin: 'Sync', microservice: 'Barrier' });
    const wait = await client.attribute(barrier, 'wait');
    const started = Date.now();
    const results = await Promise.all([0, 1].map(() => client.call(wait, ['lonely', 3, 0.3])));
    for (const res of results) assertProblem(res, 504, /timed out with \d of 3 parties/, 'lonely');
    assert.ok(Date.now() - started >= 250, 'they waited for the timeout');
    // The timed-out callers left: a fresh round of three still opens.
    const again = await Promise.all([0, 1, 2].map(() => client.call(wait, ['lonely', 3, 5])));
    for (const res of again) assert.equal(res.status, 200, res.text);
  });

  test('Barrier.wait with a different party count than the waiting round is a 409', async () => {
    const barrier = await client.create({ plugin: 'Sync', microservice: 'Barrier' });
    const wait = await client.attribute(barrier, 'wait');
    // .then() sends now: a supertest request is lazy until awaited.
    const first = client.call(wait, ['mixed', 2, 10]).then((r) => r);
    // Let the first caller arrive (its request is in flight until the round opens).
    await new Promise((r) => setTimeout(r, 300));
    assertProblem(await client.call(wait, ['mixed', 3, 10]), 409, /waiting for 2 parties/, 'parties');
    assert.equal((await client.call(wait, ['mixed', 2, 10])).status, 200);
    assert.equal((await first).status, 200);
  });

  for (const [name, args, where] of [
    ['no parties', ['b'], 'parties'],
    ['zero parties', ['b', 0], 'parties'],
    ['a negative timeout', ['b', 2, -1], 'timeout_seconds'],
    ['an endless timeout', ['b', 2, 1e9], 'timeout_seconds'],
    ['an empty name', ['', 2], 'name'],
    ['too many arguments', ['b', 2, 1, 4], 'args[3]'],
  ] as const) {
    test(`Barrier.wait with ${name} is a 400 naming ${where}`, async () => {
      const barrier = await client.create({ plugin: 'Sync', microservice: 'Barrier' });
      assertProblem(await client.call(await client.attribute(barrier, 'wait'), [...args]), 400, undefined, where);
    });
  }

  test("the model's polling barrier: create(uuid) gives arrive/arrived/depart/departed/reset", async () => {
    const ms = await client.create({ plugin: 'Sync', microservice: 'Barrier' });
    const created = await client.call(await client.attribute(ms, 'create'), [], { uuid: 'shared' });
    const instance = created.body.uuid as string;
    await client.invoke(instance, 'arrive', [], { party: 0 });
    await client.invoke(instance, 'arrive', [], { party: 1 });
    await client.invoke(instance, 'arrive', [], { party: 1 });
    assert.equal(await client.invoke(instance, 'arrived'), 2);
    // The same uuid names the same barrier instance.
    const again = (await client.call(await client.attribute(ms, 'create'), ['shared'])).body.uuid as string;
    assert.equal(await client.invoke(again, 'arrived'), 2);
    await client.invoke(instance, 'depart', [0]);
    assert.equal(await client.invoke(instance, 'departed'), 1);
    await client.invoke(instance, 'reset');
    assert.equal(await client.invoke(instance, 'arrived'), 0);
  });

  test('Broadcast: send then receive; receive does not consume', async () => {
    const bc = await client.create({ plugin: 'Sync', microservice: 'Broadcast' });
    await client.invoke(bc, 'send', ['model'], { value: { round: 1 } });
    assert.deepEqual(await client.invoke(bc, 'receive', ['model']), { round: 1 });
    assert.deepEqual(await client.invoke(bc, 'receive', [], { name: 'model', timeout_seconds: 1 }), { round: 1 });
    // The model's names for the parameters work too.
    await client.invoke(bc, 'send', [], { uuid: 'model', message: 'v2' });
    assert.equal(await client.invoke(bc, 'receive', [], { uuid: 'model' }), 'v2');
  });

  test('Broadcast.receive with a timeout waits for a send; without one answers none at once', async () => {
    const bc = await client.create({ plugin: 'Sync', microservice: 'Broadcast' });
    assert.equal(await client.invoke(bc, 'receive', ['later']), undefined);
    const receive = await client.attribute(bc, 'receive');
    const waiting = client.call(receive, ['later', 5]).then((r) => r);
    await new Promise((r) => setTimeout(r, 200));
    const sent = Date.now();
    await client.invoke(bc, 'send', ['later', 42]);
    const res = await waiting;
    assert.equal(res.status, 200, res.text);
    assert.ok(Date.now() - sent < 1000, 'answered on send, not at the timeout');
    assert.equal(await client.download(res.body.uuid), 42);
  });

  test('Broadcast.receive times out with a 504 naming the channel', async () => {
    const bc = await client.create({ plugin: 'Sync', microservice: 'Broadcast' });
    assertProblem(await client.call(await client.attribute(bc, 'receive'), ['silent', 0.1]), 504, /nothing was broadcast/, 'silent');
  });

  test('KeyValueStorage: values of any JSON type, keys sorted, unknown key 404, delete', async () => {
    const kv = await client.create({ plugin: 'Util' });
    for (const [key, value] of [['b', null], ['a', [1, { x: 2 }]], ['c', 'text']] as const) {
      await client.invoke(kv, 'set', [key, value]);
    }
    assert.deepEqual(await client.invoke(kv, 'keys'), ['a', 'b', 'c']);
    assert.equal(await client.invoke(kv, 'get', ['b']), null);
    assert.deepEqual(await client.invoke(kv, 'get', ['a']), [1, { x: 2 }]);
    await client.invoke(kv, 'delete', ['a']);
    assertProblem(await client.call(await client.attribute(kv, 'get'), ['a']), 404, /no key 'a'/, 'key');
    assertProblem(await client.call(await client.attribute(kv, 'delete'), ['a']), 404);
    assertProblem(await client.call(await client.attribute(kv, 'set'), ['only-key']), 400, /value is required/, 'value');
  });

  // FSC's own client calls these requests (its server's test_kvstorage: create the microservice,
  // create(storage=...), store, retrieve); before, Tessera answered the create with a 404.
  test("KeyValueStorage, the model's surface: create(storage) gives store/retrieve/exists/delete; delete(storage) drops it", async () => {
    const kv = await client.create({ microservice: 'KeyValueStorage' });
    const created = await client.call(await client.attribute(kv, 'create'), [], { storage: 'TestStorage' });
    assert.equal(created.status, 200, created.text);
    const storage = created.body.uuid as string;
    assert.equal(await client.invoke(storage, 'store', [], { key: 'meaning', value: 42 }), undefined);
    assert.equal(await client.invoke(storage, 'retrieve', ['meaning']), 42);
    assert.equal(await client.invoke(storage, 'exists', [], { key: 'meaning' }), true);
    // A key it does not hold: none, as the model answers, not an error.
    assert.equal(await client.invoke(storage, 'retrieve', [], { key: 'absent' }), undefined);
    assert.equal(await client.invoke(storage, 'exists', ['absent']), false);
    // The same name is the same storage; another name is another one.
    const again = (await client.call(await client.attribute(kv, 'create'), ['TestStorage'])).body.uuid as string;
    assert.equal(await client.invoke(again, 'retrieve', ['meaning']), 42);
    const other = (await client.call(await client.attribute(kv, 'create'), ['Other'])).body.uuid as string;
    assert.equal(await client.invoke(other, 'exists', ['meaning']), false);
    // The default storage is the one set/get use.
    const byDefault = (await client.call(await client.attribute(kv, 'create'))).body.uuid as string;
    await client.invoke(byDefault, 'store', ['shared-key', 'v']);
    assert.equal(await client.invoke(kv, 'get', ['shared-key']), 'v');
    await client.invoke(kv, 'delete', ['shared-key']);
    // delete(key) on a storage, then delete(storage=...) of the whole storage.
    await client.invoke(storage, 'delete', ['meaning']);
    assert.equal(await client.invoke(storage, 'exists', ['meaning']), false);
    assertProblem(await client.call(await client.attribute(storage, 'delete'), ['meaning']), 404, /no key 'meaning'/, 'key');
    await client.invoke(storage, 'store', ['k', 1]);
    await client.invoke(kv, 'delete', [], { storage: 'TestStorage' });
    assertProblem(await client.call(await client.attribute(storage, 'retrieve'), ['k']), 404, /no storage 'TestStorage'/, 'storage');
    assertProblem(await client.call(await client.attribute(kv, 'delete'), [], { storage: 'TestStorage' }), 404, /no storage/, 'storage');
    assertProblem(await client.call(await client.attribute(kv, 'create'), [], { storage: 7 }), 400, /storage must be a non-empty string/, 'storage');
  });

  test('KeyValueStorage stores the value a representation names', async () => {
    const kv = await client.create({ plugin: 'Util' });
    const uploaded = await client.upload({ weights: [1, 2] });
    await client.invoke(kv, 'set', ['model', { representation_uuid: uploaded }]);
    assert.deepEqual(await client.invoke(kv, 'get', ['model']), { weights: [1, 2] });
  });
});
