import { EXPORTS_OBJECT_PREFIX } from '../../lib/declarations/buckets';
import { EVENT_LIST_ATTRIBUTES } from '../../lib/declarations/tables';
import { adminActions, AdminAuditUnavailable, type AdminAuditRecorder, type AdminRequest } from './admin-audit';
import { ClientError, badRequest } from './errors';
import { toListItem, type ListItem } from './event-queries';
import { parseEventListQuery, resolveWindow, type ResolvedFilters } from './query-filters';
import { readMerged, startOf, type MergePosition, type PartitionReader } from './query-merge';
import { planEventQuery } from './query-plan';

/**
 * Exports: every event matching the filters of GET /v1/events, newest
 * first, as CSV, NDJSON or one JSON array, written to S3 by streaming.
 *
 * POST /v1/exports records the job (queued), records the admin event, and
 * starts the export function asynchronously; the function reads with the
 * query planner page by page (the same plans, merges and server-side
 * filters as GET /v1/events) and writes each page into a multipart upload
 * as it goes, so its memory stays flat however many rows there are.
 * GET /v1/exports/{id} reports the job and, once it succeeded, a
 * time-limited download link.
 *
 * Rows carry the list attributes (the columns of EVENT_LIST_ATTRIBUTES, what
 * every index projects), so an export never reads the base table; the full
 * event of a row is GET /v1/events/{id}.
 */

export const EXPORT_FORMATS = ['csv', 'ndjson', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** The columns of every format, in this order. */
export const EXPORT_COLUMNS = EVENT_LIST_ATTRIBUTES;
/** Rows read per merge step: several Queries' worth, small enough to keep memory flat. */
export const EXPORT_PAGE = 1000;
/** Stop this long before the function's deadline, to record the failure and abort the upload cleanly. */
export const EXPORT_DEADLINE_MARGIN_MS = 30_000;
/** The prefix of every export object (the functions may only touch keys under it). */
export const EXPORTS_PREFIX = EXPORTS_OBJECT_PREFIX;

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

export interface ExportJob {
  id: string;
  status: ExportStatus;
  format: ExportFormat;
  /** The filters with the window settled at request time: the export reads exactly this. */
  filters: ResolvedFilters;
  requestedBy: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  rowCount?: number;
  bytes?: number;
  objectKey: string;
  /** Why it failed, for the admin (never internals). */
  error?: string;
  /** Epoch seconds: the job record expires with its file (TTL). */
  expiresAt: number;
}

/** The Exports table as the domain sees it. */
export interface ExportJobs {
  /** Creates the job; false when the id exists. */
  create(job: ExportJob): Promise<boolean>;
  get(id: string): Promise<ExportJob | undefined>;
  /** queued → running; false when it was not queued (a second delivery of the same start). */
  markRunning(id: string, at: Date): Promise<boolean>;
  finish(id: string, result: { rowCount: number; bytes: number; finishedAt: Date }): Promise<void>;
  fail(id: string, error: string, at: Date): Promise<void>;
}

/** Starts the export function for a job, without waiting for it (Lambda's Event invocation). */
export interface ExportLauncher {
  start(exportId: string): Promise<void>;
}

/** A time-limited link to an export's object. */
export interface DownloadLinks {
  link(objectKey: string, options: { filename: string; contentType: string; expiresInSeconds: number }): Promise<string>;
}

/** Where the rows go: a streaming upload. `write` resolves when the chunk may be followed by another (backpressure). */
export interface ExportSink {
  write(chunk: string): Promise<void>;
  /** Ends the object; resolves once it is stored. */
  close(): Promise<{ bytes: number }>;
  /** Gives up: nothing is left behind (multipart parts are aborted). */
  abort(): Promise<void>;
}

export interface ExportSettings {
  retentionDays: number;
  linkExpirySeconds: number;
}

/** Environment variables through which the deployment's `auditTrail.exports` reaches the Admin function. */
export const EXPORT_RETENTION_DAYS_ENV = 'EXPORT_RETENTION_DAYS';
export const EXPORT_LINK_SECONDS_ENV = 'EXPORT_LINK_SECONDS';

export function exportSettingsFromEnv(env: Record<string, string | undefined> = process.env): ExportSettings {
  const number = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
    return value;
  };
  return { retentionDays: number(EXPORT_RETENTION_DAYS_ENV, 7), linkExpirySeconds: number(EXPORT_LINK_SECONDS_ENV, 900) };
}

// ---------------------------------------------------------------- the request

const FILTER_NOT_ALLOWED = new Set(['limit', 'cursor']);

