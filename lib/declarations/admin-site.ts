/**
 * The admin SPA (frontend/), declared once: where its build lands, the
 * runtime configuration it reads at start, and the response headers it is
 * served with. CloudFront (lib/constructs/admin-site.ts) and the local stack
 * (local/admin-site.ts) both serve it from these, so a Content-Security-Policy
 * the SPA breaks fails the browser tests, not production.
 */

/** `npm run frontend:build` writes the static site here (relative to the repository root). */
export const ADMIN_SITE_DIST = 'frontend/dist';

/** The SPA fetches its configuration from here at start: nothing environment-specific is baked into the build. */
export const ADMIN_SITE_CONFIG_PATH = '/config.json';

/** How people sign in: locally with `npm run token` (`/#token=…`), on AWS through Cognito's hosted sign-in with PKCE. */
export type AdminSiteAuth =
  | { mode: 'local' }
  | {
      mode: 'cognito';
      /** The user pool's issuer, `https://cognito-idp.<region>.amazonaws.com/<poolId>` (OIDC discovery lives under it). */
      authority: string;
      /** The public app client (no secret; authorization code grant, PKCE). */
      clientId: string;
      /** Where sign-in returns to: the site's own URL. */
      redirectUri: string;
      /** The hosted sign-in domain, `https://<prefix>.auth.<region>.amazoncognito.com` (its `/logout` ends the session). */
      domain: string;
    };

/** The shape of `config.json`. */
export interface AdminSiteConfig {
  /**
   * Base URL of the API, without the `/v1`. Empty: the site's own origin, which is how both the local stack
   * and CloudFront (a `/v1/*` behaviour in front of API Gateway) serve it, so the SPA needs no CORS.
   */
  apiUrl: string;
  auth: AdminSiteAuth;
}

/**
 * The Content-Security-Policy of every SPA response. Scripts and styles only from the site itself (Vite emits
 * no inline script; React and Chart.js set styles through the CSSOM, which CSP does not govern), API calls to
 * the site itself plus `extraConnectSources` (Cognito's token endpoint and discovery on AWS), no framing, no
 * plugins, forms only to the site.
 */
export function adminSiteContentSecurityPolicy(extraConnectSources: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    ['connect-src', "'self'", ...extraConnectSources].join(' '),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The other security headers (CloudFront's response headers policy; the local stack sends the same). */
export const ADMIN_SITE_SECURITY_HEADERS = {
  /** Two years, subdomains included (HTTPS only: the local stack, on plain HTTP, leaves it out). */
  strictTransportSecurity: { maxAgeSeconds: 63_072_000, includeSubdomains: true },
  frameOptions: 'DENY',
  contentTypeOptions: 'nosniff',
  referrerPolicy: 'strict-origin-when-cross-origin',
} as const;

/** Built files whose names carry a content hash (Vite's `assets/`): cached for a year, never revalidated. */
export const ADMIN_SITE_IMMUTABLE_PREFIX = '/assets/';
