import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { ChannelMessage, NotificationPublisher } from '../core/rule-engine';

/**
 * Email and SMS through one SNS topic each (subscriptions come from
 * cdk.json). Every message carries `severity`, `category`, `type` and
 * `rule` as String attributes, so each subscription can filter with a
 * filter policy (e.g. SMS only for critical).
 */
export class SnsPublisher implements NotificationPublisher {
  constructor(
    private readonly topics: { email?: string; sms?: string },
    private readonly client: SNSClient = new SNSClient({}),
  ) {}

  async publish(channel: 'email' | 'sms' | 'webhook', message: ChannelMessage): Promise<string | undefined> {
    const topicArn = channel === 'email' ? this.topics.email : channel === 'sms' ? this.topics.sms : undefined;
    if (!topicArn) return undefined;
    const { MessageId } = await this.client.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: message.text,
        ...(channel === 'email' && message.subject ? { Subject: message.subject } : {}),
        MessageAttributes: Object.fromEntries(
          Object.entries(message.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
        ),
      }),
    );
    if (!MessageId) throw new Error(`SNS answered without a message id for ${channel}`);
    return MessageId;
  }
}

/** The topics the deployment configured (environment set by the CDK construct). */
export function snsTopicsFromEnv(env: NodeJS.ProcessEnv = process.env): { email?: string; sms?: string } {
  return { ...(env.EMAIL_TOPIC_ARN ? { email: env.EMAIL_TOPIC_ARN } : {}), ...(env.SMS_TOPIC_ARN ? { sms: env.SMS_TOPIC_ARN } : {}) };
}
