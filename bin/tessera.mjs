#!/usr/bin/env node
// `npx tessera serve …`: run the CLI, in this process, as JavaScript compiled from the TypeScript
// sources on first start (bin/build.mjs: no tsx loader thread, a third less memory when idle);
// through tsx when it cannot be compiled here. TESSERA_TSX=1 forces tsx.
// The parent's pid is read first: loading the CLI takes a while, and under npm (npm -> sh -> node)
// the CLI stops when that parent has gone (server/cli.ts).
const parentPid = process.ppid;
// The old generation may grow to 2.5x what survived the last full collection before the next one
// starts. V8's own factor let a server's small heap (about 21 MB live) grow by only ~11 MB, less than
// its young generation can promote in one scavenge, so while peer messages streamed it started a
// mark-compact every ~20 MB of messages (about 50 per 25M SecureFedAvg round, 27–31% of the
// samples in a server's online CPU profile). Read by V8 at every full collection, so setting
// it here, before anything is loaded, takes effect (docs/performance.md "The collector's heap limit").
(await import('node:v8')).setFlagsFromString('--heap-growing-percent=150');
const { compiledServer } = await import('./build.mjs');
const compiled = process.env.TESSERA_TSX === '1' ? undefined : await compiledServer();
let cli;
if (compiled !== undefined) {
  const { pathToFileURL } = await import('node:url');
  cli = await import(pathToFileURL(`${compiled}/server/cli.js`).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../server/cli.ts');
}
process.exit(await cli.main(process.argv.slice(2), undefined, { parentPid }));
