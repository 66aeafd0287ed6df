import type { Severity, Status } from '../types';

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span className={`badge severity-${severity}`}>{severity}</span>;
}

export function StatusBadge({ status }: { status: Status | string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

/** A count in the navigation (unread notifications); read out with its meaning. */
export function CountBadge({ count, label }: { count: number; label: string }) {
  if (count <= 0) return null;
  return (
    <span className="count-badge" data-testid="count-badge">
      {/* Read out as part of the link's name ("Notifications (3 unread)"); the figure alone is for the eye. */}
      <span aria-hidden="true">{count > 999 ? '999+' : count}</span>
      <span className="visually-hidden"> ({count} {label})</span>
    </span>
  );
}
