import * as z from './zod';
import { adminActions, type AdminAuditRecorder, type AdminRequest } from './admin-audit';
import { APP_NAME_PATTERN, RESERVED_APP_NAMES, issueAppKey, type AppKeyRecord } from './app-keys';
import { ClientError, badRequest } from './errors';

/**
 * The app-key management API (admins): issue a key (its secret is in the
 * answer once and never again), list keys, revoke one. Each change is an
 * `admin.app_key.*` event. Pure: the key store and the audit log are injected.
 */

export type VisibleAppKey = Omit<AppKeyRecord, 'secretHash'>;

export interface AppKeyRepository {
  create(record: AppKeyRecord): Promise<void>;
  /** Revokes (keeping the first revocation time) and returns the key; undefined when unknown. */
  revokeKey(keyId: string, at?: Date): Promise<VisibleAppKey | undefined>;
  list(): Promise<VisibleAppKey[]>;
}

export interface AppKeyAdminContext {
  keys: AppKeyRepository;
  audit: AdminAuditRecorder;
  request: AdminRequest;
}

/** Far above any real app's needs; a typo such as 5000000 is more likely than a real need. */
export const MAX_RATE_LIMIT = 100_000;

const createSchema = z.strictObject({
  app: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .regex(APP_NAME_PATTERN, 'must be 1-63 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit')
    .refine((app) => !RESERVED_APP_NAMES.includes(app), 'is reserved for this system\'s own events'),
  rateLimit: z
    .number({ error: () => 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_RATE_LIMIT, `must be at most ${MAX_RATE_LIMIT}`)
    .optional(),
  captureClientIp: z.boolean({ error: () => 'must be true or false' }).optional(),
});

export type AppKeyRequest = z.infer<typeof createSchema>;

/** `POST /v1/app-keys` body: `{ "app", "rateLimit"?, "captureClientIp"? }`; a 400 naming every problem otherwise. */
export function parseCreateAppKey(body: unknown): AppKeyRequest {
  const parsed = createSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalid_body', 'send { "app": "checkout", "rateLimit"?: 200, "captureClientIp"?: false }');
  const problems = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => `${key} is not a field of an app key request`) : [`${issue.path.join('.')} ${issue.message}`],
  );
  throw badRequest('invalid_app_key', problems.join('; '));
}

/** Ids this system issues (16 lower-case letters and digits) and those of imported keys. */
const KEY_ID = /^(?:[a-z0-9]{16}|imported-[0-9a-f]{16})$/;

/**
 * Issues a key and records it. If the record cannot be written the key is
 * revoked again before the 503: no admin ever holds a key whose issue is
 * missing from the trail.
 */
export async function createAppKey(request: AppKeyRequest, context: AppKeyAdminContext): Promise<{ apiKey: string; key: VisibleAppKey }> {
  const { principal } = context.request;
  const { apiKey, record } = issueAppKey(request.app, {
    createdBy: principal.userId,
    ...(request.rateLimit !== undefined ? { rateLimit: request.rateLimit } : {}),
    ...(request.captureClientIp !== undefined ? { captureClientIp: request.captureClientIp } : {}),
    now: context.request.at,
  });
  await context.keys.create(record);
  try {
    await context.audit.record(adminActions.appKeyCreated(record, principal), context.request);
  } catch (error) {
    await context.keys.revokeKey(record.keyId);
    throw error;
  }
  const { secretHash: _hidden, ...key } = record;
  return { apiKey, key };
}

export async function listAppKeys(keys: AppKeyRepository): Promise<VisibleAppKey[]> {
  return keys.list();
}

/**
 * Revokes a key and records it. Repeating it is harmless: the key keeps its
 * first revocation time, and the event's id is derived from it, so a retry
 * (after a 503 from the audit log, say) records the revocation once.
 */
export async function revokeAppKey(keyId: string, context: AppKeyAdminContext): Promise<VisibleAppKey> {
  if (!KEY_ID.test(keyId)) throw new ClientError(404, 'not_found', `no app key has id ${keyId}`);
  const key = await context.keys.revokeKey(keyId, context.request.at);
  if (!key?.revokedAt) throw new ClientError(404, 'not_found', `no app key has id ${keyId}`);
  await context.audit.record(adminActions.appKeyRevoked({ keyId: key.keyId, app: key.app, revokedAt: key.revokedAt }, context.request.principal), context.request);
  return key;
}
