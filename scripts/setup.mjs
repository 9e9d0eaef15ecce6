#!/usr/bin/env node
// `npm run setup` (and the first step of `npm test`): installs what the test suite needs from
// outside npm. As root on Debian it apt-get installs the missing packages; a second run installs
// nothing. Without root, or off Debian, it says exactly what to install and exits 1, rather than
// letting a browser or Python test fail later with a stack trace.
//
// TESSERA_SKIP_SETUP=1 skips it (a machine that provides these some other way).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Debian packages the tests need, and why. Add a line here when a test needs another one (the
 * one list: .ci/run and the README defer to it). `probe` is how to tell, off Debian, that the
 * thing is there in another form.
 */
export const DEBIAN_PACKAGES = [
  { name: 'chromium', why: 'test/browser drives /usr/bin/chromium with playwright-core', probe: () => existsSync('/usr/bin/chromium') },
  { name: 'fonts-dejavu-core', why: 'readable text in the Swagger UI screenshot', probe: () => true },
  { name: 'python3', why: 'the generated Python client and examples/python run on /usr/bin/python3', probe: () => existsSync('/usr/bin/python3') },
  { name: 'python3-urllib3', why: 'imported by the generated Python client', probe: () => pythonHas('urllib3') },
  { name: 'python3-six', why: 'imported by the generated Python client', probe: () => pythonHas('six') },
  { name: 'python3-dateutil', why: 'imported by the generated Python client', probe: () => pythonHas('dateutil') },
  { name: 'python3-certifi', why: 'imported by the generated Python client', probe: () => pythonHas('certifi') },
  { name: 'python3-numpy', why: 'examples/python (SecureFedAvg of NumPy arrays)', probe: () => pythonHas('numpy') },
  { name: 'python3-setuptools', why: 'installing clients/python-tessera offline (pip --no-build-isolation)', probe: () => pythonHas('setuptools') },
  { name: 'python3-wheel', why: 'installing clients/python-tessera offline (pip --no-build-isolation)', probe: () => pythonHas('wheel') },
  { name: 'python3-pip', why: 'the offline pip install test of clients/python-tessera', probe: () => pythonHas('pip') },
  { name: 'python3-venv', why: 'the pip install test installs into a fresh venv', probe: () => pythonHas('venv') },
  { name: 'python3-torch', why: 'FedAvgClient.update_model on torch modules, the breast-cancer example', probe: () => pythonHas('torch') },
  { name: 'python3-sklearn', why: 'the breast-cancer data set (load_breast_cancer, shipped with scikit-learn)', probe: () => pythonHas('sklearn') },
  { name: 'python3-matplotlib', why: 'the breast-cancer example writes its plot as PNG', probe: () => pythonHas('matplotlib') },
  { name: 'r-base-core', why: 'the generated R client is installed and run (test/clients/r)', probe: () => commandRuns('R', ['--version']) },
  { name: 'r-cran-httr', why: 'imported by the generated R client', probe: () => true },
  { name: 'r-cran-jsonlite', why: 'imported by the generated R client', probe: () => true },
  { name: 'r-cran-r6', why: 'imported by the generated R client', probe: () => true },
  { name: 'golang-go', why: 'the generated Go client is built and run offline (test/clients/go)', probe: () => commandRuns('go', ['version']) },
  { name: 'golang-golang-x-oauth2-dev', why: 'imported by the generated Go client (GOPATH build)', probe: () => true },
  { name: 'nats-server', why: 'test/relay and bench/relay run the NATS relay carrier against a real nats-server', probe: () => existsSync('/usr/sbin/nats-server') || commandRuns('nats-server', ['--version']) },
  { name: 'libgoogle-gson-java', why: 'the generated Java client compiles against Gson', probe: () => true },
  { name: 'libswagger-core-java', why: 'the generated Java client compiles against swagger-annotations', probe: () => true },
  { name: 'git', why: 'the checks that generated code is up to date', probe: () => commandRuns('git', ['--version']) },
  { name: 'ca-certificates', why: 'HTTPS to package repositories', probe: () => true },
];

/** A JDK only when the machine has no javac: swagger-codegen runs on it, the generated Java client compiles with it. */
export const JAVA_PACKAGE = {
  name: 'default-jdk-headless',
  why: 'swagger-codegen (npm run clients:generate) runs on Java; the generated Java client is compiled with javac',
  probe: () => commandRuns('javac', ['-version']),
};

function commandRuns(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

function pythonHas(module) {
  return existsSync('/usr/bin/python3') && commandRuns('/usr/bin/python3', ['-c', `import ${module}`]);
}

/**
 * What to do, from what the machine is and has (no side effects, so the tests can ask it about
 * other machines). `installed(name)`: the Debian package is installed (on Debian) or its probe
 * finds the thing (elsewhere).
 */
export function plan({ debian, root, hasJava, installed }) {
  const wanted = [...DEBIAN_PACKAGES, ...(hasJava ? [] : [JAVA_PACKAGE])];
  const missing = wanted.filter((p) => !installed(p));
  if (missing.length === 0) return { action: 'none', message: 'setup: every system package the tests need is installed; nothing to install' };
  const names = missing.map((p) => p.name).join(' ');
  const reasons = missing.map((p) => `  ${p.name.padEnd(22)} ${p.why}`).join('\n');
  if (debian && root) return { action: 'install', packages: missing.map((p) => p.name), message: `setup: apt-get install ${names}` };
  if (debian) {
    return {
      action: 'fail',
      message:
        `setup: the tests need these Debian packages, which are not installed:\n${reasons}\n` +
        `Install them, then run the tests again:\n  sudo apt-get update && sudo apt-get install --no-install-recommends ${names}\n` +
        '(or run npm test as root, which installs them itself)',
    };
  }
  return {
    action: 'fail',
    message:
      `setup: this is not Debian, so nothing is installed automatically. The tests need (Debian names):\n${reasons}\n` +
      'Install the equivalents: Chromium at /usr/bin/chromium; for /usr/bin/python3 the modules urllib3, six, python-dateutil,\n' +
      'certifi and numpy (e.g. /usr/bin/python3 -m pip install urllib3 six python-dateutil certifi numpy); a Java 17+\n' +
      'runtime with `java` on PATH; git. Or set TESSERA_SKIP_SETUP=1 to run the tests without this check.',
  };
}

function dpkgInstalled(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

function main() {
  if (process.env.TESSERA_SKIP_SETUP === '1') {
    console.log('setup: skipped (TESSERA_SKIP_SETUP=1)');
    return 0;
  }
  const debian = existsSync('/etc/debian_version') && commandRuns('dpkg-query', ['--version']);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasJava = JAVA_PACKAGE.probe();
  const step = plan({ debian, root, hasJava, installed: debian ? (p) => dpkgInstalled(p.name) : (p) => p.probe() });
  console.log(step.message);
  if (step.action === 'none') return 0;
  if (step.action === 'fail') return 1;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status !== 0) {
    console.error('setup: apt-get update failed (see above); the packages are not installed');
    return 1;
  }
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...step.packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (install.status !== 0) {
    console.error(`setup: apt-get install ${step.packages.join(' ')} failed (exit ${install.status})`);
    return 1;
  }
  console.log(`setup: installed ${step.packages.join(' ')}`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(main());
}
