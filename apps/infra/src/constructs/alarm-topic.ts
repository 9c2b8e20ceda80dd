import { Arn, Stack } from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Where alarms are sent: a topic created here (with e-mail subscriptions), or an existing one. */
export interface AlarmTopicProps {
  /**
   * Create a topic named `topicName` and subscribe these addresses (each confirms by e-mail).
   * @default - none
   */
  readonly emails?: readonly string[];
  /**
   * Use this existing topic instead of creating one.
   * @default - none
   */
  readonly topicArn?: string;
  /**
   * Name of the created topic, or of a topic another stack of this app created (neither
   * `emails` nor `topicArn` given: it is referenced by name in this stack's account and region).
   */
  readonly topicName: string;
}

/**
 * The SNS topic the tunnel's alarms notify (on ALARM and back to OK). One stack creates it
 * (`emails`), the others reference it by name; or every stack uses an existing `topicArn`.
 * Giving both `emails` and `topicArn` throws: which topic would the addresses subscribe to?
 */
export class AlarmTopic extends Construct {
  /** The topic. */
  readonly topic: ITopic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const emails = props.emails ?? [];
    if (emails.length > 0 && props.topicArn !== undefined) {
      throw new Error('AlarmTopic: give emails (a topic is created) or topicArn (an existing topic), not both');
    }
    if (props.topicArn !== undefined) {
      this.topic = Topic.fromTopicArn(this, 'Topic', props.topicArn);
    } else if (emails.length > 0) {
      const topic = new Topic(this, 'Topic', { topicName: props.topicName, displayName: 'Tunnel alarms', enforceSSL: true });
      for (const email of emails) topic.addSubscription(new EmailSubscription(email));
      this.topic = topic;
    } else {
      const stack = Stack.of(this);
      this.topic = Topic.fromTopicArn(this, 'Topic', Arn.format({ service: 'sns', resource: props.topicName }, stack));
    }
  }

  /** Sends `alarm`'s transitions to ALARM and back to OK to the topic. */
  notify(alarm: IAlarm & { addAlarmAction(...a: SnsAction[]): void; addOkAction(...a: SnsAction[]): void }): void {
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
}
