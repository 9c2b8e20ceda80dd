import { Duration, Validations } from 'aws-cdk-lib';
import {
  type ContainerDefinition,
  type ContainerImage,
  ExternalService,
  type HealthCheck,
  ExternalTaskDefinition,
  type ICluster,
  LinuxParameters,
  LogDrivers,
  NetworkMode,
  PlacementConstraint,
  type PortMapping,
  Protocol,
  type Secret as EcsSecret,
} from 'aws-cdk-lib/aws-ecs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ImageArch } from './app-image.ts';

/** A container to run once on every registered device. */
export interface ExternalDaemonServiceProps {
  /** Cluster the devices are registered with. */
  readonly cluster: ICluster;
  /** Image to run; must suit the devices' CPU (arm64 for a Raspberry Pi). */
  readonly image: ContainerImage;
  /** Container name, also the log stream prefix. */
  readonly containerName: string;
  /**
   * Docker networking on the device: HOST shares the device's network (the container reaches
   * `127.0.0.1` of the device), BRIDGE isolates it and publishes `portMappings` on static host ports.
   * @default NetworkMode.BRIDGE
   */
  readonly networkMode?: NetworkMode.HOST | NetworkMode.BRIDGE;
  /**
   * Ports to publish (BRIDGE: each needs a static `hostPort`; HOST: `hostPort` equals `containerPort`).
   * @default - none
   */
  readonly portMappings?: readonly PortMapping[];
  /**
   * Non-secret environment variables.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Secrets injected as environment variables by the ECS agent.
   * @default - none
   */
  readonly secrets?: Readonly<Record<string, EcsSecret>>;
  /**
   * Memory reserved for the container on the device, in MiB (a soft limit: small devices are shared).
   * @default 64
   */
  readonly memoryReservationMiB?: number;
  /**
   * Retention of the container log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Time between SIGTERM and SIGKILL; longer than the apps' 30 s drain.
   * @default Duration.seconds(45)
   */
  readonly stopTimeout?: Duration;
  /**
   * Container health check; ECS replaces a task that fails it (an image's own HEALTHCHECK is
   * ignored by ECS, so each service says it here).
   */
  readonly healthCheck: HealthCheck;
  /**
   * CPU architecture of the image: tasks are placed only on devices of this architecture
   * (`attribute:ecs.cpu-architecture`), so an arm64 image never lands on an x86 device.
   */
  readonly arch: ImageArch;
}

/** The placement constraint expression that keeps tasks on devices of one CPU architecture. */
export function architectureConstraint(arch: ImageArch): string {
  return `attribute:ecs.cpu-architecture == ${arch}`;
}

/**
 * A container on ECS Anywhere external instances with DAEMON scheduling: exactly one task per
 * registered device, started when a device registers, so nobody has to keep a count in step.
 */
export class ExternalDaemonService extends Construct {
  /** The task definition (EXTERNAL compatibility). */
  readonly taskDefinition: ExternalTaskDefinition;
  /** The container. */
  readonly container: ContainerDefinition;
  /** The daemon service. */
  readonly service: ExternalService;
  /** Log group of the container. */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ExternalDaemonServiceProps) {
    super(scope, id);
    const networkMode = props.networkMode ?? NetworkMode.BRIDGE;
    const portMappings = props.portMappings ?? [];
    for (const mapping of portMappings) {
      if (networkMode === NetworkMode.BRIDGE && !mapping.hostPort) {
        throw new Error(
          `ExternalDaemonService: port ${mapping.containerPort} needs a static hostPort in BRIDGE mode, ` +
            'or other containers on the device cannot find it',
        );
      }
      if (networkMode === NetworkMode.HOST && mapping.hostPort !== undefined && mapping.hostPort !== mapping.containerPort) {
        throw new Error(
          `ExternalDaemonService: in HOST mode the container listens on the device directly, so hostPort ` +
            `${mapping.hostPort} must equal containerPort ${mapping.containerPort}`,
        );
      }
    }
    const stopTimeout = props.stopTimeout ?? Duration.seconds(45);
    if (stopTimeout.toSeconds() < 2 || stopTimeout.toSeconds() > 120) {
      throw new Error(`ExternalDaemonService: stopTimeout must be 2-120 s, got ${stopTimeout.toSeconds()} s`);
    }

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.taskDefinition = new ExternalTaskDefinition(this, 'Task', { networkMode });
    this.container = this.taskDefinition.addContainer('Container', {
      containerName: props.containerName,
      image: props.image,
      memoryReservationMiB: props.memoryReservationMiB ?? 64,
      environment: { ...props.environment },
      secrets: { ...props.secrets },
      portMappings: portMappings.map((m) => ({ protocol: Protocol.TCP, ...m })),
      logging: LogDrivers.awsLogs({ streamPrefix: props.containerName, logGroup: this.logGroup }),
      // Node as PID 1 gets no default SIGTERM handling; an init forwards signals and reaps children.
      linuxParameters: new LinuxParameters(this, 'Linux', { initProcessEnabled: true }),
      stopTimeout,
      healthCheck: props.healthCheck,
    });
    this.taskDefinition.addPlacementConstraint(PlacementConstraint.memberOf(architectureConstraint(props.arch)));
    if (Object.keys(props.environment ?? {}).length > 0) {
      Validations.of(this.taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason: 'The environment holds only non-secret settings (URLs, ports); secrets are injected from Secrets Manager.',
      });
    }
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken supports no resource-level permissions; every other grant is scoped.',
    });

    this.service = new ExternalService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      daemon: true,
      // A task that cannot start (bad image, missing secret) fails the deploy instead of retrying for hours.
      circuitBreaker: { enable: true, rollback: true },
      // One task per device: the old one must stop before the new one can bind the same ports.
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
    });
  }
}
