import type { FunctionEnvironment } from '../lambdas/core/settings';
import { checkArchiveConfig, checkBackupConfig, DEFAULT_ARCHIVE_CONFIG, DEFAULT_BACKUP_CONFIG, type ArchiveConfig, type BackupConfig } from './archive-config';
import { checkExportsConfig, DEFAULT_EXPORTS_CONFIG, type ExportsConfig } from './exports-config';
import { checkAdminSiteSettings, DEFAULT_ADMIN_SITE_SETTINGS, type AdminSiteSettings } from './admin-site-config';
import { SERVICE_NAME } from './declarations/metrics';
import { DEFAULT_RETENTION_DAYS, type RetentionDays } from '../lambdas/core/event-keys';
import type { RedactionPattern } from '../lambdas/core/redact';
import { createRegistry, EVENT_TYPE_PATTERN, type UnknownTypePolicy } from '../lambdas/core/registry';
import { CATEGORIES } from '../lambdas/core/event';
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
  /**
   * Who gets alert notifications: email addresses subscribed to the email
   * topic, phone numbers (E.164) to the SMS topic; `adminUrl` is the admin
   * SPA's address, for links in messages. Change and redeploy: no code changes.
   */
  notifications: NotificationsConfig;
  /** OTLP logs (`POST /v1/logs`): the type and category of a log record without a registered `event.name`. */
  otlp?: { defaultEventType?: string; defaultCategory?: string };
  /** The S3 archive's bucket: Object Lock mode and days, lifecycle (lib/archive-config.ts, docs/archive.md). */
  archive: ArchiveConfig;
  /** Exports of the events table to S3 after N new events (lib/archive-config.ts, docs/archive.md). */
  backup: BackupConfig;
  /** Exports (issue 3): days kept, download link lifetime (lib/exports-config.ts, docs/query-api.md). */
  exports: ExportsConfig;
  /** The admin SPA on CloudFront: Cognito's hosted sign-in domain prefix, extra sign-in return URLs (lib/admin-site-config.ts). */
  adminSite: AdminSiteSettings;
}

export interface NotificationsConfig {
  emails: string[];
  phones: string[];
  /** Webhook URLs (Slack incoming webhooks or any receiver): signed JSON posts, for rules with the webhook channel. */
  webhooks: string[];
  adminUrl: string;
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
  notifications: { emails: [], phones: [], webhooks: [], adminUrl: '' },
  archive: DEFAULT_ARCHIVE_CONFIG,
  backup: DEFAULT_BACKUP_CONFIG,
  exports: DEFAULT_EXPORTS_CONFIG,
  adminSite: DEFAULT_ADMIN_SITE_SETTINGS,
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
    notifications: { ...DEFAULT_CONFIG.notifications, ...given.notifications },
    archive: { ...DEFAULT_ARCHIVE_CONFIG, ...given.archive },
    backup: { ...DEFAULT_BACKUP_CONFIG, ...given.backup },
    exports: { ...DEFAULT_EXPORTS_CONFIG, ...given.exports },
    adminSite: { ...DEFAULT_ADMIN_SITE_SETTINGS, ...given.adminSite },
  };
  checkNotifications(config.notifications);
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
  if (config.otlp !== undefined) checkOtlp(config.otlp);
  checkArchiveConfig(config.archive, config.retentionDays);
  checkBackupConfig(config.backup);
  checkExportsConfig(config.exports);
  checkAdminSiteSettings(config.adminSite);
  createRegistry(config.eventTypes);
  createRedactor({ extraPatterns: config.redactionPatterns, extraKeys: config.redactionKeys });
  return config;
}

function checkOtlp(otlp: NonNullable<AuditTrailConfig['otlp']>): void {
  if (otlp.defaultEventType !== undefined && !EVENT_TYPE_PATTERN.test(otlp.defaultEventType)) {
    throw new Error('auditTrail.otlp.defaultEventType must be a lower-case dotted event type such as otel.log');
  }
  if (otlp.defaultCategory !== undefined && !(CATEGORIES as readonly string[]).includes(otlp.defaultCategory)) {
    throw new Error(`auditTrail.otlp.defaultCategory must be one of ${CATEGORIES.join(', ')}`);
  }
}

function checkNotifications(notifications: NotificationsConfig): void {
  const { emails, phones, webhooks, adminUrl } = notifications;
  // https only, except a receiver on this machine (the local stack's tests and demos).
  if (!Array.isArray(webhooks) || webhooks.some((url) => typeof url !== 'string' || !/^(https:\/\/[^\s]+|http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/[^\s]*)?)$/.test(url))) {
    throw new Error('auditTrail.notifications.webhooks must be a list of https URLs');
  }
  if (!Array.isArray(emails) || emails.some((email) => typeof email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) {
    throw new Error('auditTrail.notifications.emails must be a list of email addresses');
  }
  if (!Array.isArray(phones) || phones.some((phone) => typeof phone !== 'string' || !/^\+[1-9]\d{6,14}$/.test(phone))) {
    throw new Error('auditTrail.notifications.phones must be a list of E.164 phone numbers such as +14155550100');
  }
  if (typeof adminUrl !== 'string' || (adminUrl !== '' && !/^https?:\/\/[^\s]+$/.test(adminUrl))) {
    throw new Error('auditTrail.notifications.adminUrl must be an http(s) URL or empty');
  }
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
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_LOG_LEVEL: config.logLevel,
    // Links in notification messages (empty: messages name the event id instead).
    ADMIN_URL: config.notifications.adminUrl,
    // Read by the OTLP logs function only; absent means its defaults (otel.log, system_error).
    ...(config.otlp?.defaultEventType ? { OTLP_DEFAULT_EVENT_TYPE: config.otlp.defaultEventType } : {}),
    ...(config.otlp?.defaultCategory ? { OTLP_DEFAULT_CATEGORY: config.otlp.defaultCategory } : {}),
  };
}
