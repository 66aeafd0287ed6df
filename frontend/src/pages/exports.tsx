import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent, type MouseEvent } from 'react';
import { useSearchParams } from 'react-router';
import { ApiError, api, describeError } from '../api';
import { fieldErrorsFromMessage } from '../app-key-form';
import { StatusBadge } from '../components/badges';
import { EventFilterFields } from '../components/event-filter-fields';
import { Flash } from '../components/flash';
import { PageHeader } from '../components/layout';
import { Empty } from '../components/query-state';
import {
  EXPORT_FORMATS,
  describeExportFilters,
  exportPollInterval,
  exportRequestBody,
  forgetExport,
  isExportActive,
  linkExpiresIn,
  readExportIds,
  rememberExport,
} from '../export-list';
import { EVENT_FILTER_KEYS, filterProblems, filtersFromParams, type EventFilterKey, type EventFilters } from '../filters';
import { formatBytes, formatCount, formatDateTime, formatShortTime } from '../format';
import type { ExportFormat, ExportJob } from '../types';
import './admin.css';
import './exports.css';

/** This tab's storage; undefined where the browser refuses it (the list then lasts as long as the page). */
function tabStorage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

export function ExportsPage() {
  const [params] = useSearchParams();
  const [ids, setIds] = useState<string[]>(() => readExportIds(tabStorage()));
  const [flash, setFlash] = useState<string>();
  const prefilled = filtersFromParams(params);

  return (
    <>
      <PageHeader title="Exports" />
      <p className="muted page-intro">
        An export writes every event matching the filters to a file, newest first, with the columns of the events list. Files are kept 7 days;
        download links last 15 minutes (a fresh one is fetched when one expires).
      </p>
      {flash && <Flash onDismiss={() => setFlash(undefined)}>{flash}</Flash>}
      <CreateExportForm
        key={params.toString()}
        initial={prefilled}
        fromLink={Object.keys(prefilled).length > 0}
        onCreated={(id, format) => {
          setIds((current) => (tabStorage() ? rememberExport(tabStorage(), id) : [id, ...current.filter((other) => other !== id)]));
          setFlash(`${format.toUpperCase()} export requested; it appears below and updates as it runs.`);
        }}
      />
      <h2 className="section-title">Requested in this tab</h2>
      {ids.length === 0 ? (
        <Empty>No exports requested in this browser tab yet. (There is no list of every export: each tab remembers its own.)</Empty>
      ) : (
        <div className="table-wrap">
          <table aria-label="Exports" className="exports-table">
            <thead>
              <tr>
                <th scope="col">Requested</th>
                <th scope="col">Export</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Rows
                </th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">Download</th>
              </tr>
            </thead>
            <tbody>
              {ids.map((id) => (
                <ExportRow key={id} id={id} onForget={() => setIds(tabStorage() ? forgetExport(tabStorage(), id) : (current) => current.filter((other) => other !== id))} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function CreateExportForm({ initial, fromLink, onCreated }: { initial: EventFilters; fromLink: boolean; onCreated: (id: string, format: ExportFormat) => void }) {
  const client = useQueryClient();
  const [format, setFormat] = useState<ExportFormat>('csv');
  const [filters, setFilters] = useState<EventFilters>(initial);
  const [serverErrors, setServerErrors] = useState<Partial<Record<EventFilterKey, string>>>({});
  const [failure, setFailure] = useState<string>();
  const [pending, setPending] = useState(false);
  const [checked, setChecked] = useState(false);
  // The form's own checks, shown once a request was attempted (or the filters came from a link).
  const problems = checked || fromLink ? filterProblems(filters) : {};

  const set = (key: EventFilterKey, value: string) => {
    setFilters((current) => ({ ...current, [key]: value || undefined }));
    setServerErrors((current) => ({ ...current, [key]: undefined }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    setFailure(undefined);
    if (Object.keys(filterProblems(filters)).length > 0) return;
    setPending(true);
    try {
      const job = await api.post<Pick<ExportJob, 'id' | 'status'>>('/v1/exports', exportRequestBody(format, filters));
      void client.invalidateQueries({ queryKey: ['events'] }); // an admin.export.created event
      onCreated(job.id, format);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        // The API names the filter first ("severity must be one of …"): put it under that control.
        const { byField, rest } = fieldErrorsFromMessage(error.message, EVENT_FILTER_KEYS);
        setServerErrors(byField);
        setFailure(rest.length > 0 ? rest.join('; ') : 'Check the filters marked below.');
      } else {
        setFailure(describeError(error));
      }
    } finally {
      setPending(false);
    }
  };

  const activeFilters = Object.values(filters).filter(Boolean).length;
  return (
    <form className="panel export-form" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="new-export-title">
      <h2 id="new-export-title">New export</h2>
      {fromLink && <p className="muted small">Filters taken from the events screen; change them if needed.</p>}
      {failure && (
        <div className="callout error" role="alert">
          <strong>No export was started.</strong> {failure}
        </div>
      )}
      <fieldset className="format-choices">
        <legend>Format</legend>
        {EXPORT_FORMATS.map((option) => (
          <label className="checkbox" key={option.format}>
            <input type="radio" name="export-format" value={option.format} checked={format === option.format} onChange={() => setFormat(option.format)} />
            {option.label}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Events</legend>
        <div className="filters export-filters">
          {/* Nothing applies at once here: the filters are only read when the export is requested. */}
          <EventFilterFields idPrefix="export-filter" values={filters} problems={{ ...serverErrors, ...problems }} onChange={set} />
        </div>
        <p className="field-hint">Without From and To, the export covers the last 7 days (settled when it is requested).</p>
      </fieldset>
      <div className="form-actions">
        <button type="submit" disabled={pending}>
          {pending ? 'Requesting…' : 'Create export'}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={activeFilters === 0}
          onClick={() => {
            setFilters({});
            setServerErrors({});
          }}
        >
          Clear filters
        </button>
        <span className="muted small">{activeFilters === 0 ? 'No filters: every event in the window.' : `${activeFilters} ${activeFilters === 1 ? 'filter' : 'filters'}.`}</span>
      </div>
    </form>
  );
}

function ExportRow({ id, onForget }: { id: string; onForget: () => void }) {
  const query = useQuery({
    queryKey: ['exports', id],
    queryFn: ({ signal }) => api.get<ExportJob>(`/v1/exports/${encodeURIComponent(id)}`, undefined, signal),
    // Every 2 s while it runs; once it is done the answer only changes when its link expires (below).
    refetchInterval: (q) => exportPollInterval(q.state.data),
    staleTime: 0,
  });
  const job = query.data;
  const { refetch } = query;

  // A link works for a limited time: ask for a fresh one when it runs out, so the one shown always works.
  const expiresAt = job?.download?.expiresAt;
  useEffect(() => {
    const expiresIn = linkExpiresIn(expiresAt ? { download: { url: '', expiresAt } } : undefined);
    if (expiresIn === undefined) return;
    const timer = window.setTimeout(() => void refetch(), Math.max(0, Math.min(expiresIn, 2 ** 31 - 1)));
    return () => window.clearTimeout(timer);
  }, [expiresAt, refetch]);

  // The tab may have slept past the timer: a click on an expired link gets a fresh one first.
  const opening = useRef(false);
  const download = async (event: MouseEvent<HTMLAnchorElement>) => {
    if ((linkExpiresIn(job) ?? 0) > 5000 || opening.current) return;
    event.preventDefault();
    opening.current = true;
    try {
      const fresh = await refetch();
      if (fresh.data?.download) window.location.assign(fresh.data.download.url);
    } finally {
      opening.current = false;
    }
  };

  if (query.isPending) {
    return (
      <tr>
        <td colSpan={6} className="muted">
          Loading export <span className="mono">{id}</span>…
        </td>
      </tr>
    );
  }
  if (query.isError) {
    const gone = query.error instanceof ApiError && query.error.status === 404;
    return (
      <tr className="inactive">
        <td colSpan={5}>
          {gone ? (
            <>
              Export <span className="mono">{id}</span> no longer exists (exports are kept 7 days).
            </>
          ) : (
            <span role="alert">
              Could not read export <span className="mono">{id}</span>: {describeError(query.error)}{' '}
              <button type="button" className="link-button" onClick={() => void refetch()}>
                Try again
              </button>
            </span>
          )}
        </td>
        <td>
          <ForgetButton id={id} onForget={onForget} />
        </td>
      </tr>
    );
  }
  const data = query.data;
  return (
    <tr data-export-id={id}>
      <td title={formatDateTime(data.createdAt)}>{formatShortTime(data.createdAt)}</td>
      <td className="export-filters-cell">
        <div>
          <span className="badge format-badge">{data.format}</span> {describeExportFilters(data.filters)}
        </div>
        {data.filters?.from && data.filters?.to && (
          <div className="muted small">
            {formatShortTime(data.filters.from)} – {formatShortTime(data.filters.to)}
          </div>
        )}
      </td>
      <td>
        <span className="nowrap">
          <StatusBadge status={data.status} />
          {isExportActive(data) && <span className="spinner inline-spinner" aria-hidden="true" />}
        </span>
        {data.finishedAt && (
          <div className="muted small nowrap" title={formatDateTime(data.finishedAt)}>
            {data.status === 'failed' ? 'failed' : 'finished'} {formatShortTime(data.finishedAt)}
          </div>
        )}
        {data.error && <div className="field-error">{data.error}</div>}
      </td>
      <td className="num">{formatCount(data.rowCount)}</td>
      <td className="num nowrap">{formatBytes(data.bytes)}</td>
      <td className="nowrap">
        {data.download ? (
          <>
            <a className="button" href={data.download.url} download={`audit-events-${data.id}.${data.format}`} onClick={(e) => void download(e)}>
              Download {data.format.toUpperCase()}
            </a>
            <div className="muted small" title={formatDateTime(data.download.expiresAt)}>
              link until {formatShortTime(data.download.expiresAt)}
            </div>
          </>
        ) : (
          <div className="muted">{isExportActive(data) ? 'when ready' : '—'}</div>
        )}
        <ForgetButton id={id} onForget={onForget} />
      </td>
    </tr>
  );
}

function ForgetButton({ id, onForget }: { id: string; onForget: () => void }) {
  return (
    <button type="button" className="link-button forget" onClick={onForget} aria-label={`Remove export ${id} from this list`} title="The file itself stays until it expires">
      Remove from list
    </button>
  );
}
