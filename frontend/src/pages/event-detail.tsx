import { useQuery } from '@tanstack/react-query';
import { Fragment, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../api';
import { SeverityBadge, StatusBadge } from '../components/badges';
import { PageHeader } from '../components/layout';
import { QueryState } from '../components/query-state';
import { formatDateTime } from '../format';
import type { AuditEvent } from '../types';

/** The marker redaction leaves in place of a secret (lambdas/core/redact.ts). */
const REDACTION_MARKER = /\[REDACTED:[A-Za-z0-9_.-]{1,64}\]/g;

/** Text with every redaction marker made visible. */
export function WithRedactions({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(REDACTION_MARKER)) {
    parts.push(text.slice(last, match.index));
    parts.push(
      <mark className="redacted" key={match.index} title="Redacted before it was stored">
        {match[0]}
      </mark>,
    );
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return <>{parts.map((part, i) => <Fragment key={i}>{part}</Fragment>)}</>;
}

export function EventDetailPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const query = useQuery({
    queryKey: ['event', id],
    queryFn: ({ signal }) => api.get<AuditEvent>(`/v1/events/${encodeURIComponent(id)}`, undefined, signal),
    staleTime: Infinity, // events never change
  });
  return (
    <>
      <PageHeader title="Event">
        {/* Back within the SPA; opened from a shared link or an e-mail, there is nothing to go back to but the list. */}
        <button type="button" className="secondary" onClick={() => ((window.history.state as { idx?: number } | null)?.idx ? navigate(-1) : navigate('/events'))}>
          ← Back
        </button>
      </PageHeader>
      <QueryState query={query}>{(event) => <EventDetail event={event} />}</QueryState>
    </>
  );
}

function EventDetail({ event }: { event: AuditEvent }) {
  const rows: Array<[string, ReactNode]> = [
    ['Id', <code>{event.id}</code>],
    ['Type', <code>{event.type}</code>],
    ['Severity', <SeverityBadge severity={event.severity} />],
    ['Status', <StatusBadge status={event.status} />],
    ['Category', event.category],
    ['Source', <Link to={`/events?source=${encodeURIComponent(event.source)}`}>{event.source}</Link>],
    ['Occurred', formatDateTime(event.occurredAt)],
    ['Received', formatDateTime(event.receivedAt)],
  ];
  if (event.actor?.userId) rows.push(['User', <Link to={`/events?userId=${encodeURIComponent(event.actor.userId)}`}>{event.actor.userId} — all activity</Link>]);
  if (event.actor?.adminId) rows.push(['Admin', event.actor.adminId]);
  if (event.actor?.ip) rows.push(['IP', <code>{event.actor.ip}</code>]);
  if (event.actor?.userAgent) rows.push(['User agent', event.actor.userAgent]);
  if (event.record)
    rows.push([
      'Record',
      <Link to={`/records/${encodeURIComponent(event.record.type)}/${encodeURIComponent(event.record.id)}`}>
        {event.record.type}/{event.record.id} — history
      </Link>,
    ]);
  if (event.page) rows.push(['Page', <code>{event.page}</code>]);
  if (event.traceId) rows.push(['Trace', <Link to={`/traces/${encodeURIComponent(event.traceId)}`}>{event.traceId}</Link>]);
  if (event.requestId) rows.push(['Request', <code>{event.requestId}</code>]);
  if (event.sessionId) rows.push(['Session', <code>{event.sessionId}</code>]);
  if (event.message) rows.push(['Message', <WithRedactions text={event.message} />]);
  if (event.error?.name || event.error?.message) rows.push(['Error', <WithRedactions text={[event.error.name, event.error.message].filter(Boolean).join(': ')} />]);
  if (event.fingerprint) rows.push(['Fingerprint', <code>{event.fingerprint}</code>]);

  return (
    <div className="grid cols-2">
      <section className="panel" aria-labelledby="event-fields">
        <h2 id="event-fields">{event.type}</h2>
        <dl className="fields">
          {rows.map(([label, value]) => (
            <Fragment key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </Fragment>
          ))}
        </dl>
        {event.error?.stack && (
          <>
            <h3 className="section-title">Stack</h3>
            <pre className="json">
              <WithRedactions text={event.error.stack} />
            </pre>
          </>
        )}
      </section>
      <section className="panel" aria-labelledby="event-json">
        <h2 id="event-json">Stored event</h2>
        {event.redaction && event.redaction.count > 0 ? (
          <p className="callout warning" data-testid="redaction-summary">
            {event.redaction.count} value{event.redaction.count === 1 ? ' was' : 's were'} redacted before the event was stored
            {event.redaction.paths.length > 0 && (
              <>
                : {event.redaction.paths.map((path) => <code key={path}>{path} </code>)}
              </>
            )}
          </p>
        ) : (
          <p className="muted">Nothing in this event needed redacting.</p>
        )}
        <pre className="json" tabIndex={0} aria-label="The stored event as JSON">
          <WithRedactions text={JSON.stringify(event, null, 2)} />
        </pre>
      </section>
    </div>
  );
}
