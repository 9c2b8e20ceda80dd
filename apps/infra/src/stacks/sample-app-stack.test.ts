import type { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { synthInfra } from '../testing/synth-infra.ts';

// GIVEN the committed example config, and a variant with another host port for the sample app
const example = synthInfra();
const custom = synthInfra(['--sample-app-host-port', '8081']);
afterAll(() => [example, custom].forEach((s) => s.dispose()));

describe('TunnelSampleAppStack', () => {
  const template = example.template('TunnelSampleApp');

  it('runs the sample app on every device with DAEMON scheduling', () => {
    template.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'EXTERNAL', SchedulingStrategy: 'DAEMON' });
  });

  it('uses bridge networking with a static host port the edge client can reach', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['EXTERNAL'],
      NetworkMode: 'bridge',
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'sample-app',
          PortMappings: [{ ContainerPort: 3000, HostPort: 3000, Protocol: 'tcp' }],
          Environment: [{ Name: 'TUNNEL_PORT', Value: '3000' }],
          LinuxParameters: { InitProcessEnabled: true },
        }),
      ],
    });
    // AND a configured host port changes both the mapping and the edge client's default upstream
    custom.template('TunnelSampleApp').hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ PortMappings: [Match.objectLike({ ContainerPort: 3000, HostPort: 8081 })] })],
    });
    custom.template('TunnelEdge').hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Environment: Match.arrayWith([{ Name: 'TUNNEL_UPSTREAM', Value: 'http://127.0.0.1:8081' }]) }),
      ],
    });
  });

  it('health-checks GET /healthz on its container port, and places it on arm64 devices only', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          HealthCheck: Match.objectLike({
            Command: ['CMD', 'node', '-e', Match.stringLikeRegexp('host:"127.0.0.1",port:3000,path:"/healthz"')],
            Retries: 3,
          }),
        }),
      ],
      PlacementConstraints: [{ Type: 'memberOf', Expression: 'attribute:ecs.cpu-architecture == arm64' }],
    });
  });

  it('needs no secret and builds the arm64 image from apps/sample-app/Dockerfile', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Secrets: Match.absent() })],
    });
    expect(example.images('TunnelSampleApp')).toEqual([
      expect.objectContaining({ dockerFile: 'apps/sample-app/Dockerfile', platform: 'linux/arm64' }),
    ]);
  });

  it('depends only on the network stack, so each app deploys on its own', () => {
    const deps = (s: Stack) => s.dependencies.map((d) => d.stackName).sort();
    expect(deps(example.infra.sampleApp)).toEqual(['TunnelNetwork']);
    expect(deps(example.infra.edge)).toEqual(['TunnelNetwork']);
    expect(deps(example.infra.exitServer)).toEqual(['TunnelNetwork']);
    expect(deps(example.infra.network)).toEqual([]);
  });
});
