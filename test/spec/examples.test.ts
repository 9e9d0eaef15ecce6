// The examples of openapi.yaml work when tried: each request example is sent, byte for byte as
// the spec gives it (only the network's node URLs, `myself`, a party's own number and the uuids of
// its uploads changed), to three real servers, and the answers are the spec's response examples.
// That is what a person does with "Try it out" in the Swagger UI at each party, and what someone
// copying an example from generated docs does. Redocly (test/spec/lint.test.ts, redocly.yaml)
// checks that every example fits its schema; this checks that the server agrees with the story.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startCluster, type Cluster } from '../support/cluster.js';
import { within } from '../within.js';

const ROOT = join(import.meta.dirname, '..', '..');
const WAIT_MS = 30_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
interface MediaType {
  example?: Json;
  examples?: Record<string, { value: Json }>;
  schema?: { $ref?: string };
}
interface Operation {
  operationId: string;
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { $ref?: string; content?: Record<string, MediaType> }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { example?: Json }>;
    responses: Record<string, { content: Record<string, MediaType> }>;
  };
}

const spec = parse(readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')) as Spec;

function operation(operationId: string): Operation {
  for (const item of Object.values(spec.paths)) {
    for (const op of Object.values(item)) if (op.operationId === operationId) return op;
  }
  throw new Error(`no operation ${operationId} in openapi.yaml`);
}

/** A named request example, as a fresh copy (tests change the node URLs in it). */
function requestExample(operationId: string, name: string): JsonObject {
  const value = operation(operationId).requestBody?.content['application/json']?.examples?.[name]?.value;
  assert.ok(value !== undefined, `${operationId} has no request example "${name}"`);
  return structuredClone(value) as JsonObject;
}

function responseExample(operationId: string, name: string): Json {
  const value = operation(operationId).responses['200']?.content?.['application/json']?.examples?.[name]?.value;
  assert.ok(value !== undefined, `${operationId} has no 200 example "${name}"`);
  return value;
}

function componentResponseExample(name: string, media = 'application/json'): Json {
  const value = spec.components.responses[name]?.content[media]?.example;
  assert.ok(value !== undefined, `components.responses.${name} has no example`);
  return value;
}

function kwargsOf(body: JsonObject): JsonObject {
  return body.kwargs as JsonObject;
}

/** The example as party `myself` of this cluster sends it: its own node URLs and index. */
function asParty(body: JsonObject, cluster: Cluster, myself: number): JsonObject {
  const network = kwargsOf(body).network as JsonObject;
  assert.equal((network.nodes as Json[]).length, cluster.nodes.length, 'the example has one node per party');
  network.nodes = [...cluster.nodes];
  network.myself = myself;
  return body;
}

/** Points `data.tensors` of a FedAvg example at this party's own upload. */
function withModel(body: JsonObject, uploaded: string): JsonObject {
  const data = kwargsOf(body).data as JsonObject;
  assert.deepEqual(Object.keys(data.tensors as JsonObject), ['representation_uuid'], 'the example passes the model by reference');
  data.tensors = { representation_uuid: uploaded };
  return body;
}

async function send(base: string, method: string, path: string, body?: Json): Promise<{ status: number; json: Json }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as Json };
}

/** A request that must succeed; returns its JSON answer. */
async function ok(base: string, method: string, path: string, body?: Json): Promise<JsonObject> {
  const { status, json } = await send(base, method, path, body);
  assert.equal(status, 200, `${method} ${path} ${JSON.stringify(body)} answered ${status}: ${JSON.stringify(json)}`);
  return json as JsonObject;
}

async function uuidOf(base: string, method: string, path: string, body?: Json): Promise<string> {
  const answer = await ok(base, method, path, body);
  assert.equal(answer.type, 'uuid', JSON.stringify(answer));
  return answer.uuid as string;
}

/** create (with the spec's example) → attribute `member`: the representation to call. */
async function member(base: string, createExample: string, name: string): Promise<{ service: string; member: string }> {
  const service = await uuidOf(base, 'POST', '/representations', requestExample('createRepresentation', createExample));
  return { service, member: await uuidOf(base, 'GET', `/representation/${service}/${name}`) };
}

async function download(base: string, uuid: string): Promise<Json> {
  const answer = await ok(base, 'GET', `/representation/${uuid}`);
  assert.equal(answer.type, 'object');
  return answer.object as Json;
}

async function release(base: string, ...uuids: string[]): Promise<void> {
  for (const uuid of uuids) assert.deepEqual(await ok(base, 'DELETE', `/representation/${uuid}`), componentResponseExample('None'));
}

/** Runs one body per party in parallel (each on its own server), as the parties do. */
function everyParty<T>(cluster: Cluster, what: string, run: (base: string, myself: number) => Promise<T>): Promise<T[]> {
  return within(WAIT_MS, what, Promise.all(cluster.nodes.map((base, i) => run(base, i))));
}

