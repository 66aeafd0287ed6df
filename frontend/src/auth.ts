import type { UserManager } from 'oidc-client-ts';
import type { AdminSiteAuth } from '../../lib/declarations/admin-site';

export type Role = 'admin' | 'viewer';

/** Who is signed in, from the ID token's claims (the API checks the same token; this only shapes the screens). */
export interface Session {
  token: string;
  email: string;
  /** Undefined: signed in, but in neither group (the API answers 403 to everything). */
  role: Role | undefined;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface Auth {
  /** The current session, or undefined when nobody (or an expired token) is signed in. */
  session(): Promise<Session | undefined>;
  /** Starts signing in (Cognito: to the hosted sign-in page); local: takes a pasted token. */
  signIn(token?: string): Promise<void>;
  /** Signing out on purpose: the stored credentials go, and (Cognito) the hosted sign-in's own session too, by leaving for its logout page. */
  signOut(): Promise<void>;
  /** The API refused the credentials (a 401): drop them without leaving the page, which then asks to sign in again. */
  forget(): Promise<void>;
  /** Called with the new session when the tokens were renewed in the background (Cognito's refresh token); returns an unsubscribe. */
  onRenewed(listener: (session: Session) => void): () => void;
  readonly mode: AdminSiteAuth['mode'];
}

/** sessionStorage, not localStorage: a token does not outlive the tab, and other tabs sign in on their own. */
const LOCAL_TOKEN_KEY = 'audit-trail.token';

/** Claims of a JWT, unverified: the API verifies; the SPA only reads who it is talking for. */
export function decodeClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function sessionFromToken(token: string, now = Date.now()): Session | undefined {
  const claims = decodeClaims(token);
  if (!claims) return undefined;
  const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : 0;
  if (expiresAt <= now) return undefined;
  const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as unknown[]) : [];
  const role: Role | undefined = groups.includes('admin') ? 'admin' : groups.includes('viewer') ? 'viewer' : undefined;
  const email = typeof claims.email === 'string' ? claims.email : typeof claims.sub === 'string' ? claims.sub : 'unknown';
  return { token, email, role, expiresAt };
}

/**
 * `/#token=<bearer>` (from `npm run token`) signs in locally. The token leaves the address bar at once, before
 * anything renders, so it is neither in the history nor in a screenshot. Returns whether one was taken.
 */
export function takeTokenFromAddress(location: Location, history: History, storage: Storage): boolean {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (!match) return false;
  storage.setItem(LOCAL_TOKEN_KEY, decodeURIComponent(match[1]));
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  return true;
}

function localAuth(storage: Storage): Auth {
  return {
    mode: 'local',
    async session() {
      const token = storage.getItem(LOCAL_TOKEN_KEY);
      return token ? sessionFromToken(token) : undefined;
    },
    async signIn(token) {
      const trimmed = token?.trim().replace(/^Bearer\s+/i, '');
      if (!trimmed || !sessionFromToken(trimmed)) throw new Error('That is not a current token: run `npm run token -- --role admin` and paste what it prints.');
      storage.setItem(LOCAL_TOKEN_KEY, trimmed);
    },
    async signOut() {
      storage.removeItem(LOCAL_TOKEN_KEY);
    },
    async forget() {
      storage.removeItem(LOCAL_TOKEN_KEY);
    },
    onRenewed: () => () => undefined,
  };
}

/** Where sign-in may send the SPA back to: one of its own routes, nothing else (the value came back through the address bar). */
export function safeReturnRoute(urlState: unknown): string {
  return typeof urlState === 'string' && /^#\/[^#\s]*$/.test(urlState) ? urlState : '#/';
}

/**
 * Cognito's hosted sign-in, authorization code + PKCE, by oidc-client-ts (state, nonce, verifier and the code
 * exchange are its job, not ours). The API's Cognito authorizer takes the ID token, which carries the groups.
 */
function cognitoAuth(config: Extract<AdminSiteAuth, { mode: 'cognito' }>, storage: Storage): Auth {
  // Loaded only where Cognito signs people in: the local stack's bundle never runs it.
  let manager: Promise<UserManager> | undefined;
  const userManager = () =>
    (manager ??= import('oidc-client-ts').then(
      ({ UserManager, WebStorageStateStore }) =>
        new UserManager({
          authority: config.authority,
          client_id: config.clientId,
          redirect_uri: config.redirectUri,
          post_logout_redirect_uri: config.redirectUri,
          response_type: 'code',
          scope: 'openid email profile',
          userStore: new WebStorageStateStore({ store: storage }),
          stateStore: new WebStorageStateStore({ store: storage }),
          automaticSilentRenew: true,
        }),
    ));
  let callbackHandled: Promise<void> | undefined;
  const handleCallback = () => {
    callbackHandled ??= (async () => {
      const params = new URLSearchParams(window.location.search);
      if (!params.has('code') && !params.has('error')) return;
      let returnTo = '#/';
      try {
        // Back where sign-in started (the screen a shared link pointed at), which travelled in the state.
        returnTo = safeReturnRoute((await (await userManager()).signinRedirectCallback()).url_state);
      } finally {
        // The code and state must not stay in the address bar (or the history) either.
        window.history.replaceState(null, '', `${window.location.pathname}${returnTo}`);
      }
    })();
    return callbackHandled;
  };
  return {
    mode: 'cognito',
    async session() {
      await handleCallback();
      const user = await (await userManager()).getUser();
      return user?.id_token ? sessionFromToken(user.id_token) : undefined;
    },
    async signIn() {
      await (await userManager()).signinRedirect({ url_state: window.location.hash });
    },
    async forget() {
      await (await userManager()).removeUser();
    },
    onRenewed(listener) {
      let unsubscribe: (() => void) | undefined;
      let cancelled = false;
      void userManager().then((m) => {
        if (cancelled) return;
        // automaticSilentRenew exchanges the refresh token before the ID token expires; the screens need the new one.
        unsubscribe = m.events.addUserLoaded((user) => {
          const session = user.id_token ? sessionFromToken(user.id_token) : undefined;
          if (session) listener(session);
        });
      });
      return () => {
        cancelled = true;
        unsubscribe?.();
      };
    },
    async signOut() {
      await (await userManager()).removeUser();
      // Cognito's logout is not OIDC's end_session: it takes the client id and where to go back to.
      const logout = new URL(`${config.domain.replace(/\/+$/, '')}/logout`);
      logout.searchParams.set('client_id', config.clientId);
      logout.searchParams.set('logout_uri', config.redirectUri);
      window.location.assign(logout.toString());
    },
  };
}

export function createAuth(config: AdminSiteAuth, storage: Storage = window.sessionStorage): Auth {
  return config.mode === 'cognito' ? cognitoAuth(config, storage) : localAuth(storage);
}
