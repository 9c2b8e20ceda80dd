import { ConfigError } from '../errors.ts';
import type { InfraConfig } from './infra.ts';

/** Container ports of the exit server (public HTTP, control); a forwarded TCP port must not reuse them. */
export const EXIT_SERVER_PORTS = [8000, 8123] as const;

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Memory sizes (MiB) Fargate accepts for each CPU size (CPU units). */
export const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: Array.from({ length: 13 }, (_, i) => 4096 + i * 1024),
  4096: Array.from({ length: 23 }, (_, i) => 8192 + i * 1024),
};

function conflict(flag: string, message: string): ConfigError {
  return new ConfigError('TUN_ERR_CONFIG_CONFLICT', flag, message);
}

/**
 * Checks what the option kinds cannot: options that need or exclude one another, and values AWS
 * accepts in coarser steps than the config parses. Throws {@link ConfigError}
 * (TUN_ERR_CONFIG_CONFLICT) naming the flag to change; checks run in a fixed order, so the first
 * conflict found is always the one reported.
 */
export function validateInfraConfig(config: InfraConfig): void {
  validateDeployment(config);
  validateDns(config);
  validateTcpPorts(config.tcpPorts);
  validateVpc(config.vpcId, config.availabilityZones, config.publicSubnetIds);
  validateExitServerTask(config);
  validateDurations(config);
  if (config.edgeUpstream.filter((u) => /^https?:\/\//.test(u)).length > 1) {
    throw conflict('--edge-upstream', '--edge-upstream: more than one default upstream (bare URL)');
  }
}

/** Options that only make sense together with another one (CI role, alarm topic). */
function validateDeployment(config: InfraConfig): void {
  if (config.githubOidcProviderArn !== undefined && config.githubRepository === undefined) {
    throw conflict('--github-oidc-provider-arn', '--github-oidc-provider-arn only applies with --github-repository');
  }
  if (config.alarmEmail.length > 0 && config.alarmTopicArn !== undefined) {
    throw conflict('--alarm-topic-arn', '--alarm-email creates a topic and --alarm-topic-arn names an existing one: give one of them');
  }
}

/** The certificate, the hosted zone and the DNS records it may hold. */
function validateDns(config: InfraConfig): void {
  if ((config.hostedZoneId === undefined) !== (config.hostedZoneName === undefined)) {
    const missing = config.hostedZoneId === undefined ? '--hosted-zone-id' : '--hosted-zone-name';
    throw conflict(missing, `--hosted-zone-id and --hosted-zone-name must be given together (${missing} is missing)`);
  }
  if (config.certificateArn === undefined && config.hostedZoneId === undefined) {
    throw conflict(
      '--certificate-arn',
      'HTTPS needs a certificate: give --certificate-arn, or --hosted-zone-id and --hosted-zone-name to create one',
    );
  }
  const zone = config.hostedZoneName?.toLowerCase().replace(/\.$/, '');
  const domain = config.domain.toLowerCase();
  if (zone !== undefined && domain !== zone && !domain.endsWith(`.${zone}`)) {
    throw conflict('--domain', `--domain ${config.domain} is not inside hosted zone ${config.hostedZoneName}`);
  }
  for (const [flag, on] of [
    ['--create-alias-record', config.createAliasRecord],
    ['--create-wildcard-record', config.createWildcardRecord],
  ] as const) {
    if (on && config.hostedZoneId === undefined) {
      throw conflict(flag, `${flag} needs --hosted-zone-id and --hosted-zone-name`);
    }
  }
}

/** Forwarded TCP ports: none of the exit server's own, none twice. */
function validateTcpPorts(tcpPorts: readonly number[]): void {
  const seen = new Set<number>();
  for (const port of tcpPorts) {
    if ((EXIT_SERVER_PORTS as readonly number[]).includes(port)) {
      throw conflict('--tcp-ports', `--tcp-ports: port ${port} collides with the exit server's own ports (8000, 8123)`);
    }
    if (seen.has(port)) throw conflict('--tcp-ports', `--tcp-ports: port ${port} is listed twice`);
    seen.add(port);
  }
}

/** The exit server's Fargate task size and its service's counts. */
function validateExitServerTask(config: InfraConfig): void {
  const memory = FARGATE_MEMORY[config.exitServerCpu];
  if (memory === undefined) {
    throw conflict('--exit-server-cpu', `--exit-server-cpu must be one of ${Object.keys(FARGATE_MEMORY).join(', ')}`);
  }
  if (!memory.includes(config.exitServerMemory)) {
    throw conflict(
      '--exit-server-memory',
      `--exit-server-memory ${config.exitServerMemory} does not suit --exit-server-cpu ${config.exitServerCpu} ` +
        `(Fargate accepts ${memory[0]}-${memory[memory.length - 1]} MiB in 1024 MiB steps for it)`,
    );
  }
  if (config.exitServerMinCount > config.exitServerMaxCount) {
    throw conflict('--exit-server-min-count', '--exit-server-min-count must be <= --exit-server-max-count');
  }
  if (config.exitServerDesiredCount < config.exitServerMinCount || config.exitServerDesiredCount > config.exitServerMaxCount) {
    throw conflict(
      '--exit-server-desired-count',
      '--exit-server-desired-count must lie between --exit-server-min-count and --exit-server-max-count',
    );
  }
}

/** Durations that AWS takes in coarser units than the config parses (seconds, hours, days). */
function validateDurations(config: InfraConfig): void {
  if (config.exitServerDrainTimeout % 1000 !== 0) {
    throw conflict('--exit-server-drain-timeout', '--exit-server-drain-timeout must be whole seconds');
  }
  if (config.albIdleTimeout % 1000 !== 0) {
    throw conflict('--alb-idle-timeout', '--alb-idle-timeout must be whole seconds');
  }
  if (config.activationExpiry % 3_600_000 !== 0) {
    throw conflict('--activation-expiry', '--activation-expiry must be whole hours, e.g. 24h');
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(config.logRetentionDays)) {
    throw conflict('--log-retention-days', `--log-retention-days must be one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }
}

function validateVpc(vpcId: string | undefined, azs: readonly string[], subnets: readonly string[]): void {
  if (vpcId === undefined) {
    if (azs.length > 0 || subnets.length > 0) {
      const flag = azs.length > 0 ? '--availability-zones' : '--public-subnet-ids';
      throw conflict(flag, `${flag} only applies with --vpc-id (an existing VPC)`);
    }
    return;
  }
  if (subnets.length < 2) {
    throw conflict('--public-subnet-ids', '--vpc-id needs --public-subnet-ids with at least two subnets (the load balancer spans two AZs)');
  }
  if (azs.length !== subnets.length) {
    throw conflict(
      '--availability-zones',
      `--vpc-id needs one --availability-zones entry per public subnet (${azs.length} zones for ${subnets.length} subnets)`,
    );
  }
}
