// One table of options (server/config.ts): the CLI's parser and help, startServer's defaults and
// checks, and the README's options table all come from it, and agree.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPTIONS, configDefault, optionsMarkdown, parseArgsOptions, type OptionSpec } from '../../server/config.js';
import { USAGE, parseServeArgs } from '../../server/cli.js';
import { startServer } from '../../server/main.js';
import { DEFAULT_LIMITS } from '../../server/peer/node.js';
import { DEFAULT_STAGE_TIMEOUT_MS } from '../../server/peer/index.js';
import { DEFAULT_BUS_LIMITS } from '../../server/bus.js';
import { DEFAULT_BINARY_LIMIT_BYTES, DEFAULT_JSON_DEPTH, DEFAULT_JSON_LIMIT_BYTES } from '../../server/app.js';
import { withOptionsTable } from '../../scripts/readme-options.js';

const options = OPTIONS as readonly OptionSpec[];

describe('the options table, the README and the CLI agree', () => {
  test("the README's options table is the one server/config.ts makes (npm run docs:options)", () => {
    const readme = readFileSync('README.md', 'utf8');
    assert.equal(withOptionsTable(readme), readme);
    for (const o of options) assert.ok(readme.includes(`\`${o.env}\``), `${o.env} in the README`);
    assert.ok(readme.includes(optionsMarkdown()));
  });

  test('--help lists every flag with its environment variable, and the parser accepts exactly the table', () => {
    for (const o of options) {
      assert.match(USAGE, new RegExp(`--${o.flag}\\b[^\\n]*\\n?[^\\n]*\\[${o.env}\\]`), `--${o.flag} and [${o.env}] in --help`);
      if ('default' in o && o.default !== undefined && o.defaultText === undefined && !(o.kind === 'whole' && o.unit === 'bytes')) {
        assert.match(USAGE, new RegExp(`--${o.flag}\\b[^\\n]*\\n?[^\\n]*\\(default ${String(o.default)}\\)`), `default of --${o.flag} in --help`);
      }
    }
    assert.deepEqual(Object.keys(parseArgsOptions()).sort(), options.map((o) => o.flag).sort());
    assert.equal(new Set(options.map((o) => o.env)).size, options.length, 'one variable per option');
  });

  test('the modules below startServer take their defaults from the table', () => {
    assert.equal(DEFAULT_STAGE_TIMEOUT_MS, 30_000);
    assert.equal(DEFAULT_STAGE_TIMEOUT_MS, configDefault('peer.stageTimeoutMs'));
    assert.equal(DEFAULT_LIMITS.maxSessions, configDefault('peer.limits.maxSessions'));
    assert.equal(DEFAULT_LIMITS.maxParties, configDefault('peer.limits.maxParties'));
    assert.equal(DEFAULT_LIMITS.maxMessageBytes, configDefault('peer.limits.maxMessageBytes'));
    assert.equal(DEFAULT_LIMITS.maxBufferedMessages, configDefault('peer.limits.maxBufferedMessages'));
    assert.equal(DEFAULT_LIMITS.maxBufferedBytes, configDefault('peer.limits.maxBufferedBytes'));
    assert.equal(DEFAULT_BUS_LIMITS.maxRepresentations, configDefault('limits.maxRepresentations'));
    assert.equal(DEFAULT_BUS_LIMITS.representationTtlMs, 3600 * 1000);
    assert.equal(DEFAULT_JSON_LIMIT_BYTES, configDefault('limits.jsonBodyBytes'));
    assert.equal(DEFAULT_BINARY_LIMIT_BYTES, configDefault('limits.binaryBodyBytes'));
    assert.equal(DEFAULT_JSON_DEPTH, configDefault('limits.jsonDepth'));
  });
});

describe('number options are whole numbers: refused, never floored', () => {
  const wholes = options.filter((o) => o.kind === 'whole');
  for (const o of wholes) {
    test(`--${o.flag} 2.5 and ${o.env}=2.5 are refused, naming where`, () => {
      assert.throws(() => parseServeArgs([`--${o.flag}`, '2.5'], {}), new RegExp(`--${o.flag} must be an integer`));
      assert.throws(() => parseServeArgs([], { [o.env]: '2.5' }), new RegExp(`${o.env} must be an integer`));
      assert.throws(() => parseServeArgs([`--${o.flag}`, '1e3'], {}), new RegExp(`--${o.flag} must be a number`));
    });
  }

  test('the environment sets an option; the flag wins over it', () => {
    assert.equal(parseServeArgs([], { TESSERA_MAX_PARTIES: '5' }).config.peer?.limits?.maxParties, 5);
    assert.equal(parseServeArgs(['--max-parties', '6'], { TESSERA_MAX_PARTIES: '5' }).config.peer?.limits?.maxParties, 6);
    assert.equal(parseServeArgs([], { TESSERA_STAGE_TIMEOUT: '1.5' }).config.peer?.stageTimeoutMs, 1500);
    assert.deepEqual(parseServeArgs([], { TESSERA_ALLOW_PEER_URL: 'http://a, http://b' }).config.peer?.allowPeerUrls, ['http://a', 'http://b']);
    assert.equal(parseServeArgs([], { TESSERA_UNAUTHENTICATED_CLIENTS: 'yes' }).config.security?.unauthenticatedClients, true);
    assert.throws(() => parseServeArgs([], { TESSERA_UNAUTHENTICATED_CLIENTS: 'maybe' }), /TESSERA_UNAUTHENTICATED_CLIENTS must be true or false/);
    assert.equal(parseServeArgs(['--log-format', 'pretty'], {}).config.logFormat, 'pretty');
    assert.throws(() => parseServeArgs(['--log-format', 'xml'], {}), /--log-format must be one of json, pretty/);
  });

  test('startServer applies the same rules to a program\'s config, naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-config-'));
    try {
      await assert.rejects(startServer({ dataDir: dir, logLevel: 'silent', peer: { limits: { maxParties: 2.5 } } }), /peer\.limits\.maxParties must be a whole number/);
      await assert.rejects(startServer({ dataDir: dir, logLevel: 'silent', limits: { maxRepresentations: 0 } }), /limits\.maxRepresentations/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
