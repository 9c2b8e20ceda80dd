import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, FargateService, FargateTaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDuration } from '@tunnel/config';
import { EXIT_SERVER_CONTAINER, ExitServerService, KEEP_ALIVE_ENV } from '../constructs/exit-server-service.ts';
import { exitServerKeepAlive, KEEP_ALIVE_MARGIN } from '../keep-alive.ts';
import { PublicLoadBalancer } from '../constructs/public-load-balancer.ts';
import { TcpLoadBalancer } from '../constructs/tcp-load-balancer.ts';
import { TunnelCertificate } from '../constructs/tunnel-certificate.ts';
import { synthInfra } from '../testing/synth-infra.ts';

// GIVEN the committed example config (certificate ARN, WAF on, arm64), and a variant with a
// hosted zone, DNS records, TCP ports, x86, a known region and WAF off (each synthesized once)
const example = synthInfra();
const full = synthInfra(
  [
    '--hosted-zone-id',
    'Z0123456789ABCDEFGHIJ',
    '--hosted-zone-name',
    'example.com',
    '--create-alias-record',
    '--create-wildcard-record',
    '--tcp-ports',
    '22',
    '--tcp-ports',
    '5432',
    '--exit-server-arch',
    'x86_64',
    '--region',
    'eu-west-1',
    '--no-enable-waf',
    '--alb-idle-timeout',
    '20m',
    '--exit-server-desired-count',
    '2',
  ],
  { certificateArn: null },
);
const fullWithoutCertArn = full.config.certificateArn;
afterAll(() => [example, full].forEach((s) => s.dispose()));

describe('TunnelExitServerStack: application load balancer', () => {
  const template = example.template('TunnelExitServer');

  it('listens with HTTPS on 443 and 8123 and redirects 80 to 443', () => {
    // THEN 443 forwards over HTTPS with the imported certificate and a TLS 1.2+ policy
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: example.config.certificateArn }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 8123,
      Protocol: 'HTTPS',
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    // AND 80 answers with a permanent redirect to 443
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } }],
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 3);
  });

  it('is internet-facing with a one-hour idle timeout for WebSockets', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Type: 'application',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'idle_timeout.timeout_seconds', Value: '3600' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    });
    // AND the configured timeout is used when set
    full.template('TunnelExitServer').hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'application',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '1200' }]),
    });
  });

  it('forwards to ports 8000 and 8123, health-checked at 8123 on /readyz (public) and /healthz (control)', () => {
    for (const [port, path] of [
      [8000, '/readyz'],
      [8123, '/healthz'],
    ] as const) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: port,
        Protocol: 'HTTP',
        TargetType: 'ip',
        HealthCheckPath: path,
        HealthCheckPort: '8123',
        HealthCheckProtocol: 'HTTP',
        Matcher: { HttpCode: '200' },
      });
    }
  });

  it('associates a WAF web ACL with the AWS common rule set when WAF is on, and none when off', () => {
    // THEN the example (WAF on) has the web ACL and its association with the ALB
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: [
        Match.objectLike({
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' }),
          },
        }),
      ],
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: Match.stringLikeRegexp('^PublicAlb') },
    });
    // AND with WAF off there is neither
    full.template('TunnelExitServer').resourceCountIs('AWS::WAFv2::WebACL', 0);
    full.template('TunnelExitServer').resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  it('has no NLB and no DNS records unless configured', () => {
    template.resourcePropertiesCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network' }, 0);
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
  });
});

