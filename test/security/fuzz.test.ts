// Fuzzing every operation of a running server (slow: its own file). Thousands of random and
// malformed requests — wrong types, huge numbers, deep nesting, odd unicode, prototype keys,
// wrong content types and methods, truncated safetensors and envelopes, bad tokens — at a party
// server with a client token and response validation on. Nothing may answer 500 or 503 (a 501,
// 502 or 504 only from a call, where a peer or a timeout is the honest answer), every refusal is
// a problem document, nothing reaches the error log, the server stays up, holds nothing once the
// dust settles, and a SecureSum with its peers afterwards is still right.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import fc from 'fast-check';
import type { RunningServer } from '../../server/main.js';
import { TensorSet } from '../../services/common/tensors.js';
import { memoryLog } from '../server/helpers.js';
import { within } from '../within.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { RawClient, rawRequest, type RawResponse } from '../support/http.js';

const TOKEN = randomBytes(24).toString('base64url');
const STAGE_TIMEOUT_MS = 800;
const RUNS = Number(process.env.TESSERA_FUZZ_RUNS ?? 5000);
const OPEN_PATHS = [/^\/health\/?$/, /^\/openapi\.(yaml|json)\/?$/, /^\/docs(\/[A-Za-z0-9._-]*)?$/, /^\/peer\/(identity|messages)\/?$/];
const LIVE_KINDS = ['simon', 'kv', 'barrier', 'compute', 'prepare', 'set', 'get', 'keys', 'value', 'tensors'] as const;

/** A path segment from any string; lone surrogates become the percent-encoding of invalid UTF-8. */
function pathSegment(s: string): string {
  try {
    return encodeURIComponent(s) || '%20';
  } catch {
    return '%ED%A0%80%FF';
  }
}

