import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useMemo, useState, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, api, describeError } from '../api';
import { StatusBadge } from '../components/badges';
import { BarChart, type BarSeries } from '../components/bar-chart';
import { PageHeader } from '../components/layout';
import { LinkRow } from '../components/link-row';
import { NoteDialog } from '../components/note-dialog';
import { Pager, useCursorPages } from '../components/pager';
import { Empty, QueryState } from '../components/query-state';
import { useIsAdmin } from '../components/session';
import { Sparkline } from '../components/sparkline';
import { formatAgo, formatBucket, formatCount, formatDateTime, formatShortTime } from '../format';
import {
  ERROR_SORTS,
  ERROR_SORT_LABELS,
  ERROR_STATUSES,
  changeErrorMessage,
  errorActions,
  errorViewFromParams,
  histogramSummary,
  isRegressed,
  paramsFromErrorView,
  type ErrorAction,
  type ErrorListView,
} from '../triage';
import type { ErrorGroupDetail, ErrorGroupListItem, ErrorGroupStatus, Page } from '../types';
import { WithRedactions } from './event-detail';
import './errors.css';

const PAGE_SIZE = 25;

const STATUS_LABELS: Record<ErrorGroupStatus, string> = { unresolved: 'Unresolved', resolved: 'Resolved', ignored: 'Ignored' };
const EMPTY_TEXT: Record<ErrorGroupStatus, string> = {
  unresolved: 'No unresolved errors. Failures reported with an error are grouped here as they arrive.',
  resolved: 'No resolved error groups.',
  ignored: 'No ignored error groups.',
};

// ---------------------------------------------------------------- the list

