// `tessera serve`: run one party's server until SIGINT/SIGTERM.
// Started as `npx tessera serve` (bin/tessera.mjs) or `tsx server/cli.ts serve` (npm run serve).

import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Level } from 'pino';
import { TesseraError } from '../services/errors.js';
import { startServer, type ServerConfig } from './main.js';

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
  --max-representations <n>   live representations at most (default 10000)
  --representation-ttl <s>    a representation unused this long expires (default 3600)
  --max-json-body <bytes>     largest JSON request body (default 16777216)
  --max-binary-body <bytes>   largest binary request body (default 536870912)
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

  const limits: NonNullable<ServerConfig['limits']> = {
    ...(maxRepresentations !== undefined ? { maxRepresentations: Math.floor(maxRepresentations) } : {}),
    ...(ttl !== undefined ? { representationTtlMs: Math.round(ttl * 1000) } : {}),
    ...(jsonBody !== undefined ? { jsonBodyBytes: Math.floor(jsonBody) } : {}),
    ...(binaryBody !== undefined ? { binaryBodyBytes: Math.floor(binaryBody) } : {}),
  };
  const peer: NonNullable<ServerConfig['peer']> = {
    ...(secret !== undefined ? { networkSecret: Buffer.from(secret, 'utf8') } : {}),
    ...(v['peers-file'] !== undefined ? { peersFile: resolve(v['peers-file']) } : {}),
    ...(v['allow-peer-url'] !== undefined ? { allowPeerUrls: v['allow-peer-url'] } : {}),
    ...(stageTimeout !== undefined ? { stageTimeoutMs: Math.round(stageTimeout * 1000) } : {}),
  };
  return {
    help: v.help === true,
    port,
    config: {
      host: v.host ?? '127.0.0.1',
      port,
      dataDir: resolve(v['data-dir'] ?? `.tessera/${port}`),
      logLevel: (logLevel ?? 'info') as Level | 'silent',
      limits,
      peer,
    },
  };
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
  out(`Tessera listening on ${server.url}`);
  out(`Swagger UI: ${server.url}/docs`);
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
