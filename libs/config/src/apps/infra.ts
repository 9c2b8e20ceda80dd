import { SAMPLE_APP_PORT } from '../default-ports.ts';
import { defineSchema, type ConfigOf } from '../schema.ts';
import { parseUpstream } from './edge-client.ts';
import { LOG_RETENTION_DAYS, validateInfraConfig } from './infra-validation.ts';

/** Upstream as the edge client takes it (`HOST=URL` or `URL`), normalised, so a typo fails at synth. */
function parseEdgeUpstream(raw: string): string {
  const { hostname, url } = parseUpstream(raw);
  return hostname === null ? url : `${hostname}=${url}`;
}

function parseGithubRepository(raw: string): string {
  if (!/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/.test(raw)) throw new Error('expected a GitHub repository as owner/name');
  return raw;
}

function parseRegion(raw: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(raw)) throw new Error('expected an AWS region name such as eu-west-1');
  return raw;
}

/** Deployment parameters read by the CDK app (apps/infra). */
export const infraSchema = defineSchema({
  name: 'infra',
  summary:
    'Deploys the tunnel to AWS (CDK app): exit server on Fargate behind a load balancer, edge client and sample app on ECS Anywhere.',
  options: {
    /** Prefix of resource names (cluster, secret, activation). */
    appName: {
      kind: 'string',
      default: 'tunnel',
      description: 'prefix of resource names (ECS cluster, token secret, SSM activation-code parameter)',
    },
    /** AWS region; undefined = environment-agnostic stacks (deployed to the CLI's region). */
    region: {
      kind: 'custom',
      placeholder: 'region',
      expected: 'an AWS region name such as eu-west-1',
      parse: parseRegion,
      description:
        "AWS region to deploy to; enables load-balancer access logs, whose bucket policy names the region's ELB account (default: the CLI's region)",
    },
    /** Public domain, e.g. tunnel.example.com. */
    domain: {
      kind: 'string',
      placeholder: 'domain',
      required: true,
      description: 'public domain served by the exit server, e.g. tunnel.example.com',
    },
    /** Container CPU architecture of the exit server. */
    exitServerArch: {
      kind: 'enum',
      choices: ['arm64', 'x86_64'],
      default: 'arm64',
      description: 'CPU architecture of the exit-server container (arm64 = Graviton)',
    },
    /** Public TCP ports forwarded by a network load balancer (port numbers). */
    tcpPorts: {
      kind: 'list',
      of: { kind: 'port' },
      default: [],
      description: 'public TCP ports a network load balancer forwards to the exit server (adds the NLB)',
    },
    /** Attach an AWS WAF web ACL. */
    enableWaf: {
      kind: 'boolean',
      default: false,
      description: 'attach an AWS WAF web ACL (AWS managed common rule set) to the load balancer',
    },
    /** ACM certificate ARN for HTTPS; undefined = one is created (needs the hosted zone). */
    certificateArn: {
      kind: 'string',
      placeholder: 'arn',
      description: 'ACM certificate ARN for HTTPS (default: a new DNS-validated certificate; needs --hosted-zone-id)',
    },
    /** Route 53 hosted zone id; set together with hostedZoneName. */
    hostedZoneId: {
      kind: 'string',
      placeholder: 'id',
      description: 'Route 53 hosted zone holding the domain (certificate validation, DNS records)',
    },
    /** Route 53 hosted zone name, e.g. example.com; set together with hostedZoneId. */
    hostedZoneName: {
      kind: 'string',
      placeholder: 'name',
      description: 'name of the hosted zone, e.g. example.com; needs --hosted-zone-id',
    },
    /** Create a Route 53 alias record for the domain. */
    createAliasRecord: {
      kind: 'boolean',
      default: false,
      description: 'create a Route 53 alias record pointing the domain at the load balancer',
    },
    /** Create a Route 53 alias record for `*.domain`. */
    createWildcardRecord: {
      kind: 'boolean',
      default: false,
      description: 'also create *.domain (host-based routing to several upstreams)',
    },
    /** Existing VPC id; undefined = a new VPC is created. */
    vpcId: {
      kind: 'string',
      placeholder: 'id',
      description: 'deploy into this existing VPC (default: create one); needs the two options below',
    },
    /** Availability zones of the existing VPC's public subnets, in the same order. */
    availabilityZones: {
      kind: 'list',
      of: { kind: 'string', placeholder: 'az' },
      default: [],
      description: 'with --vpc-id: availability zones of the public subnets, in the same order',
    },
    /** Public subnet ids of the existing VPC (at least two). */
    publicSubnetIds: {
      kind: 'list',
      of: { kind: 'string', placeholder: 'id' },
      default: [],
      description: 'with --vpc-id: public subnets (at least two) for the load balancer and exit server',
    },
    /** Number of exit-server tasks at deploy time (autoscaling moves it between min and max). */
    exitServerDesiredCount: {
      kind: 'int',
      min: 1,
      max: 16,
      default: 2,
      description:
        'exit-server tasks at deploy time; every edge client attaches to every task (peer discovery through Cloud Map), so any task serves any device',
    },
    /** Fewest exit-server tasks autoscaling keeps. */
    exitServerMinCount: {
      kind: 'int',
      min: 1,
      max: 16,
      default: 2,
      description: 'fewest exit-server tasks autoscaling keeps (2 or more: a deploy or a lost task then fails no request)',
    },
    /** Most exit-server tasks autoscaling starts. */
    exitServerMaxCount: {
      kind: 'int',
      min: 1,
      max: 16,
      default: 6,
      description: 'most exit-server tasks autoscaling starts (at most 16: an edge client holds at most 16 sessions)',
    },
    /** Average CPU the CPU target-tracking policy aims at, in percent. */
    exitServerTargetCpu: {
      kind: 'int',
      min: 10,
      max: 90,
      default: 60,
      description: 'autoscaling target: average CPU of the exit-server tasks, in percent',
    },
    /** ALB requests per task per minute the request-count policy aims at. */
    exitServerRequestsPerTarget: {
      kind: 'int',
      min: 1,
      max: 1_000_000,
      default: 60_000,
      description: 'autoscaling target: public requests per exit-server task per minute (ALB RequestCountPerTarget)',
    },
    /** Time a stopping exit server lets in-flight requests finish; the ALB deregistration delay and stop timeout follow it. */
    exitServerDrainTimeout: {
      kind: 'duration',
      min: 1000,
      max: 100_000,
      default: 30_000,
      description:
        "how long a stopping exit-server task drains (whole seconds): the ALB deregistration delay and the exit server's --drain-timeout; the task's stop timeout is this plus 15 s (Fargate allows 120 s)",
    },
    /** Fargate CPU units of the exit-server task. */
    exitServerCpu: {
      kind: 'int',
      min: 256,
      max: 4096,
      default: 256,
      description: 'Fargate CPU units of the exit-server task (256, 512, 1024, 2048, 4096)',
    },
    /** Fargate memory of the exit-server task, in MiB. */
    exitServerMemory: {
      kind: 'int',
      min: 512,
      max: 30720,
      default: 512,
      description: 'Fargate memory of the exit-server task, in MiB (must suit the CPU size)',
    },
    /** Load balancer idle timeout, in milliseconds (whole seconds). */
    albIdleTimeout: {
      kind: 'duration',
      min: 1000,
      max: 4000_000,
      default: 3_600_000,
      description: 'load balancer idle timeout; long so idle WebSockets stay open (whole seconds)',
    },
    /** CloudWatch Logs retention, in days. */
    logRetentionDays: {
      kind: 'int',
      min: 1,
      max: 3653,
      default: 30,
      description: `retention of the container logs, in days (one of ${LOG_RETENTION_DAYS.join(', ')})`,
    },
    /** How many devices (ECS Anywhere external instances) you register. */
    deviceCount: {
      kind: 'int',
      min: 1,
      max: 1000,
      default: 1,
      description: 'devices (ECS Anywhere external instances) you register: the SSM activation admits this many, no more',
    },
    /** How long the SSM activation can be used, in milliseconds (whole hours). */
    activationExpiry: {
      kind: 'duration',
      min: 3_600_000,
      max: 720 * 3_600_000,
      default: 24 * 3_600_000,
      description: 'how long the SSM activation (device registration code) stays usable; whole hours, at most 30 days',
    },
    /** Host port of the sample app on each device. */
    sampleAppHostPort: {
      kind: 'port',
      default: SAMPLE_APP_PORT,
      description: 'port the sample app listens on on each device (bridge networking, static host port)',
    },
    /** GitHub repository (owner/name) whose main-branch workflow may deploy; undefined = no TunnelCiRole stack. */
    githubRepository: {
      kind: 'custom',
      placeholder: 'owner/name',
      expected: 'a GitHub repository as owner/name',
      parse: parseGithubRepository,
      description:
        "adds the TunnelCiRole stack: a role this repository's GitHub Actions deploy jobs (environment production) assume through OIDC",
    },
    /** ARN of the account's existing GitHub OIDC provider; undefined = TunnelCiRole creates it. */
    githubOidcProviderArn: {
      kind: 'string',
      placeholder: 'arn',
      description:
        'with --github-repository: the account already has the token.actions.githubusercontent.com OIDC provider (one per account)',
    },
    /** E-mail addresses subscribed to the alarms' SNS topic (created by the exit-server stack). */
    alarmEmail: {
      kind: 'list',
      of: {
        kind: 'custom',
        placeholder: 'address',
        expected: 'an e-mail address',
        parse: (raw: string) => {
          if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw)) throw new Error('expected an e-mail address');
          return raw;
        },
      },
      default: [],
      description:
        'send the alarms (unhealthy targets, target 5xx, exit-server or edge tasks missing) to an SNS topic with these e-mail subscriptions',
    },
    /** ARN of an existing SNS topic for the alarms. */
    alarmTopicArn: {
      kind: 'string',
      placeholder: 'arn',
      description: 'send the alarms to this existing SNS topic instead (not with --alarm-email)',
    },
    /** Edge-client upstreams (`HOST=URL` or `URL`); empty = the sample app on the device. */
    edgeUpstream: {
      kind: 'list',
      of: { kind: 'custom', placeholder: 'HOST=URL|URL', expected: 'HOST=URL or URL (http:// or https://)', parse: parseEdgeUpstream },
      default: [],
      description: 'upstreams of the edge clients (default: http://127.0.0.1:<sample-app-host-port>)',
    },
  },
  // A method, not `validate: validateInfraConfig`: that would make the schema's type depend on
  // InfraConfig, which is derived from the schema (a circular type).
  validate(config) {
    validateInfraConfig(config);
  },
});

/** Resolved infra configuration. */
export type InfraConfig = ConfigOf<typeof infraSchema>;
