// Pinned peers without a network secret: an identity answer used to carry no proof at all (the
// proof was an HMAC under the secret), so whoever sat between two parties (a relay, a proxy, the
// network) could answer an identity request with an answer recorded earlier, naming a run that
// has ended, or with a run it made up. The answer now carries a pair proof over the asker's fresh
// challenge under a key only the two servers derive (server/peer/pair-secrets.ts identityProof,
// server/peer/directory.ts), so a replayed, altered or stripped answer is refused. Here a real
// HTTP proxy stands at the URL the asker's peers file pins to party 1's key and forwards, replays
// or alters party 1's real answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { PeerError, BadInputError } from '../../services/errors.js';
import { createPeerNode, type ConnectedPeerNode } from '../../server/peer/index.js';
import { loadOrCreateIdentity } from '../../server/peer/identity.js';
import { rawRequest } from '../support/http.js';
import { memoryLog } from '../server/helpers.js';
import { startNetwork, type Network } from '../server/peer/harness.js';

type Mode = 'forward' | 'replay' | 'strip' | 'other-boot';

/** A proxy in front of `target`'s GET /peer/identity that forwards, replays or alters the answers. */
async function identityProxy(target: () => string): Promise<{ url: string; mode: Mode; recorded: string; close(): void }> {
  const state = { url: '', mode: 'forward' as Mode, recorded: '', close: () => server.close() };
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    // Identity requests only: the asker's channel (a WebSocket upgrade) finds nothing here and goes by GET.
    if (!path.startsWith('/peer/identity?')) {
      res.writeHead(404).end();
      return;
    }
    void rawRequest(target(), path, { timeoutMs: 5000 }).then((live) => {
      let text = live.text;
      if (state.mode === 'forward') state.recorded = text;
      else if (state.mode === 'replay') text = state.recorded;
      else {
        const answer = JSON.parse(text) as Record<string, unknown>;
        if (state.mode === 'strip') delete answer.pairProof;
        else answer.bootId = randomBytes(16).toString('base64url');
        text = JSON.stringify(answer);
      }
      res.writeHead(live.status, { 'content-type': 'application/json' }).end(text);
    }, () => res.writeHead(502).end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

describe('identity answers between pinned peers without a network secret', { timeout: 60_000 }, () => {
  let net: Network;
  let proxy: Awaited<ReturnType<typeof identityProxy>>;
  let asker: ConnectedPeerNode;

  before(async () => {
    net = await startNetwork(2, { mode: 'pinned' });
    proxy = await identityProxy(() => net.urls[1]!);
    // Party 0's key (party 1 pins it), with a peers file that pins the proxy's URL to party 1's key.
    const peersFile = join(net.root, 'asker-peers.json');
    const partyOne = await loadOrCreateIdentity(net.parties[1]!.dataDir, memoryLog());
    await writeFile(peersFile, JSON.stringify([{ url: proxy.url, publicKey: partyOne.publicKey }]));
    asker = await createPeerNode({ dataDir: net.parties[0]!.dataDir, log: memoryLog(), peersFile, stageTimeoutMs: 5000 });
  });
  after(async () => {
    await asker?.close();
    proxy?.close();
    await net?.close();
  });

  const ask = () => asker.directory.get(proxy.url, 'party 1', true);

  test('a live answer proves party 1\'s run; the same answer replayed after its restart is refused', async () => {
    proxy.mode = 'forward';
    const before = await ask();
    assert.equal(before.bootId, ((await rawRequest(net.urls[1]!, '/peer/identity', { timeoutMs: 5000 })).json as { bootId: string }).bootId);
    await net.parties[1]!.restart(); // the same key, a new run
    proxy.mode = 'replay';
    await assert.rejects(ask(), (err: Error) => err instanceof PeerError && /could not prove its key and current run/.test(err.message) && err.where === 'party 1');
    // Nothing of the replay was recorded: the boot the directory knows is still the old one until
    // a live answer names the new run.
    assert.equal(await asker.directory.isCurrentBoot(before.publicKey, before.bootId, undefined, 'party 1'), true);
    proxy.mode = 'forward';
    const after = await ask();
    assert.notEqual(after.bootId, before.bootId);
    assert.equal(await asker.directory.isCurrentBoot(before.publicKey, before.bootId, undefined, 'party 1'), false);
  });

  test('an answer naming another run, or with its pair proof taken out, is refused', async () => {
    proxy.mode = 'other-boot';
    await assert.rejects(ask(), (err: Error) => err instanceof PeerError && /could not prove its key and current run/.test(err.message));
    proxy.mode = 'strip';
    await assert.rejects(ask(), (err: Error) => err instanceof PeerError && /without a proof for this server's key/.test(err.message));
  });

  test('a server proves its run only to the keys its peers file pins, and refuses an asker that is no key', () => {
    const node = net.parties[1]!.node;
    const challenge = randomBytes(32).toString('base64url');
    const pinnedAsker = net.parties[0]!.node.publicKey;
    assert.equal(typeof node.identity(challenge, pinnedAsker).pairProof, 'string');
    assert.equal(node.identity(challenge, randomBytes(32).toString('base64url')).pairProof, undefined);
    for (const asker of ['short', 'A'.repeat(44), 'not base64url!!']) {
      assert.throws(() => node.identity(challenge, asker), (err: Error) => err instanceof BadInputError && err.where === 'asker');
    }
  });
});
