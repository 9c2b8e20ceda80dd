import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IgnoreMode } from 'aws-cdk-lib';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

/** The apps that ship as container images, each with `apps/<app>/Dockerfile`. */
export type ImageApp = 'exit-server' | 'edge-client' | 'sample-app';

/** CPU architecture of an image. */
export type ImageArch = 'arm64' | 'x86_64';

/**
 * Repository root: where `apps/<app>/` lives. Found by walking up from this module, which runs
 * from `src/constructs/` in tests and from the bundled `dist/main.js` under `cdk synth`.
 */
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'apps', 'infra', 'package.json'))) return dir;
  }
  throw new Error(`AppImage: no repository root (a directory holding apps/infra) above ${start}`);
}

/**
 * The only files of an app's build context: its Dockerfile and the bundle the host built
 * (`npx nx run-many -t build`), which needs no node_modules. Everything else in the repository
 * is left out (Docker ignore syntax: exclude all, then re-include these), so the asset hash, and
 * with it the task definition, changes exactly when this app's shipped code changes: a docs edit
 * or another app's change no longer restarts every service. The bundle is a function of the
 * app's sources, the libs it imports and the locked dependencies; CDK adds the root
 * `.dockerignore` to every context.
 */
export function buildContextFiles(app: ImageApp): readonly string[] {
  return [`apps/${app}/Dockerfile`, `apps/${app}/dist/main.js`, `apps/${app}/dist/main.js.map`];
}

/** Which app's image to build, for which CPU. */
export interface AppImageProps {
  /** App whose `apps/<app>/Dockerfile` is built. */
  readonly app: ImageApp;
  /**
   * CPU architecture of the image; must match where the container runs.
   * @default 'arm64'
   */
  readonly arch?: ImageArch;
  /**
   * Directory holding `apps/<app>/` (the build context, filtered to {@link buildContextFiles}).
   * @default REPO_ROOT
   */
  readonly repoRoot?: string;
}

/**
 * One app's container image, built by `cdk deploy` from its Dockerfile with `PREBUILT=1`: the
 * JavaScript is bundled once on the host and copied in, so an arm64 image built on an x86 host
 * runs no `npm ci` under emulation (only a copy). Synthesis stages the few context files and
 * needs no Docker; it does need the bundle, and says how to make it.
 */
export class AppImage extends Construct {
  /** The image asset (hash, repository, platform). */
  readonly asset: DockerImageAsset;
  /** The asset as an ECS container image. */
  readonly image: ContainerImage;

  constructor(scope: Construct, id: string, props: AppImageProps) {
    super(scope, id);
    const repoRoot = props.repoRoot ?? REPO_ROOT;
    const [dockerfile, bundle] = buildContextFiles(props.app);
    if (!existsSync(join(repoRoot, dockerfile))) {
      throw new Error(`AppImage: ${dockerfile} not found under ${repoRoot}; each app's image is built from its own Dockerfile`);
    }
    if (!existsSync(join(repoRoot, bundle))) {
      throw new Error(
        `AppImage: ${bundle} not found under ${repoRoot}; the image copies the bundle built on the host: ` +
          'run `npx nx run-many -t build` at the repository root first',
      );
    }
    const arch = props.arch ?? 'arm64';
    this.asset = new DockerImageAsset(this, 'Asset', {
      directory: repoRoot,
      file: dockerfile,
      buildArgs: { PREBUILT: '1' },
      platform: arch === 'arm64' ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      ignoreMode: IgnoreMode.DOCKER,
      exclude: ['**', ...buildContextFiles(props.app).map((f) => `!${f}`)],
      displayName: `${props.app} (${arch})`,
    });
    this.image = ContainerImage.fromDockerImageAsset(this.asset);
  }
}
