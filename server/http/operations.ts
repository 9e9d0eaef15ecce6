// The handler map's types, from the one contract: `operations` as openapi-typescript generates it
// from openapi.yaml (clients/typescript/generated/schema.d.ts, `npm run generate`). The map is
// keyed by the generated operation ids, so an operation added to the spec fails the type check
// until it has a handler, and each handler's path parameters, query, request body and success
// response body are the spec's (openapi-typescript's `operations`, as openapi-fetch uses it;
// Backstage's catalog-backend types its router the same way). createApp still checks the map
// against the loaded spec at startup (checkHandlersMatchSpec), for a spec edited without
// regenerating.

import type { Request, Response } from 'express';
import type { components, operations } from '../../clients/typescript/generated/schema.js';

export type { components, operations };

/** Every operation id of openapi.yaml, as generated. */
export type OperationId = keyof operations;

/**
 * The ids at run time. A Record over the generated keys: tsc refuses it when an id is missing
 * or one too many, so this is not a second list that can drift.
 */
const IDS: { readonly [K in OperationId]: true } = {
  listRepresentations: true,
  createRepresentation: true,
  uploadRepresentation: true,
  downloadRepresentation: true,
  callRepresentation: true,
  releaseRepresentation: true,
  createAttribute: true,
  getPeerIdentity: true,
  deliverPeerMessage: true,
  getHealth: true,
  getMetrics: true,
  getRoot: true,
  getOpenApiYaml: true,
  getOpenApiJson: true,
  getDocs: true,
};
export const OPERATION_IDS: readonly OperationId[] = Object.freeze(Object.keys(IDS) as OperationId[]);

type Params<Op> = Op extends { parameters: infer P } ? P : never;
type Empty = Record<string, never>;

/** Path parameters (`{representation_uuid}`), as Express hands them over: strings. */
export type PathOf<Op> = Params<Op> extends { path: infer P } ? ([P] extends [undefined] ? Empty : P) : Empty;
/** Query parameters; `query?: never` (none) becomes an empty object. */
export type QueryOf<Op> = Params<Op> extends { query?: infer Q } ? ([Q] extends [never] ? Empty : [Q] extends [undefined] ? Empty : NonNullable<Q>) : Empty;

/** A media type's body as the server sees it: bytes arrive as a Buffer (server/http/body.ts). */
type AsReceived<B> = B extends Uint8Array | Blob ? Buffer : B;
type ContentOf<C> = C extends { content: infer M } ? { [T in keyof M]: AsReceived<M[T]> }[keyof M] : never;

/** The request body: any of the operation's media types, `undefined` when it takes none. */
export type RequestBodyOf<Op> = Op extends { requestBody: infer R } ? ContentOf<R> : Op extends { requestBody?: infer R } ? ([R] extends [never] ? undefined : ContentOf<NonNullable<R>> | undefined) : undefined;

type SuccessStatus = 200 | 201 | 202 | 203 | 204 | 206;
/** What a handler may send: a success response of the operation (errors are thrown, server/http/problem.ts). */
export type ResponseBodyOf<Op> = Op extends { responses: infer R } ? { [S in keyof R & SuccessStatus]: ContentOf<R[S]> }[keyof R & SuccessStatus] : never;

/** The handler of one operation `Op` of the spec: parse, call the bus or the peer endpoint, respond. */
export type HandlerOf<Op> = (
  req: Request<PathOf<Op>, ResponseBodyOf<Op>, RequestBodyOf<Op>, QueryOf<Op>>,
  res: Response<ResponseBodyOf<Op>>,
) => void | Promise<void>;

/**
 * One handler per operation of `Ops` (the generated `operations`; a test widens it): adding an
 * operation to openapi.yaml and regenerating makes a map without its handler a type error.
 */
export type HandlerMapOf<Ops> = { readonly [K in keyof Ops & string]: HandlerOf<Ops[K]> };
export type HandlerMap = HandlerMapOf<operations>;
/** The handler of operation K (any operation's, by default). */
export type Handler<K extends OperationId = OperationId> = HandlerMap[K];
