// The set-up step of `npm test` (scripts/setup.mjs): idempotent on this machine, and precise
// about what to install where it cannot install it itself.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

interface Package { name: string; why: string }
interface Plan { action: 'none' | 'install' | 'fail'; message: string; packages?: string[] }
interface SetupModule {
  DEBIAN_PACKAGES: Package[];
  JAVA_PACKAGE: Package;
  plan(machine: { debian: boolean; root: boolean; hasJava: boolean; installed(p: Package): boolean }): Plan;
}
const SETUP = '../../scripts/setup.mjs';
const { DEBIAN_PACKAGES, JAVA_PACKAGE, plan } = (await import(SETUP)) as SetupModule;

function runSetup() {
  const env = { ...process.env };
  delete env.TESSERA_SKIP_SETUP;
  return spawnSync(process.execPath, ['scripts/setup.mjs'], { encoding: 'utf8', env, timeout: 600_000 });
}

test('run twice, the set-up step succeeds and installs nothing the second time', () => {
  const first = runSetup();
  assert.equal(first.status, 0, first.stdout + first.stderr);
  const second = runSetup();
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /nothing to install/);
  assert.doesNotMatch(second.stdout, /apt-get install/);
});

const some = (names: string[]) => (p: Package) => !names.includes(p.name);

test('as root on Debian: installs exactly the missing packages, Java only when there is none', () => {
  const step = plan({ debian: true, root: true, hasJava: true, installed: some(['chromium', 'python3-numpy']) });
  assert.equal(step.action, 'install');
  assert.deepEqual(step.packages, ['chromium', 'python3-numpy']);
  const noJava = plan({ debian: true, root: true, hasJava: false, installed: some([JAVA_PACKAGE.name]) });
  assert.deepEqual(noJava.packages, [JAVA_PACKAGE.name]);
  assert.equal(plan({ debian: true, root: true, hasJava: true, installed: () => true }).action, 'none');
});

test('on Debian without root: names the packages and the command, and fails before any test', () => {
  const step = plan({ debian: true, root: false, hasJava: true, installed: some(['chromium', 'python3-six']) });
  assert.equal(step.action, 'fail');
  assert.match(step.message, /sudo apt-get update && sudo apt-get install --no-install-recommends chromium python3-six/);
  assert.match(step.message, /chromium +test\/browser/);
});

test('off Debian: says what to install in other words', () => {
  const step = plan({ debian: false, root: true, hasJava: false, installed: () => false });
  assert.equal(step.action, 'fail');
  for (const p of [...DEBIAN_PACKAGES, JAVA_PACKAGE]) assert.ok(step.message.includes(p.name), p.name);
  assert.match(step.message, /\/usr\/bin\/chromium/);
  assert.match(step.message, /pip install urllib3 six python-dateutil certifi numpy/);
  assert.match(step.message, /Java 17/);
  assert.match(step.message, /TESSERA_SKIP_SETUP=1/);
});
