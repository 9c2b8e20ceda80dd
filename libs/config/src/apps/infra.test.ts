import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadConfig } from '../load.ts';
import { infraSchema } from './infra.ts';

const base = ['--domain', 'tunnel.example.com', '--certificate-arn', 'arn:aws:acm:eu-west-1:111111111111:certificate/x'];
const zone = ['--hosted-zone-id', 'Z123', '--hosted-zone-name', 'example.com'];
const load = (argv: readonly string[]) => loadConfig(infraSchema, { argv, env: {} });

describe('infra config', () => {
  it('has the documented defaults', () => {
    // GIVEN only a domain and a certificate WHEN loaded THEN every other option has its default
    expect({ ...load(base) }).toEqual({
      appName: 'tunnel',
      region: undefined,
      domain: 'tunnel.example.com',
      exitServerArch: 'arm64',
      tcpPorts: [],
      enableWaf: false,
      certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/x',
      hostedZoneId: undefined,
      hostedZoneName: undefined,
      createAliasRecord: false,
      createWildcardRecord: false,
      vpcId: undefined,
      availabilityZones: [],
      publicSubnetIds: [],
      exitServerDesiredCount: 2,
      exitServerMinCount: 2,
      exitServerMaxCount: 6,
      exitServerTargetCpu: 60,
      exitServerRequestsPerTarget: 60_000,
      exitServerDrainTimeout: 30_000,
      exitServerCpu: 256,
      exitServerMemory: 512,
      albIdleTimeout: 3_600_000,
      logRetentionDays: 30,
      deviceCount: 1,
      activationExpiry: 86_400_000,
      githubRepository: undefined,
      githubOidcProviderArn: undefined,
      sampleAppHostPort: 3000,
      alarmEmail: [],
      alarmTopicArn: undefined,
      edgeUpstream: [],
      config: undefined,
      logLevel: 'info',
    });
  });

  it('accepts a hosted zone instead of a certificate, DNS records, an existing VPC and upstreams', () => {
    // GIVEN a full configuration from flags and env
    const c = loadConfig(infraSchema, {
      argv: ['--domain', 'Tunnel.Example.com', '--region', 'us-gov-west-1', ...zone, '--create-alias-record', '--create-wildcard-record'],
      env: {
        TUNNEL_VPC_ID: 'vpc-1',
        TUNNEL_AVAILABILITY_ZONES: 'eu-west-1a,eu-west-1b',
        TUNNEL_PUBLIC_SUBNET_IDS: 'subnet-a,subnet-b',
        TUNNEL_EDGE_UPSTREAM: 'API.example.com=http://127.0.0.1:8080,http://127.0.0.1:3000',
        TUNNEL_ALB_IDLE_TIMEOUT: '10m',
      },
    });
    // THEN it resolves, with upstreams normalised as the edge client would read them
    expect(c).toMatchObject({
      certificateArn: undefined,
      region: 'us-gov-west-1',
      hostedZoneId: 'Z123',
      createAliasRecord: true,
      publicSubnetIds: ['subnet-a', 'subnet-b'],
      edgeUpstream: ['api.example.com=http://127.0.0.1:8080/', 'http://127.0.0.1:3000/'],
      albIdleTimeout: 600_000,
    });
  });

  it.each([
    [['--domain', 'a.example.com'], '--certificate-arn', /HTTPS needs a certificate/],
    [[...base, '--hosted-zone-id', 'Z1'], '--hosted-zone-name', /must be given together \(--hosted-zone-name is missing\)/],
    [[...base, '--hosted-zone-name', 'example.com'], '--hosted-zone-id', /must be given together/],
    [[...base, '--create-alias-record'], '--create-alias-record', /--create-alias-record needs --hosted-zone-id/],
    [[...base, '--create-wildcard-record'], '--create-wildcard-record', /needs --hosted-zone-id/],
    [['--domain', 'tunnel.other.org', ...zone], '--domain', /not inside hosted zone example.com/],
    [[...base, '--tcp-ports', '8123'], '--tcp-ports', /8123 collides with the exit server's own ports/],
    [[...base, '--tcp-ports', '8000'], '--tcp-ports', /8000 collides/],
    [[...base, '--tcp-ports', '22', '--tcp-ports', '22'], '--tcp-ports', /22 is listed twice/],
    [[...base, '--vpc-id', 'vpc-1'], '--public-subnet-ids', /at least two subnets/],
    [[...base, '--vpc-id', 'v', '--public-subnet-ids', 'a', '--public-subnet-ids', 'b'], '--availability-zones', /0 zones for 2 subnets/],
    [[...base, '--public-subnet-ids', 'a'], '--public-subnet-ids', /only applies with --vpc-id/],
    [[...base, '--exit-server-cpu', '300'], '--exit-server-cpu', /must be one of 256, 512/],
    [[...base, '--exit-server-memory', '4096'], '--exit-server-memory', /does not suit --exit-server-cpu 256/],
    [[...base, '--alb-idle-timeout', '1500ms'], '--alb-idle-timeout', /whole seconds/],
    [
      [...base, '--exit-server-min-count', '4', '--exit-server-max-count', '3', '--exit-server-desired-count', '3'],
      '--exit-server-min-count',
      /must be <= --exit-server-max-count/,
    ],
    [
      [...base, '--exit-server-desired-count', '7'],
      '--exit-server-desired-count',
      /between --exit-server-min-count and --exit-server-max-count/,
    ],
    [[...base, '--exit-server-max-count', '17'], '--exit-server-max-count', /1-16/],
    [[...base, '--exit-server-drain-timeout', '1500ms'], '--exit-server-drain-timeout', /whole seconds/],
    [[...base, '--exit-server-drain-timeout', '2m'], '--exit-server-drain-timeout', /1s-1m40s|expected a duration/],
    [[...base, '--alb-idle-timeout', '2h'], '--alb-idle-timeout', /expected a duration/],
    [[...base, '--log-retention-days', '31'], '--log-retention-days', /must be one of 1, 3, 5/],
    [[...base, '--activation-expiry', '90m'], '--activation-expiry', /whole hours/],
    [[...base, '--activation-expiry', '31d'], '--activation-expiry', /expected a duration/],
    [[...base, '--activation-expiry', '721h'], '--activation-expiry', /expected a duration/],
    [[...base, '--device-count', '0'], '--device-count', /expected/],
    [[...base, '--github-repository', 'no-slash'], '--github-repository', /owner\/name/],
    [[...base, '--github-oidc-provider-arn', 'arn:x'], '--github-oidc-provider-arn', /only applies with --github-repository/],
    [[...base, '--edge-upstream', 'localhost:3000'], '--edge-upstream', /expected HOST=URL or URL/],
    [[...base, '--edge-upstream', 'http://a', '--edge-upstream', 'http://b'], '--edge-upstream', /more than one default/],
    [['--certificate-arn', 'arn'], '--domain', /--domain is required/],
    [[...base, '--region', 'Europe'], '--region', /expected an AWS region name such as eu-west-1, got "Europe"/],
  ])('rejects %j', (argv, option, message) => {
    // GIVEN an inconsistent configuration WHEN loaded THEN it fails naming the option at fault
    let err: unknown;
    try {
      load(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).option).toBe(option);
    expect((err as ConfigError).message).toMatch(message);
  });
});

describe('infra config: alarms', () => {
  it('takes e-mail addresses or an existing topic, not both, and refuses a malformed address', () => {
    const base = ['--domain', 'tunnel.example.com', '--certificate-arn', 'arn:aws:acm:eu-west-1:123456789012:certificate/x'];
    expect(loadConfig(infraSchema, { argv: [...base, '--alarm-email', 'ops@example.com'], env: {} }).alarmEmail).toEqual([
      'ops@example.com',
    ]);
    expect(() => loadConfig(infraSchema, { argv: [...base, '--alarm-email', 'not-an-address'], env: {} })).toThrow(
      /--alarm-email.*e-mail address/,
    );
    expect(() =>
      loadConfig(infraSchema, {
        argv: [...base, '--alarm-email', 'ops@example.com', '--alarm-topic-arn', 'arn:aws:sns:eu-west-1:123456789012:t'],
        env: {},
      }),
    ).toThrow(/give one of them/);
  });
});
