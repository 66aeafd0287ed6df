import type { RetentionDays } from '../lambdas/core/event-keys';

/**
 * The archive's configuration (`auditTrail.archive` in cdk.json), checked at
 * synth time like the rest of lib/config.ts.
 */
export interface ArchiveConfig {
  /**
   * Object Lock's default retention mode for every archive object and digest:
   * `GOVERNANCE` (users with s3:BypassGovernanceRetention can still delete
   * or shorten it, e.g. to clean up a test stack) or `COMPLIANCE` (nobody,
   * not even the account root, until the retention ends; choose it for
   * regulated evidence, and only once the period is right).
   */
  objectLockMode: 'GOVERNANCE' | 'COMPLIANCE';
  /** Days each object version is locked after it is written. */
  objectLockDays: number;
  /** Lifecycle transitions of archive objects to colder storage classes, by age in days, in increasing order. */
  transitions: ArchiveTransition[];
  /** Days after which archive objects are deleted (at least objectLockDays); null keeps them forever. */
  expireAfterDays: number | null;
}

export type ArchiveStorageClass = 'STANDARD_IA' | 'INTELLIGENT_TIERING' | 'GLACIER_IR' | 'GLACIER' | 'DEEP_ARCHIVE';

export interface ArchiveTransition {
  storageClass: ArchiveStorageClass;
  afterDays: number;
}

export const ARCHIVE_STORAGE_CLASSES: readonly ArchiveStorageClass[] = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'];

/**
 * A year locked in governance mode, then Glacier Instant Retrieval after 90
 * days: still millisecond reads, so `verify-archive`, `restore` and Athena
 * work on any age without a restore request (GLACIER and DEEP_ARCHIVE are
 * cheaper but need one, hours ahead). Kept forever unless configured.
 */
export const DEFAULT_ARCHIVE_CONFIG: ArchiveConfig = {
  objectLockMode: 'GOVERNANCE',
  objectLockDays: 365,
  transitions: [{ storageClass: 'GLACIER_IR', afterDays: 90 }],
  expireAfterDays: null,
};

/**
 * The shortest TTL the archive can guarantee (docs/archive.md, "Retention"):
 * the archive retries a batch until the stream drops it after 24 hours, so
 * an event leaves DynamoDB only days after it was archived or after the
 * archive's alarms fired; the rest of the week is for someone to act on them.
 */
export const MIN_RETENTION_DAYS = 7;

export function checkArchiveConfig(archive: ArchiveConfig, retentionDays: RetentionDays): void {
  const wholeDays = (value: unknown, min: number) => Number.isInteger(value) && (value as number) >= min;
  if (archive.objectLockMode !== 'GOVERNANCE' && archive.objectLockMode !== 'COMPLIANCE') {
    throw new Error('auditTrail.archive.objectLockMode must be "GOVERNANCE" or "COMPLIANCE"');
  }
  if (!wholeDays(archive.objectLockDays, 1)) throw new Error('auditTrail.archive.objectLockDays must be a whole number of days ≥ 1');
  if (!Array.isArray(archive.transitions)) throw new Error('auditTrail.archive.transitions must be a list of {storageClass, afterDays}');
  let previous = 0;
  for (const [i, transition] of archive.transitions.entries()) {
    const where = `auditTrail.archive.transitions[${i}]`;
    if (!ARCHIVE_STORAGE_CLASSES.includes(transition?.storageClass)) throw new Error(`${where}.storageClass must be one of ${ARCHIVE_STORAGE_CLASSES.join(', ')}`);
    // S3 refuses Standard-IA before 30 days.
    const min = transition.storageClass === 'STANDARD_IA' ? 30 : 1;
    if (!wholeDays(transition.afterDays, min) || transition.afterDays <= previous) {
      throw new Error(`${where}.afterDays must be a whole number ≥ ${min} and after the previous transition`);
    }
    previous = transition.afterDays;
  }
  if (archive.expireAfterDays !== null) {
    if (!wholeDays(archive.expireAfterDays, Math.max(archive.objectLockDays, previous + 1))) {
      throw new Error('auditTrail.archive.expireAfterDays must be null (keep forever) or whole days ≥ objectLockDays and after the last transition');
    }
  }
  for (const [name, days] of Object.entries(retentionDays)) {
    if (Number.isInteger(days) && days < MIN_RETENTION_DAYS) {
      throw new Error(
        `auditTrail.retentionDays.${name} must be at least ${MIN_RETENTION_DAYS} days: the archive retries a stream batch for up to 24 hours, ` +
          'and an event must not leave DynamoDB before it is archived (or before anyone could act on the archive alarms)',
      );
    }
  }
}

/** Table exports (`auditTrail.backup`): DynamoDB's exports of the events table to the backup bucket. */
export interface BackupConfig {
  /** New events since the last export that start the next one (checked every 15 minutes). */
  exportAfterEvents: number;
  /** A full export at least this often; incremental ones in between. */
  fullExportEveryDays: number;
  /** Days the backup bucket keeps an export (at least two full-export periods, so a base is always there). */
  keepExportsDays: number;
}

export const DEFAULT_BACKUP_CONFIG: BackupConfig = {
  exportAfterEvents: 100_000,
  fullExportEveryDays: 7,
  keepExportsDays: 35,
};

export function checkBackupConfig(backup: BackupConfig): void {
  if (!Number.isInteger(backup.exportAfterEvents) || backup.exportAfterEvents < 1) {
    throw new Error('auditTrail.backup.exportAfterEvents must be a whole number ≥ 1');
  }
  if (!Number.isInteger(backup.fullExportEveryDays) || backup.fullExportEveryDays < 1) {
    throw new Error('auditTrail.backup.fullExportEveryDays must be a whole number of days ≥ 1');
  }
  if (!Number.isInteger(backup.keepExportsDays) || backup.keepExportsDays < 2 * backup.fullExportEveryDays) {
    throw new Error('auditTrail.backup.keepExportsDays must be whole days, at least twice fullExportEveryDays (an export chain needs its base)');
  }
}
