// Every option of a Tessera server, once: its flag, environment variable, default, validation and
// where it lands in ServerConfig. The CLI's parser and --help (server/cli.ts), the defaults
// startServer and the modules below it fall back to (server/main.ts, app.ts, bus.ts, peer/), and
// the README's options table are all made from OPTIONS; test/server/config.test.ts checks that
// the three agree. Adding an option is one entry here (plus the code that uses its value).
//
// Precedence: a flag beats its environment variable, which beats the default. Numbers of things
// (counts, bytes, ports) must be whole numbers: "--max-parties 2.5" is refused, never floored.
// Durations are seconds and may have a fraction down to milliseconds.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BadInputError } from '../services/errors.js';
import { checkClientToken, normaliseOrigin } from './http/security.js';
import { checkRelayName, checkRelayUrl } from './peer/relay-names.js';
import { parseNetworkSecret } from './peer/trust.js';

export type Section = 'Server' | 'Logs' | 'Peers' | 'Clients and browsers' | 'HTTPS' | 'Limits';

interface Common {
  /** The long flag without its dashes, e.g. "max-parties". */
  readonly flag: string;
  /** Environment variable read when the flag is absent. */
  readonly env: string;
  readonly section: Section;
  /** One line for --help and the README (the README may add `readme`, a longer text). */
  readonly help: string;
  readonly readme?: string;
  /** Where the value goes in ServerConfig, dot-separated ("peer.limits.maxParties"). */
  readonly path: string;
  /** The placeholder shown after the flag in --help and the README. */
  readonly arg?: string;
  /** How the default is shown when it is not a plain value ("loopback", "./.tessera/<port>"). */
  readonly defaultText?: string;
}

export type OptionSpec =
  /** A whole number in [min, max]: ports, counts, bytes. */
  | (Common & { readonly kind: 'whole'; readonly min: number; readonly max: number; readonly default?: number; readonly unit?: 'bytes' })
  /** Seconds, fractions allowed down to a millisecond; stored in ServerConfig as milliseconds. */
  | (Common & { readonly kind: 'seconds'; readonly min: number; readonly max: number; readonly default?: number })
  /** Text; `choices` restricts it, `check` normalises it or throws BadInputError naming `where`. */
  | (Common & {
      readonly kind: 'text';
      readonly default?: string;
      readonly choices?: readonly string[];
      readonly check?: (value: string, where: string) => unknown;
    })
  /** A file whose contents (text) are the value; `check` as for text. */
  | (Common & { readonly kind: 'file'; readonly check?: (value: string, where: string) => unknown })
  /** Repeatable; from the environment, a comma-separated list. `files`: each item is a file read as text. */
  | (Common & { readonly kind: 'list'; readonly files?: boolean; readonly check?: (value: string, where: string) => unknown })
  /** On when given (environment: 1/true/yes or 0/false/no). */
  | (Common & { readonly kind: 'switch' });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;
const MIB = 1024 * 1024;

