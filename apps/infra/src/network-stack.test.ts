import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildInfraApp } from './infra-app.ts';

/** The part of CDK's `validation-report.json` these tests read. */
interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    conclusion: 'success' | 'failure';
    violations: Array<{ ruleName: string; severity: string }>;
  }>;
}

const outdirs: string[] = [];
const freshOutdir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'infra-test-'));
  outdirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('TunnelNetworkStack', () => {
  it('has a two-AZ VPC with public and isolated subnets, no NAT gateway, and flow logs', () => {
    // GIVEN the infra app as `cdk synth` builds it
    const { network } = buildInfraApp({ outdir: freshOutdir() });

    // WHEN the network stack is synthesized
    const template = Template.fromStack(network);

    // THEN it holds one VPC spread over two AZs
    expect(network.stackName).toBe('TunnelNetwork');
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.resourcePropertiesCountIs('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true }, 2);
    template.resourcePropertiesCountIs('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false }, 2);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    // AND all of its traffic is logged to a log group with bounded retention
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
  });

  it('is environment-agnostic, so it synthesizes without AWS credentials or lookups', () => {
    // GIVEN the infra app
    const { app, network } = buildInfraApp({ outdir: freshOutdir() });

    // WHEN it is synthesized
    const assembly = app.synth();

    // THEN no account or region was baked in and no context lookup is pending
    expect(network.resolve(network.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(network.resolve(network.region)).toEqual({ Ref: 'AWS::Region' });
    expect(assembly.manifest.missing ?? []).toEqual([]);
  });
});

describe('cdk-nag AwsSolutionsChecks', () => {
  it('reports no findings for the infra app', () => {
    // GIVEN the infra app, which registers the AwsSolutions checks
    const outdir = freshOutdir();
    const { app } = buildInfraApp({ outdir });

    // WHEN it is synthesized (a finding would make synth throw)
    const assembly = app.synth();

    // THEN the validation report lists no error and no failed plugin
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport;
    const errors = report.pluginReports.flatMap(({ pluginName, violations }) =>
      violations.filter(({ severity }) => severity === 'error').map(({ ruleName }) => `${pluginName}: ${ruleName}`),
    );
    expect(errors).toEqual([]);
    expect(report.pluginReports.filter(({ conclusion }) => conclusion === 'failure')).toEqual([]);
  });

  it('does fail synthesis on a finding, so the check above is not vacuous', () => {
    // GIVEN an app with the same checks and a bucket that breaks AwsSolutions-S1 and -S10
    const app = new App({ outdir: freshOutdir() });
    new Bucket(new Stack(app, 'NonCompliant'), 'Bucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // WHEN it is synthesized THEN synthesis fails and names the rule
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });
});
