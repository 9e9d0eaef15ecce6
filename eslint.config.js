// ESLint for the TypeScript sources (npm run lint; test/lint.test.ts runs it in npm test).
// Rules the team agreed on: ESLint's recommended set, typescript-eslint's recommended set, and
// from its type-checked set the rules that catch real bugs in this code base: promises that are
// neither awaited nor handled (a protocol step that fails silently, an unhandled rejection that
// kills the server), promises passed where a callback's result is ignored, awaiting non-promises,
// and throwing anything but an Error (the code base throws typed errors only, never strings). The no-unsafe-* family is left
// out: the code parses untrusted JSON into `unknown` and validates it field by field, and the
// casts after validation are deliberate. No console in server/ and services/: they log through
// the logger (pino), which keeps values out of log lines at info level.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', '**/dist/', 'clients/typescript/generated/', 'clients/python/', 'clients/*/build/', '.stryker-tmp/', 'reports/', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // `_`-prefixed names are deliberately unused (a parameter an interface requires).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['server/**/*.ts', 'services/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // Browser-safe and installable on its own: test/clients/typescript/browser-safe.test.ts checks
    // the same rule over the import graph.
    files: ['shared/**/*.ts', 'clients/typescript/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'shared/ and the client run in browsers too' }, { group: ['**/server/*', '**/services/*'], message: 'shared/ and the client import no server code' }] }],
    },
  },
);
