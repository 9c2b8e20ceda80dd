import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/cdk.out', '**/coverage', 'reports', 'bench/results'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      // Apps may depend only on libs; libs never on apps; the protocol lib depends on nothing of ours.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:config', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:infra', onlyDependOnLibsWithTags: ['scope:config'] },
            { sourceTag: 'scope:sample', onlyDependOnLibsWithTags: ['scope:config'] },
            // Tools (the bench) and end-to-end suites may use the libraries, never app code.
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
          banTransitiveDependencies: false,
        },
      ],
    },
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
