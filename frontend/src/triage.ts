/**
 * The logic of the two triage screens (notifications, error groups) without React: what the address says,
 * what a row may offer, what a note may be, and the numbers behind the small charts. Tested in
 * test/unit/spa-triage.test.ts.
 */
import { ApiError, type QueryParams } from './api';
import { SEVERITIES, type ErrorGroupListItem, type ErrorGroupStatus, type Notification, type Severity } from './types';

// ---------------------------------------------------------------- notifications

/** The notification list's views: one status (the API's `status`), or all of them (no `status`). */
export const NOTIFICATION_VIEWS = ['new', 'read', 'resolved', 'all'] as const;
export type NotificationView = (typeof NOTIFICATION_VIEWS)[number];

export interface NotificationFilters {
  view: NotificationView;
  severity?: Severity;
  rule?: string;
}

/** The API's rule id shape (lambdas/core/rules.ts RULE_ID_PATTERN; not imported: that module needs node:crypto and zod). */
export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** The API's limit on a resolution note (lambdas/core/notifications.ts, core/error-groups.ts). */
export const NOTE_MAX = 2000;

/** `?status=read&severity=error&rule=failed-payments`; unknown values fall back to the default (new, any). */
export function notificationFiltersFromParams(params: URLSearchParams): NotificationFilters {
  const status = params.get('status');
  const severity = params.get('severity');
  const rule = params.get('rule')?.trim();
  return {
    view: (NOTIFICATION_VIEWS as readonly string[]).includes(status ?? '') ? (status as NotificationView) : 'new',
    ...((SEVERITIES as readonly string[]).includes(severity ?? '') ? { severity: severity as Severity } : {}),
    ...(rule ? { rule } : {}),
  };
}

/** The address of a view, in one order; the default view (new) is left out so the plain link is the inbox. */
export function paramsFromNotificationFilters(filters: NotificationFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.view !== 'new') params.set('status', filters.view);
  if (filters.severity) params.set('severity', filters.severity);
  if (filters.rule) params.set('rule', filters.rule);
  return params;
}

/** The request for one page of a view. */
export function notificationQuery(filters: NotificationFilters, limit: number, cursor?: string): QueryParams {
  return { status: filters.view === 'all' ? undefined : filters.view, severity: filters.severity, rule: filters.rule, limit, cursor };
}

/** What the form can tell before asking (the API says the same with a 400). */
export function ruleProblem(rule: string | undefined): string | undefined {
  if (!rule) return undefined;
  return RULE_ID_PATTERN.test(rule) ? undefined : 'A rule id is lower-case letters, digits and dashes (for example failed-payments).';
}

export function noteProblem(note: string): string | undefined {
  return note.length > NOTE_MAX ? `A note is at most ${NOTE_MAX} characters (this one has ${note.length}).` : undefined;
}

/**
 * What a row offers: anyone may mark a new one read; only admins resolve, and only what is not resolved yet
 * (going back is a 409, so it is never offered).
 */
export function notificationActions(notification: Pick<Notification, 'status'>, isAdmin: boolean): { markRead: boolean; resolve: boolean } {
  return { markRead: notification.status === 'new', resolve: isAdmin && notification.status !== 'resolved' };
}

export const ERROR_GROUP_RECORD_TYPE = 'error_group';

/**
 * Where a notification leads. An error group's lifecycle notification (new, regressed) names an event the
 * error tracker derived and never stored, so it leads to the group rather than to a missing event.
 */
export function notificationLinks(notification: Pick<Notification, 'eventId' | 'record'>): Array<{ label: string; to: string }> {
  if (notification.record?.type === ERROR_GROUP_RECORD_TYPE) return [{ label: 'Open error group', to: `/errors/${encodeURIComponent(notification.record.id)}` }];
  return [{ label: 'Open event', to: `/events/${encodeURIComponent(notification.eventId)}` }];
}

/** One line per channel for the delivery cell's tooltip: `email: sent`, `sms: failed (throttled)`, `inApp: listed`. */
export function deliveryDetails(notification: Pick<Notification, 'channels' | 'deliveries'>): string {
  return notification.channels
    .map((channel) => {
      if (channel === 'inApp') return 'inApp: listed here';
      const outcome = notification.deliveries?.[channel];
      if (!outcome) return `${channel}: pending`;
      const why = outcome.error ?? outcome.reason;
      return `${channel}: ${outcome.status}${why ? ` (${why})` : ''}`;
    })
    .join('\n');
}

/**
 * Runs `task` on every item, at most `limit` at a time (a page of "mark read" PATCHes without a burst of 50
 * requests at once); resolves with the items that failed and why, never rejects.
 */
