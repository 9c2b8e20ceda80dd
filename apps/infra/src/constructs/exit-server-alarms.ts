import { Duration } from 'aws-cdk-lib';
import { type Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { FargateService } from 'aws-cdk-lib/aws-ecs';
import { type ApplicationLoadBalancer, type ApplicationTargetGroup, HttpCodeTarget } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { AlarmTopic } from './alarm-topic.ts';
import { DaemonTaskAlarm } from './daemon-task-alarm.ts';

/** What the exit-server alarms watch. */
export interface ExitServerAlarmsProps {
  /** The public application load balancer. */
  readonly loadBalancer: ApplicationLoadBalancer;
  /** Its target groups (public HTTP and control port), each watched for unhealthy targets. */
  readonly targetGroups: Readonly<Record<string, ApplicationTargetGroup>>;
  /** The exit server's Fargate service. */
  readonly service: FargateService;
  /** Where to send the alarms; undefined = alarms without actions (see them in the console). */
  readonly topic?: AlarmTopic;
  /**
   * Target 5xx answers within 5 minutes that raise the alarm (count).
   * @default 10
   */
  readonly target5xxThreshold?: number;
}

/**
 * The exit server's alarms: a target group with an unhealthy target for 3 minutes, the targets
 * answering 5xx (502/503/504 from the tunnel: no client, upstream down or slow), and fewer
 * running tasks than desired for 3 minutes (Container Insights, as for the edge DAEMON).
 */
export class ExitServerAlarms extends Construct {
  /** Every alarm, by what it watches. */
  readonly alarms: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: ExitServerAlarmsProps) {
    super(scope, id);
    const threshold = props.target5xxThreshold ?? 10;
    if (!Number.isInteger(threshold) || threshold < 1)
      throw new Error(`ExitServerAlarms: target5xxThreshold must be a positive integer, got ${threshold}`);
    const alarms: Record<string, Alarm> = {};
    for (const [name, group] of Object.entries(props.targetGroups)) {
      alarms[`unhealthy${name}`] = group.metrics
        .unhealthyHostCount({ period: Duration.minutes(1), statistic: 'Maximum' })
        .createAlarm(this, `Unhealthy${name}`, {
          alarmDescription: `An exit-server target of the ${name} target group failed its health checks for 3 minutes: see the ECS service events and the task's logs.`,
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        });
    }
    alarms.target5xx = props.loadBalancer.metrics
      .httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, { period: Duration.minutes(5), statistic: 'Sum' })
      .createAlarm(this, 'Target5xx', {
        alarmDescription: `The exit servers answered ${threshold} or more 5xx in 5 minutes: 503 = no edge client serves the host, 502 = an upstream failed, 504 = an upstream was too slow; see the access log (requestId) and /metrics.`,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    alarms.tasksBelowDesired = new DaemonTaskAlarm(this, 'TasksBelowDesired', {
      clusterName: props.service.cluster.clusterName,
      serviceName: props.service.serviceName,
      what: 'exit server',
      period: Duration.minutes(1),
      evaluationPeriods: 3,
      description:
        'Fewer exit-server tasks run than the service wants (3 minutes): see the ECS service events; a task that fails its health check or cannot start is replaced in a loop.',
    }).alarm;
    for (const alarm of Object.values(alarms)) props.topic?.notify(alarm);
    this.alarms = alarms;
  }
}
