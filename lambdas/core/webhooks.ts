/**
 * Webhook deliveries: a Slack-compatible JSON body (Slack incoming webhooks
 * read `text`; other receivers get the structured `notification` too) and
 * an HMAC-SHA256 signature over `<timestamp>.<body>`, so a receiver can
 * check who sent it and refuse replays. Pure: no network here.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChannelMessage } from './rule-engine';

export const SIGNATURE_HEADER = 'x-audit-signature';
export const TIMESTAMP_HEADER = 'x-audit-timestamp';
export const NOTIFICATION_ID_HEADER = 'x-audit-notification-id';

export function webhookBody(message: ChannelMessage): string {
  const headline = message.subject ?? message.text.split('\n')[0];
  return JSON.stringify({
    text: `*${headline}*${message.link ? `\n<${message.link}|Open the event>` : ''}`,
    notification: { id: message.notificationId, ...message.attributes, title: headline, link: message.link, details: message.text },
  });
}

/** `sha256=<hex>` of HMAC-SHA256(key, `<timestamp>.<body>`). */
export function signWebhook(key: string | Buffer, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time, and refuse old timestamps. */
export function verifyWebhook(key: string | Buffer, timestamp: number, body: string, signature: string, now = Date.now(), toleranceSeconds = 300): boolean {
  if (!Number.isFinite(timestamp) || Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(key, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Whether a failed attempt is worth repeating: network errors, timeouts, 429 and 5xx; not other 4xx. */
export function isRetryable(outcome: { status?: number }): boolean {
  return outcome.status === undefined || outcome.status === 429 || outcome.status >= 500;
}
