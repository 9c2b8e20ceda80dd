import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InfraConfig } from '@tunnel/config';
import { buildInfraApp, type InfraApp } from '../infra-app.ts';
import { defaultConfigPath, INFRA_DIR, loadInfraConfig } from '../infra-config.ts';

/** Names of the app's stacks. */
export type StackName = 'TunnelNetwork' | 'TunnelExitServer' | 'TunnelEdge' | 'TunnelSampleApp';

/** The part of CDK's `validation-report.json` the tests read. */
export interface ValidationReport {
  readonly pluginReports: ReadonlyArray<{
    readonly pluginName: string;
    readonly conclusion: 'success' | 'failure';
    readonly violations: ReadonlyArray<{ readonly ruleName: string; readonly severity: string }>;
  }>;
}

/** Source of one Docker image asset in a stack's assets manifest. */
export interface DockerImageSource {
  readonly directory: string;
  readonly dockerFile: string;
  readonly platform?: string;
}

/** One synthesized variant of the infra app. */
export interface SynthesizedInfra {
  /** The config it was built from. */
  readonly config: InfraConfig;
  /** The app and its stacks. */
  readonly infra: InfraApp;
  /** The cloud assembly. */
  readonly assembly: CloudAssembly;
  /** Template of one stack. */
  template(stack: StackName): Template;
  /** Docker image sources of one stack's assets manifest. */
  images(stack: StackName): DockerImageSource[];
  /** cdk-nag and other validation results. */
  report(): ValidationReport;
  /** Deletes the assembly directory. */
  dispose(): void;
}

/**
 * Synthesizes the infra app once, exactly as `cdk synth` would, from the committed example config
 * with `fileOverrides` merged in (`null` unsets a key, as in a user's file) and `argv` on top
 * (flags as a user would give them); tests read the result many times.
 */
export function synthInfra(argv: readonly string[] = [], fileOverrides: Readonly<Record<string, unknown>> = {}): SynthesizedInfra {
  const examplePath = defaultConfigPath(INFRA_DIR, () => false);
  const file = { ...(JSON.parse(readFileSync(examplePath, 'utf8')) as object), ...fileOverrides };
  const config = loadInfraConfig({
    argv: ['--config', examplePath, ...argv],
    env: {},
    readFile: (path) => (path === examplePath ? JSON.stringify(file) : readFileSync(path, 'utf8')),
  });
  const outdir = mkdtempSync(join(tmpdir(), 'infra-test-'));
  const infra = buildInfraApp(config, { outdir });
  const assembly = infra.app.synth();
  const templates = new Map<StackName, Template>();
  return {
    config,
    infra,
    assembly,
    template(stack) {
      let template = templates.get(stack);
      if (template === undefined) {
        template = Template.fromJSON(assembly.getStackByName(stack).template as Record<string, unknown>);
        templates.set(stack, template);
      }
      return template;
    },
    images(stack) {
      const manifest = JSON.parse(readFileSync(join(assembly.directory, `${stack}.assets.json`), 'utf8')) as {
        dockerImages?: Record<string, { source: DockerImageSource }>;
      };
      return Object.values(manifest.dockerImages ?? {}).map((image) => image.source);
    },
    report() {
      return JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport;
    },
    dispose() {
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}
