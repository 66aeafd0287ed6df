import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoNotificationStore } from '../adapters/notification-store';
import { RecentEvents } from '../adapters/recent-events';
import { DynamoRuleStore } from '../adapters/rule-store';
import { principalFromClaims, requireRole, type Principal } from '../core/access';
import { adminAuditLog } from '../adapters/admin-audit-log';
import { adminActions } from '../core/admin-audit';
import { adminRequestOf } from '../shared/admin-request';
import { SEVERITIES, type Severity } from '../core/event';
import { ClientError, badRequest } from '../core/errors';
import { NOTIFICATION_STATUSES, allowedFrom, parseNotificationChange, type NotificationStatus } from '../core/notifications';
import { DEFAULT_RULES, RULE_ID_PATTERN, dryRun, validateRule, type Rule } from '../core/rules';
import { bodyText, httpHandler, json, logger } from '../shared/http';

const notifications = new DynamoNotificationStore();
const rules = new DynamoRuleStore();
const recentEvents = new RecentEvents();

const MAX_LIMIT = 100;
const MAX_DRY_RUN_DAYS = 30;

type Route = (event: APIGatewayProxyEvent, principal: Principal) => Promise<ReturnType<typeof json>>;

/** The routes this function serves (lib/declarations/routes.ts), by `METHOD resource`. */
const ROUTES: Record<string, { role: 'viewer' | 'admin'; run: Route }> = {
  'GET /v1/notifications': { role: 'viewer', run: listNotifications },
  'PATCH /v1/notifications/{id}': { role: 'viewer', run: changeNotification },
  'GET /v1/rules': { role: 'admin', run: listRules },
  'POST /v1/rules': { role: 'admin', run: createRule },
  'GET /v1/rules/{id}': { role: 'admin', run: getRule },
  'PUT /v1/rules/{id}': { role: 'admin', run: replaceRule },
  'DELETE /v1/rules/{id}': { role: 'admin', run: deleteRule },
  'POST /v1/rules/{id}/test': { role: 'admin', run: testRule },
};

/** Notifications (viewers read and mark read, admins resolve) and alert rules (admins). */
export const handler = httpHandler(async (event) => {
  const route = ROUTES[`${event.httpMethod} ${event.resource}`];
  if (!route) throw new ClientError(404, 'not_found', `no route ${event.httpMethod} ${event.path}`);
  // API Gateway already checked the role; checked again here so the function is safe on its own.
  const principal = requireRole(principalFromClaims(event.requestContext.authorizer?.claims), route.role);
  return route.run(event, principal);
});

// ---------------------------------------------------------------- notifications

