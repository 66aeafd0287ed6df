/**
 * Exports' configuration (`auditTrail.exports` in cdk.json), checked at synth
 * time like the rest of lib/config.ts.
 */
export interface ExportsConfig {
  /** Days an export's file (and its job record) is kept before the bucket's lifecycle rule deletes it. */
  retentionDays: number;
  /**
   * Seconds a download link stays valid. At most an hour: links are signed
   * with the Admin function's temporary credentials, which may not outlive it.
   */
  linkExpirySeconds: number;
}

/** A week to download an export; a link valid for 15 minutes (ask GET /v1/exports/{id} for a fresh one). */
export const DEFAULT_EXPORTS_CONFIG: ExportsConfig = { retentionDays: 7, linkExpirySeconds: 900 };

export const MAX_EXPORT_LINK_SECONDS = 3600;

export function checkExportsConfig(exports: ExportsConfig): void {
  if (!Number.isInteger(exports.retentionDays) || exports.retentionDays < 1 || exports.retentionDays > 365) {
    throw new Error('auditTrail.exports.retentionDays must be a whole number of days from 1 to 365');
  }
  if (!Number.isInteger(exports.linkExpirySeconds) || exports.linkExpirySeconds < 60 || exports.linkExpirySeconds > MAX_EXPORT_LINK_SECONDS) {
    throw new Error(`auditTrail.exports.linkExpirySeconds must be a whole number of seconds from 60 to ${MAX_EXPORT_LINK_SECONDS}`);
  }
}
