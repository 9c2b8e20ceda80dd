import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '@tunnel/config';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfigPath, EXAMPLE_CONFIG_FILE, INFRA_DIR, loadInfraConfig, USER_CONFIG_FILE } from './infra-config.ts';
import { DEPLOY_ENVIRONMENT } from './stacks/ci-role-stack.ts';
import { synthInfra, type SynthesizedInfra } from './testing/synth-infra.ts';

// GIVEN the example config and a variant switching on every optional feature (each synthesized once)
const variants: Record<string, SynthesizedInfra> = {
  example: synthInfra(),
  everything: synthInfra(
    [
      '--hosted-zone-id',
      'Z0123456789ABCDEFGHIJ',
      '--hosted-zone-name',
      'example.com',
      '--create-alias-record',
      '--create-wildcard-record',
      '--tcp-ports',
      '22',
      '--region',
      'eu-west-1',
      '--vpc-id',
      'vpc-0123456789abcdef0',
      '--availability-zones',
      'eu-west-1a',
      '--availability-zones',
      'eu-west-1b',
      '--public-subnet-ids',
      'subnet-0aaaaaaaaaaaaaaa1',
      '--public-subnet-ids',
      'subnet-0bbbbbbbbbbbbbbb2',
      '--github-repository',
      'example-org/tunnel',
    ],
    { certificateArn: null },
  ),
};
afterAll(() => Object.values(variants).forEach((s) => s.dispose()));

describe('cdk-nag AwsSolutionsChecks', () => {
  it.each(Object.keys(variants))('reports no unacknowledged finding for the %s config', (name) => {
    // WHEN the variant was synthesized (a finding would have made synth throw)
    const report = variants[name].report();
    // THEN the validation report lists no error, no warning and no failed plugin
    const findings = report.pluginReports.flatMap(({ pluginName, violations }) =>
      violations.map(({ ruleName, severity }) => `${pluginName}: ${ruleName} (${severity})`),
    );
    expect(findings).toEqual([]);
    expect(report.pluginReports.filter(({ conclusion }) => conclusion === 'failure')).toEqual([]);
  });

  it('gives every acknowledgement a written reason', () => {
    // THEN each acknowledged rule recorded on the construct tree carries a non-trivial reason
    const acknowledged: Array<[string, string, string]> = [];
    for (const construct of variants.everything.infra.app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          acknowledged.push([construct.node.path, id, reason]);
        }
      }
    }
    expect(acknowledged.length).toBeGreaterThan(5);
    for (const [, , reason] of acknowledged) expect(reason.length).toBeGreaterThan(40);
  });

  it('does fail synthesis on a finding, so the checks above are not vacuous', () => {
    // GIVEN an app with the same checks and a bucket that breaks AwsSolutions-S1 and -S10
    const outdir = mkdtempSync(join(tmpdir(), 'infra-nag-'));
    const app = new App({ outdir });
    new Bucket(new Stack(app, 'NonCompliant'), 'Bucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN it is synthesized THEN synthesis fails and names the rule
    try {
      expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('infra app', () => {
  it('has four independently deployable stacks with the documented names', () => {
    const { app } = variants.example.infra;
    expect(app.node.children.filter(Stack.isStack).map((s) => s.stackName)).toEqual([
      'TunnelNetwork',
      'TunnelExitServer',
      'TunnelEdge',
      'TunnelSampleApp',
    ]);
  });

  it.each(Object.keys(variants))('%s: stacks share nothing through exports, so each updates alone (weak references)', (name) => {
    const v = variants[name];
    for (const stack of ['TunnelNetwork', 'TunnelExitServer', 'TunnelEdge', 'TunnelSampleApp'] as const) {
      const json = JSON.stringify(v.template(stack).toJSON());
      // THEN no output is exported and nothing is imported ("export ... in use" cannot happen)
      expect(json, stack).not.toContain('"Export"');
      expect(json, stack).not.toContain('Fn::ImportValue');
    }
    // AND the app stacks read the network stack's outputs at deploy time instead
    for (const stack of ['TunnelExitServer', 'TunnelEdge', 'TunnelSampleApp'] as const) {
      expect(JSON.stringify(v.template(stack).toJSON()), stack).toMatch(/"Fn::GetStackOutput":\{"StackName":"TunnelNetwork"/);
    }
  });

  it('orders each app stack after the network stack only, so `cdk deploy -e <stack>` deploys it alone', () => {
    const { assembly } = variants.example;
    for (const stack of ['TunnelExitServer', 'TunnelEdge', 'TunnelSampleApp']) {
      const stacks = new Set(['TunnelNetwork', 'TunnelExitServer', 'TunnelEdge', 'TunnelSampleApp']);
      const dependsOn = new Set(
        assembly
          .getStackByName(stack)
          .dependencies.map((d) => d.id)
          .filter((id) => stacks.has(id)),
      );
      expect([...dependsOn], stack).toEqual(['TunnelNetwork']);
    }
  });

  it('adds TunnelCiRole only with githubRepository: an OIDC role for the production environment that may only assume the CDK roles', () => {
    expect(variants.example.infra.ciRole).toBeUndefined();
    const t = Template.fromJSON(variants.everything.assembly.getStackByName('TunnelCiRole').template as Record<string, unknown>);
    t.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': 'repo:example-org/tunnel:environment:production',
              },
            },
          }),
        ],
      },
    });
    const policies = Object.values(t.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    const statements = (policies[0].Properties as { PolicyDocument: { Statement: Array<{ Action: string; Resource: unknown }> } })
      .PolicyDocument.Statement;
    expect(statements.map((st) => st.Action)).toEqual(['sts:AssumeRole']);
    expect(JSON.stringify(statements[0].Resource)).toContain(':role/cdk-hnb659fds-*-role-');
    // AND the workflow's deploy jobs run in that environment
    expect(DEPLOY_ENVIRONMENT).toBe('production');
  });

  it('deploys to the configured region when one is given, never to a fixed account', () => {
    const { exitServer } = variants.everything.infra;
    expect(exitServer.region).toBe('eu-west-1');
    expect(exitServer.resolve(exitServer.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(variants.everything.assembly.manifest.missing ?? []).toEqual([]);
  });
});