async function listNotifications(event: APIGatewayProxyEvent) {
  const query = event.queryStringParameters ?? {};
  const status = oneOf(query.status, NOTIFICATION_STATUSES, 'status') as NotificationStatus | undefined;
  const severity = oneOf(query.severity, SEVERITIES, 'severity') as Severity | undefined;
  const ruleId = query.rule;
  if (ruleId !== undefined && !RULE_ID_PATTERN.test(ruleId)) throw badRequest('invalid_query', 'rule must be a rule id');
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badRequest('invalid_query', `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);

  const [page, unread] = await Promise.all([
    notifications.list({ status, severity, ruleId, limit, after }),
    notifications.unreadCount(),
  ]);
  return json(200, {
    items: page.items,
    unreadCount: unread.count,
    ...(unread.capped ? { unreadCountCapped: true } : {}),
    ...(page.next ? { nextCursor: Buffer.from(page.next).toString('base64url') } : {}),
  });
}

async function changeNotification(event: APIGatewayProxyEvent, principal: Principal) {
  const id = event.pathParameters?.id ?? '';
  if (!/^[0-9a-f]{32}$/.test(id)) throw new ClientError(404, 'not_found', `no notification has id ${id}`);
  const change = parseNotificationChange(parseJsonBody(event));
  const from = allowedFrom(change, principal);
  const updated = await notifications.transition(id, change, principal.userId, from);
  logger.info('notification changed', { id, status: updated.status, by: principal.userId });
  // Resolving is an admin action: recorded as an admin.notification.resolved event (marking read is not).
  if (change.status === 'resolved') await adminAuditLog().record(adminActions.notificationResolved({ id, status: updated.status, note: updated.note, ruleId: updated.ruleId }, principal), adminRequestOf(event, principal));
  return json(200, updated);
}

// ---------------------------------------------------------------- rules

async function listRules() {
  let { rules: list, defaultsCreated } = await rules.list();
  if (!defaultsCreated) {
    // Right after a deploy, before the rule function saw any event.
    await rules.ensureDefaults(DEFAULT_RULES);
    ({ rules: list } = await rules.list());
  }
  return json(200, { rules: list });
}

async function createRule(event: APIGatewayProxyEvent, principal: Principal) {
  const body = parseJsonBody(event);
  const given = body as Record<string, unknown>;
  const id = typeof given?.id === 'string' ? given.id : slugOf(typeof given?.name === 'string' ? given.name : '');
  const result = validateRule(body, { id });
  if (!result.ok) return invalidRule(result.errors);
  const now = new Date().toISOString();
  const rule: Rule = { ...result.rule, createdAt: now, createdBy: principal.userId, updatedAt: now, updatedBy: principal.userId };
  if (!(await rules.create(rule))) throw new ClientError(409, 'conflict', `a rule with id ${rule.id} exists; PUT /v1/rules/${rule.id} changes it`);
  logger.info('rule created', { rule: rule.id, by: principal.userId });
  await adminAuditLog().record(adminActions.ruleChanged(rule, 'created', principal, { rule: result.rule }), adminRequestOf(event, principal));
  return json(201, rule, { location: `/v1/rules/${rule.id}` });
}

async function getRule(event: APIGatewayProxyEvent) {
  return json(200, await existingRule(event));
}

async function replaceRule(event: APIGatewayProxyEvent, principal: Principal) {
  const existing = await existingRule(event);
  const result = validateRule(parseJsonBody(event), { id: existing.id });
  if (!result.ok) return invalidRule(result.errors);
  const rule: Rule = {
    ...result.rule,
    ...(existing.createdAt ? { createdAt: existing.createdAt } : {}),
    ...(existing.createdBy ? { createdBy: existing.createdBy } : {}),
    updatedAt: new Date().toISOString(),
    updatedBy: principal.userId,
  };
  if (!(await rules.replace(rule))) throw new ClientError(404, 'not_found', `no rule has id ${rule.id}`);
  logger.info('rule replaced', { rule: rule.id, by: principal.userId });
  await adminAuditLog().record(adminActions.ruleChanged(rule, 'replaced', principal, { rule: result.rule }), adminRequestOf(event, principal));
  return json(200, rule);
}

async function deleteRule(event: APIGatewayProxyEvent, principal: Principal) {
  const id = ruleIdOf(event);
  if (!(await rules.delete(id))) throw new ClientError(404, 'not_found', `no rule has id ${id}`);
  logger.info('rule deleted', { rule: id, by: principal.userId });
  await adminAuditLog().record(adminActions.ruleChanged({ id }, 'deleted', principal), adminRequestOf(event, principal));
  return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
}

/** Dry run: how many notifications the rule would have sent over the last `days` days (body or query, default 7). */
async function testRule(event: APIGatewayProxyEvent) {
  const rule = await existingRule(event);
  const body = event.body ? parseJsonBody(event) : {};
  const raw = (body as { days?: unknown }).days ?? event.queryStringParameters?.days ?? 7;
  const days = Number(raw);
  if (!Number.isFinite(days) || days <= 0 || days > MAX_DRY_RUN_DAYS) throw badRequest('invalid_days', `days must be a number above 0 and at most ${MAX_DRY_RUN_DAYS}`);
  const to = new Date();
  const from = new Date(to.getTime() - days * 86_400_000);
  const { events, scanned, truncated } = await recentEvents.forRule(rule, from, to);
  const result = dryRun({ ...rule, enabled: true }, events);
  return json(200, { ruleId: rule.id, days, from: from.toISOString(), to: to.toISOString(), scanned, truncated, ...result });
}

// ---------------------------------------------------------------- helpers

async function existingRule(event: APIGatewayProxyEvent): Promise<Rule> {
  const id = ruleIdOf(event);
  const rule = await rules.get(id);
  if (!rule) throw new ClientError(404, 'not_found', `no rule has id ${id}`);
  return rule;
}

function ruleIdOf(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id ?? '';
  if (!RULE_ID_PATTERN.test(id)) throw new ClientError(404, 'not_found', `no rule has id ${id}`);
  return id;
}

/** 400 in the project's error shape, plus every problem with its field path (what a rule form needs to mark fields). */
function invalidRule(errors: { path: string; message: string }[]) {
  return json(400, { error: { code: 'invalid_rule', message: errors.map((e) => (e.path ? `${e.path} ${e.message}` : e.message)).join('; ') }, errors });
}

function slugOf(name: string): string | undefined {
  const slug = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64).replace(/-+$/, '');
  return slug === '' ? undefined : slug;
}

function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  const text = bodyText(event);
  if (!text || text.trim() === '') throw badRequest('empty_body', 'the request body is empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest('invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw badRequest('invalid_query', `${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9a-f]{32}$/.test(text)) throw badRequest('invalid_cursor', 'cursor is not one this API gave out');
  return text;
}
