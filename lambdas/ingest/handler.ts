import { DynamoEventStore } from '../adapters/event-store';
import { DynamoRateLimiter } from '../adapters/rate-limiter';
import { ClientError } from '../core/errors';
import { ingestEvents, parseIngestBody } from '../core/ingest';
import { defaultAppRateLimit, ingestSettingsFromEnv } from '../core/settings';
import { callingApp } from '../shared/calling-app';
import { bodyText, header, httpHandler, json, logger } from '../shared/http';
import { flushMetrics, recordIngest, recordRateLimited } from '../shared/metrics';
import { APP_ROUTE_CORS } from '../../lib/declarations/routes';

// Built once per cold start: registry, compiled redaction patterns, clients.
const settings = ingestSettingsFromEnv();
const fallbackRateLimit = defaultAppRateLimit();
const store = new DynamoEventStore();
const rateLimiter = new DynamoRateLimiter();

/** POST /v1/events: one event or `{ "events": [...] }`; one result per event. */
export const handler = httpHandler(async (event) => {
  const app = callingApp(event, fallbackRateLimit);
  const inputs = parseIngestBody(bodyText(event), header(event, 'content-type'));

  if (!(await rateLimiter.tryConsume(app.source, inputs.length, app.rateLimit))) {
    recordRateLimited(inputs.length);
    throw new ClientError(429, 'rate_limited', `app ${app.source} is over ${app.rateLimit} events per second; retry shortly`, { 'retry-after': '1' });
  }

  const { results, writeErrors, redactions } = await ingestEvents(
    inputs,
    {
      source: app.source,
      receivedAt: new Date(event.requestContext.requestTimeEpoch || Date.now()),
      ...(app.captureClientIp ? { clientIp: event.requestContext.identity?.sourceIp, userAgent: header(event, 'user-agent') } : {}),
      traceparent: header(event, 'traceparent'),
    },
    settings,
    store,
  );
  for (const error of writeErrors) logger.error('event write failed', error as Error);

  const count = (status: string) => results.filter((result) => result.status === status).length;
  const summary = { accepted: count('accepted'), duplicates: count('duplicate'), rejected: count('rejected'), failed: count('failed') };
  logger.info('ingested', { app: app.source, ...summary });
  recordIngest({ ...summary, redactedEvents: redactions.events, redactions: redactions.values });

  if (summary.failed > 0) {
    return json(503, { error: { code: 'write_failed', message: `${summary.failed} event(s) were not stored; retry them with the same ids` }, ...summary, results }, { 'retry-after': '1' });
  }
  if (summary.rejected === results.length) {
    const message = results.length === 1 && results[0].status === 'rejected'
      ? results[0].errors.map((e) => (e.path ? `${e.path} ${e.message}` : e.message)).join('; ')
      : `all ${results.length} events were rejected`;
    return json(400, { error: { code: 'invalid_event', message }, ...summary, results });
  }
  return json(summary.rejected > 0 ? 207 : 200, { ...summary, results });
}, { corsAllowOrigin: APP_ROUTE_CORS.allowOrigin }).use(flushMetrics());
