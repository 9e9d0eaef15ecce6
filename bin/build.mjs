// The server as compiled JavaScript, built on first start and whenever its sources change.
//
// Why: running the TypeScript through tsx costs every server process the tsx loader (its module
// hooks run on a thread of their own, with their own V8 heap: about 27 MiB of an idle server's
// 141 MiB) and twice the CPU to start (docs/performance.md, "The idle server"). esbuild strips the
// types file by file (no bundling, so every module keeps its own path and `import.meta.url`), in
// well under a second, so there is no separate build step to forget: `npm install && npm run
// demo`, the tests and `npx tessera serve` on a fresh clone all compile on their first start.
//
// Where: node_modules/.cache/tessera/<digest>/, the digest being SHA-256 over the path and content
// of every file the server loads (server/, services/, shared/, openapi.yaml, package.json) and of
// tsconfig.json (esbuild's settings) and esbuild's version. A
// changed source is a new digest, so a stale build is never run, and an edit during development
// is compiled on the next start. openapi.yaml and package.json are copied next to the compiled
// tree, where the modules look for them (server/http/spec.ts, server/cli.ts). Several servers
// starting at once (a test cluster) each compile into a folder of their own and rename it into
// place; the first rename wins and the others use its result.
//
// Anything that goes wrong here (no esbuild, a read-only node_modules) returns undefined and the
// caller falls back to tsx: slower to start and larger, never broken.

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The folders whose modules the server loads. */
const SOURCE_DIRS = ['server', 'services', 'shared'];
/** Files the compiled modules read by a path relative to their own (copied as they are). */
const ROOT_FILES = ['openapi.yaml', 'package.json'];
/** esbuild reads its TypeScript settings (class fields, imports kept or elided) from here. */
const COMPILER_FILES = ['tsconfig.json'];
/** Builds older than this are removed by the next build (a running server may still import lazily from its own). */
const KEEP_MS = 24 * 3600 * 1000;

function sourceFiles(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(root, dir));
  return files;
}

/** SHA-256 over every source's path and content, the compiler's settings and its version. */
function digestOf(root, files, compilerVersion) {
  const hash = createHash('sha256').update(`esbuild ${compilerVersion}\0`);
  for (const path of [...files, ...[...ROOT_FILES, ...COMPILER_FILES].map((f) => join(root, f))]) {
    hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex').slice(0, 24);
}

/**
 * The folder holding the compiled server for the current sources (its `server/cli.js` is the
 * entry point), compiling it first if needed; undefined when it cannot be compiled here.
 * `root`: the checkout whose sources are compiled (a test compiles a copy).
 */
export async function compiledServer(root = ROOT) {
  try {
    // The compiler's version from its package.json: loading esbuild itself is only needed to build.
    const require = createRequire(import.meta.url);
    const { version } = JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8'));
    const files = sourceFiles(root);
    const cache = join(root, 'node_modules', '.cache', 'tessera');
    const target = join(cache, digestOf(root, files, version));
    if (existsSync(join(target, 'server', 'cli.js'))) return target;

    const esbuild = await import('esbuild');

    const scratch = `${target}.${process.pid}.tmp`;
    rmSync(scratch, { recursive: true, force: true });
    const typescript = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    await esbuild.build({
      entryPoints: typescript,
      outdir: scratch,
      outbase: root,
      bundle: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      logLevel: 'silent',
    });
    // Plain JavaScript next to the TypeScript (a worker's .mjs) is loaded by path: copied as is.
    for (const f of files.filter((f) => /\.(mjs|js|cjs|json)$/.test(f))) {
      const to = join(scratch, relative(root, f));
      mkdirSync(join(to, '..'), { recursive: true });
      copyFileSync(f, to);
    }
    mkdirSync(cache, { recursive: true });
    for (const f of ROOT_FILES) copyFileSync(join(root, f), join(scratch, f));
    try {
      renameSync(scratch, target);
    } catch {
      // Another server renamed its build into place first: the same sources, the same result.
      rmSync(scratch, { recursive: true, force: true });
      if (!existsSync(join(target, 'server', 'cli.js'))) return undefined;
    }
    removeOldBuilds(cache, target);
    return target;
  } catch {
    return undefined;
  }
}

function removeOldBuilds(cache, keep) {
  const now = Date.now();
  for (const name of readdirSync(cache)) {
    const path = join(cache, name);
    if (path === keep) continue;
    try {
      if (now - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another server at the same moment.
    }
  }
}

// `node bin/build.mjs`: compile now and print where (npm run build).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = await compiledServer();
  if (dir === undefined) {
    console.error('tessera: could not compile the server with esbuild (the server still runs through tsx)');
    process.exit(1);
  }
  console.log(dir);
}
