// The client's short path for JSON requests in Node: one `http.request` on a keep-alive Agent
// instead of the global `fetch`. Measured on the development machine (docs/performance.md, "The
// client path"): an empty keep-alive request costs the calling process about 0.4 ms of CPU through
// `http.request` and 1–1.8 ms through Node 20's `fetch` (undici with WHATWG Request, Response,
// Headers and a web stream per body), and a SecureSum makes three requests per party. A script
// that drives several parties, as every benchmark and many analyses do, pays that in series on
// one event loop; the sum's latency was mostly that.
//
// Browser-safe: nothing is imported. Node's modules are reached through
// `process.getBuiltinModule` (Node ≥ 20.16), so in a browser, in Deno or Bun without it, or when
// the caller passes its own `fetch`, the client keeps using fetch (through openapi-fetch) exactly
// as before. Only small JSON requests take this path; tensors (safetensors, streamed bodies) keep
// fetch, whose per-request cost does not matter against megabytes.

/** One JSON request: the body already serialised, the headers complete. */
export interface JsonRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path and query, e.g. `/representation/<uuid>`, appended to the base URL's path. */
  readonly path: string;
  /** Sent as they are (Node adds Content-Length for the body); not modified. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The request's time limit in milliseconds: past it, it fails with a TimeLimitReached. */
  readonly timeoutMs: number;
  /** The caller's signal, if any: when it fires, the request fails with its reason. */
  readonly signal?: AbortSignal;
}

/**
 * The request's own time limit ran out (not the caller's signal). Its own timer rather than an
 * AbortController per request: Node 20's AbortSignal and its listeners were the largest part of
 * what a request cost in JavaScript beyond node:http (docs/performance.md, "The TypeScript
 * client's requests").
 */
export class TimeLimitReached extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'TimeLimitReached';
  }
}

/** The answer: status and the body, parsed as JSON when it is JSON (else its text; undefined when empty). */
export interface JsonAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly body: unknown;
  /** The body was declared JSON but did not parse (only an error answer can be reported that way). */
  readonly malformed: boolean;
}

export type JsonTransport = (baseUrl: string, request: JsonRequest) => Promise<JsonAnswer>;

/**
 * Idle connections are closed after 4 s, below a Tessera server's keep-alive timeout (12 s) and
 * common proxies' (5 s and up), so a request rarely meets a connection the server is closing.
 */
const FREE_SOCKET_TIMEOUT_MS = 4_000;

/** Errors of a reused connection the server had closed while it was idle (nothing reached a handler). */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

// Types only: the modules' types as getBuiltinModule returns them (no import of Node modules).
const loadHttp = (p: NodeJS.Process) => p.getBuiltinModule('node:http');
const loadHttps = (p: NodeJS.Process) => p.getBuiltinModule('node:https');
type NodeHttp = ReturnType<typeof loadHttp>;
type NodeHttps = ReturnType<typeof loadHttps>;

interface Modules {
  readonly http: NodeHttp;
  readonly https: NodeHttps;
  readonly httpAgent: InstanceType<NodeHttp['Agent']>;
  readonly httpsAgent: InstanceType<NodeHttps['Agent']>;
}

let modules: Modules | null | undefined;

/** Node's http and https modules with one keep-alive Agent each, shared by every Api; null outside Node. */
function nodeModules(): Modules | null {
  if (modules !== undefined) return modules;
  const proc = typeof process === 'undefined' ? undefined : process;
  if (typeof proc?.getBuiltinModule !== 'function') return (modules = null);
  const http = loadHttp(proc);
  const https = loadHttps(proc);
  // keepAlive: one TCP (and TLS) handshake per server, not per request. lifo: the most recently
  // used connection, the least likely to have timed out. noDelay: each request is one write, but
  // a request never waits behind Nagle's algorithm for the previous one's ACK (RFC 896; Linux
  // delays ACKs up to 40 ms).
  const options = { keepAlive: true, scheduling: 'lifo' as const, timeout: FREE_SOCKET_TIMEOUT_MS, noDelay: true };
  modules = { http, https, httpAgent: new http.Agent(options), httpsAgent: new https.Agent(options) };
  return modules;
}

/** The Node transport, or undefined where Node's http module is not at hand (browsers). */
export function nodeJsonTransport(): JsonTransport | undefined {
  const m = nodeModules();
  if (m === null) return undefined;
  return async (baseUrl, request) => {
    const started = performance.now();
    try {
      return await send(m, baseUrl, request);
    } catch (err) {
      const stale = err as { reusedSocket?: boolean; code?: unknown };
      // Node's documented pattern for keep-alive races (http.ClientRequest#reusedSocket): the
      // server closed the idle connection just as the request was written; nothing reached a
      // handler. Retried only for the requests that are safe to repeat (RFC 9110 §9.2.2).
      if ((request.method === 'GET' || request.method === 'DELETE') && stale.reusedSocket === true &&
          typeof stale.code === 'string' && STALE_CONNECTION_CODES.has(stale.code) && request.signal?.aborted !== true) {
        // The retry has what is left of the request's time, not a limit of its own.
        return send(m, baseUrl, { ...request, timeoutMs: Math.max(0, request.timeoutMs - (performance.now() - started)) });
      }
      throw err;
    }
  };
}

function send(m: Modules, baseUrl: string, request: JsonRequest): Promise<JsonAnswer> {
  return new Promise<JsonAnswer>((resolve, reject) => {
    const { signal } = request;
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const secure = baseUrl.startsWith('https:');
    const req = (secure ? m.https : m.http).request(baseUrl + request.path, {
      method: request.method,
      headers: request.headers,
      agent: secure ? m.httpsAgent : m.httpAgent,
    });
    // Ended early, by the time limit or the caller's signal, the request fails with that reason
    // (node:http emits the error given to destroy, even when the answer was under way).
    const timer = setTimeout(() => req.destroy(new TimeLimitReached(request.timeoutMs)), request.timeoutMs);
    const onAbort = (): void => {
      req.destroy(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    req.on('error', (err: Error & { reusedSocket?: boolean }) => {
      done();
      err.reusedSocket = req.reusedSocket;
      reject(err);
    });
    req.on('response', (res) => {
      // A decoder of the stream's own: a character split across two chunks stays whole.
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', (err) => {
        done();
        reject(err);
      });
      res.on('end', () => {
        done();
        resolve(answerOf(res.statusCode ?? 0, res.statusMessage ?? '', res.headers['content-type'], text));
      });
    });
    req.end(request.body);
  });
}

/** The body as JSON when the answer says it is JSON; else its text, or undefined when empty. */
function answerOf(status: number, statusText: string, type: string | undefined, text: string): JsonAnswer {
  if (text.length === 0) return { status, statusText, body: undefined, malformed: false };
  if (type === undefined || !/[/+]json\b/i.test(type)) return { status, statusText, body: text, malformed: false };
  try {
    return { status, statusText, body: JSON.parse(text) as unknown, malformed: false };
  } catch {
    return { status, statusText, body: text, malformed: true };
  }
}
