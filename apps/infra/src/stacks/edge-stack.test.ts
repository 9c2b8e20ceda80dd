import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Cluster, ContainerImage, NetworkMode } from 'aws-cdk-lib/aws-ecs';
import { afterAll, describe, expect, it } from 'vitest';
import { ExternalDaemonService } from '../constructs/external-daemon-service.ts';
import { synthInfra } from '../testing/synth-infra.ts';

// GIVEN the committed example config, and a variant with explicit upstreams and another retention
const example = synthInfra();
const custom = synthInfra([
  '--edge-upstream',
  'api.example.com=http://127.0.0.1:8080',
  '--edge-upstream',
  'http://127.0.0.1:9000',
  '--log-retention-days',
  '90',
]);
afterAll(() => [example, custom].forEach((s) => s.dispose()));

describe('TunnelEdgeStack', () => {
  const template = example.template('TunnelEdge');

  it('runs one edge client per registered device: an EXTERNAL service with DAEMON scheduling', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'EXTERNAL',
      SchedulingStrategy: 'DAEMON',
      DesiredCount: Match.absent(),
      DeploymentConfiguration: Match.objectLike({ MaximumPercent: 100, MinimumHealthyPercent: 0 }),
    });
  });

  it('uses host networking and dials wss://<domain>:8123 with the sample app as default upstream', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['EXTERNAL'],
      NetworkMode: 'host',
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'edge-client',
          Environment: [
            { Name: 'TUNNEL_URL', Value: 'wss://tunnel.example.com:8123' },
            { Name: 'TUNNEL_UPSTREAM', Value: 'http://127.0.0.1:3000' },
            { Name: 'TUNNEL_HEALTH_FILE', Value: '/tmp/edge-client.healthy' },
          ],
          LinuxParameters: { InitProcessEnabled: true },
          StopTimeout: 45,
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
  });

  it('injects the tunnel token from Secrets Manager as TUNNEL_TOKEN, readable by the execution role only', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Secrets: [
            {
              Name: 'TUNNEL_TOKEN',
              ValueFrom: {
                'Fn::GetStackOutput': Match.objectLike({ StackName: 'TunnelNetwork', OutputName: Match.stringLikeRegexp('TokenSecret') }),
              },
            },
          ],
        }),
      ],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: {
              'Fn::GetStackOutput': Match.objectLike({ StackName: 'TunnelNetwork', OutputName: Match.stringLikeRegexp('TokenSecret') }),
            },
          }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('ExecutionRole') }],
    });
  });

  it('health-checks the container on its health file, and places it on arm64 devices only', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          HealthCheck: {
            Command: ['CMD', 'node', '-e', Match.stringLikeRegexp('existsSync\\("/tmp/edge-client.healthy"\\)')],
            Interval: 30,
            Timeout: 5,
            Retries: 3,
            StartPeriod: 60,
          },
        }),
      ],
      PlacementConstraints: [{ Type: 'memberOf', Expression: 'attribute:ecs.cpu-architecture == arm64' }],
    });
  });

  it('alarms when fewer edge-client tasks run than devices are registered', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 3,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(desired, 0) - FILL(running, 0)', ReturnData: true }),
        Match.objectLike({
          Id: 'desired',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'ECS/ContainerInsights', MetricName: 'DesiredTaskCount' }),
            Stat: 'Maximum',
          }),
        }),
        Match.objectLike({
          Id: 'running',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'RunningTaskCount' }), Stat: 'Minimum' }),
        }),
      ]),
    });
    // AND it watches this stack's service in the network stack's cluster
    const alarm = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Alarm'))[0]);
    expect(alarm).toMatch(/"Name":"ServiceName","Value":\{"Fn::GetAtt":\["EdgeClientService[0-9A-F]+","Name"\]\}/);
    expect(alarm).toMatch(/"Name":"ClusterName","Value":\{"Fn::GetStackOutput"/);
  });

  it('builds the arm64 image from apps/edge-client/Dockerfile', () => {
    expect(example.images('TunnelEdge')).toEqual([
      expect.objectContaining({ dockerFile: 'apps/edge-client/Dockerfile', platform: 'linux/arm64' }),
    ]);
  });

  it('passes configured upstreams through and uses the configured log retention', () => {
    const t = custom.template('TunnelEdge');
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'TUNNEL_UPSTREAM', Value: 'api.example.com=http://127.0.0.1:8080/,http://127.0.0.1:9000/' },
          ]),
        }),
      ],
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });
});

describe('ExternalDaemonService rejects bad combinations', () => {
  const cluster = () => new Cluster(new Stack(new App(), 'S'), 'C');

  it.each([
    [NetworkMode.BRIDGE, { containerPort: 3000 }, /port 3000 needs a static hostPort in BRIDGE mode/],
    [NetworkMode.HOST, { containerPort: 3000, hostPort: 8080 }, /hostPort 8080 must equal containerPort 3000/],
  ] as const)('%s with %j', (networkMode, mapping, message) => {
    const c = cluster();
    expect(
      () =>
        new ExternalDaemonService(c.stack, 'D', {
          cluster: c,
          image: ContainerImage.fromRegistry('x'),
          containerName: 'x',
          networkMode,
          portMappings: [mapping],
          arch: 'arm64',
          healthCheck: { command: ['CMD', 'true'] },
        }),
    ).toThrow(message);
  });
});
