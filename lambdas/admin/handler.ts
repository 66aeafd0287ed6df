import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { adminAuditLog } from '../adapters/admin-audit-log';
import { DynamoAppKeyStore } from '../adapters/app-key-store';
import { PresignedDownloadLinks } from '../adapters/download-links';
import { DynamoExportJobs } from '../adapters/export-jobs';
import { LambdaExportLauncher } from '../adapters/export-launcher';
import { principalFromClaims, requireRole } from '../core/access';
import { createAppKey, listAppKeys, parseCreateAppKey, revokeAppKey, type AppKeyAdminContext } from '../core/app-key-admin';
import { ClientError } from '../core/errors';
import { describeExport, exportSettingsFromEnv, startExport, type ExportApiContext } from '../core/exports';
import { newEventId } from '../core/ids';
import { EXPORT_FUNCTION } from '../../lib/declarations/functions';
import { adminRequestOf } from '../shared/admin-request';
import { httpHandler, json, logger } from '../shared/http';
import { jsonBody } from '../shared/json-body';

const keys = new DynamoAppKeyStore();
const exportSettings = exportSettingsFromEnv();
// Built on first use: only the export routes need them (and their table, bucket and function names).
let exportAdapters: Pick<ExportApiContext, 'jobs' | 'launcher' | 'links'> | undefined;
const exportsOf = () => (exportAdapters ??= { jobs: new DynamoExportJobs(), launcher: new LambdaExportLauncher(), links: new PresignedDownloadLinks() });

type Route = (event: APIGatewayProxyEvent, context: AppKeyAdminContext) => Promise<APIGatewayProxyResult>;

function exportContext(context: AppKeyAdminContext): ExportApiContext {
  return { ...exportsOf(), audit: context.audit, request: context.request, settings: exportSettings, newId: () => newEventId(), functionTimeoutSeconds: EXPORT_FUNCTION.timeoutSeconds };
}

/** The Admin function's routes (lib/declarations/routes.ts), by `METHOD resource`. Every one needs the admin role. */
const ROUTES: Record<string, Route> = {
  /** Issues a key: the secret is in this answer and nowhere else, ever. */
  'POST /v1/app-keys': async (event, context) => {
    const created = await createAppKey(parseCreateAppKey(jsonBody(event)), context);
    logger.info('app key issued', { keyId: created.key.keyId, app: created.key.app, by: context.request.principal.userId });
    return json(201, created);
  },
  /** Every key, without its hash. */
  'GET /v1/app-keys': async () => json(200, { items: await listAppKeys(keys) }),
  /** Revokes a key; API Gateway's authorizer cache may accept it for a few more minutes. */
  'DELETE /v1/app-keys/{keyId}': async (event, context) => {
    const key = await revokeAppKey(event.pathParameters?.keyId ?? '', context);
    logger.info('app key revoked', { keyId: key.keyId, app: key.app, by: context.request.principal.userId });
    return json(200, key);
  },
  /** Queues an export and starts it in the background: 202 at once; poll GET /v1/exports/{id}. */
  'POST /v1/exports': async (event, context) => {
    const job = await startExport(jsonBody(event), exportContext(context));
    logger.info('export queued', { exportId: job.id, format: job.format, by: job.requestedBy });
    return json(202, { id: job.id, status: job.status }, { location: `/v1/exports/${job.id}` });
  },
  /** The job; once it succeeded, a download link that expires. */
  'GET /v1/exports/{id}': async (event, context) => json(200, await describeExport(event.pathParameters?.id ?? '', exportContext(context))),
};

/** Admin API: app keys and exports; each change is recorded as an admin.* event. */
export const handler = httpHandler(async (event) => {
  // API Gateway's Cognito authorizer proved who it is; the group is checked here.
  const principal = requireRole(principalFromClaims(event.requestContext.authorizer?.claims), 'admin');
  const route = ROUTES[`${event.httpMethod} ${event.resource}`];
  if (!route) throw new ClientError(404, 'not_found', `no route ${event.httpMethod} ${event.path}`);
  return route(event, { keys, audit: adminAuditLog(), request: adminRequestOf(event, principal) });
});
