import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { TunnelVpc } from '../constructs/tunnel-vpc.ts';
import { ExternalInstanceRegistration } from '../constructs/external-instance-registration.ts';
import { TunnelTokenSecret } from '../constructs/tunnel-token-secret.ts';
import { synthInfra } from '../testing/synth-infra.ts';

// GIVEN the committed example config, and a variant deploying into an existing VPC (each synthesized once)
const example = synthInfra();
const imported = synthInfra([
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
  '--device-count',
  '3',
  '--activation-expiry',
  '72h',
  '--app-name',
  'pi-tunnel',
]);
afterAll(() => [example, imported].forEach((s) => s.dispose()));

describe('TunnelNetworkStack', () => {
  const template = example.template('TunnelNetwork');

  it('creates a two-AZ VPC with public and isolated subnets, no NAT gateway, and flow logs', () => {
    // THEN one VPC spreads over two AZs without paying for NAT
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourcePropertiesCountIs('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true }, 2);
    template.resourcePropertiesCountIs('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false }, 2);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    // AND all traffic is flow-logged to a group with the configured retention
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('creates one ECS cluster with Fargate capacity and Container Insights', () => {
    // THEN the cluster is named after the app and offers Fargate capacity providers
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: 'tunnel',
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE', 'FARGATE_SPOT']),
    });
  });

  it('gives devices an SSM-assumable role with the two ECS Anywhere managed policies', () => {
    // THEN the instance role trusts Systems Manager and carries exactly the documented policies
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'ssm.amazonaws.com' } })],
      },
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] },
        {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role']],
        },
      ],
    });
  });

  it('creates an SSM activation with an expiry and a limit of deviceCount, its code in a SecureString parameter', () => {
    // THEN a custom resource of our own handler makes the activation, with the example's 2 devices and 24 h
    template.resourceCountIs('Custom::AWS', 0);
    template.hasResourceProperties('Custom::SsmActivation', {
      IamRole: { Ref: Match.stringLikeRegexp('^RegistrationInstanceRole') },
      RegistrationLimit: '2',
      ExpiryHours: '24',
      ParameterName: '/tunnel/ecs-anywhere/activation-code',
    });
    // AND the handler may write only that parameter, and pass only the device role, only to SSM
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['ssm:PutParameter', 'ssm:DeleteParameter'],
            Resource: { 'Fn::Join': ['', Match.arrayWith([':parameter/tunnel/ecs-anywhere/activation-code'])] },
          }),
          Match.objectLike({
            Action: 'iam:PassRole',
            Condition: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
          }),
        ]),
      },
    });
    // AND the handler's code is the tested one in apps/infra/lambda/ssm-activation, on a current runtime
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'nodejs24.x', Timeout: 300 });
  });

  it('retries through the provider framework and its handler, never through a one-shot call', () => {
    // THEN the custom resource goes through CDK's provider framework (its onEvent function invokes ours)
    const activation = Object.values(template.findResources('Custom::SsmActivation'))[0] as { Properties: { ServiceToken: unknown } };
    expect(JSON.stringify(activation.Properties.ServiceToken)).toMatch(/RegistrationProviderframeworkonEvent/);
    // AND the activation waits for the device role
    expect(JSON.stringify(Object.values(template.findResources('Custom::SsmActivation'))[0])).toMatch(
      /"DependsOn":\[[^\]]*RegistrationInstanceRole/,
    );
  });

  it('never shows the activation code: no output or property carries it, the command reads $ACTIVATION_CODE', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(template.toJSON())).not.toMatch(/ActivationCode"\]/);
    expect(JSON.stringify(outputs)).not.toMatch(/"ActivationCode"/);
    const command = JSON.stringify(outputs.RegistrationCommand.Value);
    for (const part of [
      'curl --proto \\"https\\" -o \\"ecs-anywhere-install.sh\\"',
      'ecs-anywhere-install-latest.sh',
      '&& sudo bash ecs-anywhere-install.sh --region ',
      'AWS::Region',
      ' --cluster ',
      ' --activation-id ',
      '"ActivationId"',
      ' --activation-code \\"$ACTIVATION_CODE\\"',
    ]) {
      expect(command).toContain(part);
    }
    expect(JSON.stringify(outputs.FetchActivationCode.Value)).toContain(
      ' --with-decryption --name /tunnel/ecs-anywhere/activation-code --query Parameter.Value --output text)',
    );
  });

  it('generates the tunnel token in Secrets Manager, retained on delete and never in clear text', () => {
    // THEN the secret is generated (letters and digits) and survives `cdk destroy`
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
        SecretString: Match.absent(),
      },
    });
  });

  it('names no account and needs no context lookups, so it synthesizes offline', () => {
    // THEN no account/region was baked in and no lookup is pending
    const stack = example.infra.network;
    expect(stack.resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(example.assembly.manifest.missing ?? []).toEqual([]);
    expect(imported.assembly.manifest.missing ?? []).toEqual([]);
  });

  it('references an existing VPC by attributes instead of creating one', () => {
    // WHEN the config names a VPC THEN no VPC, subnet or flow log is created
    const t = imported.template('TunnelNetwork');
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.resourceCountIs('AWS::EC2::Subnet', 0);
    t.resourceCountIs('AWS::EC2::FlowLog', 0);
    // AND the given subnets are what the exit server uses
    imported.template('TunnelExitServer').hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'] } },
    });
    // AND the activation takes the configured limit, expiry and app name
    t.hasResourceProperties('Custom::SsmActivation', {
      RegistrationLimit: '3',
      ExpiryHours: '72',
      ParameterName: '/pi-tunnel/ecs-anywhere/activation-code',
    });
  });
});

describe('network constructs reject bad combinations', () => {
  const stack = () => new Stack(new App(), 'S');

  it.each([
    [{ publicSubnetIds: ['a', 'b'] }, /give vpcId too/],
    [{ vpcId: 'vpc-1', availabilityZones: ['a'], publicSubnetIds: ['s'] }, /at least two publicSubnetIds/],
    [
      { vpcId: 'vpc-1', availabilityZones: ['a'], publicSubnetIds: ['s', 't'] },
      /one availability zone per public subnet \(1 zones for 2 subnets\)/,
    ],
  ])('TunnelVpc(%j) throws', (props, message) => {
    // GIVEN inconsistent VPC props WHEN constructed THEN it throws a clear message
    expect(() => new TunnelVpc(stack(), 'Vpc', props)).toThrow(message);
  });

  it.each([
    [{ registrationLimit: 0 }, /registrationLimit must be an integer from 1 to 1000, got 0/],
    [{ expiry: Duration.minutes(90) }, /expiry must be whole hours from 1 to 720 \(30 days\), got 1.5 h/],
    [{ expiry: Duration.days(31) }, /expiry must be whole hours from 1 to 720 \(30 days\), got 744 h/],
    [{ parameterName: 'no-slash' }, /parameterName must be a path/],
  ])('ExternalInstanceRegistration(%j) throws', (props, message) => {
    // GIVEN a cluster WHEN a prop is out of range THEN it throws
    const s = stack();
    expect(() => new ExternalInstanceRegistration(s, 'R', { cluster: example.infra.network.cluster, ...props })).toThrow(message);
  });

  it('TunnelTokenSecret rejects a short token', () => {
    expect(() => new TunnelTokenSecret(stack(), 'T', { length: 8 })).toThrow(/length must be an integer from 32/);
  });
});
