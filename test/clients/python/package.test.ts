// The hand-written Python package (clients/python-tessera, `import tessera`) with Debian's
// python3: its unit tests, its offline pip install, and its calls against three real servers:
// FSC's classic SecureSum script with only its import changed, the typed secure_sum with a bearer
// token, update_model on a torch.nn.Module and on NumPy arrays, and a bad input.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { describeRun, PYTHON, PYTHON_PACKAGE_PATH, ROOT, runPython } from './python.js';

const TIMEOUT_MS = 90_000;
const PARTY = join(ROOT, 'test', 'clients', 'python', 'party.py');
const TOKEN = 'python-package-test-token-0123456789';

interface PartyOutput<T> {
  ok?: T;
  error?: { class: string; message: string; status: number | null; detail: string | null; where: string | null; url: string | null };
}

/** Every party runs `party.py scenario` at once against its own server; each party's JSON. */
async function parties<T>(cluster: Cluster, scenario: string, args: (myself: number) => string | undefined, count = cluster.nodes.length): Promise<PartyOutput<T>[]> {
  const uuid = randomUUID();
  const runs = await Promise.all(
    Array.from({ length: count }, (_, myself) => {
      const arg = args(myself);
      return runPython([PARTY, scenario, String(myself), cluster.nodes.join(','), uuid, ...(arg === undefined ? [] : [arg])], TIMEOUT_MS, '', PYTHON_PACKAGE_PATH);
    }),
  );
  return runs.map((run, myself) => {
    assert.equal(run.code, 0, describeRun(`party ${myself}`, run));
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as PartyOutput<T>;
  });
}

type Tensors = Record<string, number[] | number[][]>;

/** Σ w_k·x_k / Σ w_k, element by element, in float64. */
function weightedAverage(models: Tensors[], weights: number[]): Record<string, number[]> {
  const total = weights.reduce((a, b) => a + b, 0);
  const out: Record<string, number[]> = {};
  for (const name of Object.keys(models[0]!)) {
    const flat = models.map((m) => (m[name] as unknown[]).flat(2) as number[]);
    out[name] = flat[0]!.map((_, i) => flat.reduce((sum, values, k) => sum + (weights[k]! * values[i]!) / total, 0));
  }
  return out;
}

function assertClose(actual: Tensors, expected: Record<string, number[]>, tolerance: number, what: string): void {
  for (const [name, want] of Object.entries(expected)) {
    const got = (actual[name] as unknown[]).flat(2) as number[];
    assert.equal(got.length, want.length, `${what} ${name}`);
    got.forEach((value, i) => assert.ok(Math.abs(value - want[i]!) <= tolerance, `${what} ${name}[${i}]: ${value} vs ${want[i]}`));
  }
}

