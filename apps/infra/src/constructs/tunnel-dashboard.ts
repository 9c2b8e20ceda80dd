import { Duration } from 'aws-cdk-lib';
import { type Alarm, AlarmStatusWidget, Dashboard, GraphWidget, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { FargateService } from 'aws-cdk-lib/aws-ecs';
import {
  type ApplicationLoadBalancer,
  type ApplicationTargetGroup,
  HttpCodeElb,
  HttpCodeTarget,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';

/** What the dashboard shows. */
export interface TunnelDashboardProps {
  /** Dashboard name (unique in the account and region). */
  readonly dashboardName: string;
  /** The public application load balancer. */
  readonly loadBalancer: ApplicationLoadBalancer;
  /** Its target groups, by a short name. */
  readonly targetGroups: Readonly<Record<string, ApplicationTargetGroup>>;
  /** The exit server's Fargate service. */
  readonly service: FargateService;
  /** Alarms whose state the dashboard shows at the top. */
  readonly alarms: readonly Alarm[];
}

/**
 * A CloudWatch dashboard of the public side: the alarms' states, requests and 5xx at the load
 * balancer, target latency, healthy and unhealthy targets, and the exit server's tasks (running
 * against desired), CPU and memory. The tunnel's own metrics (per host, per client) are on
 * /metrics for Prometheus (docs/grafana).
 */
export class TunnelDashboard extends Construct {
  /** The dashboard. */
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: TunnelDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(1);
    const lb = props.loadBalancer.metrics;
    const insights = (metricName: string) =>
      new Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        dimensionsMap: { ClusterName: props.service.cluster.clusterName, ServiceName: props.service.serviceName },
        statistic: 'Average',
        period,
      });
    const groups = Object.entries(props.targetGroups);
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24 }));
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Requests and 5xx at the load balancer',
        left: [lb.requestCount({ period, statistic: 'Sum' })],
        right: [
          lb.httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum' }),
          lb.httpCodeElb(HttpCodeElb.ELB_5XX_COUNT, { period, statistic: 'Sum' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Target response time (p50, p99)',
        left: [lb.targetResponseTime({ period, statistic: 'p50' }), lb.targetResponseTime({ period, statistic: 'p99' })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Healthy and unhealthy targets',
        left: groups.map(([name, g]) => g.metrics.healthyHostCount({ period, statistic: 'Minimum', label: `${name} healthy` })),
        right: groups.map(([name, g]) => g.metrics.unhealthyHostCount({ period, statistic: 'Maximum', label: `${name} unhealthy` })),
        width: 12,
      }),
      new GraphWidget({
        title: 'Exit-server tasks: running and desired',
        left: [insights('RunningTaskCount'), insights('DesiredTaskCount')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Exit-server CPU and memory (%)',
        left: [props.service.metricCpuUtilization({ period }), props.service.metricMemoryUtilization({ period })],
        width: 24,
      }),
    );
  }
}
