// FSC's call sequence from Python (the four requests its client sends, read with Python's json
// module, as that client does): three parties run StatisticsUnivariate and StatisticsFrequency
// against real servers, and Python reads the counts and statistics as floats (`6.0`), the
// minimum and maximum and `inputs` as the ints they are.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { describeRun, runPython } from './python.js';

const SCRIPT = `
import json, sys, urllib.request
base, micro, data, network = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
def call(method, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())
s = call("POST", "/representations", {"args": [], "kwargs": {"protocol": "Simon"}})["uuid"]
c = call("GET", "/representation/" + s + "/compute", {})["uuid"]
r = call("PATCH", "/representation/" + c, {"args": [], "kwargs": {"microprotocol": micro, "data": data, "network": network}})["uuid"]
out = call("GET", "/representation/" + r, {})["object"]
def types(v):
    if isinstance(v, dict): return {k: types(x) for k, x in v.items()}
    return type(v).__name__
print(json.dumps(types(out)))
`;

describe('SIMON results read from Python', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 20_000 });
  });
  after(async () => {
    await cluster.close();
  });

  async function typesAt(micro: string, data: unknown[]): Promise<Record<string, unknown>[]> {
    const uuid = randomUUID();
    const runs = await Promise.all(
      data.map((d, myself) =>
        runPython(['-c', SCRIPT, cluster.nodes[myself]!, micro, JSON.stringify(d), JSON.stringify({ nodes: cluster.nodes, uuid, myself })], 90_000),
      ),
    );
    return runs.map((run, i) => {
      assert.equal(run.code, 0, describeRun(`party ${i}`, run));
      return JSON.parse(run.stdout) as Record<string, unknown>;
    });
  }

  test('StatisticsUnivariate: floats are floats, inputs an int', async () => {
    for (const types of await typesAt('StatisticsUnivariate', [[3, 8], [5], [1, 2]])) {
      const result = types['result'] as Record<string, string>;
      assert.equal(types['inputs'], 'int');
      assert.equal(result['samples'], 'float');
      assert.equal(result['sum'], 'float');
      assert.equal(result['variance'], 'float');
      assert.equal(result['minimum'], 'int');
      assert.equal(result['maximum'], 'int');
    }
  });

  test('StatisticsFrequency: histogram counts are floats', async () => {
    for (const types of await typesAt('StatisticsFrequency', [['a', 'b'], ['a'], []])) {
      assert.deepEqual(types['result'], { histogram: { a: 'float', b: 'float' }, mode: 'str' });
    }
  });
});
