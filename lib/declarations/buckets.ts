import { ARCHIVE_DIGESTS_PREFIX, ARCHIVE_EVENTS_PREFIX } from '../../lambdas/core/archive';

/**
 * S3 buckets, declared once: the CDK construct builds each (with its
 * protections) and grants functions exactly their declared access; the local
 * stack creates the same bucket, by `localName`, in its local S3.
 */
export interface BucketDeclaration {
  /** Logical id in the stack. */
  id: string;
  /** Environment variable through which a function or script learns the bucket's name. */
  envVar: string;
  /** The bucket's name in the local S3 (on AWS CloudFormation names it). */
  localName: string;
}

/** What a function may do in a bucket: exact S3 actions, on objects under the listed prefixes only. */
export interface BucketAccess {
  bucket: BucketDeclaration;
  actions: readonly string[];
  prefixes: readonly string[];
}

/** The event archive: gzipped NDJSON under `events/`, signed hash-chained digests under `digests/` (docs/archive.md). */
export const ARCHIVE_BUCKET = {
  id: 'Archive',
  envVar: 'ARCHIVE_BUCKET',
  localName: 'audit-trail-archive',
} as const satisfies BucketDeclaration;

export const ARCHIVE_PREFIXES = { events: ARCHIVE_EVENTS_PREFIX, digests: ARCHIVE_DIGESTS_PREFIX } as const;

/**
 * Exports (issue 3): one object per export under `exports/`, private,
 * downloaded only through time-limited presigned links, expired by a
 * lifecycle rule after `auditTrail.exports.retentionDays` (lib/constructs/exports.ts).
 */
export const EXPORTS_BUCKET = {
  id: 'Exports',
  envVar: 'EXPORTS_BUCKET',
  localName: 'audit-trail-exports',
} as const satisfies BucketDeclaration;

/** Every export object's key starts with it; the functions' S3 grants cover only this prefix. */
export const EXPORTS_OBJECT_PREFIX = 'exports/';

/**
 * Backups (issue 6): DynamoDB's own exports of the events table
 * (lambdas/core/table-export.ts) under `table-exports/`. AWS only: DynamoDB
 * Local has no exports, so the local stack does not create it.
 */
export const BACKUP_BUCKET = {
  id: 'Backups',
  envVar: 'BACKUP_BUCKET',
  localName: 'audit-trail-backups',
} as const satisfies BucketDeclaration;

export const BACKUP_OBJECT_PREFIX = 'table-exports/';

export const BUCKETS: readonly BucketDeclaration[] = [ARCHIVE_BUCKET, EXPORTS_BUCKET, BACKUP_BUCKET];
