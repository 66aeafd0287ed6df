/**
 * The API's JSON as the screens read it (docs/query-api.md, docs/rules-and-notifications.md, docs/errors.md).
 * The event itself comes from the one definition every part of the system shares.
 */
import type { AuditEvent, Category, RecordRef, Severity, Status } from '../../lambdas/core/event';

export type { AuditEvent, Category, RecordRef, Severity, Status };
export { CATEGORIES, SEVERITIES, STATUSES } from '../../lambdas/core/event';

export interface Page<T> {
  items: T[];
  cursor?: string;
}

/** What the list indexes project: enough for a row; the whole event is GET /v1/events/{id}. */
export interface EventListItem {
  id: string;
  occurredAt: string;
  receivedAt: string;
  type: string;
  category: Category;
  severity: Severity;
  status: Status;
  source: string;
  userId?: string;
  recordType?: string;
  recordId?: string;
  page?: string;
  summary?: string;
  traceId?: string;
}

export type SeverityCounts = Record<Severity, number>;

export interface Stats {
  interval: 'hour' | 'day';
  from: string;
  to: string;
  total: number;
  failures: number;
  failureRate: number;
  bySeverity: SeverityCounts;
  buckets: Array<{ start: string; total: number; failures: number; bySeverity: SeverityCounts }>;
  topTypes: Array<{ type: string; count: number; failures: number }>;
  topFailingPages: Array<{ page: string; failures: number; count: number; failureRate: number }>;
}

export type NotificationStatus = 'new' | 'read' | 'resolved';
export type Channel = 'email' | 'sms' | 'inApp' | 'webhook';

export interface Notification {
  id: string;
  ruleId: string;
  ruleName: string;
  group: string;
  severity: Severity;
  category: Category;
  type: string;
  source: string;
  title: string;
  eventId: string;
  eventIds: string[];
  record?: RecordRef;
  count: number;
  windowStart: string;
  windowEnd: string;
  createdAt: string;
  status: NotificationStatus;
  channels: Channel[];
  delivery: 'pending' | 'sent' | 'failed';
  /** Each channel's outcome (lambdas/core/notifications.ts `Delivery`); a channel not yet tried is absent. */
  deliveries?: Partial<Record<Channel, NotificationDelivery>>;
  readAt?: string;
  readBy?: string;
  resolvedAt?: string;
  resolvedBy?: string;
  note?: string;
}

export interface NotificationDelivery {
  status: 'sent' | 'failed' | 'skipped';
  messageId?: string;
  error?: string;
  reason?: string;
  at: string;
}

export interface NotificationPage extends Page<Notification> {
  unreadCount: number;
  /** The count stopped at the API's cap (1000): there are at least that many. */
  unreadCountCapped?: boolean;
  /** This route names its cursor `nextCursor` (lambdas/notifications/handler.ts); pass it back as `cursor`. */
  nextCursor?: string;
}

export type ErrorGroupStatus = 'unresolved' | 'resolved' | 'ignored';

export interface ErrorGroupListItem {
  id: string;
  title: string;
  culprit?: string;
  errorName?: string;
  source: string;
  type: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  status: ErrorGroupStatus;
  affectedUsers?: number;
  regressedAt?: string;
  statusAt?: string;
  statusBy?: string;
  /** The last 24 hourly counts, oldest first (absent when the list could not read the group's histogram). */
  sparkline?: number[];
}

export interface ErrorGroupDetail extends ErrorGroupListItem {
  message: string;
  /** The stack frame the group is named after (`culprit` is its short form). */
  frame?: { file?: string; function?: string; module?: string };
  /** How the fingerprint was made: from the error (`default`) or given by the app (`client`). */
  basis?: 'default' | 'client';
  createdAt?: string;
  lastEventId?: string;
  note?: string;
  resolvedAt?: string;
  resolvedBy?: string;
  regressions?: number;
  affectedUsersExact?: boolean;
  endpoints: string[];
  sampleEventIds: string[];
  histogram: { interval: 'hour'; hours: number; buckets: Array<{ start: string; count: number }> };
  recentEvents: AuditEvent[];
}

export interface RuleMatch {
  type?: string;
  category?: Category;
  minSeverity?: Severity;
  status?: Status;
  source?: string;
  recordType?: string;
  fields?: Record<string, unknown>;
}

export interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  description?: string;
  match: RuleMatch;
  threshold?: { count: number; windowSeconds: number; groupBy?: string };
  silence?: { windowSeconds: number };
  throttleSeconds?: number;
  channels: Channel[];
  createdAt?: string;
  createdBy?: string;
  updatedAt?: string;
  updatedBy?: string;
  [key: string]: unknown;
}

/** GET /v1/rules. */
export interface RuleList {
  rules: Rule[];
}

/** POST /v1/rules/{id}/test: a dry run of the saved rule over the last `days` days (lambdas/core/rules.ts dryRun). */
export interface RuleTestResult {
  ruleId?: string;
  days?: number;
  from?: string;
  to?: string;
  /** Events read from the indexes; `truncated` when the read stopped at its cap. */
  scanned?: number;
  truncated?: boolean;
  /** Events replayed through the rule. */
  events?: number;
  matched?: number;
  /** Notifications the rule would have sent. */
  notifications?: number;
  throttled?: number;
  samples?: Array<{ group: string; count: number; windowStart: string; windowEnd: string; eventId: string }>;
  [key: string]: unknown;
}

export interface AppKey {
  keyId: string;
  app: string;
  createdAt: string;
  createdBy?: string;
  rateLimit?: number;
  captureClientIp?: boolean;
  revokedAt?: string;
}

/** POST /v1/app-keys: the secret is in this answer only. */
export interface CreatedAppKey {
  apiKey: string;
  key: AppKey;
}

export type ExportFormat = 'csv' | 'ndjson' | 'json';

export interface ExportJob {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | string;
  format: ExportFormat;
  filters: Record<string, string>;
  requestedBy?: string;
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  rowCount?: number;
  bytes?: number;
  error?: string;
  download?: { url: string; expiresAt: string };
}
