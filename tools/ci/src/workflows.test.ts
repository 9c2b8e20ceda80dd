import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const WORKFLOWS = join(REPO_ROOT, '.github', 'workflows');
const VALIDATOR = join(dirname(createRequire(import.meta.url).resolve('@action-validator/cli/package.json')), 'cli.mjs');

/** Runs action-validator (GitHub's workflow schema, plus glob and action-reference checks) on one file. */
function validate(file: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [VALIDATOR, file], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const ci = readFileSync(join(WORKFLOWS, 'ci.yml'), 'utf8');

describe('GitHub Actions workflows', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'workflows-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each(files)('%s is a valid workflow (@action-validator/cli)', (file) => {
    const { status, output } = validate(join(WORKFLOWS, file));
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('the validator rejects a broken workflow, so the check above can fail', () => {
    const broken = join(scratch, 'broken.yml');
    writeFileSync(broken, 'name: x\non: pull_request\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz:\n      - run: echo\n');
    expect(validate(broken).status).not.toBe(0);
  });

  it("runs nx affected -t lint typecheck test build e2e between the change's base and head, on Node 22 and 24", () => {
    expect(ci).toMatch(
      /npx nx affected -t lint typecheck test build e2e\s+--base=\$\{\{ needs\.changes\.outputs\.base \}\} --head=\$\{\{ needs\.changes\.outputs\.head \}\}/,
    );
    expect(ci).toMatch(/node: \[22, 24\]/);
    // nx compares commits: a shallow checkout would break it
    expect(ci.match(/fetch-depth: 0/g)?.length).toBeGreaterThanOrEqual(3);
    expect(ci).toContain('PR_BASE: ${{ github.event.pull_request.base.sha }}');
  });

  it('runs the container suite and cdk synth only when their projects are affected', () => {
    expect(ci).toMatch(/containers:[\s\S]*?if: needs\.changes\.outputs\.containers == 'true'[\s\S]*?nx run e2e-containers:e2e-containers/);
    // The Node 22/24 job never runs the container suite: it is a target of its own, not one of `test`
    expect(ci).not.toMatch(/nx affected -t [^\n]*e2e-containers/);
    expect(ci).toMatch(/synth:[\s\S]*?if: needs\.changes\.outputs\.infra == 'true'[\s\S]*?npm run synth --workspace @tunnel\/infra/);
  });

  it('deploys on main only, one job per affected stack, through OIDC (no stored keys)', () => {
    expect(ci).toMatch(/plan:[\s\S]*?if: github\.event_name == 'push' && github\.ref == 'refs\/heads\/main'/);
    expect(ci).toContain('stack: ${{ fromJSON(needs.plan.outputs.apps) }}');
    expect(ci).toContain('-- -e ${{ matrix.stack }} --require-approval never');
    expect(ci).toContain('-- -e TunnelNetwork --require-approval never');
    expect(ci.match(/id-token: write/g)).toHaveLength(2);
    // The TunnelCiRole trusts only jobs of the production environment (apps/infra ci-role-stack.ts)
    expect(ci.match(/environment: production/g)).toHaveLength(2);
    expect(ci).toContain('role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}');
    expect(ci).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/i);
  });
});
