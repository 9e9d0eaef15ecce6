#!/usr/bin/env node
// `npx tessera serve …`: run the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli.ts');
process.exit(await main(process.argv.slice(2)));
