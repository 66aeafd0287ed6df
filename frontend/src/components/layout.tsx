import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { api } from '../api';
import type { Auth } from '../auth';
import type { NotificationPage } from '../types';
import { CountBadge } from './badges';
import { useIsAdmin, useSession } from './session';

/** How often the unread count refreshes while the SPA is open. */
const UNREAD_REFRESH_MS = 30_000;

export function useUnreadCount(): number | undefined {
  const query = useQuery({
    queryKey: ['notifications', 'unread'],
    queryFn: ({ signal }) => api.get<NotificationPage>('/v1/notifications', { status: 'new', limit: 1 }, signal),
    refetchInterval: UNREAD_REFRESH_MS,
  });
  return query.data?.unreadCount;
}

/**
 * Signing out on purpose. Cognito's signOut leaves for the hosted logout page (which ends that session too
 * and comes back here); locally a reload starts the tab afresh, its cached answers gone.
 */
async function signOut(auth: Auth): Promise<void> {
  await auth.signOut();
  if (auth.mode === 'local') window.location.reload();
}

export function Layout({ children }: { children: ReactNode }) {
  const { session, auth } = useSession();
  const isAdmin = useIsAdmin();
  const unread = useUnreadCount();
  return (
    <div className="shell">
      {/* The address's fragment is the router's, so the skip link moves focus itself instead of navigating. */}
      <a
        className="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Audit trail</span>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Dashboard
              </NavLink>
            </li>
            <li>
              <NavLink to="/events">Events</NavLink>
            </li>
            <li>
              <NavLink to="/notifications">
                Notifications <CountBadge count={unread ?? 0} label="unread" />
              </NavLink>
            </li>
            <li>
              <NavLink to="/errors">Errors</NavLink>
            </li>
            {isAdmin && (
              <>
                <li>
                  <NavLink to="/rules">Rules</NavLink>
                </li>
                <li>
                  <NavLink to="/app-keys">App keys</NavLink>
                </li>
                <li>
                  <NavLink to="/exports">Exports</NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
        <div className="who">
          <span title={session.email}>{session.email}</span>
          <span className="role">{session.role ?? 'no role'}</span>
          <button type="button" className="secondary" onClick={() => void signOut(auth)}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

/** The title of a screen, and of the document. */
export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="page-header">
      {/* React hoists it into <head>: tabs and history say where one is. */}
      <title>{`${title} · Audit trail`}</title>
      <h1>{title}</h1>
      {children && <div className="page-actions">{children}</div>}
    </div>
  );
}
