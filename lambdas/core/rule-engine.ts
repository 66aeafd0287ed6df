/**
 * The rule engine: every stored event goes past the enabled rules; a rule
 * that fires leaves a notification, which is then delivered through an
 * outbox. No AWS SDK here: the stores and the publisher are ports, the
 * adapters implement them.
 *
 * Delivery is at least once, never twice by accident:
 * 1. the rule's state for the group is written first (conditionally on the
 *    version read), naming the notification it fires — so of two concurrent
 *    batches only one fires, and a retry of the firing event knows;
 * 2. the notification record is put with a deterministic id, only if absent;
 * 3. each channel not yet sent is published;
 * 4. the per-channel results are recorded on the notification.
 * A crash after 1 or 2 is finished by the retried event (steps 2-4 again: the
 * put finds the record, the channels already marked sent are skipped). A
 * crash between 3 and 4 sends that channel once more on retry: one repeated
 * message, never a lost one.
 */
import type { AuditEvent } from './event';
import {
  channelsToSend,
  createNotification,
  emailBody,
  emailSubject,
  notificationLink,
  overallDelivery,
  smsText,
  type Delivery,
  type Notification,
} from './notifications';
import { decide, entryKey, groupOf, isStateful, matchesRule, notificationId, silenceFiring, stateExpiry, type Channel, type Firing, type LastSeen, type Rule, type RuleState } from './rules';

export interface VersionedState {
  /** 0 when there is no state yet. */
  version: number;
  state?: RuleState;
}

export interface RuleStateStore {
  get(ruleId: string, group: string): Promise<VersionedState>;
  /** Writes the state if its version is still `expectedVersion`; false when someone else wrote first. */
  save(ruleId: string, group: string, state: RuleState, expectedVersion: number, expiresAt: number): Promise<boolean>;
  /** Silence rules: the latest matching event, kept if newer than the stored one. */
  recordSeen(ruleId: string, seen: LastSeen, expiresAt: number): Promise<void>;
  lastSeen(ruleId: string): Promise<LastSeen | undefined>;
}

export interface NotificationOutbox {
  /** Creates the notification unless one with its id exists; then returns that one. */
  putNew(notification: Notification): Promise<{ created: true } | { created: false; existing: Notification }>;
  recordDeliveries(id: string, deliveries: Notification['deliveries'], delivery: Notification['delivery']): Promise<void>;
}

/** What a channel is sent: a subject (email), the text, and attributes subscribers filter on. */
export interface ChannelMessage {
  subject?: string;
  text: string;
  attributes: { severity: string; category: string; type: string; rule: string };
  notificationId: string;
  /** The triggering event in the admin SPA, when its address is known. */
  link?: string;
}

export interface NotificationPublisher {
  /** Sends on a channel; the message id, or undefined when the channel is not configured here. */
  publish(channel: Exclude<Channel, 'inApp'>, message: ChannelMessage): Promise<string | undefined>;
}

/** Where delivery outcomes are counted (lambdas/shared/metrics.ts on AWS); a port, so this file stays free of Powertools. */
export interface DeliveryMetrics {
  delivered(channel: Exclude<Channel, 'inApp'>, outcome: 'sent' | 'failed'): void;
}

export interface RuleEngineDeps {
  rules: () => Promise<readonly Rule[]>;
  state: RuleStateStore;
  outbox: NotificationOutbox;
  publisher: NotificationPublisher;
  clock?: () => number;
  /** Base URL of the admin SPA, for links in messages. */
  adminUrl?: () => string | undefined;
  log?: (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) => void;
  /** Counts each channel's delivery, sent or failed (a channel not configured here counts as neither). */
  metrics?: DeliveryMetrics;
}

/** How often a state write may lose a race before the event is failed (and retried by the stream). */
const MAX_STATE_ATTEMPTS = 10;
/**
 * A silence rule's "last seen" is written at most this often per rule by one
 * instance: a busy app would otherwise make it one hot item written per
 * event. The price: a silence may be noticed up to this much early.
 */
export const SEEN_WRITE_INTERVAL_MS = 60_000;

export interface EventOutcome {
  matched: string[];
  fired: string[];
}

