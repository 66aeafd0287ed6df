import { SILENCE_FUNCTION, type FunctionDeclaration } from './functions';

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

export const SCHEDULES: readonly ScheduleDeclaration[] = [SILENCE_CHECK_SCHEDULE];