export const OPTIONS = [
  // ---------------------------------------------------------------- Server
  { flag: 'port', env: 'TESSERA_PORT', section: 'Server', kind: 'whole', min: 0, max: 65535, default: 55500, path: 'port', arg: '<n>',
    help: 'TCP port (0 picks a free port)' },
  { flag: 'host', env: 'TESSERA_HOST', section: 'Server', kind: 'text', default: '127.0.0.1', path: 'host', arg: '<addr>',
    help: 'interface to bind; beyond loopback needs a client token or --unauthenticated-clients' },
  { flag: 'data-dir', env: 'TESSERA_DATA_DIR', section: 'Server', kind: 'text', path: 'dataDir', arg: '<dir>', defaultText: './.tessera/<port>',
    help: "this party's identity key and state (made on first start)", check: (dir: string) => resolve(dir) },
  { flag: 'stage-timeout', env: 'TESSERA_STAGE_TIMEOUT', section: 'Server', kind: 'seconds', min: 0.001, max: 86_400, default: 30, path: 'peer.stageTimeoutMs', arg: '<s>',
    help: 'how long a protocol stage waits for a peer',
    readme: "how long a protocol stage waits for a peer; a party that never arrives fails every other party's call with a 504 naming it" },
  // ---------------------------------------------------------------- Logs
  { flag: 'log-level', env: 'TESSERA_LOG_LEVEL', section: 'Logs', kind: 'text', choices: LOG_LEVELS, default: 'info', path: 'logLevel', arg: '<level>',
    help: 'logs go to stderr; info: one line per computation, debug: its stages and every request' },
  { flag: 'log-format', env: 'TESSERA_LOG_FORMAT', section: 'Logs', kind: 'text', choices: LOG_FORMATS, default: 'json', path: 'logFormat', arg: '<format>',
    help: 'json: one JSON object per line (pino); pretty: readable lines for a terminal (pino-pretty)' },
  // ---------------------------------------------------------------- Peers
  { flag: 'network-secret', env: 'TESSERA_NETWORK_SECRET', section: 'Peers', kind: 'text', path: 'peer.networkSecret', arg: '<secret>',
    help: 'trust peers that know this shared secret, made by `tessera secret` (no passphrases); prefer the environment variable (not visible in ps)',
    check: (secret: string, where: string) => {
      if (secret.length === 0) throw new BadInputError('the network secret must not be empty', { where });
      return parseNetworkSecret(secret, where);
    } },
  { flag: 'peers-file', env: 'TESSERA_PEERS_FILE', section: 'Peers', kind: 'text', path: 'peer.peersFile', arg: '<file>',
    help: 'trust exactly the peers pinned in this JSON file',
    readme: 'trust exactly the peers pinned in this file: `[{"url": "...", "publicKey": "<base64url>"}]`',
    check: (file: string) => resolve(file) },
  { flag: 'allow-peer-url', env: 'TESSERA_ALLOW_PEER_URL', section: 'Peers', kind: 'list', path: 'peer.allowPeerUrls', arg: '<prefix>', defaultText: 'loopback',
    help: 'a URL prefix clients may name as a node (repeatable)' },
  { flag: 'no-peer-channel', env: 'TESSERA_NO_PEER_CHANNEL', section: 'Peers', kind: 'switch', path: 'peer.noChannel',
    help: 'neither offer nor use the persistent peer channel (a WebSocket per peer server at /peer/channel); every peer message is then a POST',
    readme: 'neither offer nor use the persistent peer channel (one WebSocket per pair of servers, upgraded at `/peer/channel` on the same port, carrying the same sealed envelopes; docs/architecture.md); every peer message is then a POST. With it on, a peer that does not offer the channel is reached by POST anyway' },
  { flag: 'min-cell-count', env: 'TESSERA_MIN_CELL_COUNT', section: 'Peers', kind: 'whole', min: 1, max: 1_000_000_000, path: 'disclosure.minCellCount', arg: '<k>', defaultText: 'off',
    help: 'disclosure policy: withhold a SIMON frequency/contingency table with a non-zero cell below k, or a statistic over fewer than k samples (403 at every party); every party must use the same k' },
  { flag: 'relay', env: 'TESSERA_RELAY', section: 'Peers', kind: 'list', path: 'peer.relay.servers', arg: '<url>', defaultText: 'none',
    help: 'reach relay:// peers, and be reached, through this NATS relay (nats://HOST:PORT or tls://…; repeat for the servers of a NATS cluster); needs --relay-name',
    readme: 'reach `relay://<name>` peers, and be reached by them, through this NATS relay (`nats://HOST:PORT` or `tls://HOST:PORT`; repeat for the servers of a NATS cluster): outbound connections only (docs/relay.md); needs `--relay-name`',
    check: (url: string, where: string) => checkRelayUrl(url, where) },
  { flag: 'relay-name', env: 'TESSERA_RELAY_NAME', section: 'Peers', kind: 'text', path: 'peer.relay.name', arg: '<name>',
    help: "this party's name on the relay: its peers name it relay://<name>",
    check: (name: string, where: string) => checkRelayName(name, where) },
  { flag: 'relay-creds', env: 'TESSERA_RELAY_CREDS', section: 'Peers', kind: 'file', path: 'peer.relay.creds', arg: '<file>',
    help: 'NATS credentials file (user JWT and nkey seed) for the relay' },
  { flag: 'relay-user', env: 'TESSERA_RELAY_USER', section: 'Peers', kind: 'text', path: 'peer.relay.user', arg: '<user>',
    help: 'NATS user name for the relay (with --relay-password)' },
  { flag: 'relay-password', env: 'TESSERA_RELAY_PASSWORD', section: 'Peers', kind: 'text', path: 'peer.relay.password', arg: '<password>',
    help: 'NATS password for the relay; prefer the environment variable (not visible in ps)' },
  { flag: 'relay-token', env: 'TESSERA_RELAY_TOKEN', section: 'Peers', kind: 'text', path: 'peer.relay.token', arg: '<token>',
    help: 'NATS token for the relay; prefer the environment variable (not visible in ps)' },
  { flag: 'relay-tls-ca', env: 'TESSERA_RELAY_TLS_CA', section: 'Peers', kind: 'list', files: true, path: 'peer.relay.tlsCa', arg: '<file>', defaultText: 'well-known CAs',
    help: "trust this PEM CA for the relay's TLS certificate (repeatable)" },
  { flag: 'relay-tls-cert', env: 'TESSERA_RELAY_TLS_CERT', section: 'Peers', kind: 'file', path: 'peer.relay.tlsCert', arg: '<file>',
    help: 'client certificate (PEM) for a relay that demands mutual TLS; needs --relay-tls-key' },
  { flag: 'relay-tls-key', env: 'TESSERA_RELAY_TLS_KEY', section: 'Peers', kind: 'file', path: 'peer.relay.tlsKey', arg: '<file>',
    help: 'and its private key (PEM)' },
  { flag: 'relay-connect-timeout', env: 'TESSERA_RELAY_CONNECT_TIMEOUT', section: 'Peers', kind: 'seconds', min: 0.001, max: 86_400, default: 30, path: 'peer.relay.connectTimeoutMs', arg: '<s>',
    help: 'how long startup retries an unreachable relay (backoff from 0.25 s to 5 s) before it fails' },
  // ---------------------------------------------------------------- Clients and browsers
  { flag: 'token-file', env: 'TESSERA_TOKEN_FILE', section: 'Clients and browsers', kind: 'file', path: 'security.clientToken', arg: '<file>',
    help: 'clients must send "Authorization: Bearer <token>" with the token in this file (else 401)',
    check: (text: string, where: string) => checkClientToken(text.trim(), where) },
  { flag: 'token', env: 'TESSERA_TOKEN', section: 'Clients and browsers', kind: 'text', path: 'security.clientToken', arg: '<token>',
    help: 'the client token itself; the flag shows in ps, so prefer the environment variable or --token-file',
    check: (token: string, where: string) => checkClientToken(token, where) },
  { flag: 'unauthenticated-clients', env: 'TESSERA_UNAUTHENTICATED_CLIENTS', section: 'Clients and browsers', kind: 'switch', path: 'security.unauthenticatedClients',
    defaultText: 'off', help: 'allow binding beyond loopback without a token (every host that reaches the port may use the server; warns loudly)' },
  { flag: 'cors-origin', env: 'TESSERA_CORS_ORIGIN', section: 'Clients and browsers', kind: 'list', path: 'security.corsOrigins', arg: '<origin>', defaultText: 'none',
    help: "a web origin allowed to call this server (repeatable; never '*'); other origins get 403",
    check: (origin: string, where: string) => normaliseOrigin(origin, where) },
  // ---------------------------------------------------------------- HTTPS
  { flag: 'tls-cert', env: 'TESSERA_TLS_CERT', section: 'HTTPS', kind: 'file', path: 'tls.cert', arg: '<file>',
    help: 'serve HTTPS with this PEM certificate (chain); needs --tls-key' },
  { flag: 'tls-key', env: 'TESSERA_TLS_KEY', section: 'HTTPS', kind: 'file', path: 'tls.key', arg: '<file>',
    help: 'and this PEM private key' },
  { flag: 'tls-ca', env: 'TESSERA_TLS_CA', section: 'HTTPS', kind: 'list', files: true, path: 'tls.ca', arg: '<file>', defaultText: 'well-known CAs',
    help: 'also trust this PEM CA for https peers (repeatable)' },
  // ---------------------------------------------------------------- Limits
  { flag: 'max-representations', env: 'TESSERA_MAX_REPRESENTATIONS', section: 'Limits', kind: 'whole', min: 1, max: 10_000_000, default: 10_000, path: 'limits.maxRepresentations', arg: '<n>',
    help: 'live representations at most (then 429)' },
  { flag: 'representation-ttl', env: 'TESSERA_REPRESENTATION_TTL', section: 'Limits', kind: 'seconds', min: 0.001, max: 30 * 86_400, default: 3600, path: 'limits.representationTtlMs', arg: '<s>',
    help: 'an unused representation expires (then 404)' },
  { flag: 'max-representation-bytes', env: 'TESSERA_MAX_REPRESENTATION_BYTES', section: 'Limits', kind: 'whole', unit: 'bytes', min: MIB, max: 2 ** 45, path: 'limits.maxRepresentationBytes', arg: '<bytes>',
    defaultText: 'a quarter of the heap limit, at most 1 GiB',
    help: 'memory all live representations may take together (then 429; one larger than all of it 413)' },
  { flag: 'max-json-download', env: 'TESSERA_MAX_JSON_DOWNLOAD', section: 'Limits', kind: 'whole', min: 1, max: 2 ** 26, default: 4 * MIB, path: 'limits.jsonDownloadValues', arg: '<n>',
    help: 'most tensor values in a JSON download; above it 406 (ask for application/octet-stream)' },
  { flag: 'max-json-body', env: 'TESSERA_MAX_JSON_BODY', section: 'Limits', kind: 'whole', unit: 'bytes', min: 1024, max: 2 ** 31, default: 16 * MIB, path: 'limits.jsonBodyBytes', arg: '<bytes>',
    help: 'largest JSON request body (then 413)' },
  { flag: 'max-json-depth', env: 'TESSERA_MAX_JSON_DEPTH', section: 'Limits', kind: 'whole', min: 8, max: 10_000, default: 100, path: 'limits.jsonDepth', arg: '<n>',
    help: 'deepest nesting in a JSON body (then 400)' },
  { flag: 'max-binary-body', env: 'TESSERA_MAX_BINARY_BODY', section: 'Limits', kind: 'whole', unit: 'bytes', min: 1024, max: 2 ** 33, default: 512 * MIB, path: 'limits.binaryBodyBytes', arg: '<bytes>',
    help: 'largest safetensors upload (then 413)' },
  { flag: 'max-model-bytes', env: 'TESSERA_MAX_MODEL_BYTES', section: 'Limits', kind: 'whole', unit: 'bytes', min: 1024, max: 2 ** 40, default: 512 * MIB, path: 'limits.maxModelBytes', arg: '<bytes>',
    help: 'largest model a FedAvg computation may declare, in its tensors\' bytes (then 413)' },
  { flag: 'max-computations', env: 'TESSERA_MAX_COMPUTATIONS', section: 'Limits', kind: 'whole', min: 1, max: 1_000_000, default: 1000, path: 'peer.limits.maxSessions', arg: '<n>',
    help: 'computations running at once on this server (then 429)' },
  { flag: 'max-buffered-messages', env: 'TESSERA_MAX_BUFFERED_MESSAGES', section: 'Limits', kind: 'whole', min: 1, max: 10_000_000, default: 4096, path: 'peer.limits.maxBufferedMessages', arg: '<n>',
    help: 'early peer messages held for computations not started here (then 429)' },
  { flag: 'max-buffered-bytes', env: 'TESSERA_MAX_BUFFERED_BYTES', section: 'Limits', kind: 'whole', unit: 'bytes', min: 1024, max: 2 ** 40, default: 64 * MIB, path: 'peer.limits.maxBufferedBytes', arg: '<bytes>',
    help: 'their total size (then 413)' },
  { flag: 'max-peer-message', env: 'TESSERA_MAX_PEER_MESSAGE', section: 'Limits', kind: 'whole', unit: 'bytes', min: 1024, max: 2 ** 31, default: 32 * MIB, path: 'peer.limits.maxMessageBytes', arg: '<bytes>',
    help: 'largest peer message payload (then 413)' },
  { flag: 'max-parties', env: 'TESSERA_MAX_PARTIES', section: 'Limits', kind: 'whole', min: 2, max: 10_000, default: 64, path: 'peer.limits.maxParties', arg: '<n>',
    help: 'parties in one computation' },
  { flag: 'max-peer-inflight', env: 'TESSERA_MAX_PEER_INFLIGHT', section: 'Limits', kind: 'whole', min: 1, max: 100_000, default: 64, path: 'limits.peerInflightBodies', arg: '<n>',
    help: 'peer envelopes received at once, before they authenticate (then 429, the sender resends)' },
  { flag: 'max-peer-inflight-bytes', env: 'TESSERA_MAX_PEER_INFLIGHT_BYTES', section: 'Limits', kind: 'whole', unit: 'bytes', min: MIB, max: 2 ** 40, default: 256 * MIB, path: 'limits.peerInflightBytes', arg: '<bytes>',
    help: 'their declared bytes together (then 429)' },
] as const satisfies readonly OptionSpec[];