describe('TunnelExitServerStack: exit server on Fargate', () => {
  const template = example.template('TunnelExitServer');

  it('runs on ARM64 (Graviton) by default and x86_64 when chosen, with matching image platforms', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      Cpu: '256',
      Memory: '512',
    });
    full.template('TunnelExitServer').hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    // AND the image is built from the app's own Dockerfile with the repository root as context
    const [image] = example.images('TunnelExitServer');
    expect(image).toMatchObject({ dockerFile: 'apps/exit-server/Dockerfile', platform: 'linux/arm64' });
    expect(full.images('TunnelExitServer')[0].platform).toBe('linux/amd64');
  });

  it('injects the token and a separate admin token from Secrets Manager and trusts the proxy, with an init process and a drain-long stop timeout', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'exit-server',
          Environment: [
            { Name: 'TUNNEL_TRUST_PROXY', Value: 'true' },
            { Name: 'TUNNEL_KEEP_ALIVE_TIMEOUT', Value: '3605s' },
            { Name: 'TUNNEL_DRAIN_TIMEOUT', Value: '30s' },
            { Name: 'TUNNEL_PEERS_DNS', Value: 'exit-server.tunnel.internal:8123' },
          ],
          Secrets: [
            {
              Name: 'TUNNEL_TOKEN',
              ValueFrom: {
                'Fn::GetStackOutput': Match.objectLike({ StackName: 'TunnelNetwork', OutputName: Match.stringLikeRegexp('TokenSecret') }),
              },
            },
            { Name: 'TUNNEL_ADMIN_TOKEN', ValueFrom: { Ref: Match.stringLikeRegexp('^AdminTokenSecret') } },
          ],
          PortMappings: [Match.objectLike({ ContainerPort: 8000 }), Match.objectLike({ ContainerPort: 8123 })],
          LinuxParameters: { InitProcessEnabled: true },
          StopTimeout: 45,
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('runs the service in public subnets, reachable only from the load balancer', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
    });
    for (const port of [8000, 8123]) {
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        FromPort: port,
        ToPort: port,
        SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PublicAlbSecurityGroup'), 'GroupId'] },
      });
    }
    full.template('TunnelExitServer').hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2 });
  });

  it('gives the task role no permissions at all', () => {
    // THEN the only IAM policy in the stack belongs to the execution role (pull, logs, secret)
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    expect(JSON.stringify(policies[0].Properties.Roles)).toMatch(/ExecutionRole/);
  });
});

describe('TunnelExitServerStack: keep-alive agrees with the ALB idle timeout', () => {
  /** The ALB's idle timeout and the exit server's keep-alive of one synthesized variant, in ms. */
  function timeouts(template: ReturnType<typeof example.template>): { albIdleMs: number; keepAliveMs: number } {
    const alb = Object.values(
      template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer', { Properties: { Type: 'application' } }),
    )[0] as {
      Properties: { LoadBalancerAttributes: Array<{ Key: string; Value: string }> };
    };
    const idle = alb.Properties.LoadBalancerAttributes.find((a) => a.Key === 'idle_timeout.timeout_seconds');
    const task = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0] as {
      Properties: { ContainerDefinitions: Array<{ Name: string; Environment: Array<{ Name: string; Value: string }> }> };
    };
    const container = task.Properties.ContainerDefinitions.find((c) => c.Name === EXIT_SERVER_CONTAINER);
    const keepAlive = container?.Environment.find((e) => e.Name === KEEP_ALIVE_ENV)?.Value;
    // Read the way the exit server reads it: the same duration parser as its config.
    return { albIdleMs: Number(idle?.Value) * 1000, keepAliveMs: parseDuration(keepAlive ?? '') ?? NaN };
  }

  it.each([
    ['the example (1 h)', () => example, 3_600_000],
    ['a 20 min idle timeout', () => full, 1_200_000],
  ])('%s: the exit server keeps idle connections longer than the ALB does', (_name, variant, idleMs) => {
    // GIVEN a synthesized stack WHEN reading both timeouts from the template
    const { albIdleMs, keepAliveMs } = timeouts(variant().template('TunnelExitServer'));
    // THEN the ALB gives up on an idle connection first (AWS: target keep-alive > ALB idle timeout, else 502s)
    expect(albIdleMs).toBe(idleMs);
    expect(keepAliveMs).toBe(albIdleMs + KEEP_ALIVE_MARGIN.toMilliseconds());
    expect(keepAliveMs).toBeGreaterThan(albIdleMs);
  });

  it('exitServerKeepAlive adds the margin; ExitServerService rejects a keep-alive that is not whole seconds', () => {
    expect(exitServerKeepAlive(Duration.seconds(60)).toSeconds()).toBe(65);
    const stack = new Stack(new App(), 'K');
    const vpc = new Vpc(stack, 'Vpc', { natGateways: 0 });
    expect(
      () =>
        new ExitServerService(stack, 'E', {
          cluster: new Cluster(stack, 'C', { vpc }),
          vpc,
          image: ContainerImage.fromRegistry('x'),
          tokenSecret: new Secret(stack, 'T'),
          adminTokenSecret: new Secret(stack, 'A'),
          keepAliveTimeout: Duration.millis(1500),
        }),
    ).toThrow(/keepAliveTimeout must be whole seconds/);
  });
});

