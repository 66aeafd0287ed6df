import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ChannelMessage, NotificationPublisher } from '../core/rule-engine';

/**
 * The local stand-in for the SNS topics (SNS has no local emulator): every
 * message goes, as one JSON line, to an outbox file and to the console,
 * through the same interface the SNS publisher implements.
 */
export class OutboxFilePublisher implements NotificationPublisher {
  constructor(
    private readonly file: string,
    private readonly print: (line: string) => void = (line) => console.log(line),
  ) {}

  async publish(channel: 'email' | 'sms' | 'webhook', message: ChannelMessage): Promise<string | undefined> {
    if (channel === 'webhook') return undefined;
    const messageId = `local-${randomUUID()}`;
    const line = { at: new Date().toISOString(), messageId, channel, topic: `local-${channel}`, ...message };
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify(line)}\n`);
    this.print(`[${channel}] ${message.subject ?? message.text.split('\n')[0]} (${messageId})`);
    return messageId;
  }
}
