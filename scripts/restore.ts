import { parseArgs } from 'node:util';
import { DynamoEventStore } from '../lambdas/adapters/event-store';
import { matchesRestoreFilter, restoredItem, type RestoreFilter } from '../lambdas/core/archive-restore';
import { verifyArchive } from '../lambdas/core/archive-verify';
import type { AuditEvent } from '../lambdas/core/event';
import { DEFAULT_RETENTION_DAYS, type RetentionDays } from '../lambdas/core/event-keys';
import { parseRangeBound, resolveArchiveTarget, UsageError } from './archive-target';

/**
 * `npm run restore -- --from 2026-01-01 --to 2026-01-31 [--type T] [--category C] [--severity S] [--source APP]
 *                     [--user ID] [--record-type T --record-id ID] [--id EVENT] [--table NAME] [--keep-days 30] [--dry-run] [--force]`
 *
 * Re-imports archived events into the events table (or `--table`, a side
 * table with the same keys) for an investigation. Only objects whose
 * SHA-256 matches a signed digest are read, and the range must verify as a
 * whole unless `--force`. Each event is written with ingestion's
 * create-only put: an event still in the table counts as already present
 * and is left exactly as it is. Restored items carry `restoredAt` (the
 * archive skips them: they are archived already) and stay at least
 * `--keep-days` (30) before TTL may remove them again.
 * Local stack by default; AWS when ARCHIVE_BUCKET and EVENTS_TABLE are set (scripts/archive-target.ts).
 */
const usage =
  'usage: npm run restore -- --from DATE|TIME --to DATE|TIME [--type T] [--category C] [--severity S] [--source APP] [--user ID] ' +
  '[--record-type T] [--record-id ID] [--id EVENT] [--table NAME] [--keep-days N] [--dry-run] [--force]';

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      type: { type: 'string' },
      category: { type: 'string' },
      severity: { type: 'string' },
      source: { type: 'string' },
      user: { type: 'string' },
      'record-type': { type: 'string' },
      'record-id': { type: 'string' },
      id: { type: 'string' },
      table: { type: 'string' },
      'keep-days': { type: 'string', default: '30' },
      'dry-run': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      'public-key': { type: 'string' },
    },
  });
  const from = parseRangeBound(values.from, false, '--from');
  const to = parseRangeBound(values.to, true, '--to');
  if (!from || !to) throw new UsageError('--from and --to are required');
  if (from > to) throw new UsageError('--from is after --to');
  const keepDays = Number(values['keep-days']);
  if (!Number.isInteger(keepDays) || keepDays < 1) throw new UsageError('--keep-days must be a whole number ≥ 1');
  const filter: RestoreFilter = {
    from,
    to,
    ...(values.type ? { type: values.type } : {}),
    ...(values.category ? { category: values.category } : {}),
    ...(values.severity ? { severity: values.severity } : {}),
    ...(values.source ? { source: values.source } : {}),
    ...(values.user ? { userId: values.user } : {}),
    ...(values['record-type'] ? { recordType: values['record-type'] } : {}),
    ...(values['record-id'] ? { recordId: values['record-id'] } : {}),
    ...(values.id ? { id: values.id } : {}),
  };

  const target = await resolveArchiveTarget({ publicKeyFile: values['public-key'] });
  try {
    const table = values.table ?? target.events?.table;
    if (!values['dry-run'] && (!target.events || !table)) {
      throw new Error('restore needs DynamoDB: run it while the local stack runs, or set EVENTS_TABLE (and ARCHIVE_BUCKET) for AWS');
    }
    const matched = new Map<string, string>();
    const report = await verifyArchive({
      source: target.source,
      trustedKeys: target.trustedKeys,
      head: await target.readHead(),
      from,
      to,
      onEvent: (line) => {
        const event = JSON.parse(line) as AuditEvent;
        if (matchesRestoreFilter(event, filter)) matched.set(event.id, line);
      },
    });
    console.log(`Archive ${target.description}: ${report.objects} objects, ${report.events} events verified in range`);
    if (!report.ok) {
      for (const problem of report.problems) console.log(`  ${problem.kind}: ${problem.message}`);
      if (!values.force) {
        console.log('Refusing to restore from an archive range that fails verification; --force restores the events of the objects that verified.');
        return 1;
      }
    }
    if (values['dry-run']) {
      console.log(`Dry run: ${matched.size} events match; nothing written`);
      return 0;
    }

    const store = new DynamoEventStore(target.events!.client, table!);
    const retention: RetentionDays = { ...DEFAULT_RETENTION_DAYS, ...(process.env.RETENTION_DAYS ? (JSON.parse(process.env.RETENTION_DAYS) as Partial<RetentionDays>) : {}) };
    const now = new Date();
    let restored = 0;
    let present = 0;
    const lines = [...matched.values()];
    const workers = Array.from({ length: Math.min(16, lines.length) }, async () => {
      for (let line = lines.pop(); line !== undefined; line = lines.pop()) {
        const outcome = await store.putNew(restoredItem(line, { retention, now, keepDays }));
        if (outcome.created) restored += 1;
        else present += 1;
      }
    });
    await Promise.all(workers);
    console.log(`Restored ${restored} events into ${table}; ${present} already present (left as they are); ${matched.size} matched`);
    return 0;
  } finally {
    target.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof UsageError ? `${error.message}\n${usage}` : error instanceof Error ? error.message : error);
      process.exit(2);
    },
  );
}
