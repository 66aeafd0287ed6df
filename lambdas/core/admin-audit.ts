import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Principal } from './access';
import { ClientError } from './errors';
import type { AuditEvent, RecordRef } from './event';
import { toEventItem } from './event-keys';
import { prepareEvent, type EventStore, type IngestSettings } from './ingest';

/**
 * The audit trail audits itself: every admin action (a rule change, an app
 * key issued or revoked, an export, a notification resolved) becomes an
 * `admin.*` event with the admin as `actor.adminId` and `audit-trail` as its
 * source. It goes through exactly what a posted event goes through
 * (validation and registry defaults, redaction, size check, the create-only
 * put), so an admin event is stored, indexed, retained, streamed to the
 * rules and counted like any other, and nothing can overwrite it.
 */

/** The `source` of the events this system records about itself. No app key may be issued under this name. */
export const ADMIN_EVENT_SOURCE = 'audit-trail';

export const ADMIN_EVENT_TYPES = [
  'admin.rule.changed',
  'admin.app_key.created',
  'admin.app_key.revoked',
  'admin.export.created',
  'admin.notification.resolved',
  // An error group resolved, ignored or reopened (issue 5; built by core/error-groups.ts).
  'admin.error_group.changed',
] as const;
/** The types above, or another registered `admin.*` type a function records through the same log. */
export type AdminEventType = (typeof ADMIN_EVENT_TYPES)[number] | `admin.${string}`;

/** What an admin did, to what. */
export interface AdminAction {
  type: AdminEventType;
  record: RecordRef;
  message: string;
  details?: Record<string, unknown>;
  /**
   * A deterministic id (adminEventId) for an action that a retried request
   * repeats without effect (a revocation): the retry then records nothing
   * new. Absent: a fresh id.
   */
  id?: string;
}

/** Who did it, from where: the signed-in admin and the API request. */
export interface AdminRequest {
  principal: Principal;
  /** API Gateway's request id: correlates the event with the access log. */
  requestId?: string;
  sourceIp?: string;
  userAgent?: string;
  at?: Date;
}

/** The admin action happened (or was refused) but could not be written to the trail: a 503, so a client retries. */
export class AdminAuditUnavailable extends ClientError {
  constructor(readonly reason: unknown) {
    super(503, 'audit_unavailable', 'the action could not be recorded in the audit trail; retry the request', { 'retry-after': '1' });
    this.name = 'AdminAuditUnavailable';
  }
}

/** Records admin actions as events. Inject one per function (see adapters/admin-audit-log.ts). */
export interface AdminAuditRecorder {
  record(action: AdminAction, request: AdminRequest): Promise<AuditEvent>;
}

export class AdminAuditLog implements AdminAuditRecorder {
  constructor(
    private readonly store: EventStore,
    private readonly settings: IngestSettings,
  ) {}

  /**
   * Writes the event; resolves with it once DynamoDB confirmed the write (or
   * once an earlier attempt of the same deterministic id is found).
   * Throws AdminAuditUnavailable when it could not be written.
   */
  async record(action: AdminAction, request: AdminRequest): Promise<AuditEvent> {
    const event = adminEvent(action, request, this.settings);
    let outcome: Awaited<ReturnType<EventStore['putNew']>>;
    try {
      outcome = await this.store.putNew(toEventItem(event, this.settings.retention));
    } catch (error) {
      throw new AdminAuditUnavailable(error);
    }
    // A deterministic id already used by an app's event would be a collision of SHA-256: refuse rather than claim it.
    if (!outcome.created && outcome.existingSource !== ADMIN_EVENT_SOURCE) {
      throw new AdminAuditUnavailable(new Error(`event id ${event.id} is taken by ${outcome.existingSource}`));
    }
    return event;
  }
}

