// `tessera serve`: run one party's server until SIGINT/SIGTERM.
// Started as `npx tessera serve` (bin/tessera.mjs) or `tsx server/cli.ts serve` (npm run serve).

import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Level } from 'pino';
import { TesseraError } from '../services/errors.js';
import { checkClientToken, normaliseOrigin } from './http/security.js';
import { isLoopbackBind, startServer, type ServerConfig } from './main.js';

export const DEFAULT_PORT = 55500;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const USAGE = `Usage: tessera serve [options]

Run one party's Tessera server.

Options:
  --port <n>                  TCP port (default ${DEFAULT_PORT}; 0 picks a free port)
  --host <addr>               interface to bind (default 127.0.0.1, loopback only)
  --data-dir <dir>            identity key and state (default ./.tessera/<port>)
  --log-level <level>         ${LOG_LEVELS.join(', ')} (default info); logs go to stderr
  --stage-timeout <seconds>   how long a protocol stage waits for a peer (default 30)
  --network-secret <secret>   trust peers that know this shared secret; prefer the
                              TESSERA_NETWORK_SECRET environment variable (not visible in ps)
  --peers-file <file>         trust exactly the peers pinned in this JSON file
  --allow-peer-url <prefix>   a URL prefix clients may name as a node (repeatable)

Clients and browsers:
  --token-file <file>         clients must send "Authorization: Bearer <token>" with the
                              token in this file (or TESSERA_TOKEN; --token <t> is visible in ps)
  --unauthenticated-clients   allow binding beyond loopback without a token (every host that
                              reaches the port may use the server)
  --cors-origin <origin>      a web origin allowed to call this server (repeatable; no '*')

HTTPS:
  --tls-cert <file>           serve HTTPS with this PEM certificate (chain)
  --tls-key <file>            and this PEM private key
  --tls-ca <file>             trust this PEM CA for https peers, besides the well-known roots

Limits:
  --max-representations <n>   live representations at most (default 10000)
  --representation-ttl <s>    a representation unused this long expires (default 3600)
  --max-json-body <bytes>     largest JSON request body (default 16777216)
  --max-json-depth <n>        deepest nesting in a JSON body (default 100)
  --max-binary-body <bytes>   largest safetensors upload (default 536870912)
  --max-computations <n>      computations running at once (default 1000)
  --max-buffered-messages <n> early peer messages held for computations not started (default 4096)
  --max-buffered-bytes <b>    their bytes (default 67108864)
  --max-peer-message <bytes>  largest peer message payload (default 33554432)
  --max-parties <n>           parties in one computation (default 64)
  --max-model-bytes <bytes>   largest model a FedAvg computation may declare (default 536870912)
  -h, --help                  show this help

Swagger UI: http://<host>:<port>/docs   Spec: /openapi.yaml, /openapi.json
`;

/** A command-line mistake: printed with the usage hint, exit status 2. */
class UsageError extends TesseraError {
  readonly status = 400;
  readonly slug = 'usage';
}

