// The TypeScript client is a package another project can install: `npm pack` builds it (prepack)
// into a tarball; a fresh project installs that tarball offline and, through the package's
// exports map alone, runs a SecureSum against three real servers and type-checks its own code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startCluster } from '../../support/cluster.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const CLIENT_DIR = resolve('clients/typescript');
const require = createRequire(import.meta.url);

/** `npm pack` of a folder into `dest`; the tarball's path. */
async function pack(folder: string, dest: string, options: { ignoreScripts?: boolean } = {}): Promise<string> {
  const before = new Set(await readdir(dest));
  await run(NPM, ['pack', '--pack-destination', dest, ...(options.ignoreScripts ? ['--ignore-scripts', folder] : [])], {
    cwd: options.ignoreScripts ? dest : folder,
    timeout: 240_000,
  });
  const made = (await readdir(dest)).filter((f) => f.endsWith('.tgz') && !before.has(f));
  assert.equal(made.length, 1, `npm pack ${folder} made one tarball`);
  return join(dest, made[0]!);
}

test('npm pack makes a package that another project installs offline and runs a SecureSum through', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-client-package-'));
  const cluster = await startCluster(3);
  try {
    const tarball = await pack(CLIENT_DIR, dir);
    const { stdout: listing } = await run('tar', ['-tzf', tarball]);
    const files = listing.split('\n').filter(Boolean);
    for (const want of ['package/package.json', 'package/dist/clients/typescript/index.js', 'package/dist/clients/typescript/index.d.ts', 'package/dist/clients/typescript/generated/schema.d.ts', 'package/dist/shared/tensors.js']) {
      assert.ok(files.includes(want), `the tarball holds ${want}`);
    }
    assert.deepEqual(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], 'no TypeScript sources in the tarball');
    assert.deepEqual(files.filter((f) => /\/(server|services|test)\//.test(f)), [], 'no server code in the tarball');

    // The client's one dependency comes from this repository's node_modules, packed the same way,
    // so the install needs no registry.
    const deps = [
      await pack(resolve('node_modules/openapi-fetch'), dir, { ignoreScripts: true }),
      await pack(resolve('node_modules/openapi-typescript-helpers'), dir, { ignoreScripts: true }),
    ];
    const project = join(dir, 'consumer');
    await run('mkdir', [project]);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run(NPM, ['install', '--offline', '--no-audit', '--no-fund', tarball, ...deps], { cwd: project, timeout: 240_000 });

    await writeFile(
      join(project, 'sum.mjs'),
      `import { Api, TensorSet } from '@tessera/client';
const { nodes, uuid, inputs } = JSON.parse(process.argv[2]);
const results = await Promise.all(inputs.map((data, myself) => new Api(nodes[myself], { timeoutMs: 60000 }).secureSum({ data, network: { nodes, uuid, myself } })));
let deepImport;
try { await import('@tessera/client/dist/shared/tensors.js'); deepImport = 'allowed'; } catch (err) { deepImport = err.code; }
console.log(JSON.stringify({ results, deepImport, tensorSet: typeof TensorSet.from }));
`,
    );
    const inputs = [19, 26, 40];
    const { stdout } = await run(process.execPath, [join(project, 'sum.mjs'), JSON.stringify({ nodes: cluster.nodes, uuid: randomUUID(), inputs })], {
      cwd: project,
      timeout: 120_000,
    });
    const out = JSON.parse(stdout) as { results: { inputs: number; result: { samples: number; sum: number } }[]; deepImport: string; tensorSet: string };
    const sum = inputs.reduce((a, b) => a + b, 0);
    assert.equal(out.results.length, 3);
    for (const r of out.results) {
      assert.equal(r.result.sum, sum);
      assert.equal(r.result.samples, inputs.length);
    }
    assert.equal(out.deepImport, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'only the exports map is public');
    assert.equal(out.tensorSet, 'function');

    // The package's types resolve through its exports map: a consumer's TypeScript compiles, and a
    // wrong type is caught (the @ts-expect-error line fails the check if the types were `any`).
    await writeFile(
      join(project, 'check.ts'),
      `import { Api, TesseraApiError, type SecureSumResult } from '@tessera/client';
export async function total(api: Api): Promise<number> {
  const r: SecureSumResult = await api.secureSum({ data: 1, network: { nodes: [api.baseUrl], uuid: 'u', myself: 0 } });
  // @ts-expect-error myself is a number
  await api.secureSum({ data: 1, network: { nodes: [], uuid: 'u', myself: 'zero' } });
  return r instanceof TesseraApiError ? 0 : r.result.samples;
}
`,
    );
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: true, types: [] }, files: ['check.ts'] }),
    );
    await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { cwd: project, timeout: 240_000 }).catch((err: { stdout?: string }) => {
      assert.fail(`the consumer's type check failed:\n${err.stdout ?? String(err)}`);
    });
  } finally {
    await cluster.close();
    await rm(dir, { recursive: true, force: true });
  }
});
