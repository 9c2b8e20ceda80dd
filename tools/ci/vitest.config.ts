import { suiteConfig } from '../../vitest.shared.ts';

export default suiteConfig('ci', {
  // The affected-set test runs nx several times in a throw-away clone: seconds each.
  testTimeout: 300_000,
  hookTimeout: 120_000,
});
