import { AdminAuditLog } from '../core/admin-audit';
import { ingestSettingsFromEnv } from '../core/settings';
import { DynamoEventStore } from './event-store';

let log: AdminAuditLog | undefined;

/**
 * The function's admin audit log: admin actions written to the events table
 * through the ingestion pipeline (create-only PutItem, the same settings as
 * the ingest function: registry, redaction, retention). Built on first use,
 * once per cold start. A function that records admin actions needs
 * `dynamodb:PutItem` on the events table in its declaration.
 */
export function adminAuditLog(): AdminAuditLog {
  log ??= new AdminAuditLog(new DynamoEventStore(), ingestSettingsFromEnv());
  return log;
}
