/**
 * The admin SPA's app-key form (frontend/src/app-key-form.ts) and its remembered exports
 * (frontend/src/export-list.ts): checks held against the API's, the 400 message split per field, and the
 * session's list of export ids.
 */
import { parseCreateAppKey, MAX_RATE_LIMIT as SERVER_MAX_RATE_LIMIT } from '../../lambdas/core/app-key-admin';
import { APP_NAME_PATTERN as SERVER_APP_NAME_PATTERN, RESERVED_APP_NAMES as SERVER_RESERVED } from '../../lambdas/core/app-keys';
import { ClientError } from '../../lambdas/core/errors';
import { APP_NAME_PATTERN, MAX_RATE_LIMIT, RESERVED_APP_NAMES, appKeyRequest, emptyAppKeyForm, fieldErrorsFromMessage } from '../../frontend/src/app-key-form';
import {
  EXPORTS_STORAGE_KEY,
  MAX_REMEMBERED_EXPORTS,
  describeExportFilters,
  exportPollInterval,
  exportRequestBody,
  forgetExport,
  linkExpiresIn,
  readExportIds,
  rememberExport,
} from '../../frontend/src/export-list';

describe('app key form', () => {
  test('the same rules as the API', () => {
    expect(APP_NAME_PATTERN.source).toBe(SERVER_APP_NAME_PATTERN.source);
    expect(RESERVED_APP_NAMES).toEqual(SERVER_RESERVED);
    expect(MAX_RATE_LIMIT).toBe(SERVER_MAX_RATE_LIMIT);
  });

  test('a body the API accepts', () => {
    const result = appKeyRequest({ app: ' checkout ', rateLimit: '200', captureClientIp: true });
    expect(result).toEqual({ ok: true, body: { app: 'checkout', rateLimit: 200, captureClientIp: true } });
    if (result.ok) expect(parseCreateAppKey(result.body)).toEqual(result.body);
    expect(appKeyRequest({ ...emptyAppKeyForm(), app: 'web.shop_1' })).toEqual({ ok: true, body: { app: 'web.shop_1' } });
  });

  test('problems by field, for what the API refuses too', () => {
    for (const [form, fields] of [
      [{ app: '', rateLimit: '', captureClientIp: false }, ['app']],
      [{ app: 'Checkout', rateLimit: '0', captureClientIp: false }, ['app', 'rateLimit']],
      [{ app: 'audit-trail', rateLimit: '100001', captureClientIp: false }, ['app', 'rateLimit']],
      [{ app: 'ok', rateLimit: '2.5', captureClientIp: false }, ['rateLimit']],
    ] as const) {
      const result = appKeyRequest(form);
      expect(result.ok ? [] : Object.keys(result.errors)).toEqual(fields);
      const rateLimit = form.rateLimit === '' ? undefined : Number(form.rateLimit);
      expect(() => parseCreateAppKey({ app: form.app, ...(rateLimit !== undefined ? { rateLimit } : {}) })).toThrow(ClientError);
    }
  });

  test('the API’s one-line 400, split per field', () => {
    expect(
      fieldErrorsFromMessage('app must be 1-63 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit; rateLimit must be at least 1; nope is not a field of an app key request', ['app', 'rateLimit']),
    ).toEqual({
      byField: { app: 'Must be 1-63 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit.', rateLimit: 'Must be at least 1.' },
      rest: ['nope is not a field of an app key request'],
    });
    expect(fieldErrorsFromMessage('severity must be one of debug, info', ['severity', 'minSeverity'])).toEqual({ byField: { severity: 'Must be one of debug, info.' }, rest: [] });
  });
});

class MemoryStorage {
  values = new Map<string, string>();
  getItem(key: string) {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.values.set(key, value);
  }
}

const id = (n: number) => `01M84H4C33E03S279BM4R5X${String(n).padStart(3, '0')}`;

describe('remembered exports', () => {
  test('newest first, no repeats, at most 20', () => {
    const storage = new MemoryStorage();
    rememberExport(storage, id(1));
    rememberExport(storage, id(2));
    expect(rememberExport(storage, id(1))).toEqual([id(1), id(2)]);
    for (let n = 3; n < 30; n++) rememberExport(storage, id(n));
    const ids = readExportIds(storage);
    expect(ids).toHaveLength(MAX_REMEMBERED_EXPORTS);
    expect(ids[0]).toBe(id(29));
    expect(forgetExport(storage, id(29))[0]).toBe(id(28));
  });

  test('junk in storage reads as nothing; a failing storage does not break the screen', () => {
    const storage = new MemoryStorage();
    storage.setItem(EXPORTS_STORAGE_KEY, '{not json');
    expect(readExportIds(storage)).toEqual([]);
    storage.setItem(EXPORTS_STORAGE_KEY, JSON.stringify([id(1), 'x', 3, '../etc']));
    expect(readExportIds(storage)).toEqual([id(1)]);
    expect(readExportIds(undefined)).toEqual([]);
    const full = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); } };
    expect(rememberExport(full, id(1))).toEqual([id(1)]);
  });

  test('polls while queued or running only', () => {
    expect(exportPollInterval({ status: 'queued' })).toBe(2000);
    expect(exportPollInterval({ status: 'running' })).toBe(2000);
    expect(exportPollInterval({ status: 'succeeded' })).toBe(false);
    expect(exportPollInterval({ status: 'failed' })).toBe(false);
    expect(exportPollInterval(undefined)).toBe(false);
  });

  test('link expiry', () => {
    const now = Date.parse('2026-11-23T15:00:00Z');
    expect(linkExpiresIn({ download: { url: 'u', expiresAt: '2026-11-23T15:15:00Z' } }, now)).toBe(900_000);
    expect(linkExpiresIn({ download: { url: 'u', expiresAt: '2026-11-23T14:59:00Z' } }, now)).toBeLessThan(0);
    expect(linkExpiresIn({}, now)).toBeUndefined();
  });

  test('request body and filters line', () => {
    expect(exportRequestBody('csv', { severity: 'error', userId: ' ', type: ' user.* ' })).toEqual({ format: 'csv', severity: 'error', type: 'user.*' });
    expect(describeExportFilters({ severity: 'error', from: '2026-11-16T00:00:00Z', to: '2026-11-23T00:00:00Z' })).toBe('severity error');
    expect(describeExportFilters({ from: 'a', to: 'b' })).toBe('all events');
  });
});