/**
 * `POST /v1/exports` body: `{ "format": "csv" | "ndjson" | "json", ...filters }`
 * with exactly the filters of GET /v1/events (as JSON strings), checked by
 * the same parser. The window is settled now (defaults: the last 7 days).
 */
export function parseExportRequest(body: unknown, now: Date): { format: ExportFormat; filters: ResolvedFilters } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('invalid_body', 'send { "format": "csv", ...the filters of GET /v1/events }');
  }
  const { format, ...rest } = body as Record<string, unknown>;
  if (typeof format !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw badRequest('invalid_format', `format must be one of ${EXPORT_FORMATS.join(', ')}`);
  }
  const params: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(rest)) {
    if (FILTER_NOT_ALLOWED.has(name)) throw badRequest('unknown_parameter', `${name} does not apply to an export: it has every matching event`);
    if (typeof value !== 'string') throw badRequest('invalid_filter', `${name} must be a string`);
    params[name] = [value];
  }
  const { filters } = parseEventListQuery(params);
  return { format: format as ExportFormat, filters: { ...filters, ...resolveWindow(filters, now) } };
}

export function exportObjectKey(id: string, format: ExportFormat): string {
  return `${EXPORTS_PREFIX}${id}.${format}`;
}

// ---------------------------------------------------------------- encoding