function integer(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a number from ${min} to ${max}, got '${value}'`, { where: flag });
  }
  return n;
}

export interface ParsedServe {
  readonly help: boolean;
  readonly config: ServerConfig;
  readonly port: number;
  /** The token came as --token: other users of the machine can read it in the process list. */
  readonly tokenOnCommandLine: boolean;
}

/** Parse `serve` options into a server config (no side effects). */
export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedServe {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        'stage-timeout': { type: 'string' },
        'network-secret': { type: 'string' },
        'peers-file': { type: 'string' },
        'allow-peer-url': { type: 'string', multiple: true },
        'max-representations': { type: 'string' },
        'representation-ttl': { type: 'string' },
        'max-json-body': { type: 'string' },
        'max-binary-body': { type: 'string' },
        'max-json-depth': { type: 'string' },
        'max-computations': { type: 'string' },
        'max-buffered-messages': { type: 'string' },
        'max-buffered-bytes': { type: 'string' },
        'max-peer-message': { type: 'string' },
        'max-parties': { type: 'string' },
        'max-model-bytes': { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        'unauthenticated-clients': { type: 'boolean' },
        'cors-origin': { type: 'string', multiple: true },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // parseArgs explains unknown flags and missing values well; keep its words.
    throw new UsageError(err instanceof Error ? err.message : 'invalid arguments');
  }
  const v = parsed.values;
  const port = integer(v.port, '--port', 0, 65535) ?? DEFAULT_PORT;
  if (!Number.isInteger(port)) throw new UsageError('--port must be an integer', { where: '--port' });
  const logLevel = v['log-level'];
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, { where: '--log-level' });
  }
  const secret = v['network-secret'] ?? env.TESSERA_NETWORK_SECRET;
  if (secret !== undefined && secret.length === 0) {
    throw new UsageError('the network secret must not be empty', { where: '--network-secret' });
  }
  const stageTimeout = integer(v['stage-timeout'], '--stage-timeout', 0.001, 86_400);
  const maxRepresentations = integer(v['max-representations'], '--max-representations', 1, 10_000_000);
  const ttl = integer(v['representation-ttl'], '--representation-ttl', 0.001, 30 * 86_400);
  const jsonBody = integer(v['max-json-body'], '--max-json-body', 1024, 2 ** 31);
  const binaryBody = integer(v['max-binary-body'], '--max-binary-body', 1024, 2 ** 33);
  const jsonDepth = integer(v['max-json-depth'], '--max-json-depth', 8, 10_000);
  const maxComputations = integer(v['max-computations'], '--max-computations', 1, 1_000_000);
  const maxBufferedMessages = integer(v['max-buffered-messages'], '--max-buffered-messages', 1, 10_000_000);
  const maxBufferedBytes = integer(v['max-buffered-bytes'], '--max-buffered-bytes', 1024, 2 ** 40);
  const maxPeerMessage = integer(v['max-peer-message'], '--max-peer-message', 1024, 2 ** 31);
  const maxParties = integer(v['max-parties'], '--max-parties', 2, 10_000);
  const maxModelBytes = integer(v['max-model-bytes'], '--max-model-bytes', 1024, 2 ** 40);

  // The client token: a flag, the environment, or a file (one line; surrounding whitespace dropped).
  if (v.token !== undefined && v['token-file'] !== undefined) {
    throw new UsageError('give the client token once: --token or --token-file', { where: '--token' });
  }
  let clientToken: string | undefined;
  if (v['token-file'] !== undefined) clientToken = readText(v['token-file'], '--token-file').trim();
  else clientToken = v.token ?? (env.TESSERA_TOKEN !== undefined && env.TESSERA_TOKEN !== '' ? env.TESSERA_TOKEN : undefined);
  const tokenFlag = v['token-file'] !== undefined ? '--token-file' : v.token !== undefined ? '--token' : 'TESSERA_TOKEN';
  if (clientToken !== undefined) asUsage(() => checkClientToken(clientToken!, tokenFlag));
  const corsOrigins = (v['cors-origin'] ?? []).map((o) => asUsage(() => normaliseOrigin(o, '--cors-origin')));
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together', { where: v['tls-cert'] === undefined ? '--tls-cert' : '--tls-key' });
  }
  const tls: NonNullable<ServerConfig['tls']> = {
    ...(v['tls-cert'] !== undefined ? { cert: readText(v['tls-cert'], '--tls-cert') } : {}),
    ...(v['tls-key'] !== undefined ? { key: readText(v['tls-key'], '--tls-key') } : {}),
    ...(v['tls-ca'] !== undefined ? { ca: v['tls-ca'].map((f) => readText(f, '--tls-ca')) } : {}),
  };
  const host = v.host ?? '127.0.0.1';
  const unauthenticatedClients = v['unauthenticated-clients'] === true;

  const limits: NonNullable<ServerConfig['limits']> = {
    ...(maxRepresentations !== undefined ? { maxRepresentations: Math.floor(maxRepresentations) } : {}),
    ...(ttl !== undefined ? { representationTtlMs: Math.round(ttl * 1000) } : {}),
    ...(jsonBody !== undefined ? { jsonBodyBytes: Math.floor(jsonBody) } : {}),
    ...(binaryBody !== undefined ? { binaryBodyBytes: Math.floor(binaryBody) } : {}),
    ...(jsonDepth !== undefined ? { jsonDepth: Math.floor(jsonDepth) } : {}),
    ...(maxModelBytes !== undefined ? { maxModelBytes: Math.floor(maxModelBytes) } : {}),
  };
  const peerLimits: NonNullable<NonNullable<ServerConfig['peer']>['limits']> = {
    ...(maxComputations !== undefined ? { maxSessions: Math.floor(maxComputations) } : {}),
    ...(maxBufferedMessages !== undefined ? { maxBufferedMessages: Math.floor(maxBufferedMessages) } : {}),
    ...(maxBufferedBytes !== undefined ? { maxBufferedBytes: Math.floor(maxBufferedBytes) } : {}),
    ...(maxPeerMessage !== undefined ? { maxMessageBytes: Math.floor(maxPeerMessage) } : {}),
    ...(maxParties !== undefined ? { maxParties: Math.floor(maxParties) } : {}),
  };
  const peer: NonNullable<ServerConfig['peer']> = {
    ...(secret !== undefined ? { networkSecret: Buffer.from(secret, 'utf8') } : {}),
    ...(v['peers-file'] !== undefined ? { peersFile: resolve(v['peers-file']) } : {}),
    ...(v['allow-peer-url'] !== undefined ? { allowPeerUrls: v['allow-peer-url'] } : {}),
    ...(stageTimeout !== undefined ? { stageTimeoutMs: Math.round(stageTimeout * 1000) } : {}),
    ...(Object.keys(peerLimits).length > 0 ? { limits: peerLimits } : {}),
  };
  return {
    help: v.help === true,
    port,
    config: {
      host,
      port,
      dataDir: resolve(v['data-dir'] ?? `.tessera/${port}`),
      logLevel: (logLevel ?? 'info') as Level | 'silent',
      limits,
      peer,
      security: {
        ...(clientToken !== undefined ? { clientToken } : {}),
        ...(unauthenticatedClients ? { unauthenticatedClients } : {}),
        ...(corsOrigins.length > 0 ? { corsOrigins } : {}),
      },
      ...(Object.keys(tls).length > 0 ? { tls } : {}),
    },
    tokenOnCommandLine: v.token !== undefined,
  };
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(resolve(path), 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { where: flag });
  }
}

/** Runs a check that throws a TesseraError and rethrows it as a usage error (exit 2). */
function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof TesseraError) throw new UsageError(e.message, { ...(e.where !== undefined ? { where: e.where } : {}) });
    throw e;
  }
}

/** Run the CLI; resolves with the process exit status (after shutdown, for `serve`). */
export async function main(argv: readonly string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  const err = (line: string): void => {
    process.stderr.write(line + '\n');
  };
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'serve') {
    err(`tessera: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  let parsed: ParsedServe;
  try {
    parsed = parseServeArgs(rest);
  } catch (e) {
    err(`tessera serve: ${e instanceof Error ? e.message : String(e)}\nRun 'tessera serve --help' for the options.`);
    return 2;
  }
  if (parsed.help) {
    out(USAGE);
    return 0;
  }
  let server;
  try {
    server = await startServer(parsed.config);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EADDRINUSE') err(`tessera serve: port ${parsed.port} is already in use (try --port 0 or another port)`);
    else if (e instanceof TesseraError) err(`tessera serve: ${e.message}${e.where !== undefined ? ` (${e.where})` : ''}`);
    else err(`tessera serve: could not start: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  if (parsed.tokenOnCommandLine) {
    err('tessera serve: warning: --token is visible to every user of this machine (ps); prefer --token-file or TESSERA_TOKEN');
  }
  const security = parsed.config.security ?? {};
  if (security.clientToken === undefined && !isLoopbackBind(parsed.config.host ?? '127.0.0.1')) {
    err(
      [
        '',
        '  ************************************************************************',
        `  WARNING: clients are NOT authenticated, and this server listens on ${parsed.config.host}.`,
        '  Anyone who can reach this port can run computations with this party\'s',
        '  data and read their results. Give a client token (--token-file) unless',
        '  a firewall or proxy in front of it admits this party\'s clients only.',
        '  ************************************************************************',
        '',
      ].join('\n'),
    );
  }
  out(`Tessera listening on ${server.url}`);
  out(`Swagger UI: ${server.url}/docs${security.clientToken !== undefined ? ' (client API: Authorize with the bearer token)' : ''}`);
  const running = server;
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      out(`Received ${signal}; shutting down`);
      running.close().then(
        () => resolveExit(0),
        (e: unknown) => {
          err(`tessera serve: shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
          resolveExit(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** True when this module is the process entry point (`tsx server/cli.ts …`). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
