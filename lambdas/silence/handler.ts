import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { logger } from '../shared/http';
import { flushMetrics } from '../shared/metrics';
import { createRuleEngine } from '../rules/engine';

const engine = createRuleEngine();

/**
 * The silent-source check, on a schedule (lib/declarations/schedules.ts):
 * every silence rule whose app (or matching events) went quiet for longer
 * than its window notifies once per silence. The schedule's own time is
 * "now", so a delayed invocation judges the moment it was meant for.
 */
export const handler = middy(async (event: Pick<ScheduledEvent, 'time'>) => {
  const now = Date.parse(event.time) || Date.now();
  const fired = await engine.checkSilence(now);
  if (fired.length > 0) logger.info('silence rules fired', { fired });
  return { fired };
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(flushMetrics());
