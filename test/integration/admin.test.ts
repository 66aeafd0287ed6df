/**
 * The admin API on the local stack: app keys issued, used and revoked over
 * HTTP, who may do it, and every action recorded as an admin.* event that
 * GET /v1/events finds with the admin's id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../lib/config';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { issueLocalToken } from '../../local/tokens';

jest.setTimeout(60_000);

const ADMIN_USER = 'root.admin@example.com';
let stack: LocalStack;
let dataDir: string;
let admin: string;
let viewer: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-admin-'));
  stack = await startLocalStack({
    port: 0,
    dataDir,
    ingestApiKey: 'admin-test-ingest-key',
    inMemory: true,
    // A revoked key stops working once the authorizer's cached answer expires: 1 s here, 300 s on AWS.
    authorizerCacheSeconds: 1,
    config: { ...DEFAULT_CONFIG, logLevel: 'ERROR' },
    log: () => undefined,
  });
  admin = await issueLocalToken(dataDir, { role: 'admin', user: ADMIN_USER });
  viewer = await issueLocalToken(dataDir, { role: 'viewer', user: 'someone@example.com' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text ? JSON.parse(text) : undefined };
}

async function postEvent(apiKey: string, event: Record<string, unknown>) {
  const response = await fetch(`${stack.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify(event),
  });
  return { status: response.status, json: (await response.json()) as any };
}

/** The admin events of one type, read back through the query API as any viewer would. */
async function adminEvents(type: string): Promise<any[]> {
  const { status, json } = await call('GET', `/v1/events?type=${type}&source=audit-trail`, viewer);
  expect(status).toBe(200);
  return json.items;
}

describe('who may manage app keys', () => {
  test.each([
    ['POST', '/v1/app-keys', { app: 'nobody' }],
    ['GET', '/v1/app-keys', undefined],
    ['DELETE', '/v1/app-keys/0123456789abcdef', undefined],
  ])('%s %s: 401 without a token, 401 with a bad one, 403 for a viewer', async (method, path, body) => {
    const anonymous = await call(method, path, undefined, body);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect((await call(method, path, `${admin}x`, body)).status).toBe(401);
    const forbidden = await call(method, path, viewer, body);
    expect(forbidden.status).toBe(403);
    expect(forbidden.json).toEqual({ error: { code: 'forbidden', message: 'this needs the admin role' } });
  });

  test('a viewer\'s attempt created no key and recorded nothing', async () => {
    const { json } = await call('GET', '/v1/app-keys', admin);
    expect(json.items.map((k: any) => k.app)).not.toContain('nobody');
    expect(await adminEvents('admin.app_key.created')).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ summary: expect.stringContaining('nobody') })]),
    );
  });
});