export function ErrorsPage() {
  const [params, setParams] = useSearchParams();
  const view = errorViewFromParams(params);
  const viewKey = paramsFromErrorView(view).toString();
  const pages = useCursorPages(viewKey);
  const { cursor } = pages;

  const query = useQuery({
    queryKey: ['errors', 'list', view.status, view.sort, cursor],
    queryFn: ({ signal }) => api.get<Page<ErrorGroupListItem>>('/v1/errors', { status: view.status, sort: view.sort, limit: PAGE_SIZE, cursor }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: cursor ? false : 60_000,
  });
  const apply = (next: ErrorListView) => setParams(paramsFromErrorView(next));

  return (
    <>
      <PageHeader title="Errors" />
      <form className="panel filters error-filters" role="search" aria-label="Filter error groups" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="error-status">Status</label>
          <select id="error-status" value={view.status} onChange={(e) => apply({ ...view, status: e.target.value as ErrorGroupStatus })}>
            {ERROR_STATUSES.map((status) => (
              <option key={status} value={status}>
                {STATUS_LABELS[status]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="error-sort">Sort by</label>
          <select id="error-sort" value={view.sort} onChange={(e) => apply({ ...view, sort: e.target.value as ErrorListView['sort'] })}>
            {ERROR_SORTS.map((sort) => (
              <option key={sort} value={sort}>
                {ERROR_SORT_LABELS[sort]}
              </option>
            ))}
          </select>
        </div>
      </form>
      <QueryState query={query}>
        {(data) => (
          <>
            <ErrorTable items={data.items} emptyText={EMPTY_TEXT[view.status]} />
            {/* Sorted by other things than time: not "newer" and "older". */}
            <Pager pages={pages} nextCursor={data.cursor} loading={query.isFetching} previousLabel="← Previous" nextLabel="Next →" />
          </>
        )}
      </QueryState>
    </>
  );
}

function ErrorTable({ items, emptyText }: { items: ErrorGroupListItem[]; emptyText: string }) {
  if (items.length === 0) return <Empty>{emptyText}</Empty>;
  return (
    <div className="table-wrap">
      <table aria-label="Error groups" className="errors-table">
        <thead>
          <tr>
            <th scope="col">Error</th>
            <th scope="col">Source / type</th>
            <th scope="col" className="num">
              Events
            </th>
            <th scope="col" className="num">
              Users
            </th>
            <th scope="col">Last 24 h</th>
            <th scope="col" className="col-first-seen">
              First seen
            </th>
            <th scope="col">Last seen</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {items.map((group) => {
            const to = `/errors/${encodeURIComponent(group.id)}`;
            return (
              <LinkRow key={group.id} to={to}>
                <td className="error-title">
                  <Link to={to}>
                    <WithRedactions text={group.title} />
                  </Link>
                  {group.culprit && <div className="muted mono culprit">{group.culprit}</div>}
                </td>
                <td>
                  <div>{group.source}</div>
                  <div className="muted mono small">{group.type}</div>
                </td>
                <td className="num">{formatCount(group.count)}</td>
                <td className="num">{formatCount(group.affectedUsers)}</td>
                <td>{group.sparkline ? <Sparkline values={group.sparkline} /> : <span className="muted">—</span>}</td>
                <td className="nowrap col-first-seen" title={formatDateTime(group.firstSeen)}>
                  {formatAgo(group.firstSeen)}
                </td>
                <td className="nowrap" title={formatDateTime(group.lastSeen)}>
                  {formatAgo(group.lastSeen)}
                </td>
                <td>
                  <div className="error-status">
                    <StatusBadge status={group.status} />
                    {isRegressed(group) && <RegressedBadge at={group.regressedAt} />}
                  </div>
                </td>
              </LinkRow>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function RegressedBadge({ at }: { at?: string }) {
  return (
    <span className="badge regressed" title={`Resolved, then seen again ${formatDateTime(at)}`}>
      regressed
    </span>
  );
}

// ---------------------------------------------------------------- one group

export function ErrorDetailPage() {
  const { id = '' } = useParams();
  const isAdmin = useIsAdmin();
  const client = useQueryClient();
  const query = useQuery({
    queryKey: ['errors', 'detail', id],
    queryFn: ({ signal }) => api.get<ErrorGroupDetail>(`/v1/errors/${encodeURIComponent(id)}`, undefined, signal),
  });

  const [action, setAction] = useState<ErrorAction>();
  const [outcome, setOutcome] = useState<{ kind: 'success' | 'error'; text: string }>();
  const change = useMutation({
    mutationFn: ({ status, note }: { status: ErrorGroupStatus; note: string }) => api.patch<ErrorGroupDetail>(`/v1/errors/${encodeURIComponent(id)}`, { status, ...(note ? { note } : {}) }),
    onSuccess: async (updated, { status }) => {
      setAction(undefined);
      setOutcome({ kind: 'success', text: status === 'resolved' ? 'Resolved.' : status === 'ignored' ? 'Ignored.' : 'Reopened.' });
      // The PATCH answers the group without its recent events: keep the ones shown, then refresh every error view.
      client.setQueryData<ErrorGroupDetail>(['errors', 'detail', id], (old) => (old ? { ...old, ...updated, recentEvents: old.recentEvents } : old));
      await client.invalidateQueries({ queryKey: ['errors'] });
      // The change is an admin.error_group.changed event on the group's record history.
      void client.invalidateQueries({ queryKey: ['history', 'error_group', id] });
      void client.invalidateQueries({ queryKey: ['events'] });
    },
    onError: async (error) => {
      // A conflict is not the admin's mistake: close the dialog, say so, and show the group as it is now.
      if (error instanceof ApiError && error.status === 409) {
        setAction(undefined);
        setOutcome({ kind: 'error', text: changeErrorMessage(error, describeError) });
        await client.invalidateQueries({ queryKey: ['errors'] });
      }
    },
  });

  const open = (next: ErrorAction) => {
    change.reset();
    setOutcome(undefined);
    setAction(next);
  };

  return (
    <>
      <PageHeader title="Error group">
        <Link className="button secondary" to="/errors">
          ← All errors
        </Link>
        {isAdmin &&
          query.data &&
          errorActions(query.data.status).map((a) => (
            <button key={a.status} type="button" className={a.status === 'resolved' ? undefined : 'secondary'} onClick={() => open(a)}>
              {a.label}…
            </button>
          ))}
      </PageHeader>
      {outcome && (
        <div className={`callout ${outcome.kind}`} role={outcome.kind === 'error' ? 'alert' : 'status'}>
          {outcome.text}
        </div>
      )}
      <QueryState query={query}>{(group) => <ErrorGroupView group={group} />}</QueryState>
      {action && query.data && (
        <NoteDialog
          title={`${action.label} this error group`}
          confirmLabel={action.label}
          pendingLabel={`${action.label === 'Reopen' ? 'Reopening' : action.label === 'Ignore' ? 'Ignoring' : 'Resolving'}…`}
          pending={change.isPending}
          error={change.error instanceof ApiError && change.error.status === 409 ? undefined : change.error}
          onConfirm={(note) => change.mutate({ status: action.status, note })}
          onCancel={() => setAction(undefined)}
        >
          <p className="subject">
            <WithRedactions text={query.data.title} />
          </p>
          <p className="muted">{action.meaning}</p>
        </NoteDialog>
      )}
    </>
  );
}

function ErrorGroupView({ group }: { group: ErrorGroupDetail }) {
  const regressed = isRegressed(group);
  const fields: Array<[string, ReactNode]> = [
    ['Source', <Link to={`/events?source=${encodeURIComponent(group.source)}`}>{group.source}</Link>],
    ['Type', <Link to={`/events?type=${encodeURIComponent(group.type)}&source=${encodeURIComponent(group.source)}`} className="mono">{group.type}</Link>],
  ];
  if (group.errorName) fields.push(['Error', <code>{group.errorName}</code>]);
  if (group.culprit) fields.push(['Culprit', <code>{group.culprit}</code>]);
  if (group.frame?.file) fields.push(['Frame', <code>{[group.frame.module, group.frame.file, group.frame.function].filter(Boolean).join(' · ')}</code>]);
  fields.push([
    'Endpoints',
    group.endpoints.length > 0 ? (
      <ul className="endpoint-list">
        {group.endpoints.map((endpoint) => (
          <li key={endpoint}>
            <code>{endpoint}</code>
          </li>
        ))}
      </ul>
    ) : (
      <span className="muted">none recorded</span>
    ),
  ]);
  fields.push(['Grouped by', group.basis === 'client' ? 'the fingerprint the app sent' : 'error type, message and stack frame']);
  fields.push(['Group id', <code>{group.id}</code>]);
  fields.push(['History', <Link to={`/records/error_group/${encodeURIComponent(group.id)}`}>Status changes and notifications of this group</Link>]);

  return (
    <>
      <section className="panel error-summary" aria-labelledby="error-title">
        <h2 id="error-title" className="error-heading">
          <WithRedactions text={group.title} />
        </h2>
        {group.message && group.message !== group.title && !group.title.endsWith(group.message) && (
          <p className="error-message">
            <WithRedactions text={group.message} />
          </p>
        )}
        <div className="status-line">
          <StatusBadge status={group.status} />
          {regressed && <RegressedBadge at={group.regressedAt} />}
          <span className="muted">
            <StatusText group={group} regressed={regressed} />
          </span>
        </div>
        {group.note && (
          <blockquote className="status-note">
            {/* A regression reopens the group but keeps the note: it is still the resolver's. */}
            “{group.note}”{(regressed ? group.resolvedBy : group.statusBy) && <span className="muted"> — {regressed ? group.resolvedBy : group.statusBy}</span>}
          </blockquote>
        )}
        <dl className="error-figures">
          <Figure label="Events">{formatCount(group.count)}</Figure>
          <Figure label="Affected users">
            {group.affectedUsersExact === false ? '≈ ' : ''}
            {formatCount(group.affectedUsers)}
          </Figure>
          <Figure label="Regressions">{formatCount(group.regressions ?? 0)}</Figure>
          <Figure label="First seen" title={formatDateTime(group.firstSeen)}>
            {formatAgo(group.firstSeen)}
          </Figure>
          <Figure label="Last seen" title={formatDateTime(group.lastSeen)}>
            {formatAgo(group.lastSeen)}
          </Figure>
        </dl>
      </section>

      <section className="panel" aria-labelledby="error-histogram">
        <h2 id="error-histogram">Occurrences, last 7 days (hourly)</h2>
        <Histogram group={group} />
      </section>

      <div className="grid cols-2 spaced">
        <section className="panel" aria-labelledby="error-recent">
          <h2 id="error-recent">Recent occurrences</h2>
          <RecentEvents group={group} />
        </section>
        <section className="panel" aria-labelledby="error-details">
          <h2 id="error-details">Details</h2>
          <dl className="fields">
            {fields.map(([label, value]) => (
              <Fragment key={label}>
                <dt>{label}</dt>
                <dd>{value}</dd>
              </Fragment>
            ))}
          </dl>
        </section>
      </div>
    </>
  );
}

function Figure({ label, title, children }: { label: string; title?: string; children: ReactNode }) {
  return (
    <div className="figure">
      <dt className="label">{label}</dt>
      <dd className="value" title={title}>
        {children}
      </dd>
    </div>
  );
}

/** Who put the group in its status, and when; a regression says it reopened itself. */
function StatusText({ group, regressed }: { group: ErrorGroupDetail; regressed: boolean }) {
  const when = <time dateTime={group.statusAt} title={formatDateTime(group.statusAt)}>{formatAgo(group.statusAt)}</time>;
  if (regressed)
    return (
      <>
        Reopened by a new occurrence {when}
        {group.resolvedBy && <> (resolved before by {group.resolvedBy}, {formatAgo(group.resolvedAt)})</>}
      </>
    );
  if (group.status === 'unresolved' && (!group.statusBy || group.statusAt === group.createdAt)) return <>Unresolved since it was first seen</>;
  const verb = group.status === 'resolved' ? 'Resolved' : group.status === 'ignored' ? 'Ignored' : 'Reopened';
  return (
    <>
      {verb}
      {group.statusBy ? ` by ${group.statusBy}` : ''} {when}
    </>
  );
}

function Histogram({ group }: { group: ErrorGroupDetail }) {
  const buckets = group.histogram.buckets;
  const labels = useMemo(() => buckets.map((bucket) => formatBucket(bucket.start, 'hour')), [buckets]);
  const series = useMemo<BarSeries[]>(
    () => [{ label: 'Occurrences', data: buckets.map((bucket) => bucket.count), color: getComputedStyle(document.documentElement).getPropertyValue('--error').trim() || '#c2410c' }],
    [buckets],
  );
  const summary = histogramSummary(buckets, (iso) => formatBucket(iso, 'hour'));
  return (
    <>
      <BarChart labels={labels} series={series} summary={summary} height={220} />
      <p className="muted small chart-caption">{summary}</p>
    </>
  );
}

function RecentEvents({ group }: { group: ErrorGroupDetail }) {
  if (group.recentEvents.length === 0) return <p className="muted">The sample events have expired; the counts above still hold.</p>;
  return (
    <>
      <ul className="compact-list recent-events">
        {group.recentEvents.map((event) => (
          <li key={event.id}>
            <Link to={`/events/${encodeURIComponent(event.id)}`} title={formatDateTime(event.occurredAt)}>
              {formatShortTime(event.occurredAt)}
            </Link>
            <span className="who">{event.actor?.userId ?? event.actor?.adminId ?? <span className="muted">no user</span>}</span>
            {event.page && <code className="where">{event.page}</code>}
            <span className="what muted ellipsis" title={event.error?.message ?? event.message}>
              <WithRedactions text={event.error?.message ?? event.message ?? ''} />
            </span>
          </li>
        ))}
      </ul>
      <p className="muted small">
        The {group.recentEvents.length} most recent of {formatCount(group.count)}.{' '}
        <Link to={`/events?type=${encodeURIComponent(group.type)}&source=${encodeURIComponent(group.source)}`}>All {group.type} events</Link>
      </p>
    </>
  );
}
