// A first contact under the network secret asks every peer's identity at once, all requests of a
// party on its directory's one signal (server/peer/directory.ts): more than ten peers must not make
// Node warn of a listener leak on that signal (a warning in every server's log of a large network).

import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { openAll, startNetwork, type Network } from './harness.js';

describe('a first contact with many peers', { timeout: 60_000 }, () => {
  let net: Network | undefined;
  afterEach(async () => {
    await net?.close();
    net = undefined;
  });

  test('thirteen parties open a computation, each asking twelve identities at once, with no listener warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      net = await startNetwork(13, { mode: 'secret' });
      const sessions = await openAll(net, 'many-first-contacts');
      // Every party asked every other party (the first contact under the secret alone).
      assert.ok(net.parties.every((p) => p.requests.filter((path) => path === '/peer/identity').length >= 12));
      sessions.forEach((s) => s.close());
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });
});
