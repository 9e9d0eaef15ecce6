// README "Using Tessera from Python", block by block: the apt packages it names are the ones
// installed, the venv and pip lines run as written (in a copy of the clients), the servers are a
// test cluster in place of 55501..55503, and each party block prints what its comment promises.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { aptPackages, bash, promised, readmeSection, ROOT, withNodes } from '../readme.js';

const blocks = readmeSection('Using Tessera from Python');
let cluster: Cluster;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-readme-python-'));
  // "this repository checked out": the two client folders pip installs (a copy, so pip's in-tree
  // build leaves nothing in the repository); HOME is the test's, for ~/tessera-venv.
  mkdirSync(join(dir, 'clients'));
  cpSync(join(ROOT, 'clients', 'python'), join(dir, 'clients', 'python'), { recursive: true });
  cpSync(join(ROOT, 'clients', 'python-tessera'), join(dir, 'clients', 'python-tessera'), { recursive: true });
  env = { ...process.env, HOME: dir, PYTHONDONTWRITEBYTECODE: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
  delete env.PYTHONPATH;
  delete env.VIRTUAL_ENV;
  // Debian's python3 first, as on a fresh machine (not a pyenv shim that may lead PATH here).
  env.PATH = `/usr/bin:${process.env.PATH ?? ''}`;
  cluster = await startCluster(3, { stageTimeoutMs: 30_000 });
});
after(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the section has its blocks: setup, sum.py and its run, train.py and its run', () => {
  assert.deepEqual(blocks.map((b) => b.lang), ['sh', 'python', 'sh', 'python', 'sh']);
});

test('every block, in order, from nothing to a sum and an averaged model', { timeout: 240_000 }, async () => {
  const [setup] = blocks;
  for (const name of aptPackages(setup!.code)) {
    const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    assert.match(status.stdout, /install ok installed/, `README's apt package ${name} (is it in .ci/run?)`);
  }
  // The setup lines as written, but the servers: the test cluster stands in for them.
  const lines = setup!.code.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('sudo apt-get') && !l.startsWith('npx tessera serve'));
  assert.equal(lines.length, 2, 'venv and pip');
  const installed = await bash(lines.join('\n'), { cwd: dir, env, timeoutMs: 180_000 });
  assert.equal(installed.code, 0, `${installed.stdout}\n${installed.stderr}`);

  for (let i = 1; i < blocks.length; i += 2) {
    const script = blocks[i]!;
    const name = /^# (\w+\.py)\n/.exec(script.code)?.[1];
    assert.ok(name, 'a python block starts with its file name');
    writeFileSync(join(dir, name), withNodes(script.code, cluster.nodes));
    const parties = blocks[i + 1]!;
    const run = await bash(`. ~/tessera-venv/bin/activate\n${parties.code}`, { cwd: dir, env, timeoutMs: 180_000 });
    assert.equal(run.code, 0, `${name}: ${run.stdout}\n${run.stderr}`);
    const printed = run.stdout.trim().split('\n');
    assert.equal(printed.length, 3, `${name}: ${run.stdout}\n${run.stderr}`);
    const promise = promised(parties.code);
    if ('each' in promise) for (const line of printed) assert.equal(line, promise.each, name);
    else assert.ok(printed.every((line) => line === printed[0] && line.length > 2), `${name}: ${run.stdout}`);
  }
});
