/**
 * Admin actions recorded as events: through the same pipeline as posted
 * events (validation, registry defaults, redaction, create-only put).
 */
import type { Principal } from '../../lambdas/core/access';
import { ADMIN_EVENT_SOURCE, AdminAuditLog, AdminAuditUnavailable, adminActions, adminEventId } from '../../lambdas/core/admin-audit';
import { issueAppKey } from '../../lambdas/core/app-keys';
import type { EventItem } from '../../lambdas/core/event-keys';
import { canonicalEventId } from '../../lambdas/core/ids';
import type { EventStore } from '../../lambdas/core/ingest';
import { ingestSettingsFromEnv } from '../../lambdas/core/settings';

const admin: Principal = { userId: 'alice@example.com', email: 'alice@example.com', groups: ['admin'] };
const at = new Date('2026-11-23T10:00:00.000Z');

class MemoryStore implements EventStore {
  readonly items = new Map<string, EventItem>();
  fail = false;
  async putNew(item: EventItem) {
    if (this.fail) throw new Error('DynamoDB is down');
    const existing = this.items.get(item.pk);
    if (existing) return { created: false as const, existingSource: existing.source };
    this.items.set(item.pk, item);
    return { created: true as const };
  }
}

function setup(env: Record<string, string> = {}) {
  const store = new MemoryStore();
  return { store, log: new AdminAuditLog(store, ingestSettingsFromEnv(env)) };
}

test('an issued key becomes an admin.app_key.created event by the admin, from audit-trail, with registry defaults', async () => {
  const { store, log } = setup();
  const event = await log.record(adminActions.appKeyCreated({ keyId: 'abcd1234abcd1234', app: 'checkout', rateLimit: 200 }, admin), {
    principal: admin,
    requestId: 'req-1',
    sourceIp: '198.51.100.7',
    userAgent: 'Mozilla/5.0',
    at,
  });
  expect(event).toMatchObject({
    type: 'admin.app_key.created',
    category: 'admin_activity',
    severity: 'warning',
    status: 'success',
    source: ADMIN_EVENT_SOURCE,
    occurredAt: at.toISOString(),
    receivedAt: at.toISOString(),
    actor: { adminId: 'alice@example.com', ip: '198.51.100.7', userAgent: 'Mozilla/5.0' },
    record: { type: 'app_key', id: 'abcd1234abcd1234' },
    requestId: 'req-1',
    details: { app: 'checkout', rateLimit: 200, captureClientIp: false },
  });
  expect(event.actor?.userId).toBeUndefined();
  // Stored exactly as ingestion stores: index keys, list attributes, the document.
  const item = store.items.get(event.id)!;
  expect(item).toMatchObject({
    pk: event.id,
    typePk: expect.stringMatching(/^T#admin\.app_key\.created#[0-7]$/),
    recordPk: 'R#app_key#abcd1234abcd1234',
    source: 'audit-trail',
    summary: event.message,
  });
  expect(JSON.parse(item.doc)).toEqual(event);
});

test('admin events are redacted like any event', async () => {
  const { log } = setup();
  const event = await log.record(
    { ...adminActions.ruleChanged({ id: 'r-1' }, 'replaced', admin), details: { change: 'replaced', webhookSecret: 'hunter2-hunter2' } },
    { principal: admin, at },
  );
  expect(event.details).toEqual({ change: 'replaced', webhookSecret: '[REDACTED:secret]' });
  expect(event.redaction).toEqual({ count: 1, paths: ['details.webhookSecret'] });
});

test('an unusable client address is left out rather than failing the record', async () => {
  const { log } = setup();
  const event = await log.record(adminActions.ruleChanged({ id: 'r-1' }, 'deleted', admin), { principal: admin, sourceIp: 'not-an-ip', at });
  expect(event.actor).toEqual({ adminId: 'alice@example.com' });
});

test('a revocation recorded twice (a retried request) is one event', async () => {
  const { store, log } = setup();
  const action = adminActions.appKeyRevoked({ keyId: 'abcd1234abcd1234', app: 'checkout', revokedAt: at.toISOString() }, admin);
  const first = await log.record(action, { principal: admin, at });
  const second = await log.record(action, { principal: admin, at: new Date(at.getTime() + 5000) });
  expect(second.id).toBe(first.id);
  expect(store.items.size).toBe(1);
});

test('a write failure is a 503 the client can retry, not a 500', async () => {
  const { store, log } = setup();
  store.fail = true;
  const attempt = log.record(adminActions.ruleChanged({ id: 'r-1' }, 'created', admin), { principal: admin, at });
  await expect(attempt).rejects.toBeInstanceOf(AdminAuditUnavailable);
  await expect(attempt).rejects.toMatchObject({ statusCode: 503, code: 'audit_unavailable' });
});

test('an id taken by an app event is never claimed', async () => {
  const { store, log } = setup();
  const action = adminActions.exportCreated({ id: '01JD7X8Y9ZABCDEFGHJKMNPQRS', format: 'csv', filters: {} }, admin);
  store.items.set(action.id!, { pk: action.id!, source: 'checkout' } as EventItem);
  await expect(log.record(action, { principal: admin, at })).rejects.toBeInstanceOf(AdminAuditUnavailable);
});

test('admin types are registered, so a deployment that rejects unknown types still records them', async () => {
  const { log } = setup({ UNKNOWN_EVENT_TYPES: 'reject' });
  for (const action of [
    adminActions.appKeyCreated({ keyId: 'k', app: 'a' }, admin),
    adminActions.appKeyRevoked({ keyId: 'k', app: 'a', revokedAt: at.toISOString() }, admin),
    adminActions.exportCreated({ id: 'x', format: 'csv', filters: { type: 'user.login.failed' } }, admin),
    adminActions.ruleChanged({ id: 'r', name: 'R' }, 'created', admin),
    adminActions.notificationResolved({ id: 'n', status: 'resolved', note: 'fixed' }, admin),
  ]) {
    const event = await log.record(action, { principal: admin, at });
    expect(event.category).toBe('admin_activity');
    expect(event.type).toBe(action.type);
  }
});

test('deterministic ids are canonical UUIDs that differ per action', () => {
  const id = adminEventId('admin.app_key.revoked', 'k1', at.toISOString());
  expect(canonicalEventId(id)).toBe(id);
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(adminEventId('admin.app_key.revoked', 'k1', at.toISOString())).toBe(id);
  expect(adminEventId('admin.app_key.revoked', 'k2', at.toISOString())).not.toBe(id);
});

test('no app key can be issued under the system\'s own source', () => {
  expect(() => issueAppKey(ADMIN_EVENT_SOURCE)).toThrow(/reserved/);
});
