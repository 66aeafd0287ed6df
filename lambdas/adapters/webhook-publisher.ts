import { NOTIFICATION_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, isRetryable, signWebhook, webhookBody } from '../core/webhooks';
import type { ChannelMessage } from '../core/rule-engine';

export interface WebhookOptions {
  /** Attempts per URL, the first included. */
  attempts?: number;
  /** Pause before the second attempt; doubles each time. */
  baseDelayMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Posts a notification to every configured webhook, signed, with retries and
 * exponential backoff on network errors, timeouts, 429 and 5xx. Throws when
 * a URL still failed (the rule engine records the error and the stream
 * retries later); receivers dedupe on the notification id header.
 */
export class WebhookPublisher {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly urls: readonly string[],
    private readonly key: () => Promise<string | Buffer>,
    options: WebhookOptions = {},
  ) {
    this.attempts = options.attempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get configured(): boolean {
    return this.urls.length > 0;
  }

  /** A delivery id per URL (`<host> <status>`), joined. */
  async publish(message: ChannelMessage): Promise<string> {
    const key = await this.key();
    const body = webhookBody(message);
    const results: string[] = [];
    for (const url of this.urls) results.push(await this.postWithRetries(url, body, key, message.notificationId));
    return results.join(', ');
  }

  private async postWithRetries(url: string, body: string, key: string | Buffer, notificationId: string): Promise<string> {
    const host = new URL(url).host;
    let last = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await this.sleep(this.baseDelayMs * 2 ** (attempt - 2));
      const timestamp = Math.floor(Date.now() / 1000);
      let status: number | undefined;
      try {
        const response = await this.fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signWebhook(key, timestamp, body),
            [TIMESTAMP_HEADER]: String(timestamp),
            [NOTIFICATION_ID_HEADER]: notificationId,
          },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = response.status;
        await response.body?.cancel();
        if (response.ok) return `${host} ${status}`;
        last = `${host} answered ${status}`;
      } catch (error) {
        last = `${host}: ${(error as Error).message}`;
      }
      if (!isRetryable({ status })) break;
    }
    throw new Error(`webhook ${last}`);
  }
}
