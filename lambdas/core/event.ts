/**
 * The canonical audit event: the one shape every producer, store and reader
 * agrees on (DESIGN.md, "The event"). Pure domain code: no AWS SDK here.
 */

export const CATEGORIES = [
  'user_activity',
  'admin_activity',
  'system_error',
  'payment',
  'content_update',
  'notification',
  'security',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Ordered from least to most severe; the index is the rank. */
export const SEVERITIES = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const STATUSES = ['success', 'failure'] as const;
export type Status = (typeof STATUSES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export interface Actor {
  userId?: string;
  adminId?: string;
  ip?: string;
  userAgent?: string;
}

export interface RecordRef {
  type: string;
  id: string;
}

export interface ErrorInfo {
  name?: string;
  message?: string;
  code?: string;
  stack?: string;
}

/** Where and how much was redacted before the event was first written. */
export interface RedactionSummary {
  count: number;
  /** JSON paths such as `details.card` or `message`; at most 50 are listed. */
  paths: string[];
}

/** An event as stored: validated, defaulted, redacted and stamped by the server. */
export interface AuditEvent {
  id: string;
  occurredAt: string;
  receivedAt: string;
  type: string;
  category: Category;
  severity: Severity;
  status: Status;
  source: string;
  actor?: Actor;
  record?: RecordRef;
  page?: string;
  message?: string;
  error?: ErrorInfo;
  traceId?: string;
  spanId?: string;
  requestId?: string;
  sessionId?: string;
  fingerprint?: string;
  details?: Record<string, unknown>;
  payload?: unknown;
  redaction?: RedactionSummary;
}

/** The outcome for one event of a posted batch, in the order it was posted. */
export type IngestResult =
  | { index: number; id: string; status: 'accepted' }
  | { index: number; id: string; status: 'duplicate' }
  | { index: number; id?: string; status: 'rejected'; errors: FieldError[] }
  /** Valid but not stored because of a fault on our side: safe to retry with the same id. */
  | { index: number; id: string; status: 'failed'; message: string };

export interface FieldError {
  /** Dotted path of the offending field (`actor.userId`), or `''` for the whole event. */
  path: string;
  message: string;
}