// SecureSum: party 0 sends the example as it is (19); parties 1 and 2 give 5 and 61 (the walk-through).
const SECRETS = [undefined, 5, 61] as const;

// SecureFedAvg: party 0 uploads the spec's `tensors` upload example with the example's weight
// (120); parties 1 and 2 upload these. With weights 120 : 120 : 240 the average is
// (A + B)/4 + C/2, which is the spec's download example exactly (dyadic values survive the
// fixed-point encoding and the rounding to float32 unchanged).
const OTHER_MODELS: { tensors: JsonObject; weight: number }[] = [
  {
    tensors: {
      'dense.weight': { dtype: 'F32', shape: [2, 2], data: [1.5, -1, 0, 0.75] },
      'dense.bias': { dtype: 'F32', shape: [2], data: [0.75, 0.5] },
    },
    weight: 120,
  },
  {
    tensors: {
      'dense.weight': { dtype: 'F32', shape: [2, 2], data: [1, 0, 1, 0.5] },
      'dense.bias': { dtype: 'F32', shape: [2], data: [-0.25, 0] },
    },
    weight: 240,
  },
];

/** Each party's upload: party 0 the spec's example body, the others theirs. Returns the uuid. */
async function uploadModel(base: string, myself: number): Promise<string> {
  const body = myself === 0 ? requestExample('uploadRepresentation', 'tensors') : { args: [OTHER_MODELS[myself - 1]!.tensors], kwargs: {} };
  return uuidOf(base, 'PUT', '/representations', body);
}

function weightFor(body: JsonObject, myself: number): JsonObject {
  const data = kwargsOf(body).data as JsonObject;
  if (myself === 0) assert.equal(data.weight, 120, 'the example weight the download example assumes');
  else data.weight = OTHER_MODELS[myself - 1]!.weight;
  return body;
}

