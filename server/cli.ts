// `tessera serve`: run one party's server until SIGINT/SIGTERM.
// Started as `npx tessera serve`, `node bin/tessera.mjs serve` or `npm run serve` (which execs the
// same bin/tessera.mjs): one node process, which SIGINT/SIGTERM stop gracefully.

import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ERROR_KINDS, exitStatusOf } from '../shared/error-kinds.js';
import { TesseraError } from '../services/errors.js';
import { runSimulate } from './simulate-cli.js';
import { formatNetworkSecret } from './peer/trust.js';
import { configDefault, optionsHelp, parseArgsOptions, resolveOptions, setPath } from './config.js';
import { isLoopback } from './loopback.js';
import { startServer, type ServerConfig } from './main.js';
import { formatReadyLine } from './ready.js';

export const DEFAULT_PORT = configDefault('port');

/** The package's version (package.json, one directory up from server/). */
export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const USAGE = `Usage: tessera serve [options]
       tessera simulate --parties <n> --microprotocol <name> --data <file>  (see --help there)
       tessera secret        print a new network secret (give that line to every party)
       tessera --version

Run one party's Tessera server. Every option can also be set by the environment variable in
brackets; a flag wins over its variable.

${optionsHelp()}
Other:
  -h, --help                    show this help
  --version                     print the version and exit

Swagger UI: http://<host>:<port>/docs   Spec: /openapi.yaml   Metrics: /metrics   Health: /health
`;

/** A command-line mistake: printed with the usage hint, exit status 2. */
class UsageError extends TesseraError {
  readonly slug = 'usage';
  readonly status = ERROR_KINDS.usage.status;
}

export interface ParsedServe {
  readonly help: boolean;
  readonly config: ServerConfig;
  readonly port: number;
  /** The token came as --token: other users of the machine can read it in the process list. */
  readonly tokenOnCommandLine: boolean;
}

/**
 * Parse `serve` options into a server config (no side effects but reading the files named). The
 * config holds only what was given; startServer fills in the defaults from the same table.
 */
export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedServe {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: { ...parseArgsOptions(), help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    // parseArgs explains unknown flags and missing values well; keep its words.
    throw new UsageError(err instanceof Error ? err.message : 'invalid arguments');
  }
  const given = asUsage(() => resolveOptions(parsed.values, env));
  const config: Record<string, unknown> = {};
  for (const { option, value } of given) setPath(config, option.path, value);
  const port = (config.port as number | undefined) ?? DEFAULT_PORT;
  config.port = port;
  config.host ??= configDefault('host');
  config.dataDir ??= resolve(`.tessera/${port}`);
  config.logLevel ??= configDefault('logLevel');
  config.logFormat ??= configDefault('logFormat');
  for (const key of ['limits', 'peer', 'security'] as const) config[key] ??= {};
  return {
    help: parsed.values.help === true,
    port,
    config: config as unknown as ServerConfig,
    tokenOnCommandLine: given.some((g) => g.option.flag === 'token' && g.source.fromFlag),
  };
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
export interface MainOptions {
  /** The parent's pid when the process started (bin/tessera.mjs reads it before loading the CLI). */
  readonly parentPid?: number;
}

export async function main(
  argv: readonly string[],
  out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  options: MainOptions = {},
): Promise<number> {
  const err = (line: string): void => {
    process.stderr.write(line + '\n');
  };
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version' || (command === 'serve' && rest.includes('--version'))) {
    out(`tessera ${VERSION}`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'simulate') return runSimulate(rest, out, err);
  if (command === 'secret') {
    // A fresh network secret for a consortium: give this one line to every party, over a secure channel.
    out(formatNetworkSecret());
    return 0;
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
    return exitStatusOf('usage');
  }
  if (parsed.help) {
    out(USAGE);
    return 0;
  }
  // A stop request may come while the server is still starting (loading takes seconds on a busy
  // machine): remember it, and stop as soon as the server is up.
  let requested: string | undefined;
  let onStop: ((why: string) => void) | undefined;
  const request = (why: string): void => {
    if (requested !== undefined) return;
    requested = why;
    onStop?.(why);
  };
  const onSigint = (): void => request('Received SIGINT');
  const onSigterm = (): void => request('Received SIGTERM');
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  // Started through npm (`npx tessera serve`, `npm run serve`), this process may sit under a shell
  // that npm signals instead of it (npm -> sh -> node): when that parent goes away, the user
  // stopped the command they started, so stop as if signalled. Only under npm (which sets
  // npm_command for its children): a server started by a shell that later exits (nohup) stays.
  const parentPid = options.parentPid ?? process.ppid;
  const watch =
    process.env.npm_command !== undefined
      ? setInterval(() => {
          if (process.ppid !== parentPid) request('The process that started this server exited');
        }, 100)
      : undefined;
  watch?.unref();
  const stopWatching = (): void => {
    clearInterval(watch);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  };

  let server;
  try {
    server = await startServer(parsed.config);
  } catch (e) {
    stopWatching();
    const code = (e as { code?: unknown }).code;
    if (code === 'EADDRINUSE') err(`tessera serve: port ${parsed.port} is already in use (try --port 0 or another port)`);
    else if (e instanceof TesseraError) err(`tessera serve: ${e.message}${e.where !== undefined ? ` (${e.where})` : ''}`);
    else err(`tessera serve: could not start: ${e instanceof Error ? e.message : String(e)}`);
    return exitStatusOf(e instanceof TesseraError ? e.slug : 'internal');
  }
  if (parsed.tokenOnCommandLine) {
    err('tessera serve: warning: --token is visible to every user of this machine (ps); prefer --token-file or TESSERA_TOKEN');
  }
  const security = parsed.config.security ?? {};
  if (security.clientToken === undefined && !isLoopback(parsed.config.host ?? configDefault('host'))) {
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
  if (server.relayUrl !== undefined) out(`Peers reach this server through the relay as ${server.relayUrl}`);
  out(`Swagger UI: ${server.url}/docs${security.clientToken !== undefined ? ' (client API: Authorize with the bearer token)' : ''}`);
  // For scripts and tests: one JSON line they parse with parseReadyLine (server/ready.ts).
  out(formatReadyLine(server.url, server.relayUrl));
  const running = server;
  return new Promise<number>((resolveExit) => {
    onStop = (why) => {
      stopWatching();
      out(`${why}; shutting down`);
      running.close().then(
        () => resolveExit(0),
        (e: unknown) => {
          err(`tessera serve: shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
          resolveExit(1);
        },
      );
    };
    if (requested !== undefined) onStop(requested);
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
