/** The app-key admin core with an in-memory key store and audit log. */
import type { Principal } from '../../lambdas/core/access';
import { AdminAuditUnavailable, type AdminAction, type AdminAuditRecorder } from '../../lambdas/core/admin-audit';
import { createAppKey, parseCreateAppKey, revokeAppKey, type AppKeyRepository, type VisibleAppKey } from '../../lambdas/core/app-key-admin';
import { appKeyMatches, parseAppKey, type AppKeyRecord } from '../../lambdas/core/app-keys';
import type { AuditEvent } from '../../lambdas/core/event';

const admin: Principal = { userId: 'root@example.com', groups: ['admin'] };
const at = new Date('2026-11-23T10:00:00.000Z');

class Keys implements AppKeyRepository {
  readonly records = new Map<string, AppKeyRecord>();
  async create(record: AppKeyRecord) {
    this.records.set(record.keyId, record);
  }
  async revokeKey(keyId: string, when: Date = new Date()) {
    const record = this.records.get(keyId);
    if (!record) return undefined;
    record.revokedAt ??= when.toISOString();
    const { secretHash: _hidden, ...visible } = record;
    return visible as VisibleAppKey;
  }
  async list() {
    return [...this.records.values()].map(({ secretHash: _hidden, ...visible }) => visible);
  }
}

class Audit implements AdminAuditRecorder {
  readonly actions: AdminAction[] = [];
  fail = false;
  async record(action: AdminAction) {
    if (this.fail) throw new AdminAuditUnavailable(new Error('down'));
    this.actions.push(action);
    return {} as AuditEvent;
  }
}

const setup = () => {
  const keys = new Keys();
  const audit = new Audit();
  return { keys, audit, context: { keys, audit, request: { principal: admin, at } } };
};

test('a created key works, is stored only as a hash, and is recorded without its secret', async () => {
  const { keys, audit, context } = setup();
  const { apiKey, key } = await createAppKey(parseCreateAppKey({ app: 'checkout', rateLimit: 200, captureClientIp: true }), context);
  const parsed = parseAppKey(apiKey)!;
  expect(parsed.keyId).toBe(key.keyId);
  expect(appKeyMatches(keys.records.get(key.keyId), parsed.secret)).toBe(true);
  expect(key).toEqual({ keyId: key.keyId, app: 'checkout', createdAt: at.toISOString(), createdBy: 'root@example.com', rateLimit: 200, captureClientIp: true });
  expect(audit.actions).toHaveLength(1);
  expect(audit.actions[0]).toMatchObject({ type: 'admin.app_key.created', record: { type: 'app_key', id: key.keyId } });
  expect(JSON.stringify(audit.actions)).not.toContain(parsed.secret);
});

test('a key whose issue cannot be recorded is revoked again before the 503', async () => {
  const { keys, audit, context } = setup();
  audit.fail = true;
  await expect(createAppKey({ app: 'checkout' }, context)).rejects.toMatchObject({ statusCode: 503 });
  const [record] = keys.records.values();
  expect(record.revokedAt).toBeDefined();
});

test('revoking: 404 for an unknown or malformed id; a repeat keeps the first time and the same event', async () => {
  const { audit, context } = setup();
  await expect(revokeAppKey('0123456789abcdef', context)).rejects.toMatchObject({ statusCode: 404 });
  await expect(revokeAppKey('../etc', context)).rejects.toMatchObject({ statusCode: 404 });
  const { key } = await createAppKey({ app: 'web' }, context);
  const first = await revokeAppKey(key.keyId, context);
  const again = await revokeAppKey(key.keyId, { ...context, request: { principal: admin, at: new Date(at.getTime() + 60_000) } });
  expect(again.revokedAt).toBe(first.revokedAt);
  const revocations = audit.actions.filter((a) => a.type === 'admin.app_key.revoked');
  expect(revocations).toHaveLength(2);
  expect(revocations[0].id).toBe(revocations[1].id);
});

test.each([
  [{}, /app is required/],
  [{ app: 'Checkout!' }, /app must be/],
  [{ app: 'audit-trail' }, /reserved/],
  [{ app: 'x', rateLimit: 1.5 }, /rateLimit must be a whole number/],
  [{ app: 'x', rateLimit: 0 }, /rateLimit must be at least 1/],
  [{ app: 'x', captureClientIp: 'yes' }, /captureClientIp must be true or false/],
  [{ app: 'x', secret: 'mine' }, /secret is not a field/],
  [[], /send \{/],
])('bad request %j → 400', (body, message) => {
  expect(() => parseCreateAppKey(body)).toThrow(message);
  try {
    parseCreateAppKey(body);
  } catch (error) {
    expect(error).toMatchObject({ statusCode: 400 });
  }
});