describe('TunnelExitServerStack: TCP ports, certificate and DNS', () => {
  const template = full.template('TunnelExitServer');

  it('adds a network load balancer with a TCP listener per port and a TLS listener on 8123', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internet-facing' });
    for (const port of [22, 5432]) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: port, Protocol: 'TCP' });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: port,
        Protocol: 'TCP',
        TargetType: 'ip',
        HealthCheckPath: '/healthz',
        HealthCheckPort: '8123',
        HealthCheckProtocol: 'HTTP',
      });
    }
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 8123,
      Protocol: 'TLS',
      Certificates: [{ CertificateArn: { Ref: Match.stringLikeRegexp('^Certificate') } }],
    });
    // AND the exit server opens the same ports
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([{ Name: 'TUNNEL_TCP_PORT', Value: '22,5432' }]),
          PortMappings: Match.arrayWith([Match.objectLike({ ContainerPort: 22 }), Match.objectLike({ ContainerPort: 5432 })]),
        }),
      ],
    });
  });

  it('creates a DNS-validated certificate for the domain and its wildcard when no ARN is given', () => {
    expect(fullWithoutCertArn).toBeUndefined();
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'tunnel.example.com',
      SubjectAlternativeNames: ['*.tunnel.example.com'],
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'tunnel.example.com', HostedZoneId: 'Z0123456789ABCDEFGHIJ' }],
    });
  });

  it('creates alias records for the domain, its wildcard and tcp.<domain>', () => {
    for (const name of ['tunnel.example.com.', '*.tunnel.example.com.', 'tcp.tunnel.example.com.']) {
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: name,
        Type: 'A',
        HostedZoneId: 'Z0123456789ABCDEFGHIJ',
        AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
      });
    }
  });

  it('writes load-balancer access logs to a private bucket when the region is known', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'application',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
    });
    example.template('TunnelExitServer').resourceCountIs('AWS::S3::Bucket', 0);
  });
});

describe('exit-server constructs reject bad combinations', () => {
  const fixture = () => {
    const stack = new Stack(new App(), 'S');
    const vpc = new Vpc(stack, 'Vpc', { natGateways: 0 });
    const cluster = new Cluster(stack, 'Cluster', { vpc });
    const task = new FargateTaskDefinition(stack, 'Task');
    task.addContainer('c', { image: ContainerImage.fromRegistry('x'), portMappings: [{ containerPort: 8000 }] });
    const service = new FargateService(stack, 'Svc', { cluster, taskDefinition: task, minHealthyPercent: 100 });
    const certificate = Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:111111111111:certificate/x');
    return { stack, vpc, cluster, service, certificate };
  };

  it('TunnelCertificate needs a certificate ARN or a hosted zone', () => {
    // GIVEN neither WHEN constructed THEN it explains both ways out
    expect(() => new TunnelCertificate(fixture().stack, 'C', { domain: 'a.example.com' })).toThrow(
      /HTTPS needs a certificate: give certificateArn, or a hostedZone/,
    );
  });

  it('PublicLoadBalancer rejects an idle timeout the ALB does not accept', () => {
    const f = fixture();
    expect(
      () =>
        new PublicLoadBalancer(f.stack, 'P', {
          ...f,
          containerName: 'c',
          idleTimeout: Duration.seconds(5000),
        }),
    ).toThrow(/idleTimeout must be whole seconds from 1 to 4000, got 5000 s/);
  });

  it.each([
    [[], /tcpPorts is empty/],
    [[8123], /TCP port 8123 collides/],
    [[22, 22], /lists a port twice/],
  ])('TcpLoadBalancer rejects tcpPorts %j', (tcpPorts, message) => {
    const f = fixture();
    expect(() => new TcpLoadBalancer(f.stack, 'T', { ...f, containerName: 'c', tcpPorts })).toThrow(message);
  });

  it('ExitServerService rejects a TCP port equal to the public HTTP port', () => {
    const f = fixture();
    const tokenSecret = new Secret(f.stack, 'Token');
    const adminTokenSecret = new Secret(f.stack, 'Admin');
    expect(
      () =>
        new ExitServerService(f.stack, 'E', {
          cluster: f.cluster,
          vpc: f.vpc,
          image: ContainerImage.fromRegistry('x'),
          tokenSecret,
          adminTokenSecret,
          tcpPorts: [8000],
        }),
    ).toThrow(/TCP port 8000 collides with the exit server's own ports/);
  });

  it('ExitServerService refuses the client token secret as the admin token secret', () => {
    const f = fixture();
    const tokenSecret = new Secret(f.stack, 'Token');
    expect(
      () =>
        new ExitServerService(f.stack, 'E', {
          cluster: f.cluster,
          vpc: f.vpc,
          image: ContainerImage.fromRegistry('x'),
          tokenSecret,
          adminTokenSecret: tokenSecret,
        }),
    ).toThrow(/adminTokenSecret must be a different secret/);
  });
});
