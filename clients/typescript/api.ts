// The ergonomic client: reads like the Federated Secure Computing Python client
// (`api.create(protocol="Simon")`, attribute access, calls, `api.download`, `api.release`),
// on top of an openapi-fetch client typed by the types generated from openapi.yaml.
//
//   const api = new Api('http://127.0.0.1:55501');
//   const simon = await api.create<'compute'>({ protocol: 'Simon' });
//   const result = await simon.compute({ microprotocol: 'SecureSum', data: 19, network });
//   console.log(await api.download(result));   // { inputs: 3, result: { samples: 3, sum: 85 } }
//   await api.release(result);

import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './generated/schema.js';
import { TesseraApiError, TesseraRequestError, TesseraTimeoutError, toProblem, unreachable } from './errors.js';
import { TensorSet, type Tensor } from '../../shared/tensors.js';
import { secureFedAvg, type Averaged, type SecureFedAvgRequest } from './fedavg/average.js';
import { nodeJsonTransport, TimeLimitReached, type JsonAnswer, type JsonRequest, type JsonTransport } from './transport.js';

export type Schemas = components['schemas'];
export type Description = Schemas['Description'];
export type Network = Schemas['Network'];
export type SecureSumInput = Schemas['SecureSumInput'];
export type SecureSumResult = Schemas['SecureSumResult'];
export type SecureFedAvgInput = Schemas['SecureFedAvgInput'];

/** Each SIMON microprotocol's `data` and result, by FSC's name (schemas from openapi.yaml). */
export interface SimonMicroprotocols {
  SecureSum: { data: Schemas['SecureSumInput']; result: Schemas['SecureSumResult'] };
  StatisticsUnivariate: { data: Schemas['StatisticsUnivariateInput']; result: Schemas['StatisticsUnivariateResult'] };
  StatisticsBivariate: { data: Schemas['StatisticsBivariateInput']; result: Schemas['StatisticsBivariateResult'] };
  StatisticsFrequency: { data: Schemas['StatisticsFrequencyInput']; result: Schemas['StatisticsFrequencyResult'] };
  StatisticsContingency: { data: Schemas['StatisticsContingencyInput']; result: Schemas['StatisticsContingencyResult'] };
  SecureMedian: { data: Schemas['SecureMedianInput']; result: Schemas['SecureMedianResult'] };
  KthElement: { data: Schemas['KthElementInput']; result: Schemas['KthElementResult'] };
  MinimumMaximum: { data: Schemas['MinimumMaximumInput']; result: Schemas['MinimumMaximumResult'] };
  SetIntersection: { data: Schemas['SetIntersectionInput']; result: Schemas['SetIntersectionResult'] };
  SetIntersectionSize: { data: Schemas['SetIntersectionInput']; result: Schemas['SetIntersectionSizeResult'] };
  StatisticsContingencyVertical: { data: Schemas['StatisticsContingencyVerticalInput']; result: Schemas['StatisticsContingencyVerticalResult'] };
  SecureMatrixMultiplication: { data: Schemas['SecureMatrixMultiplicationInput']; result: Schemas['SecureMatrixMultiplicationResult'] };
  StatisticsRegressionOLSVertical: { data: Schemas['StatisticsRegressionOLSVerticalInput']; result: Schemas['StatisticsRegressionOLSVerticalResult'] };
}
export type SimonName = keyof SimonMicroprotocols;
export type SecureFedAvgResult = Schemas['SecureFedAvgResult'];

/** Anything that names a representation: the wrapper object, a `{representation_uuid}` reference, or the uuid. */
export type RepresentationLike = Representation | { readonly representation_uuid: string } | string;

/** Named tensors as the client accepts them: a TensorSet, or named typed arrays (1-D) / Tensor objects. */
export type TensorsLike = TensorSet | Readonly<Record<string, Float32Array | Float64Array | Tensor>>;

