import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import { BUSINESS_METRICS, CHANNEL_DIMENSION, DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_ENV, SERVICE_NAME } from '../../lib/declarations/metrics';
import type { DeliveryMetrics } from '../core/rule-engine';

/**
 * Business metrics (lib/declarations/metrics.ts) through Powertools Metrics:
 * stored during an invocation and written as one CloudWatch EMF line when
 * it ends (flushMetrics), which CloudWatch turns into metrics from the log.
 *
 * The environment the local stack runs the handlers with: all functions share one Node process and its stdout there,
 * and nothing reads EMF lines, so they would only bury the log. Powertools reads it when the Metrics instance is
 * created (on first use, see metrics()), so set it before the first invocation.
 */
export const LOCAL_METRICS_ENV = { POWERTOOLS_METRICS_DISABLED: 'true' } as const;

let instance: Metrics | undefined;

/**
 * The functions' Metrics, created on first use rather than at import, so that importing this module (for
 * LOCAL_METRICS_ENV) reads no environment yet. Namespace from POWERTOOLS_METRICS_NAMESPACE (the stack's, set by
 * lib/constructs/api.ts), service dimension from POWERTOOLS_SERVICE_NAME (lib/config.ts). Its store is per
 * invocation (Powertools keeps it in the invocation's context), so concurrent invocations do not mix.
 */
export function metrics(): Metrics {
  instance ??= new Metrics({
    namespace: process.env[METRICS_NAMESPACE_ENV] || DEFAULT_METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME,
  });
  return instance;
}

/**
 * Writes the invocation's metrics when it ends, answered or failed. Not Powertools' logMetrics middleware: that
 * one warns on every invocation that recorded nothing (most rule function batches), and its cold-start metric is
 * Lambda's own Init duration already.
 */
export function flushMetrics(): MiddlewareObj {
  const flush = async () => {
    const current = metrics();
    if (current.hasStoredMetrics()) current.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}

export interface IngestCounts {
  accepted: number;
  duplicates: number;
  rejected: number;
  failed: number;
  /** Stored events with at least one redacted value, and the values redacted in them. */
  redactedEvents: number;
  redactions: number;
}

/** One request's outcome (POST /v1/events, POST /v1/logs). Zeros too: a graph of Sums then reads 0, not a gap. */
export function recordIngest(counts: IngestCounts): void {
  const current = metrics();
  current.addMetric(BUSINESS_METRICS.eventsAccepted, MetricUnit.Count, counts.accepted);
  current.addMetric(BUSINESS_METRICS.eventsDuplicate, MetricUnit.Count, counts.duplicates);
  current.addMetric(BUSINESS_METRICS.eventsRejected, MetricUnit.Count, counts.rejected);
  current.addMetric(BUSINESS_METRICS.eventsFailed, MetricUnit.Count, counts.failed);
  current.addMetric(BUSINESS_METRICS.eventsRedacted, MetricUnit.Count, counts.redactedEvents);
  current.addMetric(BUSINESS_METRICS.redactionsApplied, MetricUnit.Count, counts.redactions);
}

/** A request refused whole (429) because its app was over its rate limit. */
export function recordRateLimited(events: number): void {
  metrics().addMetric(BUSINESS_METRICS.eventsRateLimited, MetricUnit.Count, events);
}

/**
 * The rule engine's delivery outcomes: the total (service dimension only: what the NotificationsFailed alarm
 * watches) with the invocation's metrics, and per channel as a line of its own (three channels: cheap).
 */
export const deliveryMetrics: DeliveryMetrics = {
  delivered(channel, outcome) {
    const name = outcome === 'sent' ? BUSINESS_METRICS.notificationsSent : BUSINESS_METRICS.notificationsFailed;
    metrics().addMetric(name, MetricUnit.Count, 1);
    const perChannel = metrics().singleMetric();
    perChannel.addDimension(CHANNEL_DIMENSION, channel);
    perChannel.addMetric(name, MetricUnit.Count, 1);
  },
};
