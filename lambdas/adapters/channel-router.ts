import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { ChannelMessage, NotificationPublisher } from '../core/rule-engine';
import { WebhookPublisher } from './webhook-publisher';

/** Email and SMS through one publisher (SNS, or the local outbox file), webhooks through the webhook publisher. */
export function routeChannels(topics: NotificationPublisher, webhooks: WebhookPublisher): NotificationPublisher {
  return {
    publish: async (channel, message: ChannelMessage) => {
      if (channel !== 'webhook') return topics.publish(channel, message);
      return webhooks.configured ? webhooks.publish(message) : undefined;
    },
  };
}

/**
 * Webhooks from the environment: WEBHOOK_URLS (JSON list, from
 * `auditTrail.notifications.webhooks`) and the signing key, given locally
 * in WEBHOOK_SIGNING_KEY, on AWS read once from the Secrets Manager secret
 * named by WEBHOOK_SECRET_ARN.
 */
export function webhooksFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookPublisher {
  const urls = JSON.parse(env.WEBHOOK_URLS || '[]') as string[];
  let key: Promise<string> | undefined;
  const loadKey = () => {
    key ??= (async () => {
      if (env.WEBHOOK_SIGNING_KEY) return env.WEBHOOK_SIGNING_KEY;
      if (env.WEBHOOK_SECRET_ARN) return String(await getSecret(env.WEBHOOK_SECRET_ARN));
      throw new Error('webhooks are configured but neither WEBHOOK_SIGNING_KEY nor WEBHOOK_SECRET_ARN is set');
    })().catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return key;
  };
  return new WebhookPublisher(urls, loadKey);
}