/** The stored shape of an admin action: validated, defaulted from the registry and redacted like any event. */
export function adminEvent(action: AdminAction, request: AdminRequest, settings: IngestSettings): AuditEvent {
  const at = request.at ?? new Date();
  const input = {
    ...(action.id ? { id: action.id } : {}),
    occurredAt: at.toISOString(),
    type: action.type,
    actor: {
      adminId: request.principal.userId,
      ...(request.sourceIp && isIP(request.sourceIp) ? { ip: request.sourceIp } : {}),
      ...(request.userAgent ? { userAgent: request.userAgent.slice(0, 1024) } : {}),
    },
    record: action.record,
    message: action.message,
    ...(request.requestId ? { requestId: request.requestId.slice(0, 128) } : {}),
    ...(action.details && Object.keys(action.details).length > 0 ? { details: action.details } : {}),
  };
  const prepared = prepareEvent(input, { source: ADMIN_EVENT_SOURCE, receivedAt: at }, settings);
  if (!prepared.ok) {
    // Only a bug can get here (the input is built above); say which field, never the values.
    throw new Error(`admin event ${action.type} is invalid: ${prepared.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  }
  return prepared.event;
}

/**
 * A UUID derived from the parts (SHA-256, version nibble 8 = "custom"):
 * the same action named the same way always gets the same event id, so the
 * create-only put turns a repeat into a no-op.
 */
export function adminEventId(...parts: string[]): string {
  const hex = createHash('sha256').update(JSON.stringify(['admin-event', ...parts])).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The admin actions this system records, ready to hand to `record`. */
export const adminActions = {
  appKeyCreated(key: { keyId: string; app: string; rateLimit?: number; captureClientIp?: boolean }, by: Principal): AdminAction {
    return {
      type: 'admin.app_key.created',
      record: { type: 'app_key', id: key.keyId },
      message: `${by.userId} issued app key ${key.keyId} for app ${key.app}`,
      details: { app: key.app, ...(key.rateLimit ? { rateLimit: key.rateLimit } : {}), captureClientIp: key.captureClientIp === true },
    };
  },
  /** One revocation per key: a repeated DELETE records nothing new. */
  appKeyRevoked(key: { keyId: string; app: string; revokedAt: string }, by: Principal): AdminAction {
    return {
      type: 'admin.app_key.revoked',
      id: adminEventId('admin.app_key.revoked', key.keyId, key.revokedAt),
      record: { type: 'app_key', id: key.keyId },
      message: `${by.userId} revoked app key ${key.keyId} of app ${key.app}`,
      details: { app: key.app, revokedAt: key.revokedAt },
    };
  },
  /** One event per export job: a retried start of the same job records nothing new. */
  exportCreated(job: { id: string; format: string; filters: Record<string, unknown> }, by: Principal): AdminAction {
    return {
      type: 'admin.export.created',
      id: adminEventId('admin.export.created', job.id),
      record: { type: 'export', id: job.id },
      message: `${by.userId} exported events as ${job.format}`,
      details: { format: job.format, filters: job.filters },
    };
  },
  ruleChanged(rule: { id: string; name?: string }, change: 'created' | 'replaced' | 'deleted', by: Principal, details: Record<string, unknown> = {}): AdminAction {
    return {
      type: 'admin.rule.changed',
      record: { type: 'rule', id: rule.id },
      message: `${by.userId} ${change} alert rule ${rule.id}${rule.name ? ` (${rule.name})` : ''}`,
      details: { change, ...details },
    };
  },
  notificationResolved(notification: { id: string; status: string; note?: string; ruleId?: string }, by: Principal): AdminAction {
    return {
      type: 'admin.notification.resolved',
      record: { type: 'notification', id: notification.id },
      message: `${by.userId} marked notification ${notification.id} ${notification.status}`,
      details: {
        status: notification.status,
        ...(notification.ruleId ? { ruleId: notification.ruleId } : {}),
        ...(notification.note ? { note: notification.note } : {}),
      },
    };
  },
};
