import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../api';
import { SeverityBadge, StatusBadge } from '../components/badges';
import { EventFilterFields } from '../components/event-filter-fields';
import { PageHeader } from '../components/layout';
import { LinkRow } from '../components/link-row';
import { Pager, useCursorPages } from '../components/pager';
import { useIsAdmin } from '../components/session';
import { Empty, QueryState } from '../components/query-state';
import { filterProblems, filtersFromParams, paramsFromFilters, type EventFilters } from '../filters';
import { formatDateTime, formatShortTime } from '../format';
import type { EventListItem, Page } from '../types';

/** How often the live tail asks for the newest page. */
const LIVE_TAIL_MS = 3000;
const PAGE_SIZE = 50;

export function EventsPage() {
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  const filterKey = paramsFromFilters(filters).toString();
  // A new filter starts over at the first page.
  const pages = useCursorPages(filterKey);
  const { cursor } = pages;
  const [live, setLive] = useState(false);
  const isAdmin = useIsAdmin();

  const problems = filterProblems(filters);
  const valid = Object.keys(problems).length === 0;
  const query = useQuery({
    queryKey: ['events', filterKey, cursor],
    queryFn: ({ signal }) => api.get<Page<EventListItem>>('/v1/events', { ...filters, limit: PAGE_SIZE, cursor }, signal),
    enabled: valid,
    placeholderData: keepPreviousData,
    refetchInterval: live && !cursor ? LIVE_TAIL_MS : false,
  });

  // Rows that arrived since the previous live refresh are marked, so a new one catches the eye.
  const seen = useRef<Set<string> | undefined>(undefined);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  useEffect(() => {
    const ids = query.data?.items.map((item) => item.id) ?? [];
    if (live && seen.current) setFresh(new Set(ids.filter((id) => !seen.current!.has(id))));
    else setFresh(new Set());
    seen.current = new Set(ids);
  }, [query.data, live]);

  const apply = (next: EventFilters) => setParams(paramsFromFilters(next));

  return (
    <>
      <PageHeader title="Events">
        <label className="checkbox">
          <input type="checkbox" checked={live} onChange={(e) => { setLive(e.target.checked); pages.reset(); }} />
          Live tail
        </label>
        {live && <span className="muted">Every {LIVE_TAIL_MS / 1000} s</span>}
        {/* Announced only when something arrived, not at every refresh. */}
        <span className="visually-hidden" role="status">
          {live && fresh.size > 0 ? `${fresh.size} new event${fresh.size === 1 ? '' : 's'}` : ''}
        </span>
        {isAdmin && (
          <Link className="button secondary" to={filterKey ? `/exports?${filterKey}` : '/exports'}>
            Export…
          </Link>
        )}
      </PageHeader>
      <FilterForm filterKey={filterKey} filters={filters} problems={problems} onApply={apply} />
      {valid && (
        <QueryState query={query}>
          {(data) => (
            <>
              <EventTable items={data.items} fresh={fresh} emptyText={Object.keys(filters).length ? 'No events match these filters in this window (the last 7 days unless a range is set).' : 'No events in the last 7 days yet.'} />
              {/* The live tail shows the newest page only. */}
              <Pager pages={pages} nextCursor={live ? undefined : data.cursor} loading={query.isFetching && !live} />
            </>
          )}
        </QueryState>
      )}
    </>
  );
}

function FilterForm({ filterKey, filters, problems, onApply }: { filterKey: string; filters: EventFilters; problems: ReturnType<typeof filterProblems>; onApply: (filters: EventFilters) => void }) {
  const [draft, setDraft] = useState<EventFilters>(filters);
  // When the address changes from elsewhere (back button, a link), the form shows it; not when this form
  // applied it, so typing that follows a change is kept. Not remounted, so focus stays where it was.
  const applied = useRef(filterKey);
  useEffect(() => {
    if (filterKey === applied.current) return;
    applied.current = filterKey;
    setDraft(filters);
  }, [filterKey, filters]);
  const apply = (next: EventFilters) => {
    applied.current = paramsFromFilters(next).toString();
    onApply(next);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    apply(draft);
  };
  const set = (key: keyof EventFilters, value: string, applyNow = false) => {
    const next = { ...draft, [key]: value || undefined };
    setDraft(next);
    if (applyNow) apply(next);
  };
  return (
    <form className="panel filters" onSubmit={submit} aria-label="Filters" role="search">
      {/* A pick from a list or a calendar applies at once; typing waits for Enter or Apply. */}
      <EventFilterFields idPrefix="filter" values={draft} problems={problems} applyPicks onChange={set} />
      <div className="actions">
        <button type="submit">Apply</button>
        <button type="button" className="secondary" onClick={() => { setDraft({}); apply({}); }} disabled={Object.keys(filters).length === 0}>
          Clear
        </button>
      </div>
    </form>
  );
}

/** The list of events: one row each, newest first; a row opens the whole event. */
export function EventTable({ items, fresh = new Set(), emptyText }: { items: EventListItem[]; fresh?: Set<string>; emptyText: string }) {
  if (items.length === 0) return <Empty>{emptyText}</Empty>;
  return (
    <div className="table-wrap">
      <table aria-label="Events" className="events-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Severity</th>
            <th scope="col">Type</th>
            <th scope="col">User</th>
            <th scope="col">Record</th>
            <th scope="col">Page</th>
            <th scope="col">Status</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <LinkRow key={item.id} to={`/events/${encodeURIComponent(item.id)}`} className={fresh.has(item.id) ? 'fresh' : undefined}>
              <td className="nowrap" title={formatDateTime(item.occurredAt)}>
                <Link to={`/events/${encodeURIComponent(item.id)}`} aria-label={`Event ${item.type} at ${formatDateTime(item.occurredAt)}`}>
                  {formatShortTime(item.occurredAt)}
                </Link>
              </td>
              <td>
                <SeverityBadge severity={item.severity} />
              </td>
              <td className="mono">{item.type}</td>
              <td>{item.userId ? <Link to={`/events?userId=${encodeURIComponent(item.userId)}`}>{item.userId}</Link> : <span className="muted">—</span>}</td>
              <td>
                {item.recordType && item.recordId ? (
                  <Link to={`/records/${encodeURIComponent(item.recordType)}/${encodeURIComponent(item.recordId)}`}>
                    {item.recordType}/{item.recordId}
                  </Link>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td className="mono">{item.page ?? <span className="muted">—</span>}</td>
              <td>
                <StatusBadge status={item.status} />
              </td>
              <td className="message" title={item.summary}>
                {item.summary ?? <span className="muted">—</span>}
              </td>
            </LinkRow>
          ))}
        </tbody>
      </table>
    </div>
  );
}