/** Cells a spreadsheet would run as a formula (CSV injection): prefixed with `'`, as OWASP recommends. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: RFC 4180 quoting (a cell with a comma, quote, CR or LF is quoted, quotes doubled). */
export function csvCell(value: string | undefined): string {
  if (value === undefined) return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Turns rows into one format's text, a piece at a time. */
export class ExportEncoder {
  private rows = 0;

  constructor(readonly format: ExportFormat) {}

  header(): string {
    if (this.format === 'csv') return `${EXPORT_COLUMNS.join(',')}\r\n`;
    return this.format === 'json' ? '[' : '';
  }

  row(item: ListItem): string {
    this.rows += 1;
    if (this.format === 'csv') return `${EXPORT_COLUMNS.map((column) => csvCell(item[column])).join(',')}\r\n`;
    if (this.format === 'ndjson') return `${JSON.stringify(item)}\n`;
    return `${this.rows === 1 ? '\n' : ',\n'}${JSON.stringify(item)}`;
  }

  footer(): string {
    return this.format === 'json' ? (this.rows === 0 ? ']\n' : '\n]\n') : '';
  }

  get rowCount(): number {
    return this.rows;
  }
}

// ---------------------------------------------------------------- the API side

export interface ExportApiContext {
  jobs: ExportJobs;
  audit: AdminAuditRecorder;
  launcher: ExportLauncher;
  links: DownloadLinks;
  request: AdminRequest;
  settings: ExportSettings;
  newId: () => string;
  /** The export function's time limit: a job running longer than this has died. */
  functionTimeoutSeconds: number;
}

/**
 * Queues an export, records it as an admin event, starts it. When the event
 * cannot be recorded the job is marked failed before any row is read: no
 * export happens that the trail does not show.
 */
export async function startExport(body: unknown, context: ExportApiContext): Promise<ExportJob> {
  const now = context.request.at ?? new Date();
  const { format, filters } = parseExportRequest(body, now);
  const id = context.newId();
  const job: ExportJob = {
    id,
    status: 'queued',
    format,
    filters,
    requestedBy: context.request.principal.userId,
    createdAt: now.toISOString(),
    objectKey: exportObjectKey(id, format),
    expiresAt: Math.floor(now.getTime() / 1000) + context.settings.retentionDays * 86_400,
  };
  if (!(await context.jobs.create(job))) throw new Error(`export id ${id} exists`);
  try {
    await context.audit.record(adminActions.exportCreated({ id, format, filters: { ...filters } }, context.request.principal), context.request);
  } catch (error) {
    await context.jobs.fail(id, 'not started: the export could not be recorded in the audit trail', new Date());
    throw error instanceof AdminAuditUnavailable ? error : new AdminAuditUnavailable(error);
  }
  try {
    await context.launcher.start(id);
  } catch (error) {
    await context.jobs.fail(id, 'the export could not be started; request it again', new Date());
    throw new ClientError(503, 'export_not_started', 'the export could not be started; request it again', { 'retry-after': '1' });
  }
  return job;
}

/** What GET /v1/exports/{id} answers: the job, and a download link once it succeeded. */
export interface ExportView {
  id: string;
  status: ExportStatus;
  format: ExportFormat;
  filters: ResolvedFilters;
  requestedBy: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  rowCount?: number;
  bytes?: number;
  error?: string;
  download?: { url: string; expiresAt: string };
}

const EXPORT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export async function describeExport(id: string, context: Pick<ExportApiContext, 'jobs' | 'links' | 'settings' | 'functionTimeoutSeconds'>, now: Date = new Date()): Promise<ExportView> {
  const job = EXPORT_ID.test(id) ? await context.jobs.get(id) : undefined;
  if (!job) throw new ClientError(404, 'not_found', `no export has id ${id}`);
  const view: ExportView = {
    id: job.id,
    status: job.status,
    format: job.format,
    filters: job.filters,
    requestedBy: job.requestedBy,
    createdAt: job.createdAt,
    ...(job.startedAt ? { startedAt: job.startedAt } : {}),
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    ...(job.rowCount !== undefined ? { rowCount: job.rowCount } : {}),
    ...(job.bytes !== undefined ? { bytes: job.bytes } : {}),
    ...(job.error ? { error: job.error } : {}),
  };
  // A function that died (out of memory, say) cannot record its failure: past its time limit, it has failed.
  if (job.status === 'running' && job.startedAt && Date.parse(job.startedAt) + (context.functionTimeoutSeconds + 60) * 1000 < now.getTime()) {
    return { ...view, status: 'failed', error: 'the export stopped before it finished; request it again, with narrower filters if it is large' };
  }
  if (job.status !== 'succeeded') return view;
  const expiresInSeconds = context.settings.linkExpirySeconds;
  const url = await context.links.link(job.objectKey, {
    filename: `audit-events-${job.id}.${job.format}`,
    contentType: CONTENT_TYPES[job.format],
    expiresInSeconds,
  });
  return { ...view, download: { url, expiresAt: new Date(now.getTime() + expiresInSeconds * 1000).toISOString() } };
}

// ---------------------------------------------------------------- the export function

export interface ExportRunContext {
  jobs: ExportJobs;
  reader: PartitionReader;
  /** Opens the upload of the export's object. */
  openSink: (objectKey: string, contentType: string) => Promise<ExportSink>;
  /** Milliseconds the function has left. */
  remainingMs: () => number;
  now?: () => Date;
}

export type ExportOutcome =
  | { status: 'succeeded'; rowCount: number; bytes: number }
  /** `cause`: the error behind it, for the function's log (the job says less). */
  | { status: 'failed'; error: string; cause?: unknown }
  | { status: 'skipped'; reason: string };

/**
 * Runs one job: newest first, page by page, each page written before the
 * next is read. A job that is not queued (a second delivery of the same
 * start, or an unknown id) is left alone. Whatever fails is recorded on the
 * job, and the upload is aborted.
 */
export async function runExport(exportId: string, context: ExportRunContext): Promise<ExportOutcome> {
  const now = context.now ?? (() => new Date());
  const job = await context.jobs.get(exportId);
  if (!job) return { status: 'skipped', reason: 'no such export' };
  if (job.status !== 'queued' || !(await context.jobs.markRunning(job.id, now()))) return { status: 'skipped', reason: `the export is ${job.status}` };

  const sink = await context.openSink(job.objectKey, CONTENT_TYPES[job.format]);
  const encoder = new ExportEncoder(job.format);
  try {
    await sink.write(encoder.header());
    const plan = planEventQuery(job.filters);
    let position: MergePosition | undefined = startOf(plan);
    while (position) {
      if (context.remainingMs() < EXPORT_DEADLINE_MARGIN_MS) throw new ExportTooLarge(encoder.rowCount);
      const page: Awaited<ReturnType<typeof readMerged>> = await readMerged(plan, context.reader, position, { limit: EXPORT_PAGE });
      let chunk = '';
      for (const item of page.items) chunk += encoder.row(toListItem(item));
      if (chunk) await sink.write(chunk);
      position = page.next;
    }
    await sink.write(encoder.footer());
    const { bytes } = await sink.close();
    await context.jobs.finish(job.id, { rowCount: encoder.rowCount, bytes, finishedAt: now() });
    return { status: 'succeeded', rowCount: encoder.rowCount, bytes };
  } catch (error) {
    await sink.abort().catch(() => undefined);
    const message = error instanceof ExportTooLarge ? error.message : 'the export failed; request it again';
    await context.jobs.fail(job.id, message, now());
    // Not rethrown: Lambda would retry the invocation, which finds the job failed and does nothing.
    return { status: 'failed', error: message, cause: error };
  }
}

export class ExportTooLarge extends Error {
  constructor(rows: number) {
    super(`the export ran out of time after ${rows} rows; request it again with narrower filters (a shorter window)`);
    this.name = 'ExportTooLarge';
  }
}
