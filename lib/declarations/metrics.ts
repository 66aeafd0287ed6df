/**
 * The business metrics the functions emit (Powertools Metrics, as CloudWatch
 * embedded metric format lines in their logs), declared once: the handlers
 * name them from here (lambdas/shared/metrics.ts) and so do the dashboard
 * and alarms (lib/constructs/monitoring.ts).
 */

/** Every function's Powertools service name: the Logger's `service` key and the metrics' one default dimension. */
export const SERVICE_NAME = 'audit-trail';

/** Where the namespace reaches the functions (set by lib/constructs/api.ts; read by Powertools Metrics). */
export const METRICS_NAMESPACE_ENV = 'POWERTOOLS_METRICS_NAMESPACE';

/** The namespace when none is set (the local stack, tests). On AWS it is the stack's name: see metricsNamespace. */
export const DEFAULT_METRICS_NAMESPACE = 'AuditTrail';

/**
 * The namespace a stack's functions emit to: its name (AuditTrail), so that a copy deployed under another stack
 * name in the same account and region keeps its metrics apart, as the API's name already does.
 */
export function metricsNamespace(stackName: string): string {
  return stackName;
}

export const BUSINESS_METRICS = {
  /** Per ingest or OTLP request: events stored. */
  eventsAccepted: 'EventsAccepted',
  /** Events refused (validation, size, an id of another app, an unmappable OTLP record). */
  eventsRejected: 'EventsRejected',
  /** Events whose id was already stored (client retries). */
  eventsDuplicate: 'EventsDuplicate',
  /** Valid events whose write failed: answered 503, for the client to retry. */
  eventsFailed: 'EventsFailed',
  /** Events in requests refused whole because their app was over its rate limit (429). */
  eventsRateLimited: 'EventsRateLimited',
  /** Stored events in which redaction replaced at least one value. */
  eventsRedacted: 'EventsRedacted',
  /** Values replaced by redaction in stored events. */
  redactionsApplied: 'RedactionsApplied',
  /** Notification channel deliveries (email, SMS, webhook) that went out, and that failed. */
  notificationsSent: 'NotificationsSent',
  notificationsFailed: 'NotificationsFailed',
} as const;

/**
 * The dimension the notification metrics are also emitted with (email, sms, webhook: three values, so cheap). The
 * totals carry the service dimension only, which is what the alarm watches.
 */
export const CHANNEL_DIMENSION = 'channel';