type Entry = (typeof OPTIONS)[number];
type WithDefault = Extract<Entry, { readonly default: unknown }>;
/** A ServerConfig path that has a default. */
export type DefaultedPath = WithDefault['path'];

/**
 * The default of the option at `path`, in ServerConfig's unit (seconds become milliseconds).
 * Modules use it for their own defaults, so a default is written once, in OPTIONS.
 */
export function configDefault<P extends DefaultedPath>(path: P): Widen<Extract<WithDefault, { readonly path: P }>['default']> {
  const option = OPTIONS.find((o) => o.path === path) as WithDefault;
  const value = option.default;
  return (option.kind === 'seconds' ? Math.round((value as number) * 1000) : value) as never;
}
/** 55500 -> number; a text default keeps its choices ("info" -> one of LOG_LEVELS). */
type Widen<T> = T extends number ? number : T extends (typeof LOG_LEVELS)[number] ? (typeof LOG_LEVELS)[number] : T extends (typeof LOG_FORMATS)[number] ? (typeof LOG_FORMATS)[number] : string;

/** Where a value came from: the flag (`--x`) or the environment variable, for error messages. */
type Source = { readonly where: string; readonly fromFlag: boolean };

/** Options for node:util parseArgs, from the table. */
export function parseArgsOptions(): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const o of OPTIONS as readonly OptionSpec[]) {
    options[o.flag] = o.kind === 'switch' ? { type: 'boolean' } : o.kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' };
  }
  return options;
}

