/**
 * The admin site's deployment settings (`auditTrail.adminSite` in cdk.json),
 * checked at synth time like the rest of lib/config.ts. Not to be confused
 * with AdminSiteConfig (lib/declarations/admin-site.ts), the `config.json`
 * the SPA reads at start: the stack writes that one itself.
 */
export interface AdminSiteSettings {
  /**
   * The prefix of Cognito's hosted sign-in domain, `https://<prefix>.auth.<region>.amazoncognito.com`. Prefixes are
   * global per region (another AWS account may hold yours). Empty: `<stack name>-<8 hex digits of the stack's id>`,
   * which stays the same for the life of the stack and differs between stacks and accounts.
   */
  domainPrefix: string;
  /**
   * More addresses Cognito may send people back to after sign-in and sign-out, besides the site's own
   * `https://<distribution>/` (say a `http://localhost:5173/` dev server signing in against this pool).
   * https only, except `http://localhost`.
   */
  extraCallbackUrls: string[];
}

export const DEFAULT_ADMIN_SITE_SETTINGS: AdminSiteSettings = { domainPrefix: '', extraCallbackUrls: [] };

/** Cognito's rule for prefix domains: lower-case letters, digits and inner hyphens, at most 63 characters. */
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Cognito refuses a prefix containing any of these. */
export const RESERVED_DOMAIN_WORDS = /aws|amazon|cognito/;
/** What Cognito accepts as a callback URL: https, or plain http to localhost only; no fragment. */
const CALLBACK_URL = /^(https:\/\/[^\s#/]+(\/[^\s#]*)?|http:\/\/localhost(:\d+)?(\/[^\s#]*)?)$/;

export function checkAdminSiteSettings(settings: AdminSiteSettings): void {
  const { domainPrefix, extraCallbackUrls } = settings;
  if (typeof domainPrefix !== 'string' || (domainPrefix !== '' && (!DOMAIN_PREFIX.test(domainPrefix) || RESERVED_DOMAIN_WORDS.test(domainPrefix)))) {
    throw new Error(
      'auditTrail.adminSite.domainPrefix must be empty or lower-case letters, digits and hyphens (at most 63, not starting or ending with a hyphen), ' +
        'without "aws", "amazon" or "cognito"',
    );
  }
  if (!Array.isArray(extraCallbackUrls) || extraCallbackUrls.some((url) => typeof url !== 'string' || !CALLBACK_URL.test(url))) {
    throw new Error('auditTrail.adminSite.extraCallbackUrls must be a list of https URLs (or http://localhost ones), without a #fragment');
  }
}
