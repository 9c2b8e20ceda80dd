import { suiteConfig } from '../../vitest.shared.ts';

export default suiteConfig('infra', {
  // Synthesis must never reach AWS: no instance-metadata probing for credentials or region.
  env: { AWS_EC2_METADATA_DISABLED: 'true' },
  // Synthesizing with aws-cdk-lib takes seconds, not milliseconds.
  testTimeout: 60_000,
});
