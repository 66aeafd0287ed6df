import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, describeError } from '../api';
import { SeverityBadge, StatusBadge } from '../components/badges';
import { AnyOptions } from '../components/field';
import { PageHeader } from '../components/layout';
import { NoteDialog } from '../components/note-dialog';
import { Pager, useCursorPages } from '../components/pager';
import { Empty, QueryState } from '../components/query-state';
import { useIsAdmin } from '../components/session';
import { formatAgo, formatCount, formatDateTime, formatSeconds } from '../format';
import {
  NOTIFICATION_VIEWS,
  deliveryDetails,
  notificationActions,
  notificationFiltersFromParams,
  notificationLinks,
  notificationQuery,
  paramsFromNotificationFilters,
  ruleProblem,
  runLimited,
  type NotificationFilters,
  type NotificationView,
} from '../triage';
import { SEVERITIES, type Notification, type NotificationPage, type Rule, type Severity } from '../types';
import './notifications.css';

const PAGE_SIZE = 50;
/** Marking a page read: a few PATCHes at a time rather than fifty at once. */
const BULK_CONCURRENCY = 4;

const VIEW_LABELS: Record<NotificationView, string> = { new: 'New', read: 'Read', resolved: 'Resolved', all: 'All' };
const EMPTY_TEXT: Record<NotificationView, string> = {
  new: 'Nothing new. When a rule fires, its notification appears here.',
  read: 'No notifications marked read and still open.',
  resolved: 'No resolved notifications yet.',
  all: 'No notifications yet. Rules raise them when important events arrive.',
};

