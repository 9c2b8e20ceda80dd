#!/usr/bin/env node
// Which CDK stacks a change to main deploys, from the projects `nx affected` reports. Used by
// .github/workflows/ci.yml (deploy jobs) and tested in deploy-plan.test.ts / affected.test.ts.
//   node tools/ci/src/deploy-plan.mjs --base <sha> --head <sha>
// prints {"network":bool,"apps":["TunnelExitServer",...]} and, on GitHub, writes `network` and
// `apps` to $GITHUB_OUTPUT.
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';

/** The stack that deploys each app project's image. */
export const APP_STACKS = Object.freeze({
  'exit-server': 'TunnelExitServer',
  'edge-client': 'TunnelEdge',
  'sample-app': 'TunnelSampleApp',
});

/**
 * The stacks to deploy for a set of affected projects. A change to the infra app (or to the
 * config lib it reads) may touch any stack, so it deploys all four (CloudFormation skips those
 * without changes); an app deploys its own stack only. TunnelNetwork goes first, on its own.
 */
export function deployPlan(affected) {
  const set = new Set(affected);
  const all = set.has('infra');
  const apps = Object.entries(APP_STACKS)
    .filter(([project]) => all || set.has(project))
    .map(([, stack]) => stack);
  return { network: all, apps };
}

/** Projects `nx show projects --affected` reports between two commits. */
export function affectedProjects(base, head, cwd = process.cwd()) {
  const out = execFileSync('npx', ['nx', 'show', 'projects', '--affected', `--base=${base}`, `--head=${head}`, '--json'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
  return JSON.parse(out);
}

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || !process.argv[i + 1]) throw new Error(`deploy-plan: --${name} <sha> is required`);
  return process.argv[i + 1];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const plan = deployPlan(affectedProjects(arg('base'), arg('head')));
  process.stdout.write(`${JSON.stringify(plan)}\n`);
  if (process.env.GITHUB_OUTPUT) {
    appendFileSync(process.env.GITHUB_OUTPUT, `network=${plan.network}\napps=${JSON.stringify(plan.apps)}\n`);
  }
}
