/**
 * The app-key form without React: the API's rules for a new key (lambdas/core/app-key-admin.ts, checked
 * again there), and the API's one-line 400 message split back into messages per field.
 */

// Copied from lambdas/core/app-keys.ts (which needs node:crypto); the unit test compares them.
export const APP_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const RESERVED_APP_NAMES: readonly string[] = ['audit-trail'];
export const MAX_RATE_LIMIT = 100_000;

export interface AppKeyForm {
  app: string;
  /** Events per second; empty for the deployment's default. */
  rateLimit: string;
  captureClientIp: boolean;
}

export interface AppKeyBody {
  app: string;
  rateLimit?: number;
  captureClientIp?: boolean;
}

export type AppKeyField = 'app' | 'rateLimit' | 'captureClientIp';

export function emptyAppKeyForm(): AppKeyForm {
  return { app: '', rateLimit: '', captureClientIp: false };
}

export function appKeyRequest(form: AppKeyForm): { ok: true; body: AppKeyBody } | { ok: false; errors: Partial<Record<AppKeyField, string>> } {
  const errors: Partial<Record<AppKeyField, string>> = {};
  const app = form.app.trim();
  if (app === '') errors.app = 'Enter the app’s name.';
  else if (RESERVED_APP_NAMES.includes(app)) errors.app = `“${app}” is reserved for this system’s own events.`;
  else if (!APP_NAME_PATTERN.test(app)) errors.app = 'Use 1–63 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit.';
  const rate = form.rateLimit.trim();
  let rateLimit: number | undefined;
  if (rate !== '') {
    if (!/^\d+$/.test(rate) || Number(rate) < 1 || Number(rate) > MAX_RATE_LIMIT) errors.rateLimit = `Enter a whole number of events per second from 1 to ${MAX_RATE_LIMIT.toLocaleString('en')}, or leave it empty.`;
    else rateLimit = Number(rate);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, body: { app, ...(rateLimit !== undefined ? { rateLimit } : {}), ...(form.captureClientIp ? { captureClientIp: true } : {}) } };
}

/**
 * Some routes answer a 400 with one message naming each field (`app must be …; rateLimit must be at least 1`)
 * rather than `errors` by path: this splits it back, so each part goes under its control. Parts that name no
 * known field are returned in `rest`.
 */
export function fieldErrorsFromMessage<K extends string>(message: string, fields: readonly K[]): { byField: Partial<Record<K, string>>; rest: string[] } {
  const byField: Partial<Record<K, string>> = {};
  const rest: string[] = [];
  for (const part of message.split('; ').map((p) => p.trim()).filter(Boolean)) {
    const field = fields.find((f) => part.startsWith(`${f} `));
    if (field === undefined) {
      rest.push(part);
      continue;
    }
    const text = part.slice(field.length + 1);
    const sentence = text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
    byField[field] = byField[field] ? `${byField[field]} ${sentence}` : sentence;
  }
  return { byField, rest };
}
