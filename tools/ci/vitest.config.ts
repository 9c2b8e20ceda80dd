import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: '../../reports/vitest/ci.json' }]],
    // The affected-set test runs nx several times in a throw-away clone: seconds each.
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
