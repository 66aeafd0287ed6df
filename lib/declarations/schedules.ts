import { BACKUP_FUNCTION, SILENCE_FUNCTION, type FunctionDeclaration } from './functions';

/**
 * A function run on a fixed rate, declared once: an EventBridge schedule on
 * AWS (lib/constructs/rules-engine.ts), a timer in the local stack.
 */
export interface ScheduleDeclaration {
  id: string;
  function: FunctionDeclaration;
  rateMinutes: number;
}

/** Silence windows are at least 5 minutes (MIN_SILENCE_SECONDS): a 5-minute check notices a silence within one window and a bit. */
export const SILENCE_CHECK_SCHEDULE = {
  id: 'SilenceCheckSchedule',
  function: SILENCE_FUNCTION,
  rateMinutes: 5,
} as const satisfies ScheduleDeclaration;

/**
 * The table export check: 15 minutes is the shortest window an incremental
 * export covers, so checking more often would only wait; a check that finds
 * fewer new events than configured does nothing but one GetItem. Locally it
 * finds no backup bucket and does nothing: DynamoDB Local has no exports.
 */
export const TABLE_EXPORT_SCHEDULE = {
  id: 'TableExportSchedule',
  function: BACKUP_FUNCTION,
  rateMinutes: 15,
} as const satisfies ScheduleDeclaration;

export const SCHEDULES: readonly ScheduleDeclaration[] = [SILENCE_CHECK_SCHEDULE, TABLE_EXPORT_SCHEDULE];