export interface ApiOptions {
  /** Bearer token, for servers reachable beyond loopback. */
  token?: string;
  /** Time limit of every request in milliseconds (default 120 000: a compute call waits for all parties). */
  timeoutMs?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /**
   * A fetch implementation. Without one, JSON requests in Node go through `node:http` on a
   * keep-alive Agent (clients/typescript/transport.ts: a third of fetch's cost per request), and
   * everything else through the global fetch; with one, every request goes through it.
   */
  fetch?: (input: Request) => Promise<Response>;
}

export interface RequestOptions {
  /** Overrides ApiOptions.timeoutMs for this request. */
  timeoutMs?: number;
  /** Aborts the request early (combined with the timeout). */
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

/** Calls a member by name: keyword arguments first (as the model's Python client passes them), then positional ones. */
export type MemberCall = (kwargs?: Record<string, unknown>, ...args: unknown[]) => Promise<Remote | undefined>;

/**
 * A representation with member access: `rep.compute({...})` reads the attribute `compute`, calls
 * it, and releases the attribute. Name the members you use in the type parameter
 * (`api.create<'compute'>(...)`) to call them as properties; `rep.member(name)` works for any name.
 */
export type Remote<M extends string = never> = Representation & { readonly [K in M]: MemberCall };

/** Property names the member-access proxy never turns into a remote call (promise and JSON protocols, inspectors). */
const NOT_MEMBERS = new Set(['then', 'catch', 'finally', 'toJSON', 'inspect', 'asymmetricMatch', 'nodeType', '$$typeof']);

/** A server-side object named by a UUID: a microservice, a bound member, an uploaded value, a result. */
export class Representation {
  constructor(
    readonly api: Api,
    readonly uuid: string,
  ) {}

  /** A new representation of the attribute `name` (GET /representation/{uuid}/{name}). */
  attribute<M extends string = never>(name: string, options?: RequestOptions): Promise<Remote<M>> {
    return this.api.attribute<M>(this, name, options);
  }

  /** Call this representation (a bound member); resolves to the result, or undefined when the member returns nothing. */
  call(kwargs: Record<string, unknown> = {}, ...args: unknown[]): Promise<Remote | undefined> {
    return this.api.call(this, kwargs, args);
  }

  /** A function that calls the member `name`: attribute, call, then release of the attribute. */
  member(name: string): MemberCall {
    return (kwargs = {}, ...args) => this.api.callMember(this, name, kwargs, args);
  }

  download<T = unknown>(options?: RequestOptions): Promise<T> {
    return this.api.download<T>(this, options);
  }

  downloadTensors(options?: RequestOptions): Promise<TensorSet> {
    return this.api.downloadTensors(this, options);
  }

  release(options?: RequestOptions): Promise<void> {
    return this.api.release(this, options);
  }

  /** As an argument of a call or upload, a representation stands for the object it names. */
  toJSON(): { representation_uuid: string } {
    return { representation_uuid: this.uuid };
  }

  toString(): string {
    return `Representation(${this.uuid})`;
  }
}

function remote<M extends string>(api: Api, uuid: string): Remote<M> {
  const target = new Representation(api, uuid);
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === 'symbol' || prop in t || NOT_MEMBERS.has(prop)) return Reflect.get(t, prop, t);
      return t.member(prop);
    },
  }) as Remote<M>;
}

function uuidOf(rep: RepresentationLike, operation: string): string {
  const uuid = typeof rep === 'string' ? rep : rep instanceof Representation ? rep.uuid : rep?.representation_uuid;
  if (typeof uuid !== 'string') {
    throw new TypeError(`${operation}: expected a representation (a Representation, {representation_uuid} or a uuid), got ${String(rep)}`);
  }
  return uuid;
}

