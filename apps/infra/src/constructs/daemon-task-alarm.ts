import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/** The DAEMON service to watch. */
export interface DaemonTaskAlarmProps {
  /** Name of the cluster the devices are registered with. */
  readonly clusterName: string;
  /** Name of the DAEMON service. */
  readonly serviceName: string;
  /** What the alarm is about, for its description, e.g. 'edge client'. */
  readonly what: string;
  /**
   * Length of one evaluation period.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
  /**
   * Consecutive periods short of tasks before the alarm fires (a task restarting is not an outage).
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * Alarm description.
   * @default - says a DAEMON service runs fewer tasks than devices are registered
   */
  readonly description?: string;
}

/**
 * Fires when a DAEMON service runs fewer tasks than devices are registered: a DAEMON service
 * wants one task per registered device, so its desired count is the device count, and any
 * shortfall is a device whose task cannot start or keeps failing its health check. Reads the
 * service's Container Insights metrics (`ECS/ContainerInsights`: DesiredTaskCount,
 * RunningTaskCount), which the cluster enables; a gap in the running count counts as zero.
 */
export class DaemonTaskAlarm extends Construct {
  /** The alarm. */
  readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: DaemonTaskAlarmProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    const evaluationPeriods = props.evaluationPeriods ?? 3;
    if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1 || evaluationPeriods > 100) {
      throw new Error(`DaemonTaskAlarm: evaluationPeriods must be an integer from 1 to 100, got ${evaluationPeriods}`);
    }
    const metric = (metricName: string, statistic: string) =>
      new Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        dimensionsMap: { ClusterName: props.clusterName, ServiceName: props.serviceName },
        statistic,
        period,
      });
    const shortfall = new MathExpression({
      expression: 'FILL(desired, 0) - FILL(running, 0)',
      // Worst case within the period: the most devices wanted, the fewest tasks running.
      usingMetrics: { desired: metric('DesiredTaskCount', 'Maximum'), running: metric('RunningTaskCount', 'Minimum') },
      label: `${props.what} tasks missing`,
      period,
    });
    this.alarm = shortfall.createAlarm(this, 'Alarm', {
      alarmDescription:
        props.description ??
        `Fewer ${props.what} tasks run than devices are registered (service ${props.serviceName}): ` +
          'see the service events in the ECS console; a task that fails its health check or cannot start is replaced in a loop.',
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods,
      // No data at all: no device registered yet, nothing is missing.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
