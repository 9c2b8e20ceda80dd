import type { InfraConfig } from '@tunnel/config';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarm-topic.ts';

/**
 * The alarms' topic when one is configured: `--alarm-topic-arn`, or the topic `--alarm-email`
 * makes (created by the exit-server stack, `create`; referenced by name from the others).
 */
export function alarmTopicOf(scope: Construct, config: InfraConfig, create: boolean): AlarmTopic | undefined {
  if (config.alarmEmail.length === 0 && config.alarmTopicArn === undefined) return undefined;
  return new AlarmTopic(scope, 'AlarmTopic', {
    emails: create ? config.alarmEmail : [],
    topicArn: config.alarmTopicArn,
    topicName: `${config.appName}-alarms`,
  });
}
