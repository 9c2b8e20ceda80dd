import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: '../../reports/vitest/infra.json' }]],
    // Synthesis must never reach AWS: no instance-metadata probing for credentials or region.
    env: { AWS_EC2_METADATA_DISABLED: 'true' },
    // Synthesizing with aws-cdk-lib takes seconds, not milliseconds.
    testTimeout: 60_000,
  },
});
