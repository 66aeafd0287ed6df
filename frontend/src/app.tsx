import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useCallback, useEffect, useState } from 'react';
import { HashRouter, Navigate, Route, Routes } from 'react-router';
import { ApiError, configureApi } from './api';
import type { Auth, Session } from './auth';
import { Layout } from './components/layout';
import { Loading } from './components/query-state';
import { SessionContext, useIsAdmin } from './components/session';
import type { AdminSiteConfig } from './config';
import { AppKeysPage } from './pages/app-keys';
import { DashboardPage } from './pages/dashboard';
import { ErrorDetailPage, ErrorsPage } from './pages/errors';
import { EventDetailPage } from './pages/event-detail';
import { EventsPage } from './pages/events';
import { ExportsPage } from './pages/exports';
import { NotificationsPage } from './pages/notifications';
import { RecordHistoryPage, TracePage } from './pages/timeline';
import { RuleEditPage, RulesPage } from './pages/rules';
import { SignIn } from './sign-in';

function queryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        // A 4xx will not get better by asking again; a network blip or a 5xx may.
        retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
        refetchOnWindowFocus: false,
      },
    },
  });
}

/** Screens only admins use; a viewer who follows a link to one is told so instead of seeing a broken page. */
function AdminOnly({ children }: { children: React.ReactNode }) {
  const isAdmin = useIsAdmin();
  if (isAdmin) return <>{children}</>;
  return (
    <div className="callout warning" role="alert">
      This screen is for admins. Your role is viewer.
    </div>
  );
}

export function App({ config, auth }: { config: AdminSiteConfig; auth: Auth }) {
  const [session, setSession] = useState<Session | undefined>();
  const [checked, setChecked] = useState(false);
  const [signedOutReason, setSignedOutReason] = useState<string>();
  const [client] = useState(queryClient);

  const refresh = useCallback(() => {
    void auth
      .session()
      .then(setSession, (error: unknown) => setSignedOutReason(error instanceof Error ? error.message : String(error)))
      .finally(() => setChecked(true));
  }, [auth]);

  // A session ends: nothing the previous user read stays in the cache for whoever signs in next in this tab.
  const endSession = useCallback(
    (reason: string) => {
      client.clear();
      setSession(undefined);
      setSignedOutReason(reason);
    },
    [client],
  );

  // A 401: the credentials are dropped here, without leaving the page, and the sign-in page says why.
  const onUnauthorized = useCallback(() => {
    void auth.forget().catch(() => undefined);
    endSession('Your sign-in has expired or was revoked. Sign in again.');
  }, [auth, endSession]);

  useEffect(refresh, [refresh]);
  // Tokens renewed in the background (Cognito) replace the session's, so requests carry the new one.
  useEffect(() => auth.onRenewed(setSession), [auth]);

  // Expiry: sign out when the token does (unless it was renewed first), rather than on the first failing request.
  useEffect(() => {
    if (!session) return;
    const timer = window.setTimeout(() => endSession('Your sign-in has expired. Sign in again.'), Math.max(0, Math.min(session.expiresAt - Date.now(), 2 ** 31 - 1)));
    return () => window.clearTimeout(timer);
  }, [session, endSession]);

  if (!checked) return <Loading label="Signing in…" />;
  if (!session) return <SignIn auth={auth} reason={signedOutReason} onSignedIn={refresh} />;
  // Before the screens render and fetch: every request carries this session's token.
  configureApi({ baseUrl: config.apiUrl, token: () => session.token, onUnauthorized });

  return (
    <SessionContext.Provider value={{ session, auth }}>
      <QueryClientProvider client={client}>
        <HashRouter>
          <Layout>
            <Routes>
              <Route path="/" element={<DashboardPage />} />
              <Route path="/events" element={<EventsPage />} />
              <Route path="/events/:id" element={<EventDetailPage />} />
              <Route path="/records/:type/:id" element={<RecordHistoryPage />} />
              <Route path="/traces/:traceId" element={<TracePage />} />
              <Route path="/notifications" element={<NotificationsPage />} />
              <Route path="/errors" element={<ErrorsPage />} />
              <Route path="/errors/:id" element={<ErrorDetailPage />} />
              <Route path="/rules" element={<AdminOnly><RulesPage /></AdminOnly>} />
              <Route path="/rules/new" element={<AdminOnly><RuleEditPage /></AdminOnly>} />
              <Route path="/rules/:id" element={<AdminOnly><RuleEditPage /></AdminOnly>} />
              <Route path="/app-keys" element={<AdminOnly><AppKeysPage /></AdminOnly>} />
              <Route path="/exports" element={<AdminOnly><ExportsPage /></AdminOnly>} />
              <Route path="*" element={<Navigate to="/" replace />} />
            </Routes>
          </Layout>
        </HashRouter>
      </QueryClientProvider>
    </SessionContext.Provider>
  );
}
