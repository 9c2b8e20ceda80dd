import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, FargateService, FargateTaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { ApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitServerDiscovery } from '../constructs/exit-server-discovery.ts';
import { ExitServerScaling } from '../constructs/exit-server-scaling.ts';
import { drainTimings, STOP_MARGIN } from '../drain-timings.ts';
import { synthInfra } from '../testing/synth-infra.ts';

// GIVEN the committed example config, and a variant with its own fleet size, targets and drain
const example = synthInfra();
const tuned = synthInfra([
  '--exit-server-min-count',
  '3',
  '--exit-server-max-count',
  '10',
  '--exit-server-desired-count',
  '4',
  '--exit-server-target-cpu',
  '45',
  '--exit-server-requests-per-target',
  '12000',
  '--exit-server-drain-timeout',
  '60s',
]);
afterAll(() => [example, tuned].forEach((s) => s.dispose()));

describe('TunnelExitServerStack: scale-out', () => {
  const template = example.template('TunnelExitServer');

  it('runs 2 exit-server tasks by default, and starts a replacement before stopping a task (minHealthyPercent 100)', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 2,
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100, MaximumPercent: 200 }),
    });
    tuned.template('TunnelExitServer').hasResourceProperties('AWS::ECS::Service', { DesiredCount: 4 });
  });

  it('scales by target tracking on CPU and on ALB requests per target, between the configured min and max', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
      ScalableDimension: 'ecs:service:DesiredCount',
      ServiceNamespace: 'ecs',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 60,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 60000,
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
      }),
    });
    const t = tuned.template('TunnelExitServer');
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 3, MaxCapacity: 10 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 45 }),
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 12000 }),
    });
  });

  it('registers the tasks in a Cloud Map private DNS namespace and tells each exit server to resolve it', () => {
    template.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', { Name: 'tunnel.internal' });
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
      Name: 'exit-server',
      DnsConfig: Match.objectLike({ DnsRecords: [{ Type: 'A', TTL: 10 }] }),
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceRegistries: [{ RegistryArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExitServerServiceCloudmapService'), 'Arn'] } }],
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Environment: Match.arrayWith([{ Name: 'TUNNEL_PEERS_DNS', Value: 'exit-server.tunnel.internal:8123' }]) }),
      ],
    });
  });

  it('lets exit-server tasks reach each other on the control port, and nothing else from each other', () => {
    const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as Array<{
      Properties: { FromPort: number; ToPort: number; GroupId: unknown; SourceSecurityGroupId: unknown };
    }>;
    const selfRules = rules.filter((r) => JSON.stringify(r.Properties.GroupId) === JSON.stringify(r.Properties.SourceSecurityGroupId));
    expect(selfRules.map((r) => [r.Properties.FromPort, r.Properties.ToPort])).toEqual([[8123, 8123]]);
    expect(JSON.stringify(selfRules[0].Properties.GroupId)).toMatch(/ExitServerServiceSecurityGroup/);
  });

  it('derives the ALB deregistration delay, the exit server drain and the stop timeout from one drain timeout', () => {
    for (const [synth, drain] of [
      [example, 30],
      [tuned, 60],
    ] as const) {
      const t = synth.template('TunnelExitServer');
      for (const port of [8000, 8123]) {
        t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
          Port: port,
          TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: String(drain) }]),
        });
      }
      t.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [
          Match.objectLike({
            Environment: Match.arrayWith([{ Name: 'TUNNEL_DRAIN_TIMEOUT', Value: `${drain}s` }]),
            StopTimeout: drain + STOP_MARGIN.toSeconds(),
          }),
        ],
      });
    }
  });
});

describe('scale-out constructs and timings reject bad combinations', () => {
  const fixture = () => {
    const stack = new Stack(new App(), 'S');
    const vpc = new Vpc(stack, 'Vpc', { natGateways: 0 });
    const cluster = new Cluster(stack, 'Cluster', { vpc });
    const task = new FargateTaskDefinition(stack, 'Task');
    const container = task.addContainer('c', { image: ContainerImage.fromRegistry('x'), portMappings: [{ containerPort: 8000 }] });
    const service = new FargateService(stack, 'Svc', { cluster, taskDefinition: task, minHealthyPercent: 100 });
    const publicTargetGroup = new ApplicationTargetGroup(stack, 'Tg', { vpc, port: 8000 });
    return { stack, vpc, service, container, publicTargetGroup };
  };

  it("drainTimings: deregistration delay = drain, stop timeout = drain + margin, within Fargate's 120 s", () => {
    const t = drainTimings(Duration.seconds(30));
    expect([t.deregistrationDelay.toSeconds(), t.drainTimeout.toSeconds(), t.stopTimeout.toSeconds()]).toEqual([30, 30, 45]);
    expect(() => drainTimings(Duration.seconds(110))).toThrow(/needs a 125 s stop timeout; Fargate allows 120 s/);
    expect(() => drainTimings(Duration.millis(1500))).toThrow(/whole seconds/);
  });

  it.each([
    [{ minCapacity: 0, maxCapacity: 2 }, /minCapacity must be an integer >= 1/],
    [{ minCapacity: 3, maxCapacity: 2 }, /maxCapacity must be an integer from minCapacity \(3\) to 16/],
    [{ minCapacity: 2, maxCapacity: 17 }, /to 16, got 17/],
    [{ minCapacity: 2, maxCapacity: 4, targetCpuPercent: 95 }, /targetCpuPercent must be 10-90/],
    [{ minCapacity: 2, maxCapacity: 4, requestsPerTarget: 0 }, /requestsPerTarget must be a positive integer/],
  ])('ExitServerScaling rejects %j', (props, message) => {
    const f = fixture();
    expect(() => new ExitServerScaling(f.stack, 'Sc', { service: f.service, publicTargetGroup: f.publicTargetGroup, ...props })).toThrow(
      message,
    );
  });

  it.each([
    [{ serviceName: 'two.labels' }, /serviceName must be one DNS label/],
    [{ namespaceName: 'Bad_Name' }, /namespaceName must be a DNS name/],
    [{ dnsTtl: Duration.seconds(0) }, /dnsTtl must be 1-300 s/],
  ])('ExitServerDiscovery rejects %j', (props, message) => {
    const f = fixture();
    expect(() => new ExitServerDiscovery(f.stack, 'D', { vpc: f.vpc, service: f.service, container: f.container, ...props })).toThrow(
      message,
    );
  });

  it('ExitServerDiscovery with its defaults synthesizes a namespace, a service and the self rule', () => {
    const f = fixture();
    const d = new ExitServerDiscovery(f.stack, 'D', { vpc: f.vpc, service: f.service, container: f.container });
    expect(d.peersDns).toBe('exit-server.tunnel.internal:8123');
    const t = Template.fromStack(f.stack);
    t.resourceCountIs('AWS::ServiceDiscovery::PrivateDnsNamespace', 1);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 8123, ToPort: 8123 });
  });
});
