// The one table of error kinds: each kind's stable slug (the problem `type` is /problems/<slug>,
// RFC 9457 section 3.1.1), its HTTP status and its title. The error classes (shared/errors.ts),
// the problem mapper (server/http/problem.ts), the CLI (server/cli.ts) and openapi.yaml's
// problem examples all take their kinds from here, and test/spec/error-kinds.test.ts compares
// the spec with it. As Backstage maps error names to statuses in one table.
//
// Imports nothing: clients may share it.

export interface ErrorKindInfo {
  /** The HTTP status a response of this kind carries. */
  readonly status: number;
  /** The problem's `title`: the status's reason phrase (RFC 9110 section 15). */
  readonly title: string;
  /** Only the command line raises it (exit status `exit`); never an HTTP answer. */
  readonly cliOnly?: true;
  /** The CLI's exit status for an error of this kind (default 1). */
  readonly exit?: number;
}

export const ERROR_KINDS = Object.freeze({
  'bad-input': { status: 400, title: 'Bad Request' },
  unauthenticated: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not Found' },
  'method-not-allowed': { status: 405, title: 'Method Not Allowed' },
  'not-acceptable': { status: 406, title: 'Not Acceptable' },
  conflict: { status: 409, title: 'Conflict' },
  // RFC 9110 section 15.5.14's name, as the spec shows it (Node's reason phrase is the older one).
  'too-large': { status: 413, title: 'Content Too Large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported Media Type' },
  'limit-reached': { status: 429, title: 'Too Many Requests' },
  internal: { status: 500, title: 'Internal Server Error' },
  'not-implemented': { status: 501, title: 'Not Implemented' },
  'peer-failed': { status: 502, title: 'Bad Gateway' },
  timeout: { status: 504, title: 'Gateway Timeout' },
  // A command-line mistake (`tessera serve --port x`): printed with the usage hint.
  usage: { status: 400, title: 'Bad Request', cliOnly: true, exit: 2 },
} as const satisfies Readonly<Record<string, ErrorKindInfo>>);

export type ErrorKind = keyof typeof ERROR_KINDS;

/** The kinds an HTTP answer may carry (every kind but the CLI's own). */
export const HTTP_ERROR_KINDS: readonly ErrorKind[] = Object.freeze(
  (Object.keys(ERROR_KINDS) as ErrorKind[]).filter((k) => !(ERROR_KINDS[k] as ErrorKindInfo).cliOnly),
);

const BY_STATUS: ReadonlyMap<number, ErrorKind> = new Map(HTTP_ERROR_KINDS.map((k) => [ERROR_KINDS[k].status, k]));

/** The kind of an HTTP error status the HTTP layer raises itself (validator, body parser). */
export function kindOfStatus(status: number): ErrorKind | undefined {
  return BY_STATUS.get(status);
}

export function isErrorKind(slug: string): slug is ErrorKind {
  return Object.hasOwn(ERROR_KINDS, slug);
}

/** The CLI's exit status for an error of this kind. */
export function exitStatusOf(kind: string): number {
  return isErrorKind(kind) ? ((ERROR_KINDS[kind] as ErrorKindInfo).exit ?? 1) : 1;
}
