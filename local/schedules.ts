import { randomUUID } from 'node:crypto';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { SCHEDULES, type ScheduleDeclaration } from '../lib/declarations/schedules';
import { invokeHandler } from './invocations';

/**
 * The local stand-in for EventBridge schedules: each declared function runs
 * every `rateMinutes`, with a scheduled event whose `time` is the tick (the
 * handler's "now", as on AWS). One run at a time per schedule; a failure is
 * logged and the next tick tries again.
 */
export async function startSchedules(options: { log: (line: string) => void; schedules?: readonly ScheduleDeclaration[] }): Promise<{ stop(): Promise<void> }> {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<unknown>>();
  for (const schedule of options.schedules ?? SCHEDULES) {
    const module = (await import(`../${schedule.function.entry.replace(/\.ts$/, '')}`)) as {
      handler: (event: ScheduledEvent, context: Context) => Promise<unknown>;
    };
    let busy = false;
    const tick = () => {
      if (busy) return;
      busy = true;
      const run = invokeHandler(module.handler, scheduledEvent(schedule), contextFor(schedule))
        .catch((error: unknown) => options.log(`${schedule.id}: ${String((error as Error)?.message ?? error)}`))
        .finally(() => {
          busy = false;
          running.delete(run);
        });
      running.add(run);
    };
    const timer = setInterval(tick, schedule.rateMinutes * 60_000);
    timer.unref();
    timers.push(timer);
  }
  return {
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      await Promise.allSettled([...running]);
    },
  };
}

function scheduledEvent(schedule: ScheduleDeclaration): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'local',
    resources: [`arn:aws:events:local:000000000000:rule/${schedule.id}`],
    detail: {},
  };
}

function contextFor(schedule: ScheduleDeclaration): Context {
  const deadline = Date.now() + schedule.function.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `audit-trail-${schedule.function.id}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:audit-trail-${schedule.function.id}`,
    memoryLimitInMB: String(schedule.function.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/audit-trail-${schedule.function.id}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
