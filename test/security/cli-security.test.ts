// The security flags of `tessera serve`: where the client token comes from, refusing to bind beyond
// loopback without one, the loud warning with --unauthenticated-clients, CORS origins, TLS files and
// the peer limits, parsed (table-driven) and as a user runs them (child processes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeArgs } from '../../server/cli.js';
import { rawRequest } from '../support/http.js';
import { BIN, spawnServe } from '../support/process.js';

const TOKEN = 'k3y-0f-sufficient-length-for-a-test';

describe('parseServeArgs: security flags', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-cli-sec-'));
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    await writeFile(join(dir, 'cert.pem'), 'CERT');
    await writeFile(join(dir, 'key.pem'), 'KEY');
    await writeFile(join(dir, 'ca.pem'), 'CA');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the token from a file (trailing newline dropped), from TESSERA_TOKEN, or from --token', () => {
    assert.equal(parseServeArgs(['--token-file', join(dir, 'token')], {}).config.security?.clientToken, TOKEN);
    assert.equal(parseServeArgs([], { TESSERA_TOKEN: TOKEN }).config.security?.clientToken, TOKEN);
    const flag = parseServeArgs(['--token', TOKEN], { TESSERA_TOKEN: 'another-token-that-loses' });
    assert.equal(flag.config.security?.clientToken, TOKEN);
    assert.equal(flag.tokenOnCommandLine, true);
    assert.equal(parseServeArgs([], {}).config.security?.clientToken, undefined);
  });

  test('CORS origins are normalised; TLS files are read; peer limits reach the peer node', () => {
    const parsed = parseServeArgs(
      ['--cors-origin', 'https://App.example:443/', '--cors-origin', 'http://localhost:3000', '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--tls-ca', join(dir, 'ca.pem'),
        '--max-computations', '7', '--max-buffered-messages', '9', '--max-buffered-bytes', '4096', '--max-peer-message', '2048', '--max-parties', '5', '--max-json-depth', '20', '--unauthenticated-clients'],
      {},
    );
    assert.deepEqual(parsed.config.security, { unauthenticatedClients: true, corsOrigins: ['https://app.example', 'http://localhost:3000'] });
    assert.deepEqual(parsed.config.tls, { cert: 'CERT', key: 'KEY', ca: ['CA'] });
    assert.deepEqual(parsed.config.peer?.limits, { maxSessions: 7, maxBufferedMessages: 9, maxBufferedBytes: 4096, maxMessageBytes: 2048, maxParties: 5 });
    assert.equal(parsed.config.limits?.jsonDepth, 20);
  });

  const refused: [string[], Record<string, string>, RegExp][] = [
    [['--token', 'short'], {}, /at least 16 characters/],
    [[], { TESSERA_TOKEN: 'has a space in it!!' }, /visible ASCII/],
    [['--token', TOKEN, '--token-file', 'x'], {}, /give the client token once/],
    [['--token-file', '/nonexistent/token'], {}, /cannot read \/nonexistent\/token/],
    [['--cors-origin', '*'], {}, /every web page/],
    [['--cors-origin', 'https://app.example/path'], {}, /not an origin/],
    [['--tls-cert', 'cert.pem'], {}, /--tls-cert and --tls-key go together/],
    [['--max-computations', '0'], {}, /--max-computations must be a number/],
    [['--max-json-depth', 'deep'], {}, /--max-json-depth/],
  ];
  for (const [argv, env, pattern] of refused) {
    test(`refuses ${argv.join(' ') || JSON.stringify(env)}`, () => {
      assert.throws(() => parseServeArgs(argv, env), pattern);
    });
  }
});

/** `tessera serve` on a free port with `args` and `env` added (test/support/process.ts). */
function serve(args: string[], env: Record<string, string> = {}) {
  return spawnServe(['--port', '0', '--log-level', 'warn', ...args], { env: { ...process.env, ...env } });
}

describe('tessera serve beyond loopback', { timeout: 120_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-cli-bind-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('--host 0.0.0.0 without a token: exits 1 and says to give a token or --unauthenticated-clients', () => {
    const run = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--host', '0.0.0.0', '--data-dir', join(dir, 'a')], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TESSERA_TOKEN: '' } });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /refusing to listen on 0\.0\.0\.0 without a client token/);
    assert.match(run.stderr, /--token-file/);
    assert.match(run.stderr, /--unauthenticated-clients/);
  });

  test('--unauthenticated-clients: serves, with a loud warning on stderr', async () => {
    const server = serve(['--host', '0.0.0.0', '--data-dir', join(dir, 'b'), '--unauthenticated-clients']);
    try {
      const url = await server.ready;
      assert.match(server.output().stderr, /WARNING: clients are NOT authenticated/);
      const res = await rawRequest(url.replace('0.0.0.0', '127.0.0.1'), '/representations');
      assert.equal(res.status, 200);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('--token on the command line: works, with a warning that ps shows it; clients need the token', async () => {
    const server = serve(['--host', '0.0.0.0', '--data-dir', join(dir, 'c'), '--token', TOKEN]);
    try {
      const url = (await server.ready).replace('0.0.0.0', '127.0.0.1');
      assert.match(server.output().stderr, /--token is visible to every user of this machine/);
      assert.doesNotMatch(server.output().stderr, /NOT authenticated/);
      assert.equal((await rawRequest(url, '/representations')).status, 401);
      assert.equal((await rawRequest(url, '/representations', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
      assert.ok(!server.output().stderr.includes(TOKEN) && !server.output().stdout.includes(TOKEN), 'the token is never printed');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
