// The v0.6 steps over supertest, for an app that is not listening (test/support/http.ts has the
// same steps over raw HTTP for a listening server, and the functions both read answers with):
// tests read like the model's client: create, attribute, call, download, release.

import assert from 'node:assert/strict';
import request from 'supertest';
import type { Express } from 'express';
import type { Server } from 'node:http';
import { objectOf, uuidOf } from './http.js';

export class TestClient {
  constructor(readonly target: Express | Server) {}

  http() {
    return request(this.target);
  }

  async create(kwargs: Record<string, unknown>): Promise<string> {
    const res = await this.http().post('/representations').send({ args: [], kwargs });
    return uuidOf(res.status, res.body, res.text, 'create');
  }

  async upload(value: unknown): Promise<string> {
    const res = await this.http().put('/representations').send({ args: [value], kwargs: {} });
    return uuidOf(res.status, res.body, res.text, 'upload');
  }

  async attribute(uuid: string, name: string): Promise<string> {
    const res = await this.http().get(`/representation/${uuid}/${name}`);
    return uuidOf(res.status, res.body, res.text, `attribute ${name}`);
  }

  call(uuid: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}) {
    return this.http().patch(`/representation/${uuid}`).send({ args, kwargs });
  }

  /** Call a member by name and download its result (undefined for {"type": "none"}). */
  async invoke(service: string, member: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): Promise<unknown> {
    const bound = await this.attribute(service, member);
    const res = await this.call(bound, args, kwargs);
    assert.equal(res.status, 200, res.text);
    const body = res.body as { type: string; uuid?: string };
    if (body.type === 'none') return undefined;
    return this.download(body.uuid!);
  }

  async download(uuid: string): Promise<unknown> {
    const res = await this.http().get(`/representation/${uuid}`);
    const object = objectOf(res.status, res.body, res.text);
    assert.equal((res.body as { type: string }).type, 'object');
    return object;
  }

  async release(uuid: string): Promise<void> {
    const res = await this.http().delete(`/representation/${uuid}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { type: 'none' });
  }
}