export interface ResolvedOption {
  readonly option: OptionSpec;
  readonly value: unknown;
  readonly source: Source;
}

interface Selected {
  readonly option: OptionSpec;
  readonly raw: unknown;
  readonly source: Source;
}

/**
 * The value of each option given as a flag or in the environment, validated and converted to
 * ServerConfig's unit. Options that go together are checked before any file is read. Throws
 * BadInputError naming the flag or the variable.
 */
export function resolveOptions(flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): ResolvedOption[] {
  const selected: Selected[] = [];
  for (const option of OPTIONS as readonly OptionSpec[]) {
    const flagValue = flags[option.flag];
    const envValue = env[option.env];
    if (flagValue !== undefined) {
      selected.push({ option, raw: flagValue, source: { where: `--${option.flag}`, fromFlag: true } });
    } else if (envValue !== undefined && envValue !== '') {
      const raw = option.kind === 'list' ? envValue.split(',').map((item) => item.trim()).filter((item) => item !== '') : envValue;
      selected.push({ option, raw, source: { where: option.env, fromFlag: false } });
    }
  }
  return combine(selected).map(({ option, raw, source }) => ({ option, value: convert(option, raw, source.where), source }));
}

/**
 * Rules between options. Two options for one ServerConfig field (--token and --token-file): a
 * flag beats a variable, two of the same kind are a mistake. A certificate needs its key.
 */
