import nx from '@nx/eslint-plugin';
import { fileURLToPath } from 'node:url';

/** Modules that do Node I/O (sockets, files, processes, clocks of their own): the protocol core imports none of them. */
const NODE_IO_MODULES = [
  'net',
  'tls',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'timers',
  'timers/promises',
  'child_process',
  'cluster',
  'worker_threads',
];
const NODE_IO_IMPORTS = [...NODE_IO_MODULES.flatMap((m) => [m, `node:${m}`]), 'ws', 'pino'];
const FILE_IMPORTS = ['fs', 'node:fs', 'fs/promises', 'node:fs/promises'];

/**
 * The module boundaries. The test kit (tag type:testing) is for tests, e2e suites and tools:
 * `tests` is true for the rule as it applies to test files, which may also use it.
 */
function boundaries(tests) {
  const kit = tests ? ['type:testing'] : [];
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', ...kit] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', ...kit] },
      // The error hierarchy's base and registry machinery: under every lib, so it stands on nothing.
      { sourceTag: 'scope:errors', onlyDependOnLibsWithTags: [...kit] },
      { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: ['scope:errors', ...kit] },
      { sourceTag: 'scope:protocol-io', onlyDependOnLibsWithTags: ['scope:protocol', ...kit] },
      { sourceTag: 'scope:config', onlyDependOnLibsWithTags: ['scope:errors', ...kit] },
      { sourceTag: 'scope:infra', onlyDependOnLibsWithTags: ['scope:config', ...kit] },
      { sourceTag: 'scope:sample', onlyDependOnLibsWithTags: ['scope:config', ...kit] },
      // Tools (the bench) and end-to-end suites may use the libraries and the test kit, never app code.
      { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
      { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
      // The kit itself stands on Node alone: any lib it used could not use it in its own tests (a cycle).
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: [] },
    ],
    banTransitiveDependencies: false,
  };
}

/**
 * The workspace root. Every project's eslint.config.mjs re-exports this config and `nx lint` runs
 * eslint in the project's directory: without a base path, the path patterns below (libs/..., apps/...)
 * would be read relative to the project and match nothing there.
 */
const ROOT = fileURLToPath(new URL('.', import.meta.url));

const configs = [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/cdk.out', '**/coverage', 'reports', 'bench/results'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      // Apps may depend only on libs; libs never on apps; the errors lib depends on nothing of ours,
      // the protocol core only on it, its Node I/O lib only on the core.
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
    },
  },
  {
    // Tests (and the test fixtures beside them) may use the test kit; production code never does.
    files: ['**/*.test.ts', '**/src/testing/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries(true)] },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // No-op callbacks are the normal way to ignore an event.
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    // Size limits: a file a reader can hold in mind, a function that fits on a screen. Errors: every
    // file and function is within them. Blank lines and comments count: a comment that needs
    // splitting out is a sign too. Tests (tables of cases) and the CDK constructs and stacks
    // (one constructor declares a whole resource graph) are exempt; JSON and bundles are never linted.
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    ignores: ['**/*.test.ts', 'apps/infra/src/constructs/**', 'apps/infra/src/stacks/**'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
  {
    // Each project's eslint config re-exports this one, and its vitest config calls the shared preset (vitest.shared.ts).
    files: ['**/eslint.config.mjs', '**/vitest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // The protocol core (and the errors lib under it) is pure in all its source, tests and test kit
    // included: sockets, files and timers of its own live in libs/tunnel-io (or are handed in).
    files: ['libs/tunnel-protocol/src/**/*.ts', 'libs/errors/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [...NODE_IO_IMPORTS, ...FILE_IMPORTS] }] },
  },
  {
    // A core test may read a checked-in file (docs/ERRORS.md against the error registry).
    files: ['libs/tunnel-protocol/src/**/*.test.ts', 'libs/errors/src/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: NODE_IO_IMPORTS }] },
  },
  {
    // Nor does the core arm timers or read the process on its own: a Clock is handed in (the
    // session's required `clock` option; Node's is systemClock in libs/tunnel-io). Its own tests and
    // test kit run on real timers.
    files: ['libs/tunnel-protocol/src/**/*.ts', 'libs/errors/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'libs/tunnel-protocol/src/testing/**'],
    rules: { 'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'process'] },
  },
];

export default configs.map((config) => ({ ...config, basePath: ROOT }));