describe('openapi.yaml examples, tried against three real servers', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3);
  });
  after(async () => {
    await cluster?.close();
  });

  test('listRepresentations answers exactly the `services` example', async () => {
    assert.deepEqual(await ok(cluster.nodes[0]!, 'GET', '/representations'), responseExample('listRepresentations', 'services'));
  });

  test('every createRepresentation example finds a microservice', async () => {
    const base = cluster.nodes[0]!;
    const names = Object.keys(operation('createRepresentation').requestBody!.content['application/json']!.examples!);
    assert.ok(names.length >= 3, names.join());
    for (const name of names) await release(base, await uuidOf(base, 'POST', '/representations', requestExample('createRepresentation', name)));
  });

  test('uploadRepresentation examples download as uploaded (the `value` download example)', async () => {
    const base = cluster.nodes[0]!;
    const number = await uuidOf(base, 'PUT', '/representations', requestExample('uploadRepresentation', 'number'));
    assert.deepEqual(await download(base, number), (responseExample('downloadRepresentation', 'value') as JsonObject).object);
    const tensorsExample = requestExample('uploadRepresentation', 'tensors');
    const tensors = await uuidOf(base, 'PUT', '/representations', tensorsExample);
    assert.deepEqual(await download(base, tensors), (tensorsExample.args as Json[])[0]);
    await release(base, number, tensors);
  });

  test('the SecureSum walk-through: every party downloads the `secureSum` example (sum 85)', async () => {
    const results = await everyParty(cluster, 'SecureSum', async (base, myself) => {
      const simon = await member(base, 'simon', 'compute');
      const body = asParty(requestExample('callRepresentation', 'secureSum'), cluster, myself);
      if (myself === 0) assert.equal(kwargsOf(body).data, 19, 'party 0 of the walk-through gives 19');
      else kwargsOf(body).data = SECRETS[myself]!;
      const result = await uuidOf(base, 'PATCH', `/representation/${simon.member}`, body);
      const object = await download(base, result);
      await release(base, result, simon.member, simon.service);
      return object;
    });
    const expected = (responseExample('downloadRepresentation', 'secureSum') as JsonObject).object;
    for (const result of results) assert.deepEqual(result, expected);
    assert.deepEqual(expected, spec.components.schemas.SecureSumResult?.example, 'the schema example tells the same story');
  });

  test('secureSumList: a list counts each number as a sample', async () => {
    const results = await everyParty(cluster, 'SecureSum of a list', async (base, myself) => {
      const simon = await member(base, 'simonExact', 'compute');
      const body = asParty(requestExample('callRepresentation', 'secureSumList'), cluster, myself);
      if (myself > 0) kwargsOf(body).data = SECRETS[myself]!;
      const result = await uuidOf(base, 'PATCH', `/representation/${simon.member}`, body);
      const object = await download(base, result);
      await release(base, result, simon.member, simon.service);
      return object;
    });
    // 12 + 7 from party 0's list, 5 and 61 from the others.
    for (const result of results) assert.deepEqual(result, { inputs: 3, result: { samples: 4, sum: 85 } });
  });

  test('statisticsFrequency: every party downloads the `statisticsFrequency` example', async () => {
    const others = [null, ['bird', 'cat', 'dog', 'dog'], ['fish', 'cat']];
    const results = await everyParty(cluster, 'StatisticsFrequency', async (base, myself) => {
      const simon = await member(base, 'simon', 'compute');
      const body = asParty(requestExample('callRepresentation', 'statisticsFrequency'), cluster, myself);
      if (myself > 0) kwargsOf(body).data = others[myself]!;
      const result = await uuidOf(base, 'PATCH', `/representation/${simon.member}`, body);
      const object = await download(base, result);
      await release(base, result, simon.member, simon.service);
      return object;
    });
    const expected = (responseExample('downloadRepresentation', 'statisticsFrequency') as JsonObject).object;
    for (const result of results) assert.deepEqual(result, expected);
    assert.deepEqual(expected, spec.components.schemas.StatisticsFrequencyResult?.example, 'the schema example tells the same story');
  });

  const fedAvgResult = () => (responseExample('downloadRepresentation', 'secureFedAvg') as JsonObject).object;

  for (const example of ['secureFedAvg', 'plainFedAvg'] as const) {
    test(`${example}: every party downloads the \`secureFedAvg\` download example`, async () => {
      const results = await everyParty(cluster, example, async (base, myself) => {
        const model = await uploadModel(base, myself);
        const simon = await member(base, 'simon', 'compute');
        const body = weightFor(withModel(asParty(requestExample('callRepresentation', example), cluster, myself), model), myself);
        const result = await uuidOf(base, 'PATCH', `/representation/${simon.member}`, body);
        const object = await download(base, result);
        await release(base, result, simon.member, simon.service, model);
        return object;
      });
      for (const result of results) assert.deepEqual(result, fedAvgResult());
      assert.deepEqual(fedAvgResult(), spec.components.schemas.SecureFedAvgResult?.example, 'the schema example tells the same story');
    });
  }

  test('prepare, status, then submit: the `prepare`, `preparedStatus` and `submit` examples', async () => {
    const results = await everyParty(cluster, 'prepare and submit', async (base, myself) => {
      const simon = await member(base, 'simon', 'prepare');
      const prepared = await uuidOf(base, 'PATCH', `/representation/${simon.member}`, asParty(requestExample('callRepresentation', 'prepare'), cluster, myself));
      const status = await uuidOf(base, 'GET', `/representation/${prepared}/status`);
      const stage = await uuidOf(base, 'PATCH', `/representation/${status}`, { args: [], kwargs: {} });
      assert.deepEqual(await download(base, stage), (responseExample('downloadRepresentation', 'preparedStatus') as JsonObject).object);
      // The model "finished training": upload it and submit it to the prepared computation.
      const model = await uploadModel(base, myself);
      const submit = await uuidOf(base, 'GET', `/representation/${prepared}/submit`);
      const body = weightFor(withModel(requestExample('callRepresentation', 'submit'), model), myself);
      const result = await uuidOf(base, 'PATCH', `/representation/${submit}`, body);
      const object = await download(base, result);
      await release(base, result, submit, model, stage, status, prepared, simon.member, simon.service);
      return object;
    });
    for (const result of results) assert.deepEqual(result, fedAvgResult());
  });

  test('keyValueSet answers `none` and the value is stored', async () => {
    const base = cluster.nodes[0]!;
    const storage = await member(base, 'keyValueStorage', 'set');
    assert.deepEqual(await ok(base, 'PATCH', `/representation/${storage.member}`, requestExample('callRepresentation', 'keyValueSet')), responseExample('callRepresentation', 'none'));
    const get = await uuidOf(base, 'GET', `/representation/${storage.service}/get`);
    const value = await uuidOf(base, 'PATCH', `/representation/${get}`, { args: ['round'], kwargs: {} });
    assert.equal(await download(base, value), 3);
    await release(base, value, get, storage.member, storage.service);
  });

  test('problems carry the documented relative `type`s: not-found and bad-input as in the examples', async () => {
    const base = cluster.nodes[0]!;
    const notFound = await send(base, 'GET', `/representation/${(componentResponseExample('Uuid') as JsonObject).uuid}`);
    assert.equal(notFound.status, 404);
    const documented = componentResponseExample('NotFound', 'application/problem+json') as JsonObject;
    assert.equal((notFound.json as JsonObject).type, documented.type);
    assert.equal((notFound.json as JsonObject).where, documented.where);
    const bad = await send(base, 'POST', '/representations', { args: [], kwargs: 'Simon' });
    assert.equal(bad.status, 400);
    assert.equal((bad.json as JsonObject).type, (componentResponseExample('BadRequest', 'application/problem+json') as JsonObject).type);
    for (const [name, response] of Object.entries(spec.components.responses)) {
      const example = response.content['application/problem+json']?.example as JsonObject | undefined;
      if (example !== undefined) assert.match(String(example.type), /^\/problems\/[a-z-]+$/, name);
    }
  });
});