describe('the tessera Python package', () => {
  test('its unit tests pass under Debian\'s python3 -m unittest, none skipped', () => {
    const run = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-v', '-s', 'tests', '-t', '.'], {
      cwd: join(ROOT, 'clients', 'python-tessera'),
      env: { ...process.env, PYTHONPATH: PYTHON_PACKAGE_PATH, PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
      timeout: TIMEOUT_MS,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /\nOK\n/);
    assert.doesNotMatch(run.stderr, /skipped/);
    assert.match(run.stderr, /Ran (\d{2,}) tests/);
  });

  test('installs offline with pip --no-index --no-build-isolation and imports from the install', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-pip-'));
    try {
      // Copies, so pip's in-tree build leaves nothing in the repository.
      cpSync(join(ROOT, 'clients', 'python'), join(dir, 'python'), { recursive: true });
      cpSync(join(ROOT, 'clients', 'python-tessera'), join(dir, 'python-tessera'), { recursive: true });
      const venv = join(dir, 'venv');
      const made = spawnSync(PYTHON, ['-m', 'venv', '--system-site-packages', '--without-pip', venv], { encoding: 'utf8', timeout: TIMEOUT_MS });
      assert.equal(made.status, 0, made.stderr);
      const python = join(venv, 'bin', 'python');
      const install = spawnSync(
        PYTHON,
        ['-m', 'pip', '--python', python, 'install', '--no-index', '--no-build-isolation', '--disable-pip-version-check', './python', './python-tessera'],
        { cwd: dir, encoding: 'utf8', timeout: TIMEOUT_MS },
      );
      assert.equal(install.status, 0, `${install.stdout}\n${install.stderr}`);
      const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
      delete env.PYTHONPATH;
      const imported = spawnSync(python, ['-c', 'import tessera, tessera_client; print(tessera.__file__); print(tessera_client.__file__)'], { cwd: tmpdir(), env, encoding: 'utf8' });
      assert.equal(imported.status, 0, imported.stderr);
      for (const line of imported.stdout.trim().split('\n')) assert.ok(line.startsWith(join(venv, 'lib')), line);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('against three real servers', () => {
    let cluster: Cluster;
    before(async () => {
      cluster = await startCluster(3, { stageTimeoutMs: 30_000 });
    });
    after(async () => cluster.close());

    test('FSC\'s classic secure_sum.py runs with only its import changed', async () => {
      const script = readFileSync(join(ROOT, 'examples', 'python', 'classic_secure_sum.py'), 'utf8');
      assert.match(script, /^import tessera as federatedsecure\b/m);
      assert.doesNotMatch(script, /^import (?!sys$|tessera as federatedsecure)/m);
      // What a user edits anyway: where the servers are.
      const dir = mkdtempSync(join(tmpdir(), 'tessera-classic-'));
      try {
        const edited = script.replace(/^NODES = .*$/m, `NODES = ${JSON.stringify(cluster.nodes)}`);
        assert.notEqual(edited, script);
        writeFileSync(join(dir, 'secure_sum.py'), edited);
        const runs = await Promise.all([19, 5, 61].map((secret, myself) => runPython([join(dir, 'secure_sum.py'), String(myself), String(secret)], TIMEOUT_MS, '', PYTHON_PACKAGE_PATH)));
        for (const [myself, run] of runs.entries()) {
          assert.equal(run.code, 0, describeRun(`party ${myself}`, run));
          assert.equal(run.stdout.trim(), "{'inputs': 3, 'result': {'samples': 3, 'sum': 85.0}}", `party ${myself}`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('update_model averages a torch.nn.Module in place, twice, the second round prepared in advance', async () => {
      interface Out {
        weight: number;
        before: Tensors;
        after_first: Tensors;
        before_second: Tensors;
        after_second: Tensors;
        same_module: boolean;
        same_parameter: boolean;
        prepared: boolean;
        events: [string, number][];
      }
      const outs = (await parties<Out>(cluster, 'fedavg-torch', () => undefined)).map((o, i) => {
        assert.ok(o.ok, `party ${i}: ${JSON.stringify(o.error)}`);
        return o.ok;
      });
      const weights = outs.map((o) => o.weight);
      const first = weightedAverage(outs.map((o) => o.before), weights);
      const second = weightedAverage(outs.map((o) => o.before_second), weights.map((w, k) => w + 10 * k));
      for (const [myself, out] of outs.entries()) {
        assertClose(out.after_first, first, 1e-6, `party ${myself} round 0`);
        assertClose(out.after_second, second, 1e-6, `party ${myself} round 1`);
        assert.ok(out.same_module && out.same_parameter, 'the model and its Parameters are updated in place');
        assert.equal(out.prepared, true, 'round 1 ran on the computation announced after round 0');
        assert.deepEqual(out.events, [['upload', 0], ['average', 0], ['done', 0], ['announced', 1], ['upload', 1], ['average', 1], ['done', 1]]);
      }
      // The parties started from different models: an average that ignored one would differ.
      assert.notDeepEqual(outs[0]!.before, outs[1]!.before);
    });

    for (const microprotocol of ['SecureFedAvg', 'PlainFedAvg', 'SecureFedAvg:40']) {
      test(`update_model averages a dict of NumPy arrays in place (${microprotocol.replace(':40', ', ring_bits=40')})`, async () => {
        interface Out {
          weight: number;
          before: Tensors;
          after: Tensors;
          in_place: boolean;
          dtypes: Record<string, string>;
        }
        const outs = (await parties<Out>(cluster, 'fedavg-numpy', () => microprotocol)).map((o) => o.ok!);
        const want = weightedAverage(outs.map((o) => o.before), outs.map((o) => o.weight));
        for (const [myself, out] of outs.entries()) {
          assertClose(out.after, want, 1e-6, `party ${myself}`);
          assert.equal(out.in_place, true);
          assert.deepEqual(out.dtypes, { w: 'float32', b: 'float64' });
        }
      });
    }

    test('a bad input is a TesseraError with the status, the detail and the field', async () => {
      const [out] = await parties<unknown>(cluster, 'bad-input', () => undefined, 1);
      assert.equal(out!.ok, undefined);
      assert.equal(out!.error!.class, 'TesseraError');
      assert.equal(out!.error!.status, 400);
      assert.equal(out!.error!.where, 'kwargs.data[0]');
      assert.equal(out!.error!.url, cluster.nodes[0]);
      assert.match(out!.error!.message, /^400 .*kwargs\.data\[0\]/);
    });
  });

  describe('against three real servers that demand a client token', () => {
    let cluster: Cluster;
    before(async () => {
      cluster = await startCluster(3, { stageTimeoutMs: 30_000, config: { security: { clientToken: TOKEN } } });
    });
    after(async () => cluster.close());

    test('secure_sum with token= gets the sum', async () => {
      const outs = await parties<{ sum: number; samples: number }>(cluster, 'secure-sum', (myself) => JSON.stringify({ data: [[1.5, 2], [10], [-0.25]][myself], token: TOKEN }));
      for (const out of outs) assert.deepEqual(out.ok, { samples: 4, sum: 13.25 });
    });

    test('without the token: a 401 TesseraError, not a hang', async () => {
      const [out] = await parties<unknown>(cluster, 'secure-sum', () => JSON.stringify({ data: 1 }), 1);
      assert.equal(out!.error!.status, 401);
      assert.match(out!.error!.message, /requires a client token/);
    });
  });
});
