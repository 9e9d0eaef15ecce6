// An identity answer through the relay between pinned peers without a network secret: whoever
// can answer on a party's subject (the relay itself, or a client allowed to subscribe there) could
// replay an answer recorded earlier, or alter one, since such an answer carried no proof. Here an
// impostor answers on the subject that the asker's peers file pins to party B's key, forwarding
// the asker's requests to B or answering with an earlier answer of B: only B's live answer to the
// asker's own challenge passes (server/peer/directory.ts, pair-secrets.ts identityProof).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { PeerError } from '../../services/errors.js';
import { createPeerNode, type ConnectedPeerNode } from '../../server/peer/index.js';
import { loadOrCreateIdentity } from '../../server/peer/identity.js';
import { memoryLog } from '../server/helpers.js';
import { startNats, type Nats } from './nats.js';

type Mode = 'forward' | 'replay' | 'other-boot' | 'strip';

describe('identity answers through the relay, pinned peers without a network secret', { timeout: 60_000 }, () => {
  const tag = randomBytes(4).toString('hex');
  const [a, b, fake] = ['a', 'b', 'fake'].map((n) => `${n}-${tag}`) as [string, string, string];
  let nats: Nats;
  let dir: string;
  let asker: ConnectedPeerNode;
  let party: ConnectedPeerNode;
  let impostor: NatsConnection;
  const state = { mode: 'forward' as Mode, recorded: undefined as Uint8Array | undefined, answered: 0 };

  before(async () => {
    nats = await startNats();
    dir = await mkdtemp(join(tmpdir(), 'tessera-identity-'));
    const keyA = (await loadOrCreateIdentity(join(dir, 'a'), memoryLog())).publicKey;
    const keyB = (await loadOrCreateIdentity(join(dir, 'b'), memoryLog())).publicKey;
    // B pins A (so it proves its run to A); A pins the impostor's name to B's key.
    await writeFile(join(dir, 'b.json'), JSON.stringify([{ url: `relay://${b}`, publicKey: keyB }, { url: `relay://${a}`, publicKey: keyA }]));
    await writeFile(join(dir, 'a.json'), JSON.stringify([{ url: `relay://${a}`, publicKey: keyA }, { url: `relay://${fake}`, publicKey: keyB }]));
    const node = (name: string) => createPeerNode({
      dataDir: join(dir, name[0]!), log: memoryLog(), peersFile: join(dir, `${name[0]}.json`), stageTimeoutMs: 5000,
      relay: { servers: [nats.url], name },
    });
    party = await node(b);
    asker = await node(a);
    impostor = await connect({ servers: nats.url });
    impostor.subscribe(`tessera.peer.${fake}`, {
      callback: (err, msg: Msg) => {
        if (err) return;
        const h = natsHeaders();
        for (const key of msg.headers!.keys()) h.set(key, msg.headers!.get(key));
        void impostor.request(`tessera.peer.${b}`, msg.data, { timeout: 5000, headers: h }).then((live) => {
          let data = live.data;
          if (state.mode === 'forward') state.recorded = data;
          else if (state.mode === 'replay') data = state.recorded!;
          else {
            const answer = JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>;
            if (state.mode === 'strip') delete answer.pairProof;
            else answer.bootId = randomBytes(16).toString('base64url');
            data = Buffer.from(JSON.stringify(answer));
          }
          state.answered += 1;
          msg.respond(data, { headers: live.headers! });
        });
      },
    });
    await impostor.flush();
  });
  after(async () => {
    await impostor?.close();
    await asker?.close();
    await party?.close();
    await nats?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const ask = () => asker.directory.get(`relay://${fake}`, 'party 1', true);

  test('B\'s live answer, relayed, proves B\'s run; the same answer replayed, or altered, is refused', async () => {
    state.mode = 'forward';
    const live = await ask();
    assert.equal(live.bootId, party.identity(undefined).bootId);
    for (const mode of ['replay', 'other-boot'] as const) {
      state.mode = mode;
      await assert.rejects(ask(), (err: Error) => err instanceof PeerError && /could not prove its key and current run/.test(err.message) && err.where === 'party 1', mode);
    }
    state.mode = 'strip';
    await assert.rejects(ask(), (err: Error) => err instanceof PeerError && /without a proof for this server's key/.test(err.message));
    assert.equal(state.answered, 4, 'every request reached the impostor');
  });
});