export class RuleEngine {
  private readonly clock: () => number;
  private readonly seenWritten = new Map<string, { at: number }>();

  constructor(private readonly deps: RuleEngineDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Runs one event past every enabled rule; throws if any rule could not finish (the stream retries the event). */
  async processEvent(event: AuditEvent): Promise<EventOutcome> {
    const rules = (await this.deps.rules()).filter((rule) => rule.enabled && matchesRule(rule, event));
    const outcome: EventOutcome = { matched: rules.map((r) => r.id), fired: [] };
    const failures: unknown[] = [];
    // Rule by rule, so one failing rule does not stop the others; the event fails as a whole afterwards.
    for (const rule of rules) {
      try {
        if (rule.silence) {
          await this.noteSeen(rule, event);
          continue;
        }
        const fired = await this.applyRule(rule, event);
        if (fired) outcome.fired.push(fired);
      } catch (error) {
        failures.push(error);
        this.deps.log?.('warn', 'rule failed on event', { rule: rule.id, eventId: event.id, error: String(error) });
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(failures, `${failures.length} rule(s) failed on event ${event.id}: ${failures.map(String).join('; ')}`);
    }
    return outcome;
  }

  /**
   * The scheduled check: every enabled silence rule whose last matching
   * event is older than its window notifies (once per silence: the id is
   * keyed on that last event). `now` is the schedule's time.
   */
  async checkSilence(now: number = this.clock()): Promise<string[]> {
    const rules = (await this.deps.rules()).filter((rule) => rule.enabled && rule.silence);
    const fired: string[] = [];
    const failures: unknown[] = [];
    for (const rule of rules) {
      try {
        const lastSeen = await this.deps.state.lastSeen(rule.id);
        const firing = silenceFiring(rule, lastSeen, now);
        if (!firing || !lastSeen) continue;
        await this.deliver(rule, silenceEvent(rule, lastSeen, now), firing);
        fired.push(firing.notificationId);
      } catch (error) {
        failures.push(error);
        this.deps.log?.('warn', 'silence check failed', { rule: rule.id, error: String(error) });
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, `${failures.length} silence rule(s) failed: ${failures.map(String).join('; ')}`);
    return fired;
  }

  private async noteSeen(rule: Rule, event: AuditEvent): Promise<void> {
    const written = this.seenWritten.get(rule.id);
    const now = this.clock();
    if (written && now - written.at < SEEN_WRITE_INTERVAL_MS) return;
    const windowMs = (rule.silence?.windowSeconds ?? 0) * 1000;
    const expiresAt = Math.ceil((Date.parse(event.receivedAt) + Math.max(windowMs * 10, 30 * 86_400_000)) / 1000);
    await this.deps.state.recordSeen(rule.id, { at: event.receivedAt, eventId: event.id }, expiresAt);
    this.seenWritten.set(rule.id, { at: now });
  }

  /** Returns the id of the notification the rule fired (or re-delivered), if any. */
  private async applyRule(rule: Rule, event: AuditEvent): Promise<string | undefined> {
    const group = groupOf(rule, event);
    if (!isStateful(rule)) {
      const key = entryKey(event);
      const firing: Firing = {
        notificationId: notificationId(rule.id, group, key),
        eventId: event.id,
        count: 1,
        windowStart: event.occurredAt,
        windowEnd: event.occurredAt,
        eventIds: [event.id],
        suppressed: 0,
        group,
      };
      await this.deliver(rule, event, firing);
      return firing.notificationId;
    }

    for (let attempt = 1; attempt <= MAX_STATE_ATTEMPTS; attempt++) {
      const now = this.clock();
      const { version, state } = await this.deps.state.get(rule.id, group);
      const decision = decide(rule, event, group, state, now);
      switch (decision.kind) {
        case 'ignore':
          return undefined;
        case 'redeliver':
          await this.deliver(rule, event, decision.firing);
          return decision.firing.notificationId;
        case 'count':
        case 'throttled':
          if (await this.deps.state.save(rule.id, group, decision.state, version, stateExpiry(rule, decision.state, now))) return undefined;
          break;
        case 'fire':
          if (await this.deps.state.save(rule.id, group, decision.state, version, stateExpiry(rule, decision.state, now))) {
            await this.deliver(rule, event, decision.firing);
            return decision.firing.notificationId;
          }
          break;
      }
      // Lost a race with another batch counting the same group: read again and decide again.
    }
    throw new Error(`rule ${rule.id}: state for group ${group} kept changing; giving up for now`);
  }

  /** Steps 2-4 of the outbox (see the top of this file). */
  private async deliver(rule: Rule, event: AuditEvent, firing: Firing): Promise<void> {
    const fresh = createNotification(rule, event, firing, new Date(this.clock()));
    const put = await this.deps.outbox.putNew(fresh);
    const notification = put.created ? fresh : put.existing;
    const pending = channelsToSend(notification);
    if (pending.length === 0) {
      if (notification.delivery === 'pending') await this.deps.outbox.recordDeliveries(notification.id, notification.deliveries, 'sent');
      return;
    }

    const deliveries: Notification['deliveries'] = { ...notification.deliveries };
    const failed: string[] = [];
    for (const channel of pending) {
      const at = new Date(this.clock()).toISOString();
      const published = channel as Exclude<Channel, 'inApp'>;
      let delivery: Delivery;
      try {
        const messageId = await this.deps.publisher.publish(published, this.message(channel, notification, event));
        delivery = messageId === undefined ? { status: 'skipped', reason: `no ${channel} channel is configured`, at } : { status: 'sent', messageId, at };
        if (messageId !== undefined) this.deps.metrics?.delivered(published, 'sent');
      } catch (error) {
        delivery = { status: 'failed', error: String((error as Error)?.message ?? error).slice(0, 500), at };
        failed.push(channel);
        this.deps.metrics?.delivered(published, 'failed');
      }
      deliveries[channel] = delivery;
    }
    const overall = overallDelivery({ channels: notification.channels, deliveries });
    await this.deps.outbox.recordDeliveries(notification.id, deliveries, overall);
    this.deps.log?.(failed.length > 0 ? 'warn' : 'info', 'notification delivered', { notificationId: notification.id, rule: rule.id, deliveries });
    if (failed.length > 0) {
      // The stream retries the event; only the failed channels are sent again.
      throw new Error(`notification ${notification.id}: ${failed.join(', ')} could not be sent`);
    }
  }

  private message(channel: Channel, notification: Notification, event: AuditEvent): ChannelMessage {
    const attributes = { severity: notification.severity, category: notification.category, type: notification.type, rule: notification.ruleId };
    const adminUrl = this.deps.adminUrl?.();
    const link = notificationLink(adminUrl, event);
    const common = { attributes, notificationId: notification.id, ...(link ? { link } : {}) };
    if (channel === 'sms') return { text: smsText(notification, event), ...common };
    // Email and webhooks get the same subject and text; the webhook publisher wraps them in its JSON body.
    return { subject: emailSubject(notification), text: emailBody(notification, event, adminUrl), ...common };
  }
}

/** What a silence notification describes: the last event the rule saw, and the quiet since. */
function silenceEvent(rule: Rule, lastSeen: LastSeen, now: number): AuditEvent {
  const quietMinutes = Math.round((now - Date.parse(lastSeen.at)) / 60_000);
  return {
    id: lastSeen.eventId,
    occurredAt: lastSeen.at,
    receivedAt: lastSeen.at,
    type: 'source.silent',
    category: 'system_error',
    severity: 'warning',
    status: 'failure',
    source: rule.match.source ?? '*',
    message: `no matching event for ${quietMinutes} minutes (window ${Math.round(rule.silence!.windowSeconds / 60)} minutes); the last one arrived at ${lastSeen.at}`,
  };
}

/** Rules read through a cache: at most one load per `ttlMs`, concurrent callers share it. */
export function cachedRules(load: () => Promise<readonly Rule[]>, ttlMs: number, clock: () => number = Date.now): () => Promise<readonly Rule[]> {
  let value: readonly Rule[] | undefined;
  let loadedAt = -Infinity;
  let inFlight: Promise<readonly Rule[]> | undefined;
  return async () => {
    if (value && clock() - loadedAt < ttlMs) return value;
    inFlight ??= load()
      .then((rules) => {
        value = rules;
        loadedAt = clock();
        return rules;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
