/** The one command that makes a machine ready for the container suite (Debian 12). */
export const SETUP_DOCKER_COMMAND = 'sudo bash scripts/ci/setup-docker.sh';

/** What {@link ensureDocker} needs from the machine; injected so the decision is testable. */
export interface EnsureDockerDeps {
  /** Undefined when Docker answers; otherwise why not. */
  readonly dockerProblem: () => Promise<string | undefined>;
  /** This process's user id (0: root, as in CI), or undefined where there are no uids. */
  readonly uid: number | undefined;
  /** Runs scripts/ci/setup-docker.sh; resolves with its exit status and the tail of its output. */
  readonly runSetup: () => Promise<{ status: number | null; output: string }>;
  /** Progress lines (the setup takes ~30 s on a fresh machine). */
  readonly log: (line: string) => void;
}

/**
 * Makes Docker answer when this process may: as root (CI, a fresh machine's `npm test`) a missing
 * Docker is installed and started by scripts/ci/setup-docker.sh, as the README's second setup
 * command would have done. Otherwise nothing is installed (no sudo prompt in a test run) and the
 * answer says the one command to run. Resolves undefined when Docker answers, else the problem.
 */
export async function ensureDocker(deps: EnsureDockerDeps): Promise<string | undefined> {
  const problem = await deps.dockerProblem();
  if (!problem) return undefined;
  if (deps.uid !== 0) return `${problem}\nRun this once, then the tests again:\n  ${SETUP_DOCKER_COMMAND}`;
  deps.log(`[e2e-containers] Docker is missing and this runs as root: running scripts/ci/setup-docker.sh (${problem.split('\n')[0]})`);
  const setup = await deps.runSetup();
  const after = await deps.dockerProblem();
  if (setup.status === 0 && !after) return undefined;
  return (
    `scripts/ci/setup-docker.sh ran (as root) and ${setup.status === 0 ? `Docker still does not answer: ${after}` : `failed (exit ${setup.status})`}:\n` +
    `${setup.output.trim()}\nFix what it says, then run it again:\n  ${SETUP_DOCKER_COMMAND}`
  );
}
