// Shared setup for the server tests: an app over a fresh bus, with response validation on so
// every supertest call also checks the response against openapi.yaml.

import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import { createApp, createBus, createDefaultRegistry, type AppLimits } from '../../server/app.js';
import type { RepresentationBus } from '../../server/bus.js';
import type { Registry } from '../../server/registry.js';
import type { Logger } from '../../services/microservice.js';
import type { PeerEndpoint } from '../../services/peer.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A logger that keeps what it is told, so tests can check what reaches the log (and what not). */
export function memoryLog(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg?: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function makeApp(opts: { registry?: Registry; limits?: AppLimits; now?: () => number; peerEndpoint?: PeerEndpoint } = {}) {
  const log = memoryLog();
  const bus: RepresentationBus = createBus({
    log,
    registry: opts.registry ?? createDefaultRegistry(),
    ...(opts.limits !== undefined ? { limits: opts.limits } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
  const app = createApp({
    bus,
    log,
    validateResponses: true,
    ...(opts.limits !== undefined ? { limits: opts.limits } : {}),
    ...(opts.peerEndpoint !== undefined ? { peerEndpoint: opts.peerEndpoint } : {}),
  });
  return { app, bus, log, close: () => bus.close() };
}

/** Every error is a problem document: the media type, the RFC 9457 members, code and message. */
export function assertProblem(res: Response, status: number, detailPattern?: RegExp, where?: string): void {
  assert.equal(res.status, status, `status ${res.status}: ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.body as Record<string, unknown>;
  assert.equal(body.status, status);
  assert.equal(body.code, status);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.type, 'string');
  assert.equal(typeof body.detail, 'string');
  assert.equal(body.message, body.detail);
  assert.doesNotMatch(res.text, /\n\s+at /, 'no stack trace in a response');
  if (detailPattern !== undefined) assert.match(String(body.detail), detailPattern);
  if (where !== undefined) assert.equal(body.where, where);
}

export const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
