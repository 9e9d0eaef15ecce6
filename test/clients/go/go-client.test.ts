// The Go client generated from openapi.yaml builds with Debian's Go offline (GOPATH mode against
// Debian's golang-*-dev sources, no module proxy), and examples/go/compute runs three parties
// against three real servers with `data` as a number, a list and an object.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { runCommand, type CommandRun } from '../../support/process.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TIMEOUT_MS = 60_000;

function run(binary: string, args: string[]): Promise<CommandRun> {
  return runCommand(binary, args, { timeoutMs: TIMEOUT_MS });
}

describe('generated Go client', () => {
  let dir: string;
  let binary: string;
  let cluster: Cluster;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-go-'));
    const gopath = join(dir, 'gopath');
    const generated = spawnSync(process.execPath, ['scripts/generate-clients.mjs', 'go', '--out', join(gopath, 'src', 'tessera')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(generated.status, 0, generated.stderr);
    mkdirSync(join(gopath, 'src', 'compute'), { recursive: true });
    copyFileSync(join(ROOT, 'examples', 'go', 'compute', 'main.go'), join(gopath, 'src', 'compute', 'main.go'));
    binary = join(dir, 'compute');
    // Offline: GOPATH mode, Debian's packaged Go sources (golang-golang-x-oauth2-dev), no proxy.
    const env = { ...process.env, GO111MODULE: 'off', GOPROXY: 'off', GOFLAGS: '', GOPATH: `${gopath}:/usr/share/gocode`, GOCACHE: join(dir, 'cache') };
    const built = spawnSync('go', ['build', '-o', binary, 'compute'], { cwd: gopath, env, encoding: 'utf8', timeout: 240_000 });
    assert.equal(built.status, 0, built.stderr);
    const vetted = spawnSync('go', ['vet', 'tessera'], { cwd: gopath, env, encoding: 'utf8', timeout: 240_000 });
    assert.equal(vetted.status, 0, vetted.stderr);
    cluster = await startCluster(3, { stageTimeoutMs: 30_000 });
  });
  after(async () => {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function parties(microprotocol: string, data: string[]): Promise<unknown[]> {
    const uuid = randomUUID();
    const runs = await Promise.all(data.map((json, myself) => run(binary, [String(myself), cluster.nodes.join(','), uuid, microprotocol, json])));
    return runs.map((r, myself) => {
      assert.equal(r.code, 0, `party ${myself}: ${r.stderr}`);
      return JSON.parse(r.stdout) as unknown;
    });
  }

  test('SecureSum with data as a number and as a list', async () => {
    for (const out of await parties('SecureSum', ['19', '[2.5, 2.5]', '61'])) {
      assert.deepEqual(out, { inputs: 3, result: { samples: 4, sum: 85 } });
    }
  });

  test('SecureFedAvg with data as an object (inline named tensors and a weight)', async () => {
    const model = (values: number[], weight: number): string => JSON.stringify({ tensors: { w: { dtype: 'F64', shape: [2], data: values } }, weight });
    for (const out of await parties('SecureFedAvg', [model([1, 2], 1), model([3, 4], 1), model([5, 6], 2)])) {
      const w = (out as { w: { dtype: string; shape: number[]; data: number[] } }).w;
      assert.deepEqual([w.dtype, w.shape], ['F64', [2]]);
      w.data.forEach((v, i) => assert.ok(Math.abs(v - [3.5, 4.5][i]!) < 1e-6, `w[${i}] = ${v}`));
    }
  });

  test('a bad input: the server\'s problem names the field', async () => {
    const r = await run(binary, ['0', cluster.nodes.join(','), randomUUID(), 'SecureSum', '"19"']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"status":400/);
    assert.match(r.stderr, /"where":"kwargs\.data"/);
  });
});
