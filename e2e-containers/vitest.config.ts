import { defineConfig } from 'vitest/config';

// testcontainers: Ryuk (the reaper) and the gateway probe would pull images, and no registry is
// reachable here; the suite removes what it creates itself (afterAll + global teardown).
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = 'localhost';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['src/global-setup.ts'],
    // Real containers on a 2-core machine: one file at a time keeps timings sane.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: 'localhost' },
    reporters: ['default', ['json', { outputFile: '../reports/vitest/e2e-containers.json' }]],
  },
});
