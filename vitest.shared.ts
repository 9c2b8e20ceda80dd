// The one vitest preset: every project's vitest.config.ts is `suiteConfig('<project>', { ...its own needs })`.
// Each suite writes a JSON report to reports/vitest/<project>.json at the workspace root: scripts/totals.mjs
// counts them, and the Nx test/e2e/e2e-containers targets declare that file as their output, so a cache
// hit restores the report with the replayed result.
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** The test options a project may set on top of the preset (timeouts, include, env, ...). */
export type SuiteOptions = NonNullable<ViteUserConfig['test']>;

/** Directory of the JSON reports, absolute: vitest resolves a relative outputFile against the project. */
export const REPORTS_DIR = fileURLToPath(new URL('./reports/vitest/', import.meta.url));

/**
 * The vitest config of one project: its `src/**\/*.test.ts` files, the default console reporter
 * and the JSON report named after the Nx project. `options` add to or override these test options.
 */
export function suiteConfig(project: string, options: SuiteOptions = {}): ViteUserConfig {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      reporters: ['default', ['json', { outputFile: `${REPORTS_DIR}${project}.json` }]],
      ...options,
    },
  });
}