/** The chunks as a byte stream of at most 1 MiB slices, telling `progress` what has been pulled. */
function countedStream(chunks: readonly Uint8Array[], total: number, progress: (sent: number, total: number) => void): ReadableStream<Uint8Array> {
  const SLICE = 1 << 20;
  let index = 0;
  let offset = 0;
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        while (index < chunks.length && offset >= chunks[index]!.byteLength) {
          index += 1;
          offset = 0;
        }
        const chunk = chunks[index];
        if (chunk === undefined) {
          controller.close();
          return;
        }
        const piece = chunk.subarray(offset, Math.min(offset + SLICE, chunk.byteLength));
        offset += piece.byteLength;
        sent += piece.byteLength;
        controller.enqueue(piece);
        progress(sent, total);
      },
    },
    { highWaterMark: 0 },
  );
}

type FetchResult<T> = { data?: T; error?: unknown; response: Response };

export class Api {
  /** The typed openapi-fetch client the wrapper uses; for anything the wrapper does not cover. */
  readonly client: Client<paths>;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** The short path for JSON requests (Node, no fetch given), or undefined: everything through `client`. */
  readonly #json: JsonTransport | undefined;
  /** Every JSON request's headers: the caller's and the token (and the body's media type). */
  readonly #jsonHeaders: Readonly<Record<string, string>>;
  readonly #jsonBodyHeaders: Readonly<Record<string, string>>;
  readonly #jsonAcceptHeaders: Readonly<Record<string, string>>;

  constructor(baseUrl: string, options: ApiOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    this.client = createClient<paths>({ baseUrl: this.baseUrl, headers, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.#json = options.fetch ? undefined : nodeJsonTransport();
    // As openapi-fetch sends them: Content-Type with a body; Accept only where the client asks for a form.
    this.#jsonHeaders = headers;
    this.#jsonBodyHeaders = { ...headers, 'Content-Type': 'application/json' };
    this.#jsonAcceptHeaders = { ...headers, Accept: 'application/json' };
  }

  /**
   * One JSON request: through the Node transport when there is one, else `viaFetch` (the same
   * request through openapi-fetch). Either way the same typed errors and time limit.
   */
  #request<T>(
    operation: string,
    options: RequestOptions | undefined,
    request: { method: JsonRequest['method']; path: string; body?: unknown; acceptJson?: true },
    viaFetch: (signal: AbortSignal) => Promise<FetchResult<T>>,
  ): Promise<T> {
    const json = this.#json;
    return json === undefined ? this.#send(operation, options, viaFetch) : this.#sendJson<T>(json, operation, options, request);
  }

  /** A JSON request through the Node transport, which keeps the time limit itself. */
  async #sendJson<T>(
    json: JsonTransport,
    operation: string,
    options: RequestOptions | undefined,
    request: { method: JsonRequest['method']; path: string; body?: unknown; acceptJson?: true },
  ): Promise<T> {
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const hasBody = request.body !== undefined;
    let answer: JsonAnswer;
    try {
      answer = await json(this.baseUrl, {
        method: request.method,
        path: request.path,
        headers: hasBody ? this.#jsonBodyHeaders : request.acceptJson === true ? this.#jsonAcceptHeaders : this.#jsonHeaders,
        ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
        timeoutMs,
        ...(options?.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      throw this.#requestError(operation, timeoutMs, err, err instanceof TimeLimitReached);
    }
    const { status } = answer;
    if (status < 200 || status >= 300) throw new TesseraApiError(operation, status, toProblem(status, answer.statusText, answer.body));
    if (answer.malformed || typeof answer.body === 'string') {
      throw new TesseraRequestError(operation, `the server at ${this.baseUrl} answered ${status} with a body that is not JSON`, { url: this.baseUrl });
    }
    return answer.body as T;
  }

  /** Runs one request through openapi-fetch with its time limit and turns every failure into a typed error. */
  async #send<T>(operation: string, options: RequestOptions | undefined, request: (signal: AbortSignal) => Promise<FetchResult<T>>): Promise<T> {
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    // The time limit as one controller and one timer, cleared once the request settled (every
    // request reads its whole body before that): AbortSignal.timeout cost Node 20 about twice as
    // much per call and leaves its timer to the garbage collector. The reason is the DOMException
    // AbortSignal.timeout gives; unref as its timer is.
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
    (timer as { unref?: () => void }).unref?.();
    const timeout = limit.signal;
    const signal = options?.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let result: FetchResult<T>;
    try {
      result = await request(signal);
    } catch (err) {
      throw this.#requestError(operation, timeoutMs, err, timeout.aborted);
    } finally {
      clearTimeout(timer);
    }
    const { response } = result;
    if (!response.ok) throw new TesseraApiError(operation, response.status, toProblem(response.status, response.statusText, result.error));
    return result.data as T;
  }

  /** A request that got no answer as a typed error: its time ran out, or the server was not reached. */
  #requestError(operation: string, timeoutMs: number, err: unknown, timedOut: boolean): TesseraRequestError {
    if (timedOut) return new TesseraTimeoutError(operation, timeoutMs, { cause: err, url: this.baseUrl });
    if (err instanceof TesseraRequestError) return err;
    return new TesseraRequestError(operation, unreachable(this.baseUrl, err), { cause: err, url: this.baseUrl });
  }

  #path(rep: RepresentationLike, operation: string) {
    return { path: { representation_uuid: uuidOf(rep, operation) } };
  }

