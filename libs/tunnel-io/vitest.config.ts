import { suiteConfig } from '../../vitest.shared.ts';

export default suiteConfig('tunnel-io', {
  // The property tests (3,000-10,000 cases each) share two cores with the other suites: vitest's
  // 5 s default was seen to cut a healthy one short under load. A hang still fails, at 30 s.
  testTimeout: 30_000,
});