export async function runLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>): Promise<Array<{ item: T; error: unknown }>> {
  const failed: Array<{ item: T; error: unknown }> = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failed.push({ item, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return failed;
}

// ---------------------------------------------------------------- error groups

export const ERROR_STATUSES: readonly ErrorGroupStatus[] = ['unresolved', 'resolved', 'ignored'];
export const ERROR_SORTS = ['lastSeen', 'count'] as const;
export type ErrorSort = (typeof ERROR_SORTS)[number];
export const ERROR_SORT_LABELS: Record<ErrorSort, string> = { lastSeen: 'Last seen', count: 'Most events' };

export interface ErrorListView {
  status: ErrorGroupStatus;
  sort: ErrorSort;
}

/** `?status=resolved&sort=count`; the API's defaults (unresolved, last seen) when absent or unknown. */
export function errorViewFromParams(params: URLSearchParams): ErrorListView {
  const status = params.get('status') ?? '';
  const sort = params.get('sort') ?? '';
  return {
    status: (ERROR_STATUSES as readonly string[]).includes(status) ? (status as ErrorGroupStatus) : 'unresolved',
    sort: (ERROR_SORTS as readonly string[]).includes(sort) ? (sort as ErrorSort) : 'lastSeen',
  };
}

export function paramsFromErrorView(view: ErrorListView): URLSearchParams {
  const params = new URLSearchParams();
  if (view.status !== 'unresolved') params.set('status', view.status);
  if (view.sort !== 'lastSeen') params.set('sort', view.sort);
  return params;
}

/**
 * Back because it happened again: the tracker reopens a resolved group and stamps `regressedAt` with the same
 * time as `statusAt`. Once someone changes the status by hand the two differ, and the marker goes.
 */
export function isRegressed(group: Pick<ErrorGroupListItem, 'status' | 'regressedAt' | 'statusAt'>): boolean {
  return group.status === 'unresolved' && group.regressedAt !== undefined && group.regressedAt === group.statusAt;
}

export interface ErrorAction {
  status: ErrorGroupStatus;
  label: 'Resolve' | 'Ignore' | 'Reopen';
  /** The dialog's explanation of what the change means. */
  meaning: string;
}

const ERROR_ACTIONS: readonly ErrorAction[] = [
  { status: 'resolved', label: 'Resolve', meaning: 'The group leaves the unresolved list. If the error happens again, it reopens as a regression and notifies.' },
  { status: 'ignored', label: 'Ignore', meaning: 'The group leaves the unresolved list and stays out: it is still counted, but never reopens or notifies.' },
  { status: 'unresolved', label: 'Reopen', meaning: 'The group goes back on the unresolved list.' },
];

/** The changes an admin may make from a status: to either other status. */
export function errorActions(status: ErrorGroupStatus): ErrorAction[] {
  return ERROR_ACTIONS.filter((action) => action.status !== status);
}

/** What a failed status change says: a 409 means the group changed under the admin (a regression reopened it). */
export function changeErrorMessage(error: unknown, fallback: (error: unknown) => string): string {
  if (error instanceof ApiError && error.status === 409) return 'This group changed meanwhile (for example, a regression reopened it). It has been reloaded: check it and decide again.';
  return fallback(error);
}

// ---------------------------------------------------------------- small charts

/**
 * The polyline of a sparkline in a `width` × `height` box: one point per value, evenly spaced, the highest
 * value at the top, zero at the bottom, `pad` kept free on every side for the stroke.
 */
export function sparklinePoints(values: readonly number[], width: number, height: number, pad = 1.5): string {
  if (values.length === 0) return '';
  const max = Math.max(...values, 1);
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const round = (n: number) => Math.round(n * 100) / 100;
  return values.map((value, i) => `${round(pad + i * step)},${round(height - pad - (Math.max(0, value) / max) * (height - 2 * pad))}`).join(' ');
}

/** The sparkline in words: "12 in the last 24 hours". */
export function sparklineLabel(values: readonly number[]): string {
  const total = values.reduce((sum, n) => sum + n, 0);
  const span = values.length === 1 ? 'the last hour' : `the last ${values.length} hours`;
  return `${total === 0 ? 'None' : total} in ${span}`;
}

/** The 7-day chart in words, for its aria-label: the total, and the busiest hour. */
export function histogramSummary(buckets: ReadonlyArray<{ start: string; count: number }>, formatHour: (iso: string) => string): string {
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  const days = Math.round(buckets.length / 24);
  if (total === 0) return `No occurrences in the last ${days} days.`;
  const busiest = buckets.reduce((top, b) => (b.count > top.count ? b : top), buckets[0]!);
  return `${total} occurrence${total === 1 ? '' : 's'} in the last ${days} days, hourly; the busiest hour was ${formatHour(busiest.start)} with ${busiest.count}.`;
}
