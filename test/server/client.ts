// A minimal v0.6-style client over supertest, so tests read like the model's client:
// create, attribute, call, download, release.

import assert from 'node:assert/strict';
import request from 'supertest';
import type { Express } from 'express';
import type { Server } from 'node:http';

export class TestClient {
  constructor(readonly target: Express | Server) {}

  http() {
    return request(this.target);
  }

  async create(kwargs: Record<string, unknown>): Promise<string> {
    const res = await this.http().post('/representations').send({ args: [], kwargs });
    assert.equal(res.status, 200, res.text);
    return (res.body as { uuid: string }).uuid;
  }

  async upload(value: unknown): Promise<string> {
    const res = await this.http().put('/representations').send({ args: [value], kwargs: {} });
    assert.equal(res.status, 200, res.text);
    return (res.body as { uuid: string }).uuid;
  }

  async attribute(uuid: string, name: string): Promise<string> {
    const res = await this.http().get(`/representation/${uuid}/${name}`);
    assert.equal(res.status, 200, res.text);
    return (res.body as { uuid: string }).uuid;
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
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as { type: string }).type, 'object');
    return (res.body as { object: unknown }).object;
  }

  async release(uuid: string): Promise<void> {
    const res = await this.http().delete(`/representation/${uuid}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { type: 'none' });
  }
}
