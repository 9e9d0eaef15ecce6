// NumPy arrays through a real server as safetensors, from Debian's python3 with the generated
// client and examples/python/tessera_tensors.py: binary upload, binary download (bit-exact),
// and the JSON download the generated download_representation gives for the same tensors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/cluster.js';
import { describeRun, runPython } from './python.js';

// Each case: tensors as NumPy expressions. Names as PyTorch writes them; values that test the
// byte order and exactness (denormals, -0.0, extremes of each dtype).
const CASES: Array<[string, Record<string, string>]> = [
  ['one float32 matrix', { 'layer.0.weight': 'np.arange(12, dtype=np.float32).reshape(3, 4) / 7' }],
  [
    'float64 extremes',
    { bias: 'np.array([1e-300, -0.0, 5e-324, 1.7976931348623157e308, -2.5], dtype=np.float64)' },
  ],
  [
    'mixed dtypes and ranks',
    {
      'encoder.weight': 'rng.standard_normal((2, 3, 4)).astype(np.float32)',
      'encoder.bias': 'rng.standard_normal(5)',
      'head.scale': 'np.array([np.finfo(np.float32).max, np.finfo(np.float32).tiny], dtype=np.float32)',
    },
  ],
];

const SCRIPT = `
import json, sys
import numpy as np
sys.path.insert(0, 'examples/python')
import tessera_client
import tessera_tensors as tt

url, case = sys.argv[1], json.loads(sys.argv[2])
rng = np.random.default_rng(7)
tensors = {name: eval(expr, {"np": np, "rng": rng}) for name, expr in case.items()}
configuration = tessera_client.Configuration()
configuration.host = url
api_client = tessera_client.ApiClient(configuration)
api = tessera_client.RepresentationsApi(api_client)

uuid = tt.upload_tensors(api_client, tensors, timeout=20)
binary = tt.download_tensors(api_client, uuid, timeout=20)
as_json = api.download_representation(uuid, _request_timeout=20).object
api.release_representation(uuid)

report = {}
for name, want in tensors.items():
    got = binary[name]
    j = as_json[name]
    report[name] = {
        "dtype": str(got.dtype), "shape": list(got.shape),
        # bit-exact: compare the bytes, so -0.0 and denormals count
        "binary_exact": got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes(),
        "json_dtype": j["dtype"], "json_shape": j["shape"],
        "json_exact": bool(np.array_equal(np.array(j["data"], dtype=want.dtype).reshape(want.shape), want)),
    }
print(json.dumps({"names": sorted(binary), "tensors": report}))
`;

describe('NumPy tensors as safetensors through the generated Python client', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ logLevel: 'warn' });
  });
  after(async () => {
    await server.close();
  });

  for (const [name, tensors] of CASES) {
    test(name, async () => {
      const run = await runPython(['-c', SCRIPT, server.url, JSON.stringify(tensors)], 30_000);
      assert.equal(run.code, 0, describeRun('python3', run));
      const got = JSON.parse(run.stdout) as {
        names: string[];
        tensors: Record<string, { dtype: string; shape: number[]; binary_exact: boolean; json_dtype: string; json_shape: number[]; json_exact: boolean }>;
      };
      assert.deepEqual(got.names, Object.keys(tensors).sort());
      for (const [tensor, result] of Object.entries(got.tensors)) {
        assert.equal(result.binary_exact, true, `${tensor}: binary round trip is not bit-exact`);
        assert.equal(result.json_exact, true, `${tensor}: JSON download differs`);
        assert.equal(result.json_dtype, result.dtype === 'float32' ? 'F32' : 'F64', tensor);
        assert.deepEqual(result.json_shape, result.shape, tensor);
      }
    });
  }
});