function combine(selected: Selected[]): Selected[] {
  const byPath = new Map<string, Selected[]>();
  for (const s of selected) byPath.set(s.option.path, [...(byPath.get(s.option.path) ?? []), s]);
  let kept = selected;
  for (const same of byPath.values()) {
    if (same.length < 2) continue;
    const flags = same.filter((s) => s.source.fromFlag);
    if (flags.length !== 1) {
      const where = same.map((s) => s.source.where);
      throw new BadInputError(`give the ${same[0]!.option.path === 'security.clientToken' ? 'client token' : 'value'} once: ${where.join(' or ')}`, {
        where: where[0]!,
      });
    }
    kept = kept.filter((s) => !same.includes(s) || s === flags[0]);
  }
  const cert = kept.find((s) => s.option.flag === 'tls-cert');
  const key = kept.find((s) => s.option.flag === 'tls-key');
  if ((cert === undefined) !== (key === undefined)) {
    throw new BadInputError('--tls-cert and --tls-key go together', { where: (cert ?? key)!.source.where });
  }
  return kept;
}

function convert(option: OptionSpec, raw: unknown, where: string): unknown {
  switch (option.kind) {
    case 'whole':
      return wholeNumber(String(raw), where, option.min, option.max);
    case 'seconds': {
      const seconds = decimal(String(raw), where, option.min, option.max);
      return Math.round(seconds * 1000);
    }
    case 'text': {
      const text = String(raw);
      if (option.choices !== undefined && !option.choices.includes(text)) {
        throw new BadInputError(`${where} must be one of ${option.choices.join(', ')}`, { where });
      }
      return option.check !== undefined ? option.check(text, where) : text;
    }
    case 'file': {
      const text = readText(String(raw), where);
      return option.check !== undefined ? option.check(text, where) : text;
    }
    case 'list':
      return (raw as string[]).map((item) => {
        const value = option.files === true ? readText(item, where) : item;
        return option.check !== undefined ? option.check(value, where) : value;
      });
    case 'switch': {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(text)) return true;
      if (['0', 'false', 'no', 'off'].includes(text)) return false;
      throw new BadInputError(`${where} must be true or false, got '${String(raw).slice(0, 40)}'`, { where });
    }
  }
}

