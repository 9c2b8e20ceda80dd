import { describe, expect, it } from 'vitest';
import { SETUP_DOCKER_COMMAND, ensureDocker, type EnsureDockerDeps } from './support/ensure-docker.ts';

// The global setup's first step, on a machine without Docker: no real Docker involved here (the
// fakes stand for the machine), so this runs and must pass with or without one.

function machine(opts: {
  uid: number | undefined;
  dockerAfterSetup: boolean;
  setupStatus?: number;
}): EnsureDockerDeps & { setups: number } {
  let setUp = false;
  const m = {
    setups: 0,
    uid: opts.uid,
    dockerProblem: async () => (setUp && opts.dockerAfterSetup ? undefined : 'Docker is not reachable: no such file /var/run/docker.sock'),
    runSetup: async () => {
      m.setups++;
      setUp = true;
      return { status: opts.setupStatus ?? 0, output: '[setup-docker] ready' };
    },
    log: () => {},
  };
  return m;
}

describe('ensureDocker', () => {
  it('does nothing when Docker answers', async () => {
    const m = { ...machine({ uid: 0, dockerAfterSetup: true }), dockerProblem: async () => undefined };
    expect(await ensureDocker(m)).toBeUndefined();
    expect(m.setups).toBe(0);
  });

  it('as root, runs scripts/ci/setup-docker.sh once and goes on when Docker then answers', async () => {
    const m = machine({ uid: 0, dockerAfterSetup: true });
    expect(await ensureDocker(m)).toBeUndefined();
    expect(m.setups).toBe(1);
  });

  it('as another user, installs nothing and names the one command to run', async () => {
    const m = machine({ uid: 1000, dockerAfterSetup: true });
    const problem = await ensureDocker(m);
    expect(m.setups).toBe(0);
    expect(problem).toContain('Docker is not reachable');
    expect(problem).toContain(`\n  ${SETUP_DOCKER_COMMAND}`);
    expect(SETUP_DOCKER_COMMAND).toBe('sudo bash scripts/ci/setup-docker.sh');
  });

  it('as root, fails loudly with the setup output when the setup fails', async () => {
    const m = machine({ uid: 0, dockerAfterSetup: true, setupStatus: 1 });
    const problem = await ensureDocker(m);
    expect(m.setups).toBe(1);
    expect(problem).toMatch(/setup-docker\.sh ran \(as root\) and failed \(exit 1\)/);
    expect(problem).toContain('[setup-docker] ready');
    expect(problem).toContain(SETUP_DOCKER_COMMAND);
  });

  it('as root, fails loudly when the setup succeeded but Docker still does not answer', async () => {
    const m = machine({ uid: 0, dockerAfterSetup: false });
    const problem = await ensureDocker(m);
    expect(problem).toMatch(/Docker still does not answer: Docker is not reachable/);
  });
});
