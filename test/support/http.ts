// The tests' one HTTP client. rawRequest: raw HTTP(S) requests with full control over every
// header (Host, Origin, Authorization, Content-Type) and the body bytes, which fetch does not
// give, and a CA per request for HTTPS servers with test certificates; every request has a
// timeout. RawClient: the v0.6 steps (create, attribute, call, download, release) over it, for a
// listening server. TestClient (./supertest-client.ts): the same steps over supertest, for an app that
// is not listening. Both read the answers with the same functions (uuidOf, objectOf).

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

export interface RawOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** JSON body (sets Content-Type: application/json). */
  readonly jsonBody?: unknown;
  /** PEM CA for https (test certificates). */
  readonly ca?: string | Buffer;
  readonly timeoutMs?: number;
  readonly agent?: HttpAgent | HttpsAgent;
  /** Send `path` byte for byte (no URL normalisation of dots, slashes or percent-encoding). */
  readonly exactPath?: boolean;
  /** The body written in these pieces, without Content-Length (chunked transfer encoding); instead of `body`. */
  readonly chunks?: readonly Uint8Array[];
}

export function rawRequest(base: string, path: string, options: RawOptions = {}): Promise<RawResponse> {
  const url = new URL(options.exactPath === true ? '/' : path, base);
  const secure = url.protocol === 'https:';
  const headers: Record<string, string | number> = { ...options.headers };
  let body: Uint8Array | string | undefined = options.body;
  if (options.jsonBody !== undefined) {
    body = JSON.stringify(options.jsonBody);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise<RawResponse>((resolve, reject) => {
    const requestOptions = {
      method: options.method ?? 'GET',
      headers,
      signal: AbortSignal.timeout(timeoutMs),
      ...(options.agent !== undefined ? { agent: options.agent } : {}),
      ...(secure && options.ca !== undefined ? { ca: options.ca } : {}),
    };
    const send = secure ? httpsRequest : httpRequest;
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text, json });
      });
    };
    const req = options.exactPath === true
      ? send({ hostname: url.hostname, port: url.port, path, ...requestOptions }, onResponse)
      : send(url, requestOptions, onResponse);
    req.on('error', reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end(body);
  });
}

/** The uuid of a `{type: "uuid", uuid}` answer; anything else fails naming `what` and the status. */
export function uuidOf(status: number, json: unknown, text: string, what: string): string {
  const body = json as { type?: string; uuid?: string } | undefined;
  if (status !== 200 || body?.type !== 'uuid' || typeof body.uuid !== 'string') {
    throw new Error(`${what}: HTTP ${status} ${text.slice(0, 500)}`);
  }
  return body.uuid;
}

/** The value of a download's `{type: "object", object}` answer; a status other than 200 fails with it. */
export function objectOf(status: number, json: unknown, text: string): unknown {
  if (status !== 200) throw new Error(`download: HTTP ${status} ${text.slice(0, 500)}`);
  return (json as { object: unknown }).object;
}

/** A v0.6 client over rawRequest: create, attribute, call, download, release; asserts nothing. */
export class RawClient {
  constructor(
    readonly base: string,
    readonly options: { token?: string; ca?: string | Buffer; agent?: HttpAgent } = {},
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.options.token !== undefined ? { authorization: `Bearer ${this.options.token}` } : {}), ...extra };
  }

  request(method: string, path: string, jsonBody?: unknown, extraHeaders?: Record<string, string>, timeoutMs?: number): Promise<RawResponse> {
    return rawRequest(this.base, path, {
      method,
      headers: this.headers(extraHeaders),
      ...(jsonBody !== undefined ? { jsonBody } : {}),
      ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}),
      ...(this.options.agent !== undefined ? { agent: this.options.agent } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  }

  async uuidOf(res: RawResponse, what: string): Promise<string> {
    return uuidOf(res.status, res.json, res.text, what);
  }

  async create(kwargs: Record<string, unknown>): Promise<string> {
    return this.uuidOf(await this.request('POST', '/representations', { args: [], kwargs }), 'create');
  }

  async attribute(uuid: string, name: string): Promise<string> {
    return this.uuidOf(await this.request('GET', `/representation/${uuid}/${encodeURIComponent(name)}`), `attribute ${name}`);
  }

  async download(uuid: string): Promise<unknown> {
    const res = await this.request('GET', `/representation/${uuid}`);
    return objectOf(res.status, res.json, res.text);
  }

  async release(uuid: string): Promise<RawResponse> {
    return this.request('DELETE', `/representation/${uuid}`);
  }

  /** Simon compute(SecureSum); resolves with the downloaded result, rejects with the problem text. */
  async secureSum(data: unknown, network: { nodes: string[]; uuid: string; myself: number }, timeoutMs = 60_000): Promise<{ inputs: number; result: { samples: number; sum: number } }> {
    const simon = await this.create({ protocol: 'Simon' });
    const compute = await this.attribute(simon, 'compute');
    const res = await this.request('PATCH', `/representation/${compute}`, { args: [], kwargs: { microprotocol: 'SecureSum', data, network } }, undefined, timeoutMs);
    await Promise.all([this.release(compute), this.release(simon)]);
    if (res.status !== 200) throw new ProblemError(res);
    const uuid = await this.uuidOf(res, 'compute');
    const result = await this.download(uuid);
    await this.release(uuid);
    return result as { inputs: number; result: { samples: number; sum: number } };
  }
}

/** A failed call, carrying the problem document. */
export class ProblemError extends Error {
  readonly status: number;
  readonly problem: Record<string, unknown>;
  constructor(res: RawResponse) {
    const problem = (res.json ?? {}) as Record<string, unknown>;
    super(`HTTP ${res.status}: ${String(problem.detail ?? res.text.slice(0, 300))}`);
    this.status = res.status;
    this.problem = problem;
  }
}
