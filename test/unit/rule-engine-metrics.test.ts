/**
 * The rule engine reports each channel's delivery to its metrics sink (lambdas/shared/metrics.ts on AWS): sent,
 * failed, and nothing for a channel not configured; a retried event reports only the channels sent again.
 */
import type { AuditEvent } from '../../lambdas/core/event';
import type { Notification } from '../../lambdas/core/notifications';
import { RuleEngine, type ChannelMessage, type DeliveryMetrics, type NotificationOutbox, type RuleStateStore } from '../../lambdas/core/rule-engine';
import type { Channel, Rule } from '../../lambdas/core/rules';

const rule: Rule = { id: 'any-failure', name: 'Any failure', enabled: true, match: { status: 'failure' }, channels: ['inApp', 'email', 'sms', 'webhook'] };

const event: AuditEvent = {
  id: '01JD7X8Y9ZABCDEFGHJKMNPQRS',
  occurredAt: '2026-11-23T10:00:00.000Z',
  receivedAt: '2026-11-23T10:00:00.000Z',
  type: 'payment.charge.failed',
  category: 'payment',
  severity: 'error',
  status: 'failure',
  source: 'checkout',
};

/** Stateless rules never touch the state store. */
const noState: RuleStateStore = {
  get: async () => ({ version: 0 }),
  save: async () => true,
  recordSeen: async () => undefined,
  lastSeen: async () => undefined,
};

function memoryOutbox(): NotificationOutbox {
  const stored = new Map<string, Notification>();
  return {
    async putNew(notification) {
      const existing = stored.get(notification.id);
      if (existing) return { created: false, existing: structuredClone(existing) };
      stored.set(notification.id, structuredClone(notification));
      return { created: true };
    },
    async recordDeliveries(id, deliveries, delivery) {
      stored.set(id, { ...stored.get(id)!, deliveries, delivery });
    },
  };
}

function engineWith(outcomes: Partial<Record<Channel, 'ok' | 'fail' | 'absent'>>, outbox = memoryOutbox()) {
  const reported: [string, string][] = [];
  const metrics: DeliveryMetrics = { delivered: (channel, outcome) => void reported.push([channel, outcome]) };
  const engine = new RuleEngine({
    rules: async () => [rule],
    state: noState,
    outbox,
    publisher: {
      async publish(channel: Exclude<Channel, 'inApp'>, _message: ChannelMessage) {
        const outcome = outcomes[channel] ?? 'ok';
        if (outcome === 'fail') throw new Error(`${channel} is down`);
        return outcome === 'absent' ? undefined : `${channel}-message`;
      },
    },
    clock: () => Date.parse('2026-11-23T10:00:01Z'),
    metrics,
  });
  return { engine, reported, outbox };
}

it('reports each channel sent or failed, and nothing for one not configured (or in-app)', async () => {
  const { engine, reported } = engineWith({ email: 'ok', sms: 'fail', webhook: 'absent' });
  await expect(engine.processEvent(event)).rejects.toThrow(/sms could not be sent/);
  expect(reported).toEqual([
    ['email', 'sent'],
    ['sms', 'failed'],
  ]);
});

it('a retried event reports only the channels it sends again', async () => {
  const outbox = memoryOutbox();
  const first = engineWith({ sms: 'fail' }, outbox);
  await expect(first.engine.processEvent(event)).rejects.toThrow();
  expect(first.reported).toEqual([
    ['email', 'sent'],
    ['sms', 'failed'],
    ['webhook', 'sent'],
  ]);

  const retry = engineWith({ sms: 'ok' }, outbox);
  await retry.engine.processEvent(event);
  expect(retry.reported).toEqual([['sms', 'sent']]);
});
