import { suiteConfig } from '../vitest.shared.ts';

export default suiteConfig('e2e', {
  include: ['src/**/*.e2e.test.ts'],
  // Real processes on a 2-core machine: one file at a time keeps timings sane.
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 60_000,
});