/** A whole number from min to max; "2.5", "1e3", "0x10" and "" are refused, not rounded. */
export function wholeNumber(text: string, where: string, min: number, max: number): number {
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(n) || n < min || n > max) {
    const why = /^\d*\.\d+$/.test(trimmed) ? 'an integer (a whole number, not rounded)' : 'a number';
    throw new BadInputError(`${where} must be ${why} from ${min} to ${max}, got '${text.slice(0, 40)}'`, { where });
  }
  return n;
}

function decimal(text: string, where: string, min: number, max: number): number {
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (!/^\d+(\.\d+)?$/.test(trimmed) || !Number.isFinite(n) || n < min || n > max) {
    throw new BadInputError(`${where} must be a number of seconds from ${min} to ${max}, got '${text.slice(0, 40)}'`, { where });
  }
  return n;
}

function readText(path: string, where: string): string {
  try {
    return readFileSync(resolve(path), 'utf8');
  } catch (e) {
    throw new BadInputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { where });
  }
}

/** Sets `value` at a dot path, making the objects on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

export function getPath(source: unknown, path: string): unknown {
  let node: unknown = source;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Buffer.isBuffer(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Checks the numbers a program passed to startServer against the same rules as the flags (whole
 * numbers in range; milliseconds for durations), naming the ServerConfig field.
 */
export function checkNumbers(config: object): void {
  for (const option of OPTIONS as readonly OptionSpec[]) {
    if (option.kind !== 'whole' && option.kind !== 'seconds') continue;
    const value = getPath(config, option.path);
    if (value === undefined) continue;
    const [min, max] = option.kind === 'seconds' ? [Math.round(option.min * 1000), option.max * 1000] : [option.min, option.max];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new BadInputError(`${option.path} must be a whole number from ${min} to ${max}${option.kind === 'seconds' ? ' (milliseconds)' : ''}`, {
        where: option.path,
      });
    }
  }
}

// ---------------------------------------------------------------- help and README

function shownDefault(option: OptionSpec): string {
  if (option.defaultText !== undefined) return option.defaultText;
  if (!('default' in option) || option.default === undefined) return '—';
  if (option.kind === 'whole' && option.unit === 'bytes' && option.default % MIB === 0) return `${option.default / MIB} MiB`;
  return String(option.default);
}

function flagWithArg(option: OptionSpec): string {
  return option.arg === undefined ? `--${option.flag}` : `--${option.flag} ${option.arg}`;
}

const SECTIONS: readonly Section[] = ['Server', 'Logs', 'Peers', 'Clients and browsers', 'HTTPS', 'Limits'];

/** The options part of `tessera serve --help`, by section. */
export function optionsHelp(): string {
  const lines: string[] = [];
  for (const section of SECTIONS) {
    lines.push(`${section}:`);
    for (const option of (OPTIONS as readonly OptionSpec[]).filter((o) => o.section === section)) {
      const head = `  ${flagWithArg(option)}`;
      const def = shownDefault(option);
      const text = `${option.help}${def === '—' ? '' : ` (default ${def})`} [${option.env}]`;
      lines.push(head.length < 32 ? `${head.padEnd(32)}${text}` : `${head}\n${''.padEnd(32)}${text}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** The README's options table (between its `options:begin` and `options:end` markers). */
export function optionsMarkdown(): string {
  const rows = (OPTIONS as readonly OptionSpec[]).map((o) => {
    const def = shownDefault(o);
    const shown = def === '—' ? '—' : /^[\d.]+( MiB)?$/.test(def) || ['off', 'none', 'loopback', 'well-known CAs'].includes(def) ? def : `\`${def}\``;
    return `| \`${flagWithArg(o)}\` | \`${o.env}\` | ${shown} | ${(o.readme ?? o.help).replace(/\|/g, '\\|')} |`;
  });
  return ['| flag | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
