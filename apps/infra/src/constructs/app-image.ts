import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

/** The apps that ship as container images, each with `apps/<app>/Dockerfile`. */
export type ImageApp = 'exit-server' | 'edge-client' | 'sample-app';

/** CPU architecture of an image. */
export type ImageArch = 'arm64' | 'x86_64';

/**
 * Repository root: the Dockerfiles' build context. Found by walking up from this module, which
 * runs from `src/constructs/` in tests and from the bundled `dist/main.js` under `cdk synth`.
 */
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'apps', 'infra', 'package.json'))) return dir;
  }
  throw new Error(`AppImage: no repository root (a directory holding apps/infra) above ${start}`);
}

/**
 * Paths left out of the build context: dependencies and build outputs are rebuilt inside the
 * image, and leaving them in would make every local build or test run change the asset hash
 * (a cdk.out inside the context would even copy itself).
 */
export const BUILD_CONTEXT_EXCLUDES: readonly string[] = [
  '**/node_modules',
  '.git',
  '**/dist',
  '**/cdk.out',
  'reports',
  '**/coverage',
  '.nx',
  'bench/results',
];

/** Which app's image to build, for which CPU. */
export interface AppImageProps {
  /** App whose `apps/<app>/Dockerfile` is built, with the repository root as context. */
  readonly app: ImageApp;
  /**
   * CPU architecture of the image; must match where the container runs.
   * @default 'arm64'
   */
  readonly arch?: ImageArch;
  /**
   * Build context directory (the repository root).
   * @default REPO_ROOT
   */
  readonly repoRoot?: string;
}

/**
 * One app's container image, built from its own Dockerfile by `cdk deploy` and pushed to the
 * bootstrap ECR repository. Synthesis only stages the context, so it needs no Docker.
 */
export class AppImage extends Construct {
  /** The image asset (hash, repository, platform). */
  readonly asset: DockerImageAsset;
  /** The asset as an ECS container image. */
  readonly image: ContainerImage;

  constructor(scope: Construct, id: string, props: AppImageProps) {
    super(scope, id);
    const repoRoot = props.repoRoot ?? REPO_ROOT;
    const file = join('apps', props.app, 'Dockerfile');
    if (!existsSync(join(repoRoot, file))) {
      throw new Error(`AppImage: ${file} not found under ${repoRoot}; each app's image is built from its own Dockerfile`);
    }
    const arch = props.arch ?? 'arm64';
    this.asset = new DockerImageAsset(this, 'Asset', {
      directory: repoRoot,
      file,
      platform: arch === 'arm64' ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      exclude: [...BUILD_CONTEXT_EXCLUDES],
      displayName: `${props.app} (${arch})`,
    });
    this.image = ContainerImage.fromDockerImageAsset(this.asset);
  }
}
