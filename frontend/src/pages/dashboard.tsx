import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../api';
import { BarChart, type BarSeries } from '../components/bar-chart';
import { SeverityBadge } from '../components/badges';
import { PageHeader } from '../components/layout';
import { QueryState } from '../components/query-state';
import { formatAgo, formatBucket, formatCount, formatDateTime, formatPercent } from '../format';
import { SEVERITIES, type ErrorGroupListItem, type EventListItem, type NotificationPage, type Page, type Severity, type Stats } from '../types';

/** The dashboard's windows: each is one stats request (≤ 366 buckets). */
const RANGES = {
  '24h': { label: 'Last 24 hours', interval: 'hour', hours: 24 },
  '7d': { label: 'Last 7 days', interval: 'hour', hours: 24 * 7 },
  '30d': { label: 'Last 30 days', interval: 'day', hours: 24 * 30 },
} as const;
type RangeKey = keyof typeof RANGES;
const REFRESH_MS = 30_000;

/** The severities' chart colours live in styles.css beside the badges', so the two are kept together. */
function severityColor(severity: Severity): string {
  return getComputedStyle(document.documentElement).getPropertyValue(`--chart-${severity}`).trim() || '#888';
}

export function DashboardPage() {
  const [params, setParams] = useSearchParams();
  const rangeKey: RangeKey = (params.get('range') as RangeKey) in RANGES ? (params.get('range') as RangeKey) : '24h';
  const range = RANGES[rangeKey];

  const stats = useQuery({
    queryKey: ['stats', rangeKey],
    queryFn: ({ signal }) =>
      api.get<Stats>('/v1/stats', { interval: range.interval, from: new Date(Date.now() - range.hours * 3_600_000).toISOString(), top: 8 }, signal),
    refetchInterval: REFRESH_MS,
  });
  const critical = useQuery({
    queryKey: ['events', 'latest-critical'],
    queryFn: ({ signal }) => api.get<Page<EventListItem>>('/v1/events', { minSeverity: 'critical', limit: 6 }, signal),
    refetchInterval: REFRESH_MS,
  });
  const unread = useQuery({
    queryKey: ['notifications', 'dashboard'],
    queryFn: ({ signal }) => api.get<NotificationPage>('/v1/notifications', { status: 'new', limit: 6 }, signal),
    refetchInterval: REFRESH_MS,
  });
  const errors = useQuery({
    queryKey: ['errors', 'dashboard'],
    queryFn: ({ signal }) => api.get<Page<ErrorGroupListItem>>('/v1/errors', { status: 'unresolved', sort: 'count', limit: 6 }, signal),
    refetchInterval: REFRESH_MS,
  });

  return (
    <>
      <PageHeader title="Dashboard">
        <label htmlFor="range">Window</label>
        <select id="range" value={rangeKey} onChange={(e) => setParams({ range: e.target.value })}>
          {Object.entries(RANGES).map(([key, value]) => (
            <option key={key} value={key}>
              {value.label}
            </option>
          ))}
        </select>
      </PageHeader>
      <QueryState query={stats}>
        {(data) => (
          <>
            <div className="grid cols-4" data-testid="key-figures">
              <Figure label="Events" value={formatCount(data.total)} />
              <Figure label="Failures" value={formatCount(data.failures)} tone={data.failures > 0 ? 'bad' : undefined} />
              <Figure label="Failure rate" value={formatPercent(data.failureRate)} tone={data.failureRate >= 0.05 ? 'bad' : undefined} />
              <Figure
                label="Errors and criticals"
                value={formatCount(data.bySeverity.error + data.bySeverity.critical)}
                tone={data.bySeverity.critical > 0 ? 'bad' : undefined}
                to={`/events?minSeverity=error`}
              />
            </div>
            <section className="panel spaced" aria-labelledby="over-time">
              <h2 id="over-time">Events over time by severity</h2>
              <EventsOverTime stats={data} />
            </section>
            <div className="grid cols-2 spaced">
              <section className="panel" aria-labelledby="top-types">
                <h2 id="top-types">Top event types</h2>
                {data.topTypes.length === 0 ? (
                  <p className="muted">No events in this window.</p>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Type</th>
                        <th scope="col" className="num">Events</th>
                        <th scope="col" className="num">Failures</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.topTypes.map((row) => (
                        <tr key={row.type}>
                          <td className="mono">
                            <Link to={`/events?type=${encodeURIComponent(row.type)}`}>{row.type}</Link>
                          </td>
                          <td className="num">{formatCount(row.count)}</td>
                          <td className="num">{formatCount(row.failures)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <section className="panel" aria-labelledby="failing-pages">
                <h2 id="failing-pages">Top failing pages</h2>
                {data.topFailingPages.length === 0 ? (
                  <p className="muted">No page failed in this window.</p>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Page</th>
                        <th scope="col" className="num">Failures</th>
                        <th scope="col" className="num">Failure rate</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.topFailingPages.map((row) => (
                        <tr key={row.page}>
                          <td className="mono">{row.page}</td>
                          <td className="num">{formatCount(row.failures)}</td>
                          <td className="num">{formatPercent(row.failureRate)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
            </div>
          </>
        )}
      </QueryState>
      <div className="grid cols-2 spaced">
        <section className="panel" aria-labelledby="latest-critical">
          <h2 id="latest-critical">Latest critical events</h2>
          <QueryState query={critical} isEmpty={(d) => d.items.length === 0} empty="No critical events in the last 7 days.">
            {(data) => (
              <ul className="compact-list">
                {data.items.map((item) => (
                  <li key={item.id}>
                    <SeverityBadge severity={item.severity} />{' '}
                    <Link to={`/events/${encodeURIComponent(item.id)}`} className="mono">
                      {item.type}
                    </Link>{' '}
                    <span className="muted" title={formatDateTime(item.occurredAt)}>
                      {formatAgo(item.occurredAt)}
                    </span>
                    {item.summary && <div className="muted ellipsis">{item.summary}</div>}
                  </li>
                ))}
              </ul>
            )}
          </QueryState>
        </section>
        <section className="panel" aria-labelledby="unread-notifications">
          <h2 id="unread-notifications">
            Unread notifications{unread.data ? ` (${formatCount(unread.data.unreadCount)})` : ''}
          </h2>
          <QueryState query={unread} isEmpty={(d) => d.items.length === 0} empty="Nothing unread.">
            {(data) => (
              <>
                <ul className="compact-list">
                  {data.items.map((n) => (
                    <li key={n.id}>
                      <SeverityBadge severity={n.severity} /> {n.title}{' '}
                      <span className="muted" title={formatDateTime(n.createdAt)}>
                        {formatAgo(n.createdAt)}
                      </span>
                    </li>
                  ))}
                </ul>
                <Link to="/notifications">All notifications →</Link>
              </>
            )}
          </QueryState>
        </section>
      </div>
      <section className="panel spaced" aria-labelledby="top-errors">
        <h2 id="top-errors">Top error groups</h2>
        <QueryState query={errors} isEmpty={(d) => d.items.length === 0} empty="No unresolved errors.">
          {(data) => (
            <table>
              <thead>
                <tr>
                  <th scope="col">Error</th>
                  <th scope="col">Source</th>
                  <th scope="col" className="num">Occurrences</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((group) => (
                  <tr key={group.id}>
                    <td>
                      <Link to={`/errors/${encodeURIComponent(group.id)}`}>{group.title}</Link>
                      {group.culprit && <div className="muted mono">{group.culprit}</div>}
                    </td>
                    <td>{group.source}</td>
                    <td className="num">{formatCount(group.count)}</td>
                    <td title={formatDateTime(group.lastSeen)}>{formatAgo(group.lastSeen)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </QueryState>
      </section>
    </>
  );
}

function Figure({ label, value, tone, to }: { label: string; value: string; tone?: 'bad'; to?: string }) {
  return (
    <div className={`panel figure${tone ? ` ${tone}` : ''}`}>
      <span className="label">{label}</span>
      <span className="value">{to ? <Link to={to}>{value}</Link> : value}</span>
    </div>
  );
}

function EventsOverTime({ stats }: { stats: Stats }) {
  const labels = useMemo(() => stats.buckets.map((bucket) => formatBucket(bucket.start, stats.interval)), [stats]);
  const series = useMemo<BarSeries[]>(
    () => SEVERITIES.map((severity) => ({ label: severity, data: stats.buckets.map((bucket) => bucket.bySeverity[severity] ?? 0), color: severityColor(severity) })),
    [stats],
  );
  const summary = `${formatCount(stats.total)} events from ${formatDateTime(stats.from)} to ${formatDateTime(stats.to)}: ${SEVERITIES.map((s) => `${formatCount(stats.bySeverity[s])} ${s}`).join(', ')}.`;
  return <BarChart labels={labels} series={series} stacked summary={summary} />;
}
