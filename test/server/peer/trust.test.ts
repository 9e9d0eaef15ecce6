// Identity keys, trust modes, allowlists, identity proofs, and the validation of a network
// before any peer is contacted.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BadInputError } from '../../../services/errors.js';
import { fromBase64Url } from '../../../server/peer/codec.js';
import { createPeerNode } from '../../../server/peer/index.js';
import { IDENTITY_FILE, LOCAL_SECRET_FILE, loadOrCreateIdentity } from '../../../server/peer/identity.js';
import { compileUrlPattern, Trust } from '../../../server/peer/trust.js';
import { memoryLog } from '../helpers.js';
import { openAll, STAGES, startNetwork, termsFor, type Network } from './harness.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tessera-trust-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

describe('identity', () => {
  test('is created once with mode 0600, loaded afterwards, with a fresh bootId per start', async () => {
    const dir = join(scratch, 'identity');
    const first = await loadOrCreateIdentity(dir, memoryLog());
    const second = await loadOrCreateIdentity(dir, memoryLog());
    assert.equal(second.publicKey, first.publicKey);
    assert.notEqual(second.bootId, first.bootId);
    assert.equal(fromBase64Url(first.bootId)!.length, 16);
    assert.equal((await stat(join(dir, IDENTITY_FILE))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o077, 0);
  });

  test('concurrent first starts agree on one key', async () => {
    const dir = join(scratch, 'race');
    const keys = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateIdentity(dir, memoryLog())));
    assert.equal(new Set(keys.map((k) => k.publicKey)).size, 1);
  });

  test('a corrupted or mismatched identity file is refused, not replaced', async () => {
    const dir = join(scratch, 'corrupt');
    await loadOrCreateIdentity(dir, memoryLog());
    const other = await loadOrCreateIdentity(join(scratch, 'other'), memoryLog());
    const file = JSON.parse(await readFile(join(dir, IDENTITY_FILE), 'utf8')) as Record<string, string>;
    await writeFile(join(dir, IDENTITY_FILE), JSON.stringify({ ...file, x: other.publicKey }));
    await assert.rejects(loadOrCreateIdentity(dir, memoryLog()), (err: Error) => err instanceof BadInputError && err.where === 'dataDir');
    await writeFile(join(dir, IDENTITY_FILE), 'not json');
    await assert.rejects(loadOrCreateIdentity(dir, memoryLog()), BadInputError);
  });
});

describe('trust modes', () => {
  test('with no configuration: a per-user local secret (0600 in a 0700 directory), loopback peers only, mode logged, secret never', async () => {
    const userConfigDir = join(scratch, 'user', 'tessera');
    const log = memoryLog();
    const node = await createPeerNode({ dataDir: join(scratch, 'local-a'), log, userConfigDir });
    try {
      const secret = await readFile(join(userConfigDir, LOCAL_SECRET_FILE));
      assert.equal(secret.length, 32);
      assert.equal((await stat(join(userConfigDir, LOCAL_SECRET_FILE))).mode & 0o777, 0o600);
      assert.equal((await stat(userConfigDir)).mode & 0o777, 0o700);
      const ready = log.lines.find((e) => e.level === 'info' && e.obj.trustMode !== undefined);
      assert.equal(ready?.obj.trustMode, 'local user secret');
      const logged = JSON.stringify(log.lines);
      for (const encoding of ['hex', 'base64', 'base64url'] as const) assert.ok(!logged.includes(secret.toString(encoding)));
      // A proof of the local secret: another node of the same user verifies it.
      const challenge = randomBytes(32);
      const answer = node.identity(challenge.toString('base64url')) as Record<string, string>;
      const verifier = new Trust({ secret, secretIsLocal: true });
      assert.ok(verifier.verifyProof(fromBase64Url(answer.publicKey)!, fromBase64Url(answer.bootId)!, challenge, fromBase64Url(answer.proof)));
      assert.ok(!new Trust({ secret: randomBytes(32) }).verifyProof(fromBase64Url(answer.publicKey)!, fromBase64Url(answer.bootId)!, challenge, fromBase64Url(answer.proof)));
      assert.ok(verifier.isTrustedUrl('http://localhost:55501'));
      assert.ok(!verifier.isTrustedUrl('http://10.0.0.1:55501'));
    } finally {
      await node.close();
    }
  });

  test('two servers of one user compute together with no trust flags', async () => {
    const net = await startNetwork(2, { mode: 'local' });
    try {
      const sessions = await openAll(net, 'local');
      await sessions[1]!.send(0, 'share', Buffer.from('hi'));
      assert.equal(Buffer.from(await sessions[0]!.receive(1, 'share')).toString(), 'hi');
      sessions.forEach((s) => s.close());
    } finally {
      await net.close();
    }
  });

  test('a network secret shorter than 16 bytes is refused', async () => {
    await assert.rejects(
      createPeerNode({ dataDir: join(scratch, 'short'), log: memoryLog(), networkSecret: Buffer.from('hunter2') }),
      (err: Error) => err instanceof BadInputError && err.where === 'networkSecret',
    );
  });

  test('a malformed challenge is a bad input', async () => {
    const node = await createPeerNode({ dataDir: join(scratch, 'challenge'), log: memoryLog(), networkSecret: randomBytes(32) });
    try {
      for (const challenge of ['short', 'not base64url!!', 'A'.repeat(200)]) {
        assert.throws(() => node.identity(challenge), (err: Error) => err instanceof BadInputError && err.where === 'challenge');
      }
      assert.deepEqual(Object.keys(node.identity(undefined)).sort(), ['bootId', 'publicKey']);
    } finally {
      await node.close();
    }
  });
});

