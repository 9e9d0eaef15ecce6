// `tessera serve` as a user runs it: a child process on a free port, health, SIGTERM, exit 0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeArgs, DEFAULT_PORT } from '../../server/cli.js';
import { formatNetworkSecret, parseNetworkSecret } from '../../server/peer/trust.js';
import { BIN, spawnServe } from '../support/process.js';

test('tessera serve --port 0: prints its URL and the Swagger UI, serves, exits 0 on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-cli-'));
  const server = spawnServe(['--port', '0', '--data-dir', dir, '--log-level', 'warn']);
  try {
    const url = await server.ready;
    // The human lines, before the machine-readable one the harness waits for.
    const { stdout } = server.output();
    assert.match(stdout, new RegExp(`Tessera listening on ${url.replace(/\./g, '\\.')}\n`));
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(stdout, /Swagger UI: http:\/\/127\.0\.0\.1:\d+\/docs/);
    const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const code = await server.stop('SIGTERM');
    assert.equal(code, 0, `exit ${String(code)}; stderr: ${server.output().stderr}`);
  } finally {
    await server.kill();
    await rm(dir, { recursive: true, force: true });
  }
});

test('tessera serve with an unknown flag exits 2 with a clear message; --help exits 0', () => {
  const bad = spawnSync(process.execPath, [BIN, 'serve', '--prot', '1'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Unknown option '--prot'/);
  const help = spawnSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--data-dir/);
  const unknown = spawnSync(process.execPath, [BIN, 'launch'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'launch'/);
});

const ENV_SECRET = formatNetworkSecret();
const FLAG_SECRET = formatNetworkSecret();

test('parseServeArgs: defaults and flags', () => {
  const defaults = parseServeArgs([], {});
  assert.equal(defaults.port, DEFAULT_PORT);
  assert.equal(defaults.config.host, '127.0.0.1');
  assert.match(defaults.config.dataDir, new RegExp(`\\.tessera[/\\\\]${DEFAULT_PORT}$`));
  assert.deepEqual(defaults.config.peer, {});

  const full = parseServeArgs(
    ['--port', '55501', '--host', '0.0.0.0', '--stage-timeout', '2.5', '--max-representations', '7', '--representation-ttl', '60', '--allow-peer-url', 'http://a', '--allow-peer-url', 'http://b'],
    { TESSERA_NETWORK_SECRET: ENV_SECRET },
  );
  assert.equal(full.config.port, 55501);
  assert.equal(full.config.host, '0.0.0.0');
  assert.equal(full.config.peer?.stageTimeoutMs, 2500);
  assert.deepEqual(full.config.peer?.allowPeerUrls, ['http://a', 'http://b']);
  assert.deepEqual(full.config.peer?.networkSecret, parseNetworkSecret(ENV_SECRET));
  assert.deepEqual(full.config.limits, { maxRepresentations: 7, representationTtlMs: 60_000 });
  // The flag wins over the environment.
  assert.deepEqual(parseServeArgs(['--network-secret', FLAG_SECRET], { TESSERA_NETWORK_SECRET: ENV_SECRET }).config.peer?.networkSecret, parseNetworkSecret(FLAG_SECRET));
});

for (const [argv, pattern] of [
  [['--port', '70000'], /--port must be a number from 0 to 65535/],
  [['--port', 'abc'], /--port/],
  [['--port', '1.5'], /--port must be an integer/],
  [['--log-level', 'loud'], /--log-level must be one of/],
  [['--stage-timeout', '0'], /--stage-timeout/],
  [['--network-secret', ''], /must not be empty/],
  [['--port'], /argument missing|--port/],
  [['extra'], /positional|Unexpected argument/],
] as const) {
  test(`parseServeArgs rejects ${argv.join(' ')}`, () => {
    assert.throws(() => parseServeArgs([...argv], {}), pattern);
  });
}