describe('infra config file', () => {
  it('uses infra.config.json when present, else the committed example', () => {
    // GIVEN a directory WHEN the user file exists THEN it wins, otherwise the example is used
    expect(defaultConfigPath('/x', () => true)).toBe(join('/x', USER_CONFIG_FILE));
    expect(defaultConfigPath('/x', () => false)).toBe(join('/x', EXAMPLE_CONFIG_FILE));
  });

  it('loads the committed example with no config of the user', () => {
    // GIVEN no flags, no env and no infra.config.json WHEN loaded THEN the example's values apply
    const config = loadInfraConfig({ argv: [], env: {}, exists: () => false });
    expect(config).toMatchObject({ domain: 'tunnel.example.com', exitServerArch: 'arm64', enableWaf: true });
    expect(config.config).toBe(join(INFRA_DIR, EXAMPLE_CONFIG_FILE));
  });

  it('reads the file named by TUNNEL_CONFIG or --config instead, and TUNNEL_* overrides it', () => {
    const files: Record<string, string> = {
      '/cfg/a.json': JSON.stringify({ domain: 'a.example.com', certificateArn: 'arn:a' }),
      '/cfg/b.json': JSON.stringify({ domain: 'b.example.com', certificateArn: 'arn:b' }),
    };
    const readFile = (path: string) => files[path];
    expect(loadInfraConfig({ argv: [], env: { TUNNEL_CONFIG: '/cfg/a.json' }, readFile }).domain).toBe('a.example.com');
    expect(loadInfraConfig({ argv: ['--config', '/cfg/b.json'], env: {}, readFile }).domain).toBe('b.example.com');
    const overridden = loadInfraConfig({
      argv: [],
      env: { TUNNEL_CONFIG: '/cfg/a.json', TUNNEL_TCP_PORTS: '22' },
      readFile,
    });
    expect(overridden.tcpPorts).toEqual([22]);
  });

  it.each([
    [{ domain: 'a.example.com' }, /HTTPS needs a certificate/],
    [{ domain: 'a.example.com', certificateArn: 'arn', createAliasRecord: true }, /--create-alias-record needs --hosted-zone-id/],
    [{ domain: 'a.example.com', certificateArn: 'arn', hostedZoneId: 'Z1' }, /--hosted-zone-name is missing/],
    [{ domain: 'a.example.com', certificateArn: 'arn', tcpPorts: [8123] }, /8123 collides/],
    [{ domain: 'a.example.com', certificateArn: 'arn', enableWAF: true }, /unknown key "enableWAF" \(did you mean enableWaf\?\)/],
  ])('rejects the config file %j at synth', (file, message) => {
    // GIVEN a bad config file WHEN loaded THEN a ConfigError names the problem
    const load = () => loadInfraConfig({ argv: [], env: { TUNNEL_CONFIG: '/c.json' }, readFile: () => JSON.stringify(file) });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });
});
