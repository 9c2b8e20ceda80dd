import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { synthInfra } from '../testing/synth-infra.ts';

// GIVEN the example config (no alarm destination) and one with two alarm e-mail addresses
const plain = synthInfra();
const mailed = synthInfra(['--alarm-email', 'ops@example.com', '--alarm-email', 'oncall@example.com']);
afterAll(() => [plain, mailed].forEach((s) => s.dispose()));

const metricOf = (name: string) => Match.objectLike({ MetricName: name });

describe('exit-server alarms and dashboard', () => {
  const template = mailed.template('TunnelExitServer');

  it('alarms on unhealthy targets in each target group, on target 5xx, and on fewer running tasks than desired', () => {
    // THEN one unhealthy-host alarm per target group (public HTTP, control port): 3 minutes with one unhealthy target
    const unhealthy = template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'UnHealthyHostCount' } });
    expect(Object.keys(unhealthy)).toHaveLength(2);
    for (const a of Object.values(unhealthy)) {
      expect(a.Properties).toMatchObject({
        Namespace: 'AWS/ApplicationELB',
        Threshold: 1,
        EvaluationPeriods: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    // THEN target 5xx: 10 in 5 minutes
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'HTTPCode_Target_5XX_Count',
      Namespace: 'AWS/ApplicationELB',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 10,
    });
    // THEN desired minus running tasks (Container Insights) >= 1 for 3 minutes
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      EvaluationPeriods: 3,
      AlarmDescription: Match.stringLikeRegexp('Fewer exit-server tasks run than the service wants'),
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(desired, 0) - FILL(running, 0)' }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: metricOf('DesiredTaskCount') }) }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: metricOf('RunningTaskCount') }) }),
      ]),
    });
  });

  it('sends every alarm to an SNS topic with the configured e-mail subscriptions, on ALARM and on OK', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'tunnel-alarms' });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    }
  });

  it('has a dashboard with the alarms, load-balancer requests and 5xx, targets and tasks', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(Object.values(dashboards)[0].Properties.DashboardBody);
    for (const needle of [
      'RequestCount',
      'HTTPCode_Target_5XX_Count',
      'TargetResponseTime',
      'HealthyHostCount',
      'UnHealthyHostCount',
      'RunningTaskCount',
      'DesiredTaskCount',
      'CPUUtilization',
      'MemoryUtilization',
      'alarm',
    ]) {
      expect(body).toContain(needle);
    }
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'tunnel-exit-server' });
  });

  it('without an alarm destination: the same alarms, no topic, no actions', () => {
    const t = plain.template('TunnelExitServer');
    t.resourceCountIs('AWS::SNS::Topic', 0);
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4);
    for (const a of alarms) expect(a.Properties.AlarmActions).toBeUndefined();
    expect(Object.values(plain.template('TunnelEdge').findResources('AWS::CloudWatch::Alarm'))[0].Properties.AlarmActions).toBeUndefined();
  });
});

describe('edge alarm', () => {
  it("notifies the exit-server stack's topic, referenced by name (no topic of its own)", () => {
    const t = mailed.template('TunnelEdge');
    t.resourceCountIs('AWS::SNS::Topic', 0);
    const alarm = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarm).toHaveLength(1);
    expect(JSON.stringify(alarm[0].Properties.AlarmActions)).toContain(':tunnel-alarms');
  });
});

describe('AlarmTopic', () => {
  it('refuses e-mail addresses together with an existing topic', () => {
    const stack = new Stack(new App(), 'S');
    expect(
      () => new AlarmTopic(stack, 'T', { emails: ['a@example.com'], topicArn: 'arn:aws:sns:eu-west-1:123456789012:t', topicName: 'x' }),
    ).toThrow(/not both/);
  });
});
