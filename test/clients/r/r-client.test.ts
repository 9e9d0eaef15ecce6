// The R client generated from openapi.yaml (with Tessera's templates, scripts/client-templates/r)
// installs with Debian's R and r-cran-* packages, and R scripts compute against three real
// servers: SecureSum (the README's sum.R), and a SIMON statistic (its 22 statistics; a bad input stops with the problem's status, detail and where).
// The client is generated and installed by the README's own "Using Tessera from R" lines (with
// the output folder and ~ moved into a temporary folder), and the README's sum.R runs as written.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { runCommand, type CommandRun } from '../../support/process.js';
import { aptPackages, bash, promised, readmeSection, withNodes } from '../readme.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TIMEOUT_MS = 90_000;

function rscript(args: string[], env: NodeJS.ProcessEnv): Promise<CommandRun> {
  return runCommand('Rscript', args, { cwd: ROOT, env, timeoutMs: TIMEOUT_MS });
}

describe('generated R client', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let cluster: Cluster;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-r-'));
    const [setup] = readmeSection('Using Tessera from R');
    for (const name of aptPackages(setup!.code)) {
      const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
      assert.match(status.stdout, /install ok installed/, `README's apt package ${name} (is it in .ci/run?)`);
    }
    // The README's lines, with the generated folder outside the repository and HOME in `dir`.
    const out = join(dir, 'client');
    const lines = setup!.code
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('sudo apt-get'))
      .map((l) => l.replace('npm run clients:generate -- r', `npm run clients:generate -- r --out ${out}`).replace(/ clients\/r$/, ` ${out}`));
    assert.equal(lines.length, 3, setup!.code);
    const installed = await bash(lines.join('\n'), { cwd: ROOT, env: { ...process.env, HOME: dir }, timeoutMs: 240_000 });
    assert.equal(installed.code, 0, `${installed.stdout}\n${installed.stderr}`);
    env = { ...process.env, R_LIBS: join(dir, 'R', 'library') };
    cluster = await startCluster(3, { stageTimeoutMs: 30_000 });
  });
  after(async () => {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the README's sum.R, three parties, prints what the README says", async () => {
    const blocks = readmeSection('Using Tessera from R');
    assert.deepEqual(blocks.map((b) => b.lang), ['sh', 'r', 'sh']);
    writeFileSync(join(dir, 'sum.R'), withNodes(blocks[1]!.code, cluster.nodes));
    const run = await bash(blocks[2]!.code, { cwd: dir, env, timeoutMs: TIMEOUT_MS });
    assert.equal(run.code, 0, run.stderr);
    const promise = promised(blocks[2]!.code);
    assert.ok('each' in promise);
    assert.deepEqual(run.stdout.trim().split('\n'), [promise.each, promise.each, promise.each]);
  });

  test('a SIMON statistic from R: StatisticsUnivariate of SIMON\'s example at three servers', async () => {
    const uuid = randomUUID();
    const data = ['3.0,1.5,6.0', '2.0,2.5', '4.5'];
    const runs = await Promise.all(data.map((numbers, myself) => rscript(['examples/r/statistic.R', String(myself), numbers, cluster.nodes.join(','), uuid], env)));
    for (const run of runs) {
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { result?: Record<string, number>; problem?: { status: number; detail: string; where: string } };
      // SIMON's StatisticsUnivariate example: every party gets the same 22 statistics.
      assert.equal(out.problem, undefined, JSON.stringify(out.problem));
      const r = out.result!;
      assert.equal(Object.keys(r).length, 22);
      for (const [key, want] of Object.entries({ samples: 6, sum: 19.5, mean: 3.25, minimum: 1.5, maximum: 6, variance: 2.875, skewness: 0.6741477730119637 })) {
        assert.ok(Math.abs(r[key]! - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${key}: ${r[key]} vs ${want}`);
      }
    }
  });

  test('a bad input stops with status, detail and where', async () => {
    const run = await rscript(['-e', `library(tessera); api <- RepresentationsApi$new(ApiClient$new(basePath = "${cluster.nodes[0]}")); api$create_attribute("not-a-uuid", "compute")`], env);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, new RegExp(`^Error: 4\\d\\d .* from ${cluster.nodes[0]!.replace(/\./g, '\\.')}: .*\\(where: `, 'm'));
  });
});
