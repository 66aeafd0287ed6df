import { useInfiniteQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api } from '../api';
import { SeverityBadge, StatusBadge } from '../components/badges';
import { PageHeader } from '../components/layout';
import { Empty, ErrorMessage, Loading } from '../components/query-state';
import { formatDateTime } from '../format';
import type { EventListItem, Page } from '../types';

/** Everything that happened to one record (an invoice, a user's profile…), oldest first: its story, printable. */
export function RecordHistoryPage() {
  const { type = '', id = '' } = useParams();
  return (
    <Timeline
      title={`History of ${type}/${id}`}
      queryKey={['history', type, id]}
      path={`/v1/records/${encodeURIComponent(type)}/${encodeURIComponent(id)}/history`}
      emptyText={`Nothing has been recorded about ${type}/${id}.`}
    />
  );
}

/** Every event of one request across services, oldest first. */
export function TracePage() {
  const { traceId = '' } = useParams();
  return <Timeline title={`Trace ${traceId}`} queryKey={['trace', traceId]} path={`/v1/traces/${encodeURIComponent(traceId)}`} emptyText="No events carry this trace id." />;
}

function Timeline({ title, queryKey, path, emptyText }: { title: string; queryKey: string[]; path: string; emptyText: string }) {
  const query = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam, signal }) => api.get<Page<EventListItem>>(path, { cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.cursor,
  });
  const items = query.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <PageHeader title={title}>
        <button type="button" className="secondary" onClick={() => window.print()} disabled={items.length === 0}>
          Print
        </button>
      </PageHeader>
      {query.isPending ? (
        <Loading />
      ) : query.isError ? (
        <ErrorMessage error={query.error} onRetry={() => void query.refetch()} />
      ) : items.length === 0 ? (
        <Empty>{emptyText}</Empty>
      ) : (
        <section className="panel">
          <p className="muted">
            {items.length} event{items.length === 1 ? '' : 's'}
            {query.hasNextPage ? ' so far' : ''}, oldest first · {formatDateTime(items[0]!.occurredAt)} to {formatDateTime(items.at(-1)!.occurredAt)}
          </p>
          <ol className="timeline" aria-label={title}>
            {items.map((item) => (
              <li key={item.id} className={item.status}>
                <div className="when">
                  <time dateTime={item.occurredAt}>{formatDateTime(item.occurredAt)}</time> · {item.source}
                  {item.userId && (
                    <>
                      {' '}
                      · by <Link to={`/events?userId=${encodeURIComponent(item.userId)}`}>{item.userId}</Link>
                    </>
                  )}
                </div>
                <div>
                  <SeverityBadge severity={item.severity} /> <StatusBadge status={item.status} />{' '}
                  <Link to={`/events/${encodeURIComponent(item.id)}`} className="mono">
                    {item.type}
                  </Link>
                </div>
                {item.summary && <div>{item.summary}</div>}
              </li>
            ))}
          </ol>
          {query.hasNextPage && (
            <button type="button" className="secondary no-print" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
              {query.isFetchingNextPage ? 'Loading…' : 'Load later events'}
            </button>
          )}
        </section>
      )}
    </>
  );
}
