import { parseArgs } from 'node:util';
import { verifyArchive, type VerifyReport } from '../lambdas/core/archive-verify';
import { parseRangeBound, resolveArchiveTarget, UsageError } from './archive-target';

/**
 * `npm run verify-archive -- [--from 2026-11-01] [--to 2026-11-23T12:00Z] [--files] [--public-key FILE] [--json]`
 *
 * Checks every digest's signature, the hash chain (and the chain head in
 * DynamoDB), every archive object's SHA-256 and event count, and that no
 * object lacks a digest. Prints OK with the counts, or each problem naming
 * the object or digest; exits 1 on any problem, 2 when it cannot run.
 * Local stack by default; AWS when ARCHIVE_BUCKET is set (scripts/archive-target.ts).
 */
const usage = 'usage: npm run verify-archive -- [--from DATE|TIME] [--to DATE|TIME] [--files] [--public-key FILE] [--json]';

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      files: { type: 'boolean', default: false },
      'public-key': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const from = parseRangeBound(values.from, false, '--from');
  const to = parseRangeBound(values.to, true, '--to');
  if (from && to && from > to) throw new UsageError('--from is after --to');
  const target = await resolveArchiveTarget({ files: values.files, publicKeyFile: values['public-key'] });
  try {
    const report = await verifyArchive({ source: target.source, trustedKeys: target.trustedKeys, head: await target.readHead(), from, to });
    if (values.json) console.log(JSON.stringify({ target: target.description, ...report }, null, 2));
    else print(target.description, report, from, to);
    return report.ok ? 0 : 1;
  } finally {
    target.close();
  }
}

function print(where: string, report: VerifyReport, from?: Date, to?: Date): void {
  const range = from || to ? `partitions ${from?.toISOString() ?? 'start'} – ${to?.toISOString() ?? 'now'}` : 'the whole archive';
  console.log(`Verifying ${where}, ${range}`);
  for (const note of report.notes) console.log(`note: ${note}`);
  const sequences = report.firstSequence !== undefined ? ` (sequence ${report.firstSequence}–${report.lastSequence})` : '';
  const counts = `${report.digests} digests${sequences}, ${report.objects} objects, ${report.events} events`;
  if (report.ok) {
    console.log(`OK: ${counts} verified`);
    return;
  }
  console.log(`FAILED: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} (${counts} verified intact)`);
  for (const problem of report.problems) console.log(`  ${problem.kind}: ${problem.message}`);
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
