#!/usr/bin/env node
// `npx tessera serve …`: run the CLI, in this process, as JavaScript compiled from the TypeScript
// sources on first start (bin/build.mjs: no tsx loader thread, a third less memory when idle);
// through tsx when it cannot be compiled here. TESSERA_TSX=1 forces tsx.
// The parent's pid is read first: loading the CLI takes a while, and under npm (npm -> sh -> node)
// the CLI stops when that parent has gone (server/cli.ts).
const parentPid = process.ppid;
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
