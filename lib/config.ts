import type { FunctionEnvironment } from '../lambdas/core/settings';
import { DEFAULT_RETENTION_DAYS, type RetentionDays } from '../lambdas/core/event-keys';
import type { RedactionPattern } from '../lambdas/core/redact';
import { createRegistry, type UnknownTypePolicy } from '../lambdas/core/registry';
import { createRedactor } from '../lambdas/core/redact';

/**
 * Deployment configuration: the `auditTrail` object of cdk.json's context
 * (or `-c auditTrail='{...}'`). The local stack uses the same defaults, so
 * both run the handlers with the same environment.
 */
export interface AuditTrailConfig {
  /** What ingestion does with a type that is not in the registry. */
  unknownEventTypes: UnknownTypePolicy;
  /** Extra event-type definitions, added to config/event-types.json's. */
  eventTypes: unknown[];
  /** Extra redaction patterns (regex source), applied to every string. */
  redactionPatterns: RedactionPattern[];
  /** Extra key names whose values are always redacted. */
  redactionKeys: string[];
  /** Days an event stays in DynamoDB, by severity (security events: at least `security`). */
  retentionDays: RetentionDays;
  /** Events per second an app may post unless its key says otherwise. */
  defaultAppRateLimit: number;
  /** The API stage's overall throttle, in requests per second, before any app's limit. */
  apiThrottle: { rateLimit: number; burstLimit: number };
  /** `retain` keeps tables and buckets when the stack is deleted (the default for an audit log). */
  removalPolicy: 'retain' | 'destroy';
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

export const DEFAULT_CONFIG: AuditTrailConfig = {
  unknownEventTypes: 'accept',
  eventTypes: [],
  redactionPatterns: [],
  redactionKeys: [],
  retentionDays: DEFAULT_RETENTION_DAYS,
  defaultAppRateLimit: 500,
  apiThrottle: { rateLimit: 1000, burstLimit: 2000 },
  removalPolicy: 'retain',
  logLevel: 'INFO',
};

/**
 * Merges the given context over the defaults and checks it the way the
 * functions will, so a bad pattern or event type fails `cdk synth`, not the
 * first request after a deploy.
 */
export function resolveConfig(context: unknown): AuditTrailConfig {
  const given = (context ?? {}) as Partial<AuditTrailConfig>;
  if (typeof given !== 'object' || Array.isArray(given)) throw new Error('context auditTrail must be an object');
  const config: AuditTrailConfig = {
    ...DEFAULT_CONFIG,
    ...given,
    retentionDays: { ...DEFAULT_RETENTION_DAYS, ...given.retentionDays },
    apiThrottle: { ...DEFAULT_CONFIG.apiThrottle, ...given.apiThrottle },
  };
  if (config.unknownEventTypes !== 'accept' && config.unknownEventTypes !== 'reject') {
    throw new Error('auditTrail.unknownEventTypes must be "accept" or "reject"');
  }
  for (const [severity, days] of Object.entries(config.retentionDays)) {
    if (!Number.isInteger(days) || days < 1) throw new Error(`auditTrail.retentionDays.${severity} must be a whole number of days ≥ 1`);
  }
  if (!Number.isInteger(config.defaultAppRateLimit) || config.defaultAppRateLimit < 1) {
    throw new Error('auditTrail.defaultAppRateLimit must be a positive whole number');
  }
  if (config.removalPolicy !== 'retain' && config.removalPolicy !== 'destroy') {
    throw new Error('auditTrail.removalPolicy must be "retain" or "destroy"');
  }
  createRegistry(config.eventTypes);
  createRedactor({ extraPatterns: config.redactionPatterns, extraKeys: config.redactionKeys });
  return config;
}

/** The environment every function gets (see lambdas/core/settings.ts, which reads it). */
export function functionEnvironment(config: AuditTrailConfig): Required<FunctionEnvironment> & Record<string, string> {
  return {
    UNKNOWN_EVENT_TYPES: config.unknownEventTypes,
    EXTRA_EVENT_TYPES: JSON.stringify(config.eventTypes),
    REDACTION_PATTERNS: JSON.stringify(config.redactionPatterns),
    REDACTION_KEYS: JSON.stringify(config.redactionKeys),
    RETENTION_DAYS: JSON.stringify(config.retentionDays),
    DEFAULT_APP_RATE_LIMIT: String(config.defaultAppRateLimit),
    POWERTOOLS_SERVICE_NAME: 'audit-trail',
    POWERTOOLS_LOG_LEVEL: config.logLevel,
  };
}
