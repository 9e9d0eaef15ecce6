// Finding 8 of the hardening issue: downloading a tensor of 30M values as JSON (the default for
// clients that do not ask for binary) stalled the server for seconds and answered 500 "Invalid
// string length". Above --max-json-download values, a JSON download is now a 406 problem telling
// the client to ask for safetensors; the same representation downloads as application/octet-stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../server/main.js';
import { startTestServer } from '../support/cluster.js';
import { TensorSet } from '../../services/common/tensors.js';
import { RawClient, rawRequest } from '../support/http.js';

describe('finding 8: large tensors downloaded as JSON', { timeout: 120_000 }, () => {
  let small: RunningServer;
  let real: RunningServer;
  before(async () => {
    [small, real] = await Promise.all([
      startTestServer({ limits: { jsonDownloadValues: 1000 } }),
      startTestServer({ validateResponses: false }),
    ]);
  });
  after(async () => {
    await Promise.all([small.close(), real.close()]);
  });

  async function upload(server: RunningServer, values: number): Promise<string> {
    const body = new TensorSet(new Map([['w', { dtype: 'F32' as const, shape: [values], data: new Float32Array(values).fill(0.5) }]])).toSafetensors();
    const res = await rawRequest(server.url, '/representations', { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body, timeoutMs: 60_000 });
    return new RawClient(server.url).uuidOf(res, 'upload');
  }

  test('over --max-json-download: a 406 naming Accept and the fix; at the limit JSON works; safetensors always', async () => {
    const over = await upload(small, 1001);
    const res = await rawRequest(small.url, `/representation/${over}`);
    assert.equal(res.status, 406, res.text);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal((res.json as { where?: string }).where, 'Accept');
    assert.match(String((res.json as { detail?: string }).detail), /1001 values.*application\/octet-stream/);
    const binary = await rawRequest(small.url, `/representation/${over}`, { headers: { accept: 'application/octet-stream' } });
    assert.equal(binary.status, 200);
    assert.equal(TensorSet.parseSafetensors(binary.body).get('w')?.data.length, 1001);
    const at = await upload(small, 1000);
    const json = await rawRequest(small.url, `/representation/${at}`);
    assert.equal(json.status, 200);
    assert.equal((json.json as { object: { w: { data: number[] } } }).object.w.data.length, 1000);
  });

  test('30M values with the default limit: a 406 at once, not a 500, and the server serves on', async () => {
    const uuid = await upload(real, 30_000_000);
    const res = await rawRequest(real.url, `/representation/${uuid}`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 406, res.text.slice(0, 300));
    assert.match(String((res.json as { detail?: string }).detail), /30000000 values/);
    assert.equal((await rawRequest(real.url, '/health')).status, 200);
    assert.equal((await new RawClient(real.url).release(uuid)).status, 200);
  });
});
