import { createHash } from 'node:crypto';

/**
 * Backups independent of the app: DynamoDB's own export of the events table
 * to S3 (ExportTableToPointInTime, from the PITR backups, with no read
 * capacity used), started when enough events arrived since the last one and
 * on demand. Incremental where possible: an incremental export holds what
 * changed in a window of 15 minutes to 24 hours, so after the first (full)
 * export each one covers [last export, now]; after a gap over 24 hours, or
 * every `fullExportEveryDays`, a full export starts a new base, so a
 * restore never needs a long chain.
 *
 * The count of new events is kept by the archive, in the same transaction
 * that commits each batch (archive-chain-store.ts): exact, and free.
 */
/** The environment the backups construct gives the export function (lib/constructs/backups.ts). */
export const BACKUP_ENV = {
  tableArn: 'EVENTS_TABLE_ARN',
  bucket: 'BACKUP_BUCKET',
  kmsKeyArn: 'BACKUP_KEY_ARN',
  exportAfterEvents: 'EXPORT_AFTER_EVENTS',
  fullExportEveryDays: 'FULL_EXPORT_EVERY_DAYS',
} as const;

export const MIN_INCREMENTAL_MS = 15 * 60_000;
export const MAX_INCREMENTAL_MS = 24 * 3_600_000;

export interface ExportState {
  eventsSinceExport: number;
  /** The point in time the last export covered up to (ISO). */
  lastExportTime?: string;
  lastFullExportTime?: string;
  lastExportArn?: string;
  lastExportType?: 'FULL_EXPORT' | 'INCREMENTAL_EXPORT';
}

export interface ExportPolicy {
  /** New events since the last export that trigger the next one. */
  exportAfterEvents: number;
  fullExportEveryDays: number;
}

export type ExportDecision =
  | { kind: 'none'; reason: string }
  | { kind: 'full'; exportTime: Date; reason: string }
  | { kind: 'incremental'; from: Date; to: Date; reason: string };

export function decideExport(state: ExportState, now: Date, policy: ExportPolicy, force = false): ExportDecision {
  // A minute back, on a whole minute: a point PITR has surely reached, and the same one for a run retried within the minute.
  const to = new Date(Math.floor(now.getTime() / 60_000) * 60_000 - 60_000);
  const count = state.eventsSinceExport;
  if (!force && count < policy.exportAfterEvents) {
    return { kind: 'none', reason: `${count} of ${policy.exportAfterEvents} new events since the last export` };
  }
  const why = force ? 'on demand' : `${count} new events since the last export`;
  if (!state.lastExportTime) return { kind: 'full', exportTime: to, reason: `${why}; first export` };
  const last = new Date(state.lastExportTime);
  const since = to.getTime() - last.getTime();
  if (since < MIN_INCREMENTAL_MS) {
    return force
      ? { kind: 'full', exportTime: to, reason: `${why}; the last export is under 15 minutes old, too recent for an incremental one` }
      : { kind: 'none', reason: 'the last export is under 15 minutes old (the shortest incremental export); the next check will start it' };
  }
  if (since > MAX_INCREMENTAL_MS) return { kind: 'full', exportTime: to, reason: `${why}; over 24 hours since the last export` };
  const lastFull = state.lastFullExportTime ? Date.parse(state.lastFullExportTime) : 0;
  if (to.getTime() - lastFull > policy.fullExportEveryDays * 86_400_000) {
    return { kind: 'full', exportTime: to, reason: `${why}; the last full export is over ${policy.fullExportEveryDays} days old` };
  }
  return { kind: 'incremental', from: last, to, reason: why };
}

export interface StartExport {
  type: 'FULL_EXPORT' | 'INCREMENTAL_EXPORT';
  exportTime?: Date;
  from?: Date;
  to?: Date;
  /** Idempotency: the same export asked twice (a retried run) is started once. */
  clientToken: string;
}

export interface TableExporter {
  start(request: StartExport): Promise<string>;
}

export interface ExportStateStore {
  read(): Promise<ExportState>;
  /**
   * Records the export, on condition that no other run recorded one since
   * `previous` was read, and subtracts the events it counted (events counted
   * meanwhile stay for the next export).
   */
  record(previous: ExportState, exported: { arn: string; type: StartExport['type']; coveredUntil: Date; eventsCounted: number }): Promise<boolean>;
}

export type ExportOutcome = { started: false; reason: string } | { started: true; arn: string; type: StartExport['type']; coveredUntil: string; reason: string; recorded: boolean };

export async function runTableExport(options: {
  tableArn: string;
  exporter: TableExporter;
  state: ExportStateStore;
  policy: ExportPolicy;
  now?: Date;
  force?: boolean;
}): Promise<ExportOutcome> {
  const state = await options.state.read();
  const decision = decideExport(state, options.now ?? new Date(), options.policy, options.force);
  if (decision.kind === 'none') return { started: false, reason: decision.reason };
  const request: StartExport =
    decision.kind === 'full'
      ? { type: 'FULL_EXPORT', exportTime: decision.exportTime, clientToken: token(options.tableArn, 'full', decision.exportTime) }
      : { type: 'INCREMENTAL_EXPORT', from: decision.from, to: decision.to, clientToken: token(options.tableArn, 'incremental', decision.from, decision.to) };
  const arn = await options.exporter.start(request);
  const coveredUntil = decision.kind === 'full' ? decision.exportTime : decision.to;
  const recorded = await options.state.record(state, { arn, type: request.type, coveredUntil, eventsCounted: state.eventsSinceExport });
  return { started: true, arn, type: request.type, coveredUntil: coveredUntil.toISOString(), reason: decision.reason, recorded };
}

function token(tableArn: string, kind: string, ...times: Date[]): string {
  return createHash('sha256')
    .update([tableArn, kind, ...times.map((t) => t.toISOString())].join('|'))
    .digest('hex')
    .slice(0, 32);
}
