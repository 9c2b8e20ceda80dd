import { suiteConfig } from '../vitest.shared.ts';

// testcontainers: Ryuk (the reaper) and the gateway probe would pull images, and no registry is
// reachable here; the suite removes what it creates itself (afterAll + global teardown).
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = 'localhost';

export default suiteConfig('e2e-containers', {
  globalSetup: ['src/global-setup.ts'],
  // Real containers on a 2-core machine: one file at a time keeps timings sane.
  fileParallelism: false,
  testTimeout: 180_000,
  hookTimeout: 300_000,
  env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: 'localhost' },
});
