import { Duration, Validations } from 'aws-cdk-lib';
import { type IVpc, SubnetType } from 'aws-cdk-lib/aws-ec2';
import {
  type ContainerDefinition,
  type ContainerImage,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  type ICluster,
  LinuxParameters,
  LogDrivers,
  OperatingSystemFamily,
  Protocol,
  Secret as EcsSecret,
} from 'aws-cdk-lib/aws-ecs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { EXIT_SERVER_CONTROL_PORT, EXIT_SERVER_PUBLIC_PORT } from '@tunnel/config';
import { ADMIN_TOKEN_ENV, TOKEN_ENV } from '../tunnel-ports.ts';
import type { ImageArch } from './app-image.ts';

/** How the exit server runs on Fargate. */
export interface ExitServerServiceProps {
  /** Cluster the service runs in. */
  readonly cluster: ICluster;
  /** VPC whose public subnets hold the tasks. */
  readonly vpc: IVpc;
  /** The exit-server image; its architecture must equal `arch`. */
  readonly image: ContainerImage;
  /** Secret whose value is the tunnel token, injected as `TUNNEL_TOKEN`. */
  readonly tokenSecret: ISecret;
  /**
   * Secret whose value is the admin token (opens /status and the other admin endpoints), injected
   * as `TUNNEL_ADMIN_TOKEN`; must be a different secret from `tokenSecret`.
   */
  readonly adminTokenSecret: ISecret;
  /**
   * CPU architecture of the task (arm64 = Graviton).
   * @default 'arm64'
   */
  readonly arch?: ImageArch;
  /**
   * Fargate CPU units.
   * @default 256
   */
  readonly cpu?: number;
  /**
   * Fargate memory, in MiB.
   * @default 512
   */
  readonly memoryLimitMiB?: number;
  /**
   * Number of tasks at deploy time. Every edge client attaches to every task (peer discovery),
   * so two keep a deploy or a lost task from failing requests.
   * @default 2
   */
  readonly desiredCount?: number;
  /**
   * Public TCP ports the exit server opens (`TUNNEL_TCP_PORT`); must not be 8000 or 8123.
   * @default - none
   */
  readonly tcpPorts?: readonly number[];
  /**
   * Retention of the container log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * How long the exit server keeps an idle public or control-port HTTP connection
   * (`TUNNEL_KEEP_ALIVE_TIMEOUT`). Behind an ALB it must be longer than the ALB's idle timeout
   * (see keep-alive.ts); whole seconds.
   * @default - the exit server's own default (65 s)
   */
  readonly keepAliveTimeout?: Duration;
  /**
   * Time between SIGTERM and SIGKILL; longer than the exit server's drain so in-flight
   * requests finish. Fargate allows at most 120 s.
   * @default Duration.seconds(45)
   */
  readonly stopTimeout?: Duration;
  /**
   * The exit server's drain after SIGTERM (`TUNNEL_DRAIN_TIMEOUT`); must be shorter than
   * `stopTimeout` (see drain-timings.ts for how the stack derives both); whole seconds.
   * @default - the exit server's own default (30 s)
   */
  readonly drainTimeout?: Duration;
}

/** Environment variable of the exit server's drain timeout. */
export const DRAIN_TIMEOUT_ENV = 'TUNNEL_DRAIN_TIMEOUT';

/** Environment variable of the exit server's keep-alive option. */
export const KEEP_ALIVE_ENV = 'TUNNEL_KEEP_ALIVE_TIMEOUT';

/** Name of the exit-server container in the task definition. */
export const EXIT_SERVER_CONTAINER = 'exit-server';

/**
 * The exit server as a Fargate service in public subnets (a public IP gives it egress to ECR and
 * Secrets Manager without a NAT gateway; its security group admits only the load balancers).
 */
