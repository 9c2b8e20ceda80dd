import nx from '@nx/eslint-plugin';

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
      { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: [...kit] },
      { sourceTag: 'scope:config', onlyDependOnLibsWithTags: [...kit] },
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

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/cdk.out', '**/coverage', 'reports', 'bench/results'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      // Apps may depend only on libs; libs never on apps; the protocol lib depends on nothing of ours.
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
    // Each project's eslint config re-exports this one.
    files: ['**/eslint.config.mjs'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['libs/tunnel-protocol/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'libs/tunnel-protocol/src/transport/**'],
    rules: {
      // The protocol core is pure: sockets live in the transport adapter only.
      'no-restricted-imports': ['error', { paths: ['ws', 'node:net', 'net', 'node:http', 'http', 'pino'] }],
    },
  },
];
