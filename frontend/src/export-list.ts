/**
 * The exports screen without React. The API has no list of exports, so this browser tab remembers the ids of
 * the exports it requested (sessionStorage: ids only, gone with the tab) and asks for each one's state.
 */
import type { EventFilters } from './filters';
import type { ExportFormat, ExportJob } from './types';

export const EXPORT_FORMATS: ReadonlyArray<{ format: ExportFormat; label: string }> = [
  { format: 'csv', label: 'CSV (spreadsheets)' },
  { format: 'ndjson', label: 'NDJSON (one JSON object per line)' },
  { format: 'json', label: 'JSON (one array)' },
];

export const EXPORTS_STORAGE_KEY = 'audit-trail.exports';
/** More than a session needs; the oldest fall off. */
export const MAX_REMEMBERED_EXPORTS = 20;
/** How often a queued or running export is asked about. */
export const EXPORT_POLL_MS = 2000;
/** Export ids are ULIDs (lambdas/core/exports.ts). */
const EXPORT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

type ReadStorage = Pick<Storage, 'getItem'>;
type WriteStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** The remembered ids, newest first; anything unreadable (another version's value, a full or blocked storage) is none. */
export function readExportIds(storage: ReadStorage | undefined): string[] {
  try {
    const value: unknown = JSON.parse(storage?.getItem(EXPORTS_STORAGE_KEY) ?? '[]');
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string' && EXPORT_ID.test(id)).slice(0, MAX_REMEMBERED_EXPORTS) : [];
  } catch {
    return [];
  }
}

function write(storage: WriteStorage | undefined, ids: string[]): string[] {
  try {
    storage?.setItem(EXPORTS_STORAGE_KEY, JSON.stringify(ids));
  } catch {
    // Storage full or blocked: the list lives on in memory for this page.
  }
  return ids;
}

export function rememberExport(storage: WriteStorage | undefined, id: string): string[] {
  return write(storage, [id, ...readExportIds(storage).filter((other) => other !== id)].slice(0, MAX_REMEMBERED_EXPORTS));
}

export function forgetExport(storage: WriteStorage | undefined, id: string): string[] {
  return write(storage, readExportIds(storage).filter((other) => other !== id));
}

export function isExportActive(job: Pick<ExportJob, 'status'> | undefined): boolean {
  return job?.status === 'queued' || job?.status === 'running';
}

/** react-query's refetchInterval: every 2 s while the export is queued or running, then stop. */
export function exportPollInterval(job: Pick<ExportJob, 'status'> | undefined): number | false {
  return isExportActive(job) ? EXPORT_POLL_MS : false;
}

/** Milliseconds until the download link stops working (≤ 0: it has), or undefined without a link. */
export function linkExpiresIn(job: Pick<ExportJob, 'download'> | undefined, now = Date.now()): number | undefined {
  if (!job?.download) return undefined;
  const at = Date.parse(job.download.expiresAt);
  return Number.isNaN(at) ? 0 : at - now;
}

/** `{ format, ...filters }` for POST /v1/exports: empty filters left out. */
export function exportRequestBody(format: ExportFormat, filters: EventFilters): Record<string, string> {
  const body: Record<string, string> = { format };
  for (const [key, value] of Object.entries(filters)) {
    const text = value?.trim();
    if (text) body[key] = text;
  }
  return body;
}

/** The job's filters as a line: "severity error · type user.*"; the window (from/to) is shown on its own. */
export function describeExportFilters(filters: Record<string, string> | undefined): string {
  const parts = Object.entries(filters ?? {})
    .filter(([key]) => key !== 'from' && key !== 'to')
    .map(([key, value]) => `${key} ${value}`);
  return parts.length > 0 ? parts.join(' · ') : 'all events';
}