export class ExitServerService extends Construct {
  /** The task definition. */
  readonly taskDefinition: FargateTaskDefinition;
  /** The exit-server container. */
  readonly container: ContainerDefinition;
  /** The Fargate service; load balancers register it as a target. */
  readonly service: FargateService;
  /** Log group of the container. */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ExitServerServiceProps) {
    super(scope, id);
    if (props.adminTokenSecret === props.tokenSecret) {
      throw new Error(
        'ExitServerService: adminTokenSecret must be a different secret from tokenSecret (every edge client holds the token)',
      );
    }
    const tcpPorts = props.tcpPorts ?? [];
    for (const port of tcpPorts) {
      if (port === EXIT_SERVER_PUBLIC_PORT || port === EXIT_SERVER_CONTROL_PORT) {
        throw new Error(`ExitServerService: TCP port ${port} collides with the exit server's own ports (8000, 8123)`);
      }
    }
    if (new Set(tcpPorts).size !== tcpPorts.length) {
      throw new Error(`ExitServerService: tcpPorts lists a port twice (${tcpPorts.join(', ')})`);
    }
    const stopTimeout = props.stopTimeout ?? Duration.seconds(45);
    if (stopTimeout.toSeconds() < 2 || stopTimeout.toSeconds() > 120) {
      throw new Error(`ExitServerService: stopTimeout must be 2-120 s on Fargate, got ${stopTimeout.toSeconds()} s`);
    }

    const drainSeconds = props.drainTimeout?.toSeconds({ integral: false }) ?? 30;
    if (!Number.isInteger(drainSeconds) || drainSeconds < 1 || drainSeconds >= stopTimeout.toSeconds()) {
      throw new Error(
        `ExitServerService: drainTimeout must be whole seconds, at least 1 and shorter than stopTimeout (${stopTimeout.toSeconds()} s), got ${drainSeconds} s`,
      );
    }

    const keepAliveSeconds = props.keepAliveTimeout?.toSeconds({ integral: false });
    if (keepAliveSeconds !== undefined && (!Number.isInteger(keepAliveSeconds) || keepAliveSeconds < 1)) {
      throw new Error(`ExitServerService: keepAliveTimeout must be whole seconds, at least 1, got ${keepAliveSeconds} s`);
    }

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryLimitMiB ?? 512,
      runtimePlatform: {
        cpuArchitecture: (props.arch ?? 'arm64') === 'arm64' ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    this.container = this.taskDefinition.addContainer('ExitServer', {
      containerName: EXIT_SERVER_CONTAINER,
      image: props.image,
      environment: {
        // Behind the ALB: append to its X-Forwarded-For instead of replacing it.
        TUNNEL_TRUST_PROXY: 'true',
        ...(tcpPorts.length > 0 ? { TUNNEL_TCP_PORT: tcpPorts.join(',') } : {}),
        ...(keepAliveSeconds !== undefined ? { [KEEP_ALIVE_ENV]: `${keepAliveSeconds}s` } : {}),
        ...(props.drainTimeout !== undefined ? { [DRAIN_TIMEOUT_ENV]: `${drainSeconds}s` } : {}),
      },
      secrets: {
        [TOKEN_ENV]: EcsSecret.fromSecretsManager(props.tokenSecret),
        [ADMIN_TOKEN_ENV]: EcsSecret.fromSecretsManager(props.adminTokenSecret),
      },
      portMappings: [
        { containerPort: EXIT_SERVER_PUBLIC_PORT, protocol: Protocol.TCP, name: 'http' },
        { containerPort: EXIT_SERVER_CONTROL_PORT, protocol: Protocol.TCP, name: 'control' },
        ...tcpPorts.map((port) => ({ containerPort: port, protocol: Protocol.TCP, name: `tcp-${port}` })),
      ],
      logging: LogDrivers.awsLogs({ streamPrefix: 'exit-server', logGroup: this.logGroup }),
      // Node as PID 1 gets no default SIGTERM handling; an init forwards signals and reaps children.
      linuxParameters: new LinuxParameters(this, 'Linux', { initProcessEnabled: true }),
      stopTimeout,
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds only non-secret settings (trust proxy, TCP ports, keep-alive); the token comes from Secrets Manager.',
    });
    // The execution role's grants (ECR pull, log writes, secret read) are scoped by CDK except the
    // ECR token call, which has no resource-level permission.
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken supports no resource-level permissions; every other grant is scoped.',
    });

    this.service = new FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 2,
      vpcSubnets: props.vpc.selectSubnets({ subnetType: SubnetType.PUBLIC }),
      assignPublicIp: true,
      circuitBreaker: { enable: true, rollback: true },
      // Start the replacement before stopping the old task: the clients attach to it (it turns
      // ready on /readyz) while the old one still serves, so a deploy fails no request.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(30),
    });
  }
}
