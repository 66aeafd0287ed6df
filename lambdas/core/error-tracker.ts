/**
 * The error tracker: new events in, error groups kept up to date, and a
 * group that is new or regressed announced to the rule engine. No AWS SDK
 * here: the group store is a port (adapters/error-group-store.ts), and so
 * is the announcement (the rule engine's processEvent).
 *
 * Per group and chunk of occurrences (core/error-groups.ts, chunkOccurrences):
 * 1. read the group (strongly consistent);
 * 2. plan the write (create, or atomic additions; a regression is a
 *    conditional reopen);
 * 3. write it with one create-only marker per occurrence, all in one
 *    transaction. Cancelled because some markers exist (a redelivered batch):
 *    drop those occurrences and go to 1. Cancelled because the group changed
 *    under us (created by another worker, or its status changed): go to 1.
 *    A transaction conflict (another worker writing the same group this
 *    instant): back off, go to 1;
 * 4. announce a transition this write made (new, regressed); or, when the
 *    occurrence that made one turns out to be already counted (a redelivery
 *    after a crash between 3 and 4), announce it again: the rule engine's
 *    deterministic notification ids make that a no-op when it did go out.
 */
import type { AuditEvent } from './event';
import {
  applyDelta,
  chunkOccurrences,
  lifecycleEvent,
  occurrenceOf,
  planGroupWrite,
  type ErrorGroup,
  type GroupIdentity,
  type GroupTransition,
  type GroupWrite,
  type Occurrence,
} from './error-groups';
import { fingerprintOf, isTrackedError } from './fingerprint';

export type WriteOutcome =
  | { ok: true; writeUnits?: number }
  /** Cancelled: these occurrences were counted before; the group item's condition failed; or another transaction was in the way. */
  | { ok: false; alreadyCounted: string[]; groupChanged: boolean; conflict: boolean };

export interface ErrorGroupStore {
  get(id: string): Promise<ErrorGroup | undefined>;
  /** The planned group write plus a create-only marker per occurrence, all or nothing. */
  write(plan: GroupWrite, occurrences: readonly Occurrence[], now: Date): Promise<WriteOutcome>;
}

export interface ErrorTrackerDeps {
  store: ErrorGroupStore;
  /** Hands a lifecycle event to the rule engine (which notifies per the rules that match it). */
  announce: (event: AuditEvent) => Promise<unknown>;
  /** The `source` of the system's own events: lifecycle events carry it. */
  systemSource: string;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) => void;
}

/** One group's share of a batch. */
export interface TrackedGroup {
  identity: GroupIdentity;
  occurrences: Occurrence[];
}

export interface GroupOutcome {
  id: string;
  counted: number;
  duplicates: number;
  writes: number;
  transitions: GroupTransition[];
  writeUnits: number;
}

/** Reads and writes of one chunk before giving up (the stream retries the records). */
const MAX_ATTEMPTS = 12;

/** Sorts a batch's events into groups, in the order each group first appears; events that are not errors are left out. */
export function groupErrors(events: readonly AuditEvent[], systemSource: string): Map<string, TrackedGroup & { eventIds: string[] }> {
  const groups = new Map<string, TrackedGroup & { eventIds: string[] }>();
  for (const event of events) {
    if (!isTrackedError(event, systemSource)) continue;
    const fingerprint = fingerprintOf(event);
    let group = groups.get(fingerprint.id);
    if (!group) {
      group = { identity: { fingerprint, source: event.source, type: event.type }, occurrences: [], eventIds: [] };
      groups.set(fingerprint.id, group);
    }
    group.occurrences.push(occurrenceOf(event));
    group.eventIds.push(event.id);
  }
  return groups;
}

export class ErrorTracker {
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: ErrorTrackerDeps) {
    this.clock = deps.clock ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Adds a group's occurrences, chunk by chunk; throws when a chunk could not be written or announced. */
  async track(group: TrackedGroup): Promise<GroupOutcome> {
    const outcome: GroupOutcome = { id: group.identity.fingerprint.id, counted: 0, duplicates: 0, writes: 0, transitions: [], writeUnits: 0 };
    for (const chunk of chunkOccurrences(group.occurrences)) await this.trackChunk(group.identity, chunk, outcome);
    return outcome;
  }

  private async trackChunk(identity: GroupIdentity, chunk: Occurrence[], outcome: GroupOutcome): Promise<void> {
    const id = identity.fingerprint.id;
    const counted = new Set<string>();
    let pending = chunk;
    let current: ErrorGroup | undefined;
    let made: { transition: GroupTransition; group: ErrorGroup; trigger: Occurrence } | undefined;
    let conflicts = 0;

    for (let attempt = 1; ; attempt++) {
      if (attempt > MAX_ATTEMPTS) throw new Error(`error group ${id}: could not write ${pending.length} occurrence(s) after ${MAX_ATTEMPTS} attempts`);
      current = await this.deps.store.get(id);
      if (pending.length === 0) break;
      const now = new Date(this.clock());
      const plan = planGroupWrite(current, identity, pending, now);
      outcome.writes += 1;
      const result = await this.deps.store.write(plan, pending, now);
      if (result.ok) {
        outcome.counted += pending.length;
        outcome.writeUnits += result.writeUnits ?? 0;
        const trigger = plan.triggerEventId ? pending.find((o) => o.eventId === plan.triggerEventId) : undefined;
        if (plan.kind === 'create' && trigger) made = { transition: 'new', group: plan.group, trigger };
        if (plan.kind === 'update' && plan.transition === 'regressed' && trigger && current) made = { transition: 'regressed', group: applyDelta(current, plan.delta), trigger };
        break;
      }
      if (result.alreadyCounted.length > 0) {
        for (const eventId of result.alreadyCounted) counted.add(eventId);
        pending = pending.filter((o) => !counted.has(o.eventId));
        outcome.duplicates += result.alreadyCounted.length;
        continue;
      }
      if (result.conflict) {
        conflicts += 1;
        await this.sleep(Math.min(2_000, 20 * 2 ** conflicts) * (0.5 + Math.random()));
        continue;
      }
      // groupChanged: created by another worker meanwhile, or its status changed. Read again and plan again.
    }

    // A transition made by an earlier delivery of these events, which may have stopped before announcing it.
    if (!made && current && counted.size > 0) {
      const again = counted.has(current.createdEventId) ? ('new' as const) : current.regressionEventId && counted.has(current.regressionEventId) ? ('regressed' as const) : undefined;
      const triggerId = again === 'new' ? current.createdEventId : current.regressionEventId;
      const trigger = again ? chunk.find((o) => o.eventId === triggerId) : undefined;
      if (again && trigger) made = { transition: again, group: current, trigger };
    }
    if (made) {
      await this.deps.announce(lifecycleEvent(made.transition, made.group, made.trigger, this.deps.systemSource));
      outcome.transitions.push(made.transition);
      this.deps.log?.('info', `error group ${made.transition}`, { groupId: id, title: made.group.title, source: made.group.source, eventId: made.trigger.eventId });
    }
  }
}
