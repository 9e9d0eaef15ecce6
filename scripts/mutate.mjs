#!/usr/bin/env node
// `npm run mutate`: mutation testing with StrykerJS (stryker.config.json): it plants one-line
// bugs in server/peer/, server/http/security.ts and services/common/, runs the tests that guard
// them for each, and prints the mutation score and every surviving mutant (a bug no test caught).
// Not part of `npm test`: a full run takes hours on two cores. Narrow it:
//   TESSERA_MUTATE_TESTS='test/security/client-auth' npm run mutate -- --mutate 'server/http/security.ts:100-140'
// Stryker 10's command line refuses Node < 22; its API runs on Node 20, so this script uses that.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({ options: { mutate: { type: 'string', multiple: true } } });
const major = Number(process.versions.node.split('.')[0]);
const { Stryker } = major >= 22
  ? await import('@stryker-mutator/core')
  : await import(pathToFileURL('node_modules/@stryker-mutator/core/dist/src/stryker.js').href);

const results = await new Stryker({ configFile: 'stryker.config.json', ...(values.mutate ? { mutate: values.mutate } : {}) }).runMutationTest();
const count = (...statuses) => results.filter((r) => statuses.includes(r.status)).length;
const detected = count('Killed', 'Timeout');
const undetected = count('Survived', 'NoCoverage');
const score = detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected);
for (const r of results.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')) {
  console.log(`survived: ${r.fileName}:${r.location.start.line + 1} ${r.mutatorName}: ${JSON.stringify(r.replacement ?? '').slice(0, 120)}`);
}
console.log(`\nmutants: ${results.length}; killed ${count('Killed')}, timed out ${count('Timeout')}, survived ${count('Survived')}, no coverage ${count('NoCoverage')}, errors ${count('RuntimeError', 'CompileError')}`);
console.log(`mutation score: ${score.toFixed(1)}%`);
