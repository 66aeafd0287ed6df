/** The exports core with in-memory jobs, reader, sink and audit log. */
import type { Principal } from '../../lambdas/core/access';
import { AdminAuditUnavailable, type AdminAction, type AdminAuditRecorder } from '../../lambdas/core/admin-audit';
import type { AuditEvent } from '../../lambdas/core/event';
import {
  ExportEncoder,
  csvCell,
  describeExport,
  parseExportRequest,
  runExport,
  startExport,
  type ExportApiContext,
  type ExportJob,
  type ExportJobs,
  type ExportSink,
} from '../../lambdas/core/exports';
import type { IndexItem, PartitionReader } from '../../lambdas/core/query-merge';

const admin: Principal = { userId: 'root@example.com', groups: ['admin'] };
const now = new Date('2026-11-23T10:00:00.000Z');

class Jobs implements ExportJobs {
  readonly items = new Map<string, ExportJob>();
  async create(job: ExportJob) {
    if (this.items.has(job.id)) return false;
    this.items.set(job.id, { ...job });
    return true;
  }
  async get(id: string) {
    return this.items.get(id);
  }
  async markRunning(id: string, at: Date) {
    const job = this.items.get(id);
    if (job?.status !== 'queued') return false;
    Object.assign(job, { status: 'running', startedAt: at.toISOString() });
    return true;
  }
  async finish(id: string, result: { rowCount: number; bytes: number; finishedAt: Date }) {
    Object.assign(this.items.get(id)!, { status: 'succeeded', rowCount: result.rowCount, bytes: result.bytes, finishedAt: result.finishedAt.toISOString() });
  }
  async fail(id: string, error: string, at: Date) {
    Object.assign(this.items.get(id)!, { status: 'failed', error, finishedAt: at.toISOString() });
  }
}

class Audit implements AdminAuditRecorder {
  readonly actions: AdminAction[] = [];
  fail = false;
  async record(action: AdminAction) {
    if (this.fail) throw new AdminAuditUnavailable(new Error('down'));
    this.actions.push(action);
    return {} as AuditEvent;
  }
}

function apiContext(overrides: Partial<ExportApiContext> = {}) {
  const jobs = new Jobs();
  const audit = new Audit();
  const started: string[] = [];
  const context: ExportApiContext = {
    jobs,
    audit,
    launcher: { start: async (id) => void started.push(id) },
    links: { link: async (key, options) => `https://s3.example/${key}?expires=${options.expiresInSeconds}&name=${options.filename}` },
    request: { principal: admin, at: now },
    settings: { retentionDays: 7, linkExpirySeconds: 900 },
    newId: () => '01JD7X8Y9ZABCDEFGHJKMNPQRS',
    functionTimeoutSeconds: 900,
    ...overrides,
  };
  return { jobs, audit, started, context };
}

describe('the request', () => {
  test('the filters of GET /v1/events, the window settled now', () => {
    expect(parseExportRequest({ format: 'csv', type: 'user.login.failed', minSeverity: 'error' }, now)).toEqual({
      format: 'csv',
      filters: { type: 'user.login.failed', minSeverity: 'error', from: '2026-11-16T10:05:00.000Z', to: '2026-11-23T10:05:00.000Z' },
    });
    expect(parseExportRequest({ format: 'json', from: '2026-11-01', to: '2026-11-02' }, now).filters).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T23:59:59.999Z' });
  });

  test.each([
    [null, 'invalid_body'],
    [{ format: 'pdf' }, 'invalid_format'],
    [{ format: 'csv', cursor: 'x' }, 'unknown_parameter'],
    [{ format: 'csv', recordType: 'invoice' }, 'invalid_filter'],
    [{ format: 'csv', status: ['failure'] }, 'invalid_filter'],
  ])('%j → 400 %s', (body, code) => {
    expect(() => parseExportRequest(body, now)).toThrow(expect.objectContaining({ statusCode: 400, code }));
  });
});