/** A safetensors file with the given header text and no data. */
function safetensorsWithHeader(header: string): Buffer {
  const text = Buffer.from(header);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([prefix, text]);
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

describe('fuzzing every operation of a running server', { timeout: 180_000 }, () => {
  const log = memoryLog();
  let cluster: Cluster;
  let servers: RunningServer[];
  let target: RunningServer;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const live: Record<string, string> = {};
  const statuses = new Map<number, number>();

  before(async () => {
    // Party 0, the target, has a client token and its log recorded.
    cluster = await startCluster(3, {
      stageTimeoutMs: STAGE_TIMEOUT_MS,
      config: { limits: { maxRepresentations: 2000 } },
      party: (i) => (i === 0 ? { log, security: { clientToken: TOKEN } } : {}),
    });
    servers = cluster.servers;
    target = servers[0]!;
    // Live representations of every kind, for the fuzzer to aim at.
    const c = new RawClient(target.url, { token: TOKEN, agent });
    live.simon = await c.create({ protocol: 'Simon' });
    live.kv = await c.create({ microservice: 'KeyValueStorage' });
    live.barrier = await c.create({ microservice: 'Barrier' }).catch(() => live.kv!);
    live.compute = await c.attribute(live.simon, 'compute');
    live.prepare = await c.attribute(live.simon, 'prepare');
    live.set = await c.attribute(live.kv, 'set');
    live.get = await c.attribute(live.kv, 'get');
    live.keys = await c.attribute(live.kv, 'keys');
    live.value = await c.uuidOf(await c.request('PUT', '/representations', { args: [{ a: [1, 2, { b: 'c' }] }], kwargs: {} }), 'upload');
    const tensors = await rawRequest(target.url, '/representations', { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' }, body: SAFETENSORS });
    live.tensors = await c.uuidOf(tensors, 'upload tensors');
  });
  after(async () => {
    agent.destroy();
    await cluster.close();
  });

  const SAFETENSORS = new TensorSet(new Map([
    ['w', { dtype: 'F32' as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }],
    ['b', { dtype: 'F64' as const, shape: [3], data: new Float64Array([0.5, -1, 2]) }],
  ])).toSafetensors();

  // ---------------------------------------------------------------- arbitraries

  const oddStrings = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', ' ', '\u0000', '\u202e\u0041', '\ud800', '🧬🧬', 'ǅ', 'İ', '../..', '%2e%2e', 'a'.repeat(3000), 'representation_uuid'),
  );
  const hugeNumbers = fc.constantFrom('1e400', '-1e400', '1e-400', '123456789012345678901234567890123456789', '-0', '0.1e1', '9007199254740993', '1.7976931348623157e308');
  const nasty: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue({ maxDepth: 3 }),
      oddStrings,
      fc.double(),
      fc.integer(),
      fc.constantFrom(null, true, false, 0, -1, Number.MAX_SAFE_INTEGER, 2 ** 60, -(2 ** 60), 1e308),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(oddStrings, tie('value'), { maxKeys: 4 }),
      // Mapped when generated (after before() filled `live`), not when declared.
      fc.record({ representation_uuid: fc.oneof(fc.constantFrom(...LIVE_KINDS), fc.uuid(), oddStrings) }).map((r) => ({ representation_uuid: live[r.representation_uuid] ?? r.representation_uuid })),
    ),
  })).value;

  const network = fc.record(
    {
      nodes: fc.oneof(
        fc.constant(undefined),
        fc.array(fc.oneof(fc.constantFrom('http://example.com', 'file:///etc/passwd', 'http://127.0.0.1:1', 'http://169.254.169.254/latest', 'https://127.0.0.1:9'), oddStrings), { maxLength: 4 }),
        fc.constant('servers'),
        nasty,
      ),
      uuid: fc.oneof(fc.uuid(), oddStrings, nasty),
      myself: fc.oneof(fc.integer({ min: -2, max: 5 }), nasty),
    },
    { requiredKeys: [] },
  );
  const computeKwargs = fc.record(
    {
      microprotocol: fc.oneof(fc.constantFrom('SecureSum', 'SecureFedAvg', 'PlainFedAvg', 'Median', '__proto__', 'constructor'), oddStrings),
      data: fc.oneof(nasty, fc.array(fc.double(), { maxLength: 5 }), fc.record({ tensors: nasty, weight: nasty }, { requiredKeys: [] })),
      network,
      timeout: nasty,
    },
    { requiredKeys: [] },
  );

  /** JSON body text: well-formed with fuzzed members, or malformed in one of many ways. */
  const jsonBody = fc.oneof(
    fc.record({ args: fc.array(nasty, { maxLength: 4 }), kwargs: fc.dictionary(oddStrings, nasty, { maxKeys: 4 }) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
    fc.record({ args: fc.constant([]), kwargs: computeKwargs }).map((b) => JSON.stringify(b)),
    nasty.map((v) => JSON.stringify(v) ?? 'null'),
    fc.tuple(fc.integer({ min: 1, max: 60_000 }), fc.constantFrom('[', '{"a":', '[{"args":')).map(([n, open]) => open.repeat(n) + '1' + (open === '[' ? ']' : '}').repeat(n)),
    hugeNumbers.map((n) => `{"args":[${n}],"kwargs":{"x":${n}}}`),
    fc.constantFrom('{"__proto__":{"args":[1]},"args":[]}', '{"constructor":{"prototype":{"x":1}}}', '{"args":[{"__proto__":null}],"kwargs":{"__proto__":{"polluted":1}}}'),
    fc.tuple(fc.jsonValue(), fc.nat()).map(([v, cut]) => {
      const text = JSON.stringify({ args: [v], kwargs: {} });
      return text.slice(0, cut % Math.max(1, text.length));
    }),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );

  const binaryBody = fc.oneof(
    fc.nat().map((cut) => SAFETENSORS.subarray(0, cut % SAFETENSORS.length)),
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
      const copy = Buffer.from(SAFETENSORS);
      copy[at % copy.length] = byte;
      return copy;
    }),
    fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.string({ maxLength: 100 })).map(([len, header]) => {
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(len);
      return Buffer.concat([prefix, Buffer.from(header)]);
    }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.integer({ min: 1, max: 50_000 }).map((n) => safetensorsWithHeader(`{"w":{"dtype":"F32","shape":${'['.repeat(n)}${']'.repeat(n)},"data_offsets":[0,0]}}`)),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.concat([Buffer.from('TSPM\x01'), Buffer.from(b)])),
    fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.json()).map(([len, header]) => {
      const prefix = Buffer.alloc(9);
      prefix.write('TSPM\x01', 0, 'latin1');
      prefix.writeUInt32BE(len, 5);
      return Buffer.concat([prefix, Buffer.from(header), randomBytes(28)]);
    }),
  );

  const uuidSegment = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...LIVE_KINDS).map((k) => live[k] ?? k) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: oddStrings.map(pathSegment) },
  );
  const attribute = fc.oneof(
    fc.constantFrom('compute', 'prepare', 'set', 'get', 'keys', 'delete', 'wait', 'a', '__proto__', 'constructor', 'members', 'toString', '_x', 'w'),
    oddStrings.map(pathSegment),
  );

  const contentType = fc.constantFrom(
    'application/json', 'application/json', 'application/json', 'application/octet-stream', 'text/plain', 'application/json; charset=utf-16',
    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/problem+json', 'garbage', '',
  );
  const authorization = fc.oneof(
    { weight: 8, arbitrary: fc.constant(`Bearer ${TOKEN}`) },
    { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', `Bearer ${TOKEN} extra`, `Basic ${TOKEN}`, `Bearer ${TOKEN.slice(1)}`) },
    { weight: 1, arbitrary: oddStrings.map((s) => `Bearer ${s}`.replace(/[^\t\x20-\x7e]/g, '?')) },
  );

  const request: fc.Arbitrary<FuzzRequest> = fc
    .record({
      op: fc.constantFrom(
        'list', 'create', 'upload', 'upload-binary', 'download', 'download-binary', 'call', 'call-compute', 'release', 'attribute',
        'identity', 'deliver', 'health', 'yaml', 'json', 'docs', 'wrong-method', 'unknown-path', 'respelled',
      ),
      respelling: fc.tuple(fc.constantFrom('/representations', '/representations', '/representation/{uuid}', '/representation/{simon}/compute', '/health', '/peer/identity'), fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom('', '/', '//', '/.', ';x', '%2F', '?a=1')),
      uuid: uuidSegment,
      attribute,
      json: jsonBody,
      binary: binaryBody,
      contentType,
      authorization,
      challenge: fc.oneof(fc.base64String({ maxLength: 120 }), oddStrings.map(pathSegment)),
      method: fc.constantFrom('GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
      sendBodyWithGet: fc.boolean(),
      compute: computeKwargs,
    })
    .map((r) => {
      const headers: Record<string, string> = { authorization: r.authorization };
      let method = 'GET';
      let path = '/representations';
      let body: string | Buffer | undefined = r.sendBodyWithGet ? r.json : undefined;
      const withJson = (m: string, p: string): void => {
        method = m;
        path = p;
        body = r.json;
        if (r.contentType !== '') headers['content-type'] = r.contentType;
      };
      switch (r.op) {
        case 'list': break;
        case 'create': withJson('POST', '/representations'); break;
        case 'upload': withJson('PUT', '/representations'); break;
        case 'upload-binary':
          method = 'PUT';
          body = r.binary;
          headers['content-type'] = 'application/octet-stream';
          break;
        case 'download': path = `/representation/${r.uuid}`; break;
        case 'download-binary': path = `/representation/${r.uuid}`; headers.accept = 'application/octet-stream'; break;
        case 'call': withJson('PATCH', `/representation/${r.uuid}`); break;
        case 'call-compute':
          method = 'PATCH';
          path = `/representation/${live.compute}`;
          body = JSON.stringify({ args: [], kwargs: r.compute });
          headers['content-type'] = 'application/json';
          break;
        case 'release': method = 'DELETE'; path = `/representation/${r.uuid}`; break;
        case 'attribute': path = `/representation/${r.uuid}/${r.attribute}`; break;
        case 'identity': path = `/peer/identity?challenge=${r.challenge}`; break;
        case 'deliver':
          method = 'POST';
          path = '/peer/messages';
          body = r.binary;
          headers['content-type'] = r.contentType === 'application/json' ? 'application/octet-stream' : r.contentType || 'application/octet-stream';
          break;
        case 'health': path = '/health'; break;
        case 'yaml': path = '/openapi.yaml'; break;
        case 'json': path = '/openapi.json'; break;
        case 'docs': path = '/docs'; break;
        case 'wrong-method':
          method = r.method === 'GET' ? 'POST' : r.method;
          path = ['/health', '/openapi.json', '/peer/identity', `/representation/${r.uuid}/${r.attribute}`, '/docs'][r.challenge.length % 5]!;
          break;
        case 'unknown-path': path = `/${r.attribute}/${r.uuid}`; break;
        case 'respelled': {
          // Another spelling of a real path (case flips, percent-encoded letters, a suffix), with a
          // body that would succeed: only the token may decide.
          const [template, flips, suffix] = r.respelling;
          const chars = [...template.replace('{uuid}', live.value ?? 'x').replace('{simon}', live.simon ?? 'x')];
          for (const f of flips) {
            const i = f % chars.length;
            const c = chars[i]!;
            if (/[a-z]/.test(c)) chars[i] = f % 2 === 0 ? c.toUpperCase() : `%${c.charCodeAt(0).toString(16)}`;
          }
          path = chars.join('') + suffix;
          body = undefined;
          if (template === '/representations' && r.method !== 'GET') {
            method = r.method === 'PUT' ? 'PUT' : 'POST';
            body = JSON.stringify(method === 'PUT' ? { args: [1], kwargs: {} } : { args: [], kwargs: { protocol: 'Simon' } });
            headers['content-type'] = 'application/json';
          }
          if (flips.length % 2 === 0) delete headers.authorization;
          break;
        }
      }
      return { method, path, headers, body };
    });

  // ---------------------------------------------------------------- the properties

  function check(req: FuzzRequest, res: RawResponse): void {
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const isCall = req.method === 'PATCH';
    const allowed5xx = isCall && [501, 502, 504].includes(res.status);
    assert.ok(res.status < 500 || allowed5xx, `${req.method} ${req.path.slice(0, 120)} answered ${res.status}: ${res.text.slice(0, 400)}`);
    if (res.status >= 400 && req.method !== 'HEAD') {
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/, `${req.method} ${req.path}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.doesNotMatch(res.text, /\n\s+at /, 'no stack trace');
      assert.ok(!res.text.includes(TOKEN), 'the token is never echoed');
    }
    assert.notEqual(res.headers['access-control-allow-origin'], '*');
    // Without the token, only the spec's open operations ever succeed, however a path is spelled.
    if (req.headers.authorization !== `Bearer ${TOKEN}` && res.status < 300) {
      const bare = req.path.split('?')[0]!;
      assert.ok(OPEN_PATHS.some((re) => re.test(bare)), `${req.method} ${req.path} answered ${res.status} without the token`);
    }
  }

  async function send(req: FuzzRequest): Promise<RawResponse> {
    return rawRequest(target.url, req.path, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      agent,
      timeoutMs: 20_000,
      exactPath: true,
    });
  }

  test(`${RUNS} random and malformed requests: no 500, problems only, the server stays up`, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        check(req, await send(req));
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`fuzz: ${RUNS} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    // The fuzzer really reached the handlers, not only the validator or the token check.
    for (const status of [200, 400, 401, 404]) assert.ok((statuses.get(status) ?? 0) > 0, `no ${status} seen`);
  });

  const edgeCases: [string, FuzzRequest, number[]][] = [
    ['a JSON body over the limit', { method: 'PUT', path: '/representations', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: `{"args":["${'x'.repeat(17 * 1024 * 1024)}"],"kwargs":{}}` }, [413]],
    ['nesting far beyond the depth limit', { method: 'PUT', path: '/representations', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: `{"args":[${'['.repeat(500_000)}${']'.repeat(500_000)}],"kwargs":{}}` }, [400]],
    ['a peer envelope over its limit', { method: 'POST', path: '/peer/messages', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(35 * 1024 * 1024) }, [413]],
    ['a binary body on a route that takes none', { method: 'PATCH', path: `/representation/${randomUUID()}`, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(17 * 1024 * 1024) }, [413, 415]],
    ['a safetensors header nested 200000 deep (its error message once quoted it: a stack overflow)', { method: 'PUT', path: '/representations', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' }, body: safetensorsWithHeader(`{"w":{"dtype":"F32","shape":${'['.repeat(200_000)}${']'.repeat(200_000)},"data_offsets":[0,0]}}`) }, [400]],
    ['a safetensors header claiming 2^63 bytes', { method: 'PUT', path: '/representations', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' }, body: Buffer.from('ffffffffffffff7f7b7d', 'hex') }, [400, 413]],
  ];
  for (const [name, req, expected] of edgeCases) {
    test(`edge case: ${name} -> ${expected.join(' or ')}`, async () => {
      const res = await send(req);
      check(req, res);
      assert.ok(expected.includes(res.status), `${res.status}: ${res.text.slice(0, 300)}`);
    });
  }

  test('afterwards: nothing in the error log, nothing left running, and a SecureSum is right', async () => {
    const errors = log.lines.filter((l) => l.level === 'error');
    assert.deepEqual(errors.map((l) => `${l.msg}: ${String((l.obj as { err?: Error }).err?.message)}`), []);
    // Computations the fuzzer started end by their stage timeout.
    const deadline = Date.now() + 10 * STAGE_TIMEOUT_MS + 5000;
    while (target.peerStats().active > 0 || target.peerStats().bufferedMessages > 0) {
      assert.ok(Date.now() < deadline, `still running: ${JSON.stringify(target.peerStats())}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const nodes = servers.map((s) => s.url);
    const uuid = randomUUID();
    const results = await within(20_000, 'SecureSum after fuzzing', Promise.all(
      [19, 5, 61].map((v, i) => new RawClient(nodes[i]!, i === 0 ? { token: TOKEN } : {}).secureSum(v, { nodes, uuid, myself: i })),
    ));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 85 } });
    const health = await rawRequest(target.url, '/health');
    assert.equal(health.status, 200);
  });
});
