#!/usr/bin/env node
// `npx tessera serve …`: run the TypeScript CLI through tsx (no build step), in this process.
// The parent's pid is read first: loading the CLI takes a while, and under npm (npm -> sh -> node)
// the CLI stops when that parent has gone (server/cli.ts).
const parentPid = process.ppid;
const { register } = await import('tsx/esm/api');

register();
const { main } = await import('../server/cli.ts');
process.exit(await main(process.argv.slice(2), undefined, { parentPid }));
