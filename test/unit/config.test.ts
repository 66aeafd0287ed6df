import { DEFAULT_CONFIG, functionEnvironment, resolveConfig } from '../../lib/config';
import { prepareEvent } from '../../lambdas/core/ingest';
import { ingestSettingsFromEnv } from '../../lambdas/core/settings';

const request = { source: 'shop', receivedAt: new Date('2026-11-23T10:00:00Z') };

describe('configuration from cdk.json context to the functions', () => {
  it('carries extra types, redaction patterns and keys, retention and the unknown-type policy to ingestion', () => {
    const config = resolveConfig({
      unknownEventTypes: 'reject',
      eventTypes: [{ type: 'lander.ab_test.started', category: 'content_update', severity: 'info', description: 'An A/B test began.' }],
      redactionPatterns: [{ name: 'order_token', pattern: 'ord_[a-z0-9]{12}' }],
      redactionKeys: ['recoveryCode'],
      retentionDays: { info: 30 },
    });
    const settings = ingestSettingsFromEnv(functionEnvironment(config));

    const custom = prepareEvent({ type: 'lander.ab_test.started', message: 'token ord_abcdef123456 used', details: { recoveryCode: '12345678' } }, request, settings);
    expect(custom.ok && custom.event).toMatchObject({
      category: 'content_update',
      message: 'token [REDACTED:order_token] used',
      details: { recoveryCode: expect.stringMatching(/^\[REDACTED:/) },
      redaction: { count: 2 },
    });
    expect(prepareEvent({ type: 'widget.spun', category: 'user_activity' }, request, settings)).toMatchObject({ ok: false, errors: [{ path: 'type' }] });
    expect(settings.retention).toMatchObject({ info: 30, error: DEFAULT_CONFIG.retentionDays.error });
  });

  it('fails at synth, with the key named, on a bad value', () => {
    expect(() => resolveConfig({ unknownEventTypes: 'maybe' })).toThrow(/unknownEventTypes/);
    expect(() => resolveConfig({ retentionDays: { info: 0 } })).toThrow(/retentionDays.info/);
    expect(() => resolveConfig({ redactionPatterns: [{ name: 'broken', pattern: '([a-z' }] })).toThrow(/broken/);
    expect(() => resolveConfig({ eventTypes: [{ type: 'x.y', category: 'nope', severity: 'info', description: 'd' }] })).toThrow(/category/);
    expect(() => resolveConfig({ defaultAppRateLimit: -1 })).toThrow(/defaultAppRateLimit/);
  });

  it('takes the admin site settings, with defaults, and refuses a sign-in domain prefix or callback URL Cognito would refuse', () => {
    expect(resolveConfig({}).adminSite).toEqual({ domainPrefix: '', extraCallbackUrls: [] });
    expect(resolveConfig({ adminSite: { domainPrefix: 'acme-audit-7' } }).adminSite).toEqual({ domainPrefix: 'acme-audit-7', extraCallbackUrls: [] });
    expect(resolveConfig({ adminSite: { extraCallbackUrls: ['http://localhost:5173/', 'https://admin.example.com/'] } }).adminSite.extraCallbackUrls).toHaveLength(2);
    for (const domainPrefix of ['Acme', 'acme_audit', '-acme', 'acme-', 'my-cognito-login', 'aws-audit', 'x'.repeat(64), 7]) {
      expect(() => resolveConfig({ adminSite: { domainPrefix } })).toThrow(/adminSite.domainPrefix/);
    }
    for (const url of ['http://admin.example.com/', 'https://admin.example.com/#/', 'ftp://x', '', 42]) {
      expect(() => resolveConfig({ adminSite: { extraCallbackUrls: [url] } })).toThrow(/adminSite.extraCallbackUrls/);
    }
    expect(() => resolveConfig({ adminSite: { extraCallbackUrls: 'https://admin.example.com/' } })).toThrow(/adminSite.extraCallbackUrls/);
  });

  it('refuses malformed environment values at cold start rather than guessing', () => {
    expect(() => ingestSettingsFromEnv({ UNKNOWN_EVENT_TYPES: 'sometimes' })).toThrow(/UNKNOWN_EVENT_TYPES/);
    expect(() => ingestSettingsFromEnv({ REDACTION_PATTERNS: '[{' })).toThrow(/REDACTION_PATTERNS is not valid JSON/);
  });
});