describe('app key lifecycle', () => {
  let apiKey: string;
  let keyId: string;

  test('POST /v1/app-keys → 201 with the key, shown once, not cacheable', async () => {
    const created = await call('POST', '/v1/app-keys', admin, { app: 'checkout', rateLimit: 50 });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.json).toEqual({
      apiKey: expect.stringMatching(/^atk_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/),
      key: { keyId: expect.any(String), app: 'checkout', createdAt: expect.any(String), createdBy: ADMIN_USER, rateLimit: 50 },
    });
    apiKey = created.json.apiKey;
    keyId = created.json.key.keyId;
    expect(apiKey).toContain(`atk_${keyId}_`);
  });

  test('the new key posts events as its app', async () => {
    const posted = await postEvent(apiKey, { type: 'user.login.succeeded', actor: { userId: 'u-1' } });
    expect(posted.status).toBe(200);
    const id = posted.json.results[0].id;
    const stored = await call('GET', `/v1/events/${id}`, viewer);
    expect(stored.json.source).toBe('checkout');
  });

  test('GET /v1/app-keys lists it without any secret or hash', async () => {
    const listed = await call('GET', '/v1/app-keys', admin);
    expect(listed.status).toBe(200);
    const key = listed.json.items.find((k: any) => k.keyId === keyId);
    expect(key).toEqual({ keyId, app: 'checkout', createdAt: expect.any(String), createdBy: ADMIN_USER, rateLimit: 50 });
    expect(listed.json.items.find((k: any) => k.app === 'local')).toBeDefined();
    expect(listed.text).not.toContain('secretHash');
    expect(listed.text).not.toContain(apiKey.slice(-43));
  });

  test('DELETE revokes it: refused once the authorizer cache has expired', async () => {
    const revoked = await call('DELETE', `/v1/app-keys/${keyId}`, admin);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ keyId, app: 'checkout', revokedAt: expect.any(String) });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const refused = await postEvent(apiKey, { type: 'user.login.succeeded' });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('forbidden');
  });

  test('revoking again changes nothing; an unknown key is 404', async () => {
    const first = (await call('GET', '/v1/app-keys', admin)).json.items.find((k: any) => k.keyId === keyId);
    const again = await call('DELETE', `/v1/app-keys/${keyId}`, admin);
    expect(again.status).toBe(200);
    expect(again.json.revokedAt).toBe(first.revokedAt);
    expect((await call('DELETE', '/v1/app-keys/0123456789abcdef', admin)).status).toBe(404);
    expect((await call('DELETE', '/v1/app-keys/not-a-key', admin)).status).toBe(404);
  });

  test('bad requests are 400s naming the problem; the reserved source is refused', async () => {
    const reserved = await call('POST', '/v1/app-keys', admin, { app: 'audit-trail' });
    expect(reserved.status).toBe(400);
    expect(reserved.json.error).toEqual({ code: 'invalid_app_key', message: expect.stringContaining('reserved') });
    expect((await call('POST', '/v1/app-keys', admin, { app: 'x', rateLimit: '10' })).status).toBe(400);
    const notJson = await fetch(`${stack.url}/v1/app-keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
  });

  test('each action is an admin.* event by the admin, from audit-trail, once', async () => {
    const [created] = (await adminEvents('admin.app_key.created')).filter((e) => e.recordId === keyId);
    const revocations = (await adminEvents('admin.app_key.revoked')).filter((e) => e.recordId === keyId);
    expect(created).toMatchObject({ category: 'admin_activity', source: 'audit-trail', recordType: 'app_key' });
    // Revoked twice, recorded once: the second DELETE changed nothing.
    expect(revocations).toHaveLength(1);
    for (const listed of [created, revocations[0]]) {
      const { json: event } = await call('GET', `/v1/events/${listed.id}`, viewer);
      expect(event.actor.adminId).toBe(ADMIN_USER);
      expect(event.actor.userId).toBeUndefined();
      expect(event.record).toEqual({ type: 'app_key', id: keyId });
      expect(event.details.app).toBe('checkout');
      expect(JSON.stringify(event)).not.toContain(apiKey.slice(-43));
    }
  });

});

describe('rules and notifications audit themselves', () => {
  test('creating, replacing and deleting a rule are three admin.rule.changed events by the admin', async () => {
    const rule = { id: 'audited-rule', name: 'Audited rule', match: { type: 'user.login.*' }, channels: ['inApp'] };
    expect((await call('POST', '/v1/rules', admin, rule)).status).toBe(201);
    expect((await call('PUT', '/v1/rules/audited-rule', admin, { ...rule, enabled: false })).status).toBe(200);
    expect((await call('DELETE', '/v1/rules/audited-rule', admin)).status).toBe(204);
    // Refused changes are not recorded.
    expect((await call('DELETE', '/v1/rules/audited-rule', admin)).status).toBe(404);
    expect((await call('POST', '/v1/rules', viewer, rule)).status).toBe(403);

    const changes = (await adminEvents('admin.rule.changed')).filter((e) => e.recordId === 'audited-rule');
    expect(changes).toHaveLength(3);
    const full = await Promise.all(changes.map(async (e) => (await call('GET', `/v1/events/${e.id}`, viewer)).json));
    // Newest first.
    expect(full.map((e) => e.details.change)).toEqual(['deleted', 'replaced', 'created']);
    for (const event of full) expect(event).toMatchObject({ source: 'audit-trail', actor: { adminId: ADMIN_USER }, record: { type: 'rule', id: 'audited-rule' } });
    expect(full[1].details.rule.enabled).toBe(false);
  });

  test('resolving a notification is an admin.notification.resolved event; marking it read is not', async () => {
    const posted = await postEvent('admin-test-ingest-key', { type: 'test.audit.fire', category: 'system_error', severity: 'critical' });
    const eventId = posted.json.results[0].id;
    const deadline = Date.now() + 20_000;
    let notification: any;
    while (!notification) {
      if (Date.now() > deadline) throw new Error('no notification for the critical event');
      const { json } = await call('GET', '/v1/notifications?rule=critical-events', viewer);
      notification = json.items.find((n: any) => n.eventId === eventId);
      if (!notification) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect((await call('PATCH', `/v1/notifications/${notification.id}`, viewer, { status: 'read' })).status).toBe(200);
    expect((await call('PATCH', `/v1/notifications/${notification.id}`, admin, { status: 'resolved', note: 'handled' })).status).toBe(200);
    const resolutions = (await adminEvents('admin.notification.resolved')).filter((e) => e.recordId === notification.id);
    expect(resolutions).toHaveLength(1);
    const { json: event } = await call('GET', `/v1/events/${resolutions[0].id}`, viewer);
    expect(event).toMatchObject({
      actor: { adminId: ADMIN_USER },
      record: { type: 'notification', id: notification.id },
      details: { status: 'resolved', note: 'handled', ruleId: 'critical-events' },
    });
  });
});
