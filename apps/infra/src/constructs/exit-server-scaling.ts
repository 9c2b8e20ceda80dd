import { Duration } from 'aws-cdk-lib';
import type { ScalableTaskCount, FargateService } from 'aws-cdk-lib/aws-ecs';
import type { ApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';

/** Largest fleet: an edge client holds at most 16 sessions (`--ha-connections`). */
export const MAX_EXIT_SERVERS = 16;

/** How the exit-server fleet scales. */
export interface ExitServerScalingProps {
  /** The exit-server service. */
  readonly service: FargateService;
  /** The public target group, whose RequestCountPerTarget one policy tracks. */
  readonly publicTargetGroup: ApplicationTargetGroup;
  /** Fewest tasks (2 or more keeps a deploy or a lost task from failing requests). */
  readonly minCapacity: number;
  /** Most tasks, at most {@link MAX_EXIT_SERVERS}. */
  readonly maxCapacity: number;
  /**
   * Average CPU to keep, in percent.
   * @default 60
   */
  readonly targetCpuPercent?: number;
  /**
   * Public requests per task per minute to keep.
   * @default 60000
   */
  readonly requestsPerTarget?: number;
  /**
   * Wait after scaling in before scaling in again (a new task needs its clients first).
   * @default Duration.minutes(5)
   */
  readonly scaleInCooldown?: Duration;
  /**
   * Wait after scaling out before scaling out again.
   * @default Duration.minutes(1)
   */
  readonly scaleOutCooldown?: Duration;
}

/**
 * Target-tracking autoscaling of the exit servers on CPU and on ALB requests per target. Any
 * task serves any device (every edge client attaches to every task), so adding tasks adds
 * capacity for every hostname.
 */
export class ExitServerScaling extends Construct {
  /** The scalable task count. */
  readonly taskCount: ScalableTaskCount;

  constructor(scope: Construct, id: string, props: ExitServerScalingProps) {
    super(scope, id);
    const { minCapacity, maxCapacity } = props;
    if (!Number.isInteger(minCapacity) || minCapacity < 1)
      throw new Error(`ExitServerScaling: minCapacity must be an integer >= 1, got ${minCapacity}`);
    if (!Number.isInteger(maxCapacity) || maxCapacity < minCapacity || maxCapacity > MAX_EXIT_SERVERS) {
      throw new Error(
        `ExitServerScaling: maxCapacity must be an integer from minCapacity (${minCapacity}) to ${MAX_EXIT_SERVERS}, got ${maxCapacity}`,
      );
    }
    const cpu = props.targetCpuPercent ?? 60;
    if (cpu < 10 || cpu > 90) throw new Error(`ExitServerScaling: targetCpuPercent must be 10-90, got ${cpu}`);
    const requests = props.requestsPerTarget ?? 60_000;
    if (!Number.isInteger(requests) || requests < 1)
      throw new Error(`ExitServerScaling: requestsPerTarget must be a positive integer, got ${requests}`);
    const cooldowns = {
      scaleInCooldown: props.scaleInCooldown ?? Duration.minutes(5),
      scaleOutCooldown: props.scaleOutCooldown ?? Duration.minutes(1),
    };

    this.taskCount = props.service.autoScaleTaskCount({ minCapacity, maxCapacity });
    this.taskCount.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: cpu, ...cooldowns });
    this.taskCount.scaleOnRequestCount('Requests', { requestsPerTarget: requests, targetGroup: props.publicTargetGroup, ...cooldowns });
  }
}