describe('encoding', () => {
  test('CSV cells: RFC 4180 quoting and formula neutralising', () => {
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    for (const start of ['+', '-', '@', '\t', '\r']) expect(csvCell(`${start}x`).replace(/^"/, '')).toMatch(/^'/);
  });

  test.each([
    ['csv', 'id,occurredAt,receivedAt,type,category,severity,status,source,userId,recordType,recordId,page,summary,traceId\r\nA,,,t.x,,,,,"u,1",,,,,\r\nB,,,t.y,,,,,,,,,,\r\n'],
    ['ndjson', '{"id":"A","type":"t.x","userId":"u,1"}\n{"id":"B","type":"t.y"}\n'],
    ['json', '[\n{"id":"A","type":"t.x","userId":"u,1"},\n{"id":"B","type":"t.y"}\n]\n'],
  ] as const)('%s: header, rows, footer', (format, text) => {
    const encoder = new ExportEncoder(format);
    const out = encoder.header() + encoder.row({ id: 'A', type: 't.x', userId: 'u,1' }) + encoder.row({ id: 'B', type: 't.y' }) + encoder.footer();
    expect(out).toBe(text);
    expect(encoder.rowCount).toBe(2);
  });
});

describe('POST /v1/exports', () => {
  test('queues the job, records it, starts it', async () => {
    const { jobs, audit, started, context } = apiContext();
    const job = await startExport({ format: 'ndjson', userId: 'u-1' }, context);
    expect(job).toMatchObject({ id: '01JD7X8Y9ZABCDEFGHJKMNPQRS', status: 'queued', requestedBy: 'root@example.com', objectKey: 'exports/01JD7X8Y9ZABCDEFGHJKMNPQRS.ndjson', expiresAt: now.getTime() / 1000 + 7 * 86_400 });
    expect(jobs.items.get(job.id)!.status).toBe('queued');
    expect(audit.actions).toEqual([expect.objectContaining({ type: 'admin.export.created', record: { type: 'export', id: job.id }, details: { format: 'ndjson', filters: job.filters } })]);
    expect(started).toEqual([job.id]);
  });

  test('an export that cannot be recorded is never started, and its job says why', async () => {
    const { jobs, audit, started, context } = apiContext();
    audit.fail = true;
    await expect(startExport({ format: 'csv' }, context)).rejects.toMatchObject({ statusCode: 503, code: 'audit_unavailable' });
    expect(started).toEqual([]);
    expect(jobs.items.get('01JD7X8Y9ZABCDEFGHJKMNPQRS')).toMatchObject({ status: 'failed', error: expect.stringContaining('audit trail') });
  });

  test('an export that cannot be started is a 503 and a failed job', async () => {
    const { jobs, context } = apiContext({ launcher: { start: async () => Promise.reject(new Error('throttled')) } });
    await expect(startExport({ format: 'csv' }, context)).rejects.toMatchObject({ statusCode: 503, code: 'export_not_started' });
    expect(jobs.items.get('01JD7X8Y9ZABCDEFGHJKMNPQRS')!.status).toBe('failed');
  });
});

describe('GET /v1/exports/{id}', () => {
  test('a link only once it succeeded; a job running past the function\'s limit has failed', async () => {
    const { jobs, context } = apiContext();
    const job = await startExport({ format: 'csv' }, context);
    expect((await describeExport(job.id, context, now)).download).toBeUndefined();
    await jobs.markRunning(job.id, now);
    expect((await describeExport(job.id, context, new Date(now.getTime() + 60_000))).status).toBe('running');
    expect(await describeExport(job.id, context, new Date(now.getTime() + 20 * 60_000))).toMatchObject({ status: 'failed', error: expect.any(String) });
    await jobs.finish(job.id, { rowCount: 3, bytes: 100, finishedAt: now });
    expect(await describeExport(job.id, context, now)).toMatchObject({
      status: 'succeeded',
      rowCount: 3,
      bytes: 100,
      download: { url: `https://s3.example/exports/${job.id}.csv?expires=900&name=audit-events-${job.id}.csv`, expiresAt: '2026-11-23T10:15:00.000Z' },
    });
    await expect(describeExport('01JD7X8Y9ZABCDEFGHJKMNPQRT', context)).rejects.toMatchObject({ statusCode: 404 });
    await expect(describeExport('../x', context)).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('the export function', () => {
  /** A date index with `count` events in one month, spread over 8 shards. */
  function reader(count: number, calls: { n: number }): PartitionReader {
    const all: IndexItem[] = Array.from({ length: count }, (_, i) => {
      const t = new Date(Date.parse('2026-11-20T00:00:00Z') - i * 1000).toISOString();
      return { sk: `${t}#ID${String(i).padStart(6, '0')}`, id: `ID${i}`, occurredAt: t, type: 't.x', datePk: `D#2026-11#${i % 8}` };
    });
    return {
      async readPartition(_plan, partition, { after, limit }) {
        calls.n += 1;
        const mine = all.filter((item) => item.datePk === partition && (!after || item.sk < after));
        const items = mine.slice(0, limit);
        return { items, ...(mine.length > limit ? { lastEvaluated: items.at(-1)!.sk } : {}) };
      },
    };
  }

  function sink() {
    const chunks: string[] = [];
    const state = { closed: false, aborted: false };
    const value: ExportSink = {
      write: async (chunk) => void chunks.push(chunk),
      close: async () => ((state.closed = true), { bytes: Buffer.byteLength(chunks.join('')) }),
      abort: async () => void (state.aborted = true),
    };
    return { chunks, state, value };
  }

  async function queued(jobs: Jobs) {
    const { context } = apiContext({ jobs });
    return startExport({ format: 'ndjson', from: '2026-11-01', to: '2026-11-30' }, context);
  }

  test('every row, newest first, page by page, into the sink; the job records the count', async () => {
    const jobs = new Jobs();
    const job = await queued(jobs);
    const out = sink();
    const calls = { n: 0 };
    const outcome = await runExport(job.id, { jobs, reader: reader(2500, calls), openSink: async () => out.value, remainingMs: () => 600_000, now: () => now });
    expect(outcome).toMatchObject({ status: 'succeeded', rowCount: 2500 });
    const ids = out.chunks.join('').trimEnd().split('\n').map((line) => JSON.parse(line).id);
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => `ID${i}`));
    // Written as it was read: more than one page, never all at once.
    expect(out.chunks.length).toBeGreaterThan(2);
    expect(out.state.closed).toBe(true);
    expect(jobs.items.get(job.id)).toMatchObject({ status: 'succeeded', rowCount: 2500, bytes: expect.any(Number) });
  });

  test('a second delivery of the same start does nothing', async () => {
    const jobs = new Jobs();
    const job = await queued(jobs);
    const first = sink();
    await runExport(job.id, { jobs, reader: reader(10, { n: 0 }), openSink: async () => first.value, remainingMs: () => 600_000 });
    const again = await runExport(job.id, { jobs, reader: reader(10, { n: 0 }), openSink: async () => sink().value, remainingMs: () => 600_000 });
    expect(again).toEqual({ status: 'skipped', reason: 'the export is succeeded' });
  });

  test('near the deadline it stops, aborts the upload and says so on the job', async () => {
    const jobs = new Jobs();
    const job = await queued(jobs);
    const out = sink();
    let remaining = 100_000;
    const outcome = await runExport(job.id, {
      jobs,
      reader: reader(5000, { n: 0 }),
      openSink: async () => out.value,
      remainingMs: () => (remaining -= 40_000),
    });
    expect(outcome).toMatchObject({ status: 'failed', error: expect.stringContaining('ran out of time after 1000 rows') });
    expect(out.state).toEqual({ closed: false, aborted: true });
    expect(jobs.items.get(job.id)).toMatchObject({ status: 'failed', error: expect.stringContaining('narrower filters') });
  });

  test('a read failure aborts the upload and fails the job without internals', async () => {
    const jobs = new Jobs();
    const job = await queued(jobs);
    const out = sink();
    const outcome = await runExport(job.id, {
      jobs,
      reader: { readPartition: async () => Promise.reject(new Error('ProvisionedThroughputExceeded at 10.0.0.1')) },
      openSink: async () => out.value,
      remainingMs: () => 600_000,
    });
    expect(outcome).toMatchObject({ status: 'failed', error: 'the export failed; request it again', cause: expect.any(Error) });
    expect(out.state.aborted).toBe(true);
    expect(jobs.items.get(job.id)!.error).toBe('the export failed; request it again');
  });
});
