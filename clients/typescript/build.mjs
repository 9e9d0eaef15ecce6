#!/usr/bin/env node
// Builds the package: tsc compiles the client and shared/ into dist/ (tsconfig.build.json), then
// the generated declarations, which tsc does not copy, go beside the code that imports them.
// Run by `npm run build` and, before `npm pack`/`npm publish`, by `prepack`.
import { cpSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
cpSync(join(here, 'generated', 'schema.d.ts'), join(dist, 'clients', 'typescript', 'generated', 'schema.d.ts'));