  #uuidPath(params: { path: { representation_uuid: string } }): string {
    return `/representation/${encodeURIComponent(params.path.representation_uuid)}`;
  }

  /** The descriptions of the microservices this server offers. */
  async list(options?: RequestOptions): Promise<Description[]> {
    const data = await this.#request('listRepresentations', options, { method: 'GET', path: '/representations' }, (signal) =>
      this.client.GET('/representations', { signal }),
    );
    return data.list;
  }

  /** A representation of the first microservice whose description has every requirement. */
  async create<M extends string = never>(requirements: Record<string, string>, options?: RequestOptions): Promise<Remote<M>> {
    const body = { args: [], kwargs: requirements };
    const data = await this.#request('createRepresentation', options, { method: 'POST', path: '/representations', body }, (signal) =>
      this.client.POST('/representations', { body, signal }),
    );
    return remote<M>(this, data.uuid);
  }

  /** Upload a JSON value (representations inside it stand for the objects they name). */
  async upload(value: unknown, options?: RequestOptions): Promise<Remote> {
    const body = { args: [value], kwargs: {} };
    const data = await this.#request('uploadRepresentation', options, { method: 'PUT', path: '/representations', body }, (signal) =>
      this.client.PUT('/representations', { body, signal }),
    );
    return remote<never>(this, data.uuid);
  }

  /**
   * Upload named tensors in binary, as a safetensors file. `onUploadProgress(sent, total)` is told
   * the bytes handed to the connection as they go (in Node; a browser reports the upload once,
   * when it is complete, because its fetch streams request bodies over HTTP/2 only).
   */
  async uploadTensors(tensors: TensorsLike, options?: RequestOptions & { onUploadProgress?: (sent: number, total: number) => void }): Promise<Remote> {
    const set = tensors instanceof TensorSet ? tensors : TensorSet.from(tensors);
    const chunks = set.safetensorsChunks();
    const total = chunks.reduce((n, c) => n + c.byteLength, 0);
    const progress = options?.onUploadProgress;
    const streamed = progress !== undefined && typeof process !== 'undefined' && process.versions?.node !== undefined;
    const data = await this.#send('uploadRepresentation', options, (signal) =>
      this.client.PUT('/representations', {
        // A Blob of the chunks: the header and each tensor's bytes, without assembling one more
        // copy here; or, to report progress, a stream of 1 MiB slices of the same chunks.
        body: (streamed ? countedStream(chunks, total, progress) : new Blob(chunks as BlobPart[], { type: 'application/octet-stream' })) as Blob,
        bodySerializer: (b: unknown) => b,
        headers: { 'Content-Type': 'application/octet-stream', ...(streamed ? { 'Content-Length': String(total) } : {}) },
        signal,
        // Node's fetch needs `duplex` for a stream body; openapi-fetch passes it on to Request.
        ...(streamed ? ({ duplex: 'half' } as object) : {}),
      }),
    );
    if (progress !== undefined && !streamed) progress(total, total);
    return remote<never>(this, data.uuid);
  }

  /** A representation of the attribute `name` of `rep`. */
  async attribute<M extends string = never>(rep: RepresentationLike, name: string, options?: RequestOptions): Promise<Remote<M>> {
    const representation_uuid = uuidOf(rep, 'createAttribute');
    const path = `/representation/${encodeURIComponent(representation_uuid)}/${encodeURIComponent(name)}`;
    const data = await this.#request('createAttribute', options, { method: 'GET', path }, (signal) =>
      this.client.GET('/representation/{representation_uuid}/{attribute_name}', {
        params: { path: { representation_uuid, attribute_name: name } },
        signal,
      }),
    );
    return remote<M>(this, data.uuid);
  }

  /** Call `rep`; resolves to the result's representation, or undefined when the member returns nothing. */
  async call(rep: RepresentationLike, kwargs: Record<string, unknown> = {}, args: unknown[] = [], options?: RequestOptions): Promise<Remote | undefined> {
    const params = this.#path(rep, 'callRepresentation');
    const body = { args, kwargs };
    const data = await this.#request('callRepresentation', options, { method: 'PATCH', path: this.#uuidPath(params), body }, (signal) =>
      this.client.PATCH('/representation/{representation_uuid}', {
        params,
        body,
        signal,
      }),
    );
    if (data.type === 'none') return undefined;
    if (typeof data.uuid !== 'string') {
      throw new TesseraRequestError('callRepresentation', `the server answered type "uuid" without a uuid`);
    }
    return remote<never>(this, data.uuid);
  }

  /**
   * Call the member `name` of `rep`: a representation of the attribute, a call of it, and the
   * release of the attribute (a representation too), so repeated calls leave nothing behind.
   */
  async callMember(rep: RepresentationLike, name: string, kwargs: Record<string, unknown> = {}, args: unknown[] = [], options?: RequestOptions): Promise<Remote | undefined> {
    const bound = await this.attribute(rep, name, options);
    try {
      return await this.call(bound, kwargs, args, options);
    } finally {
      await this.release(bound).catch(() => undefined);
    }
  }

  /**
   * The value `rep` names, as JSON (tensors come as `{name: {dtype, shape, data}}`). `undefined`
   * (a call that returned nothing) is refused with a TypeError rather than sent as a request.
   */
  async download<T = unknown>(rep: RepresentationLike | undefined, options?: RequestOptions): Promise<T> {
    if (rep === undefined) throw new TypeError('download: nothing to download (the call returned none)');
    // The operation answers JSON or safetensors; with Accept: application/json it is the JSON one.
    const params = this.#path(rep, 'downloadRepresentation');
    const data = await this.#request<Schemas['ObjectResponse']>('downloadRepresentation', options, { method: 'GET', path: this.#uuidPath(params), acceptJson: true }, (signal) =>
      this.client.GET('/representation/{representation_uuid}', {
        params,
        headers: { Accept: 'application/json' },
        signal,
      }) as Promise<FetchResult<Schemas['ObjectResponse']>>,
    );
    return data.object as T;
  }

  /** The named tensors `rep` names, downloaded in binary (safetensors). */
  async downloadTensors(rep: RepresentationLike | undefined, options?: RequestOptions): Promise<TensorSet> {
    if (rep === undefined) throw new TypeError('downloadTensors: nothing to download (the call returned none)');
    const buffer = await this.#send<ArrayBuffer>('downloadRepresentation', options, (signal) =>
      this.client.GET('/representation/{representation_uuid}', {
        params: this.#path(rep, 'downloadRepresentation'),
        headers: { Accept: 'application/octet-stream' },
        parseAs: 'arrayBuffer',
        signal,
      }) as Promise<FetchResult<ArrayBuffer>>,
    );
    return TensorSet.parseSafetensors(new Uint8Array(buffer));
  }

  /** Free `rep` on the server. Releasing `undefined` (a call that returned nothing) does nothing. */
  async release(rep: RepresentationLike | undefined, options?: RequestOptions): Promise<void> {
    if (rep === undefined) return;
    const params = this.#path(rep, 'releaseRepresentation');
    await this.#request('releaseRepresentation', options, { method: 'DELETE', path: this.#uuidPath(params) }, (signal) =>
      this.client.DELETE('/representation/{representation_uuid}', { params, signal }),
    );
  }

  // ---- Known microprotocols -------------------------------------------------------------------
  // Each helper runs one SIMON computation end to end and frees every representation it made.
  // Every party calls the same helper on its own server, with the same network nodes and uuid.

  /**
   * Run `compute(microprotocol, data, network)` on this server's Simon microservice and return
   * the result's representation (the caller downloads and releases it).
   */
  compute(microprotocol: string, data: unknown, network: Network, options?: RequestOptions): Promise<Remote> {
    return this.callSimon('compute', { microprotocol, data, network }, options);
  }

  /**
   * Call the member `member` ('compute', or 'prepare' for a computation announced in advance) of
   * a fresh Simon microservice with `kwargs` (microprotocol, data, network and its options), and
   * return the result's representation; releases the microservice and the bound member.
   */
  async callSimon(member: 'compute' | 'prepare', kwargs: Record<string, unknown>, options?: RequestOptions): Promise<Remote> {
    const simon = await this.create({ protocol: 'Simon' }, options);
    try {
      const result = await this.callMember(simon, member, kwargs, [], options);
      if (result === undefined) {
        throw new TesseraRequestError('callRepresentation', `${String(kwargs.microprotocol)}${member === 'compute' ? '' : ` ${member}`} returned no result`);
      }
      return result;
    } finally {
      await this.release(simon).catch(() => undefined);
    }
  }

  /**
   * Any SIMON microprotocol, typed by name: `await api.simon('StatisticsUnivariate', [1, 2.5],
   * network)` gives a StatisticsUnivariateResult. Runs the computation end to end and frees every
   * representation it made.
   */
  async simon<N extends SimonName>(name: N, data: SimonMicroprotocols[N]['data'], network: Network, options?: RequestOptions): Promise<SimonMicroprotocols[N]['result']> {
    const result = await this.compute(name, data, network, options);
    try {
      return await this.download<SimonMicroprotocols[N]['result']>(result, options);
    } finally {
      await this.release(result).catch(() => undefined);
    }
  }

  /** SecureSum: every party gives a number (or a list); every party gets the sum and the counts. */
  async secureSum(input: { data: SecureSumInput; network: Network } & RequestOptions): Promise<SecureSumResult> {
    const { data, network, ...options } = input;
    const result = await this.compute('SecureSum', data, network, options);
    try {
      return await this.download<SecureSumResult>(result, options);
    } finally {
      await this.release(result).catch(() => undefined);
    }
  }

  /**
   * SecureFedAvg: every party gives named tensors and a weight n_k; every party gets
   * Σ n_k·w_k / Σ n_k tensor by tensor, in the form it gave them (same names, dtypes, shapes).
   * Uploads and downloads in binary (safetensors); releases every representation it made.
   * `microprotocol: 'PlainFedAvg'` is the insecure baseline. See fedavg/average.ts, and
   * FederatedAveraging (fedavg/rounds.ts) for training loops.
   */
  secureFedAvg<T extends TensorsLike>(request: SecureFedAvgRequest<T>): Promise<Averaged<T>> {
    return secureFedAvg(this, request);
  }
}
