// The Java client generated from openapi.yaml (with Tessera's templates for the okhttp-gson
// library, scripts/client-templates/java: the JDK's HTTP client and Gson instead of okhttp 2)
// compiles with javac against Debian's libgoogle-gson-java and libswagger-core-java, and
// examples/java/SecureSum.java computes a SecureSum at three parties against three real servers.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { runCommand, type CommandRun } from '../../support/process.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DEBIAN_JARS = ['/usr/share/java/gson.jar', '/usr/share/java/swagger-annotations.jar'];

function javaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? javaFiles(path) : name.endsWith('.java') ? [path] : [];
  });
}

function java(args: string[]): Promise<CommandRun> {
  return runCommand('java', args, { timeoutMs: 60_000 });
}

describe('generated Java client', () => {
  let dir: string;
  let classpath: string;
  let cluster: Cluster;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-java-'));
    const client = join(dir, 'client');
    const generated = spawnSync(process.execPath, ['scripts/generate-clients.mjs', 'java', '--out', client], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(generated.status, 0, generated.stderr);
    const classes = join(dir, 'classes');
    const sources = [...javaFiles(join(client, 'src')), join(ROOT, 'examples', 'java', 'SecureSum.java')];
    const compiled = spawnSync('javac', ['-Xlint:none', '-d', classes, '-cp', DEBIAN_JARS.join(':'), ...sources], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(compiled.status, 0, compiled.stderr);
    classpath = [classes, ...DEBIAN_JARS].join(':');
    cluster = await startCluster(3, { stageTimeoutMs: 30_000 });
  });
  after(async () => {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('three Java processes compute a SecureSum', async () => {
    const uuid = randomUUID();
    const runs = await Promise.all([19, 5, 61].map((secret, myself) => java(['-cp', classpath, 'SecureSum', String(myself), String(secret), cluster.nodes.join(','), uuid])));
    for (const [myself, run] of runs.entries()) {
      assert.equal(run.code, 0, `party ${myself}: ${run.stderr}`);
      assert.deepEqual(JSON.parse(run.stdout), { inputs: 3, result: { samples: 3, sum: 85 } });
    }
  });

  test('an unreachable peer: the ApiException carries the status and where', async () => {
    const run = await java(['-cp', classpath, 'SecureSum', '0', '19', `${cluster.nodes[0]},http://127.0.0.1:9`, randomUUID()]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^502 .* from ${cluster.nodes[0]!.replace(/\./g, '\\.')}: .*\\(where: party 1`));
  });
});