export function NotificationsPage() {
  const [params, setParams] = useSearchParams();
  const filters = notificationFiltersFromParams(params);
  const filterKey = paramsFromNotificationFilters(filters).toString();
  const isAdmin = useIsAdmin();
  const client = useQueryClient();

  // A new view starts over at the first page.
  const pages = useCursorPages(filterKey);
  const { cursor } = pages;

  const problem = ruleProblem(filters.rule);
  const query = useQuery({
    queryKey: ['notifications', 'list', filterKey, cursor],
    queryFn: ({ signal }) => api.get<NotificationPage>('/v1/notifications', notificationQuery(filters, PAGE_SIZE, cursor), signal),
    enabled: !problem,
    placeholderData: keepPreviousData,
    // New notifications show up while the list is open (the first page only: later pages would shift under the reader).
    refetchInterval: cursor ? false : 30_000,
  });

  // The rule filter's choices: admins read the rules; a viewer (who may not) picks from the rules seen so far.
  const rules = useQuery({
    queryKey: ['rules'],
    queryFn: ({ signal }) => api.get<{ rules: Rule[] }>('/v1/rules', undefined, signal),
    enabled: isAdmin,
    staleTime: 60_000,
  });
  const seenRules = useRef(new Map<string, string>());
  for (const item of query.data?.items ?? []) seenRules.current.set(item.ruleId, item.ruleName);
  for (const rule of rules.data?.rules ?? []) seenRules.current.set(rule.id, rule.name);
  const ruleOptions = [...seenRules.current].sort((a, b) => a[1].localeCompare(b[1]));

  // Row actions: which rows are busy, and what went wrong (shown above the list, naming the notification).
  const [busy, setBusy] = useState<Set<string>>(new Set());
  const [actionError, setActionError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [resolving, setResolving] = useState<Notification>();
  const setRowBusy = (id: string, on: boolean) =>
    setBusy((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const refresh = () => client.invalidateQueries({ queryKey: ['notifications'] });

  const markRead = async (notification: Notification) => {
    setActionError(undefined);
    setNotice(undefined);
    setRowBusy(notification.id, true);
    try {
      await api.patch<Notification>(`/v1/notifications/${notification.id}`, { status: 'read' });
      await refresh();
      keepFocusOnPage();
    } catch (error) {
      setActionError(`Could not mark “${notification.title}” read: ${describeError(error)}`);
      void refresh();
    } finally {
      setRowBusy(notification.id, false);
    }
  };

  const [bulk, setBulk] = useState<{ done: number; total: number }>();
  const unreadOnPage = query.data?.items.filter((item) => item.status === 'new') ?? [];
  const markPageRead = async () => {
    setActionError(undefined);
    setNotice(undefined);
    const targets = unreadOnPage;
    setBulk({ done: 0, total: targets.length });
    const failed = await runLimited(targets, BULK_CONCURRENCY, async (item) => {
      await api.patch(`/v1/notifications/${item.id}`, { status: 'read' });
      setBulk((b) => (b ? { ...b, done: b.done + 1 } : b));
    });
    setBulk(undefined);
    await refresh();
    if (failed.length > 0) setActionError(`${failed.length} of ${targets.length} could not be marked read: ${describeError(failed[0]!.error)}`);
    else setNotice(`Marked ${targets.length} notification${targets.length === 1 ? '' : 's'} read.`);
  };

  const resolve = useMutation({
    mutationFn: ({ notification, note }: { notification: Notification; note: string }) =>
      api.patch<Notification>(`/v1/notifications/${notification.id}`, { status: 'resolved', ...(note ? { note } : {}) }),
    onSuccess: async (updated) => {
      // Refetch first, then close: the dialog then finds out whether its row is still listed to return focus to.
      await refresh();
      void client.invalidateQueries({ queryKey: ['events'] }); // resolving is recorded as an admin.notification.resolved event
      setResolving(undefined);
      setNotice(`Resolved “${updated.title}”.`);
    },
  });

  const apply = (next: NotificationFilters) => setParams(paramsFromNotificationFilters(next));
  const unread = query.data ? `${formatCount(query.data.unreadCount)}${query.data.unreadCountCapped ? '+' : ''}` : undefined;

  return (
    <>
      <PageHeader title="Notifications">
        {unread !== undefined && (
          <span className="muted" data-testid="unread-summary">
            {unread} unread
          </span>
        )}
      </PageHeader>

      <nav className="view-tabs" aria-label="Notification status">
        {NOTIFICATION_VIEWS.map((view) => (
          <Link key={view} to={{ search: paramsFromNotificationFilters({ ...filters, view }).toString() }} aria-current={filters.view === view ? 'page' : undefined} className={filters.view === view ? 'active' : undefined}>
            {VIEW_LABELS[view]}
            {view === 'new' && query.data && query.data.unreadCount > 0 && (
              <span className="tab-count">
                {unread}
                <span className="visually-hidden"> unread</span>
              </span>
            )}
          </Link>
        ))}
      </nav>

      <form className="panel filters notification-filters" role="search" aria-label="Filter notifications" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="notification-severity">Severity</label>
          <select id="notification-severity" value={filters.severity ?? ''} onChange={(e) => apply({ ...filters, severity: (e.target.value || undefined) as Severity | undefined })}>
            <AnyOptions values={SEVERITIES} />
          </select>
        </div>
        <div className="field">
          <label htmlFor="notification-rule">Rule</label>
          <select
            id="notification-rule"
            value={filters.rule ?? ''}
            onChange={(e) => apply({ ...filters, rule: e.target.value || undefined })}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'notification-rule-error' : undefined}
          >
            <option value="">Any</option>
            {filters.rule && !seenRules.current.has(filters.rule) && <option value={filters.rule}>{filters.rule}</option>}
            {ruleOptions.map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
          {problem && (
            <p className="field-error" id="notification-rule-error">
              {problem}
            </p>
          )}
        </div>
        <div className="actions">
          <button type="button" className="secondary" onClick={() => apply({ view: filters.view })} disabled={!filters.severity && !filters.rule}>
            Clear filters
          </button>
        </div>
      </form>

      {actionError && (
        <div className="callout error" role="alert">
          {actionError}
        </div>
      )}
      {notice && (
        <div className="callout success" role="status">
          {notice}
        </div>
      )}

      {!problem && (
        <QueryState query={query}>
          {(data) => (
            <>
              {unreadOnPage.length > 1 && (
                <div className="bulk-bar">
                  <button type="button" className="secondary" onClick={() => void markPageRead()} disabled={bulk !== undefined}>
                    {bulk ? `Marking read… ${bulk.done} of ${bulk.total}` : `Mark all on this page read (${unreadOnPage.length})`}
                  </button>
                </div>
              )}
              <NotificationTable items={data.items} filters={filters} emptyText={filters.severity || filters.rule ? 'No notifications match these filters.' : EMPTY_TEXT[filters.view]} isAdmin={isAdmin} busy={busy} onMarkRead={(n) => void markRead(n)} onResolve={(n) => { resolve.reset(); setResolving(n); }} />
              <Pager pages={pages} nextCursor={data.nextCursor} loading={query.isFetching} />
            </>
          )}
        </QueryState>
      )}

      {resolving && (
        <NoteDialog
          title="Resolve notification"
          confirmLabel="Resolve"
          pendingLabel="Resolving…"
          pending={resolve.isPending}
          error={resolve.error}
          onConfirm={(note) => resolve.mutate({ notification: resolving, note })}
          onCancel={() => setResolving(undefined)}
        >
          <p className="subject">{resolving.title}</p>
          <p className="muted">Resolving closes it for everyone and records you as the resolver. It cannot be reopened.</p>
        </NoteDialog>
      )}
    </>
  );
}

/** On the "new" view a row marked read leaves the list, taking the focused button with it: keep focus in the page. */
function keepFocusOnPage() {
  window.requestAnimationFrame(() => {
    if (document.activeElement === document.body || document.activeElement === null) document.getElementById('main')?.focus();
  });
}

function NotificationTable({
  items,
  filters,
  emptyText,
  isAdmin,
  busy,
  onMarkRead,
  onResolve,
}: {
  items: Notification[];
  filters: NotificationFilters;
  emptyText: string;
  isAdmin: boolean;
  busy: Set<string>;
  onMarkRead: (notification: Notification) => void;
  onResolve: (notification: Notification) => void;
}) {
  if (items.length === 0) return <Empty>{emptyText}</Empty>;
  return (
    <div className="table-wrap">
      <table aria-label="Notifications" className="notifications-table">
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">Notification</th>
            <th scope="col" className="num">
              Events
            </th>
            <th scope="col">Created</th>
            <th scope="col">Delivery</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <NotificationRow key={item.id} item={item} filters={filters} isAdmin={isAdmin} busy={busy.has(item.id)} onMarkRead={onMarkRead} onResolve={onResolve} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NotificationRow({ item, filters, isAdmin, busy, onMarkRead, onResolve }: { item: Notification; filters: NotificationFilters; isAdmin: boolean; busy: boolean; onMarkRead: (n: Notification) => void; onResolve: (n: Notification) => void }) {
  const actions = notificationActions(item, isAdmin);
  const titleId = `notification-${item.id}`;
  const windowSeconds = Math.round((Date.parse(item.windowEnd) - Date.parse(item.windowStart)) / 1000);
  return (
    <tr className={item.status === 'new' ? 'unread' : undefined} data-notification-id={item.id}>
      <td>
        <SeverityBadge severity={item.severity} />
      </td>
      <td className="notification-main">
        <div className="title" id={titleId}>
          {item.title}
        </div>
        <div className="meta muted">
          <Link to={{ search: paramsFromNotificationFilters({ ...filters, rule: item.ruleId }).toString() }} title="Show only this rule's notifications">
            {item.ruleName}
          </Link>
          {item.group !== '*' && (
            <>
              {' · '}
              <span title="The group the rule counted in">{item.group}</span>
            </>
          )}
          {' · '}
          <span className="mono">{item.type}</span>
        </div>
      </td>
      <td className="num" title={item.count > 1 ? `${item.count} matching events within ${formatSeconds(Math.max(windowSeconds, 1))}` : 'One event'}>
        {formatCount(item.count)}
      </td>
      <td className="nowrap" title={formatDateTime(item.createdAt)}>
        {formatAgo(item.createdAt)}
      </td>
      <td title={deliveryDetails(item)}>
        <span className={`badge delivery-${item.delivery}`}>{item.delivery}</span>
        <div className="muted small">{item.channels.filter((c) => c !== 'inApp').join(', ') || 'in-app only'}</div>
      </td>
      <td className="notification-status">
        <StatusBadge status={item.status} />
        {item.status === 'resolved' && item.resolvedBy ? (
          <div className="muted small" title={formatDateTime(item.resolvedAt)}>
            by {item.resolvedBy}, {formatAgo(item.resolvedAt)}
          </div>
        ) : item.readBy ? (
          <div className="muted small" title={formatDateTime(item.readAt)}>
            read by {item.readBy}, {formatAgo(item.readAt)}
          </div>
        ) : null}
        {item.note && <div className="note">“{item.note}”</div>}
      </td>
      <td>
        <div className="notification-actions">
          {notificationLinks(item).map((link) => (
            <Link key={link.to} to={link.to} aria-describedby={titleId}>
              {link.label}
            </Link>
          ))}
          {actions.markRead && (
            <button type="button" className="secondary small" onClick={() => onMarkRead(item)} disabled={busy} aria-describedby={titleId}>
              {busy ? 'Marking…' : 'Mark read'}
            </button>
          )}
          {actions.resolve && (
            <button type="button" className="secondary small" onClick={() => onResolve(item)} disabled={busy} aria-describedby={titleId}>
              Resolve…
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