describe('allowed peer URL patterns', () => {
  const cases: [pattern: string, url: string, allowed: boolean][] = [
    ['https://lab.example', 'https://lab.example', true],
    ['https://lab.example', 'https://lab.example:8443', true],
    ['https://lab.example', 'https://lab.example/tessera', true],
    ['https://lab.example', 'https://lab.example.evil.test', false],
    ['https://lab.example', 'http://lab.example', false],
    ['https://lab.example:8443', 'https://lab.example:8443', true],
    ['https://lab.example:8443', 'https://lab.example:84430', false],
    ['https://*.hospital.example', 'https://a.hospital.example', true],
    ['https://*.hospital.example', 'https://a.hospital.example:9000/x', true],
    ['https://*.hospital.example', 'https://evil.test/.hospital.example', false],
    ['https://*.hospital.example', 'https://hospital.example.evil.test', false],
    ['http://10.0.0.*:55501', 'http://10.0.0.7:55501', true],
    ['http://10.0.0.*:55501', 'http://10.0.0.7:55502', false],
    ['http://[::1]', 'http://[::1]:55501', true],
  ];
  for (const [pattern, url, allowed] of cases) {
    test(`${pattern} ${allowed ? 'admits' : 'refuses'} ${url}`, () => {
      assert.equal(compileUrlPattern(pattern)(url), allowed);
    });
  }
});

describe('network validation in open', () => {
  let net: Network;
  before(async () => {
    net = await startNetwork(2);
  });
  after(() => net.close());

  test('malformed networks name the field at fault', async () => {
    const [u0, u1] = net.urls as [string, string];
    const port1 = new URL(u1).port;
    const cases: [name: string, nodes: unknown, myself: unknown, where: string][] = [
      ['nodes not a list', 'http://127.0.0.1:1', 0, 'kwargs.network.nodes'],
      ['one node', [u0], 0, 'kwargs.network.nodes'],
      ['a node that is not a URL', [u0, 'not a url'], 0, 'kwargs.network.nodes[1]'],
      ['a node with credentials', [u0, `http://user:pw@127.0.0.1:${port1}`], 0, 'kwargs.network.nodes[1]'],
      ['a node with a fragment', [u0, `${u1}/#x`], 0, 'kwargs.network.nodes[1]'],
      ['a duplicate node (spelt differently)', [u0, `${u0}/`], 0, 'kwargs.network.nodes[1]'],
      ['myself out of range', [u0, u1], 2, 'kwargs.network.myself'],
      ['myself not an integer', [u0, u1], 0.5, 'kwargs.network.myself'],
      ['nodes[myself] is another server', [u0, u1], 1, 'kwargs.network.myself'],
      ['two URLs of one server', [u0, u0.replace('127.0.0.1', 'localhost')], 0, 'kwargs.network.nodes[1]'],
    ];
    for (const [name, nodes, myself, where] of cases) {
      await assert.rejects(
        net.parties[0]!.node.open({ uuid: name, myself: myself as number, terms: { microprotocol: 'SecureSum', nodes: nodes as string[] }, stages: STAGES }),
        (err: Error) => {
          assert.ok(err instanceof BadInputError, `${name}: ${err.name} ${err.message}`);
          assert.equal(err.where, where, name);
          return true;
        },
      );
    }
  });

  test('the stage name "abort" is reserved', async () => {
    await assert.rejects(
      net.parties[0]!.node.open({ uuid: 'abort-stage', myself: 0, terms: termsFor(net.urls), stages: ['share', 'abort'] }),
      (err: Error) => err instanceof BadInputError && err.where === 'stages',
    );
  });
});
