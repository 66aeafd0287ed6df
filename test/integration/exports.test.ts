/**
 * Exports on the local stack: POST /v1/exports queues a job that the export
 * function runs in the background (Lambda's asynchronous Invoke API, served
 * locally), streaming into the local S3; GET /v1/exports/{id} hands out a
 * presigned link the local stack checks and serves like S3. Every export is
 * compared row for row with what the test posted, in each format.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ulid } from 'ulidx';
import { EXPORTS_BUCKET } from '../../lib/declarations/buckets';
import { localS3ClientConfig } from '../../local/s3-local';
import type { LocalStack } from '../../local/stack';
import { seededRandom } from '../../local/seeded-random';
import { issueLocalToken } from '../../local/tokens';
import { startSeededStack } from '../helpers/local-stack';

jest.setTimeout(90_000);

const API_KEY = 'exports-test-ingest-key';
const ADMIN_USER = 'exporter@example.com';
const DAY = 86_400_000;
const COLUMNS = ['id', 'occurredAt', 'receivedAt', 'type', 'category', 'severity', 'status', 'source', 'userId', 'recordType', 'recordId', 'page', 'summary', 'traceId'];
/** Values a naive CSV writer gets wrong, and ones a spreadsheet would run as formulas. */
const AWKWARD = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'crlf\r\nhere', '=HYPERLINK("http://x")', '+1', '-2', '@me', ' spaced ', 'ünïcödé ✓'];

let stack: LocalStack;
let dataDir: string;
let admin: string;
let viewer: string;
let seeded: Record<string, string>[] = [];
let window: { from: string; to: string };
let postedFrom: string;
let postedTo: string;

beforeAll(async () => {
  ({ stack, dataDir } = await startSeededStack('exports', API_KEY));
  admin = await issueLocalToken(dataDir, { role: 'admin', user: ADMIN_USER });
  viewer = await issueLocalToken(dataDir, { role: 'viewer' });

  const rand = seededRandom(7);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const now = Date.now();
  window = { from: new Date(now - 10 * DAY).toISOString(), to: new Date(now + 60_000).toISOString() };
  const events = Array.from({ length: 1200 }, (_, n) => ({
    id: ulid(),
    occurredAt: new Date(now - 10 * DAY + 60_000 + Math.floor(rand() * (10 * DAY - 120_000))).toISOString(),
    type: pick(['user.login.failed', 'payment.charge.failed', 'invoice.updated', 'file.uploaded']),
    // Categories no default rule alerts on: the rule engine stays quiet.
    category: pick(['user_activity', 'content_update']),
    severity: pick(['debug', 'info', 'warning', 'error', 'critical'].filter((s) => s !== 'critical')),
    status: pick(['success', 'failure']),
    ...(rand() < 0.8 ? { actor: { userId: n < AWKWARD.length ? AWKWARD[n].trim() || 'blank' : `u-${n % 40}` } } : {}),
    ...(rand() < 0.4 ? { record: { type: 'invoice', id: `INV-${n % 90}` } } : {}),
    ...(rand() < 0.5 ? { page: pick(AWKWARD).trim() || '/p' } : {}),
    ...(rand() < 0.3 ? { traceId: createHash('md5').update(String(n % 50)).digest('hex') } : {}),
    message: n % 7 === 0 ? pick(AWKWARD) : `event number ${n}`,
  }));
  postedFrom = new Date().toISOString();
  for (let i = 0; i < events.length; i += 100) {
    const response = await fetch(`${stack.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ events: events.slice(i, i + 100) }),
    });
    expect(response.status).toBe(200);
  }
  postedTo = new Date().toISOString();
  // What a row must say, from what was posted (receivedAt is the server's: checked for range only).
  seeded = events.map((e) => ({
    id: e.id,
    occurredAt: e.occurredAt,
    type: e.type,
    category: e.category,
    severity: e.severity,
    status: e.status,
    source: 'local',
    ...(e.actor ? { userId: e.actor.userId } : {}),
    ...(e.record ? { recordType: e.record.type, recordId: e.record.id } : {}),
    ...(e.page ? { page: e.page } : {}),
    summary: e.message.slice(0, 160),
    ...(e.traceId ? { traceId: e.traceId } : {}),
  }));
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

/** Polls the job until it is done (the export runs in the background). */
async function finished(id: string) {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const { status, json } = await call('GET', `/v1/exports/${id}`, admin);
    expect(status).toBe(200);
    if (json.status === 'succeeded' || json.status === 'failed') return json;
    if (Date.now() > deadline) throw new Error(`export ${id} still ${json.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function exportOf(request: Record<string, string>) {
  const queued = await call('POST', '/v1/exports', admin, request);
  expect(queued.status).toBe(202);
  expect(queued.json).toEqual({ id: expect.stringMatching(/^[0-9A-Z]{26}$/), status: 'queued' });
  expect(queued.headers.get('location')).toBe(`/v1/exports/${queued.json.id}`);
  const job = await finished(queued.json.id);
  expect(job.status).toBe('succeeded');
  const download = await fetch(job.download.url);
  expect(download.status).toBe(200);
  return { job, download, body: await download.text() };
}

const newestFirst = (a: Record<string, string>, b: Record<string, string>) =>
  a.occurredAt !== b.occurredAt ? (a.occurredAt < b.occurredAt ? 1 : -1) : a.id < b.id ? 1 : -1;

/** An RFC 4180 reader, written for this test (not the encoder run backwards). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), (i += 2);
      else if (c === '"') (quoted = false), (i += 1);
      else (cell += c), (i += 1);
    } else if (c === '"' && cell === '') (quoted = true), (i += 1);
    else if (c === ',') row.push(cell), (cell = ''), (i += 1);
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), (i += 2);
    else if (c === '\n' || c === '\r') throw new Error(`bare line break in an unquoted cell at ${i}`);
    else (cell += c), (i += 1);
  }
  if (cell !== '' || row.length > 0) throw new Error('the file does not end with CRLF');
  return rows;
}

function expectRows(rows: Record<string, string | undefined>[], want: Record<string, string>[]) {
  expect(rows.map((r) => r.id)).toEqual(want.map((w) => w.id));
  rows.forEach((row, i) => {
    const { receivedAt, ...rest } = row;
    expect(receivedAt! >= postedFrom.slice(0, 19) && receivedAt! <= postedTo).toBe(true);
    expect(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== ''))).toEqual(want[i]);
  });
}

describe('who may export', () => {
  test('401 without a token, 403 for a viewer (and nothing is queued or recorded)', async () => {
    expect((await call('POST', '/v1/exports', undefined, { format: 'csv' })).status).toBe(401);
    const refused = await call('POST', '/v1/exports', viewer, { format: 'csv' });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('forbidden');
    expect((await call('GET', '/v1/exports/01JD7X8Y9ZABCDEFGHJKMNPQRS', viewer)).status).toBe(403);
  });

  test.each([
    [{}, 'invalid_format'],
    [{ format: 'xlsx' }, 'invalid_format'],
    [{ format: 'csv', limit: '10' }, 'unknown_parameter'],
    [{ format: 'csv', severity: 'fatal' }, 'invalid_filter'],
    [{ format: 'csv', user: 'u-1' }, 'unknown_parameter'],
    [{ format: 'csv', from: 5 }, 'invalid_filter'],
  ])('%j → 400 %s', async (body, code) => {
    const answer = await call('POST', '/v1/exports', admin, body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe(code);
  });

  test('an unknown or malformed export id is 404', async () => {
    expect((await call('GET', '/v1/exports/01JD7X8Y9ZABCDEFGHJKMNPQRS', admin)).status).toBe(404);
    expect((await call('GET', '/v1/exports/nope', admin)).status).toBe(404);
  });
});

describe('an export of the seeded set matches it row for row', () => {
  const want = () => [...seeded].sort(newestFirst);

  test('CSV: header, RFC 4180 quoting, formula cells neutralised, CRLF, every row in order', async () => {
    const { job, download, body } = await exportOf({ format: 'csv', ...window, source: 'local' });
    expect(download.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="audit-events-${job.id}.csv"`);
    expect(job).toMatchObject({ rowCount: seeded.length, bytes: Buffer.byteLength(body), requestedBy: ADMIN_USER, format: 'csv' });
    const [header, ...rows] = parseCsv(body);
    expect(header).toEqual(COLUMNS);
    const cell = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
    const expectedCells = want().map((w) => ({ ...Object.fromEntries(Object.entries(w).map(([k, v]) => [k, cell(v)])) }));
    expectRows(rows.map((r) => Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]]))), expectedCells);
    // The awkward values really were in there, quoted.
    expect(body).toContain('"say ""hi"""');
    expect(body).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(body).toContain('"two\nlines"');
  });

  test('NDJSON: one JSON object per line, values exactly as stored', async () => {
    const { job, download, body } = await exportOf({ format: 'ndjson', ...window, source: 'local' });
    expect(download.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(job.rowCount).toBe(seeded.length);
    expect(body.endsWith('\n')).toBe(true);
    expectRows(body.trimEnd().split('\n').map((line) => JSON.parse(line)), want());
  });

  test('JSON: one array, values exactly as stored', async () => {
    const { job, body } = await exportOf({ format: 'json', ...window, source: 'local' });
    expect(job.rowCount).toBe(seeded.length);
    expectRows(JSON.parse(body), want());
  });

  test('filters work as in GET /v1/events (a filter on the date index, and one on a user)', async () => {
    const failures = await exportOf({ format: 'ndjson', ...window, status: 'failure', severity: 'error' });
    const wantFailures = want().filter((w) => w.status === 'failure' && w.severity === 'error');
    expect(failures.job.rowCount).toBe(wantFailures.length);
    expectRows(failures.body.trimEnd().split('\n').map((line) => JSON.parse(line)), wantFailures);
    const user = await exportOf({ format: 'json', ...window, userId: 'u-3' });
    expectRows(JSON.parse(user.body), want().filter((w) => w.userId === 'u-3'));
  });

  test('an export of nothing is a valid empty file in each format', async () => {
    const empty = { from: '2020-01-01', to: '2020-01-02' };
    expect((await exportOf({ format: 'csv', ...empty })).body).toBe(`${COLUMNS.join(',')}\r\n`);
    expect((await exportOf({ format: 'ndjson', ...empty })).body).toBe('');
    expect(JSON.parse((await exportOf({ format: 'json', ...empty })).body)).toEqual([]);
  });

  test('each export is an admin.export.created event by the admin, naming the export and its filters', async () => {
    const { json } = await call('GET', `/v1/events?type=admin.export.created&source=audit-trail&limit=200`, viewer);
    expect(json.items.length).toBeGreaterThanOrEqual(8);
    const [latest] = json.items;
    const { json: event } = await call('GET', `/v1/events/${latest.id}`, viewer);
    expect(event).toMatchObject({
      category: 'admin_activity',
      actor: { adminId: ADMIN_USER },
      record: { type: 'export', id: expect.stringMatching(/^[0-9A-Z]{26}$/) },
      details: { format: 'json', filters: { from: '2020-01-01T00:00:00.000Z', to: '2020-01-02T23:59:59.999Z' } },
    });
    const job = await call('GET', `/v1/exports/${event.record.id}`, admin);
    expect(job.json.status).toBe('succeeded');
  });
});

describe('download links', () => {
  let url: URL;
  beforeAll(async () => {
    const { job } = await exportOf({ format: 'csv', from: '2020-01-01', to: '2020-01-02' });
    url = new URL(job.download.url);
    expect(url.origin).toBe(stack.url);
    expect(new Date(job.download.expiresAt).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
  });

  test('an altered link is refused as S3 refuses it', async () => {
    const signature = url.searchParams.get('X-Amz-Signature')!;
    const tampered = new URL(url);
    tampered.searchParams.set('X-Amz-Signature', `${signature[0] === 'a' ? 'b' : 'a'}${signature.slice(1)}`);
    const refused = await fetch(tampered);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('SignatureDoesNotMatch');
    const otherObject = new URL(url);
    otherObject.pathname = otherObject.pathname.replace(/[0-9A-Z]{26}/, '01JD7X8Y9ZABCDEFGHJKMNPQRS');
    expect((await fetch(otherObject)).status).toBe(403);
    const longer = new URL(url);
    longer.searchParams.set('X-Amz-Expires', '3600');
    expect((await fetch(longer)).status).toBe(403);
  });

  test('an expired link is refused', async () => {
    // Signed as the Admin function signs, but two hours ago for 15 minutes.
    const { presignedGet } = await import('../../lambdas/adapters/download-links');
    const signer = new S3Client({ endpoint: `${stack.url}/local-s3`, forcePathStyle: true, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const key = decodeURIComponent(url.pathname.split('/').slice(3).join('/'));
    const fresh = await presignedGet(signer, EXPORTS_BUCKET.localName, key, { filename: 'x.csv', contentType: 'text/csv; charset=utf-8', expiresInSeconds: 900 });
    expect((await fetch(fresh)).status).toBe(200);
    const stale = await presignedGet(signer, EXPORTS_BUCKET.localName, key, { filename: 'x.csv', contentType: 'text/csv; charset=utf-8', expiresInSeconds: 900, signingDate: new Date(Date.now() - 2 * 3_600_000) });
    const refused = await fetch(stale);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Request has expired');
    signer.destroy();
  });
});

test('the upload streams in parts: a 12 MiB export is a multipart upload, byte for byte, with bounded memory', async () => {
  const { openExportUpload, EXPORT_PART_BYTES } = await import('../../lambdas/adapters/export-upload');
  const s3 = new S3Client(localS3ClientConfig(stack.s3Endpoint));
  const sent: string[] = [];
  s3.middlewareStack.add((next, context) => async (args) => {
    sent.push(String(context.commandName));
    return next(args);
  }, { step: 'initialize' });
  const sink = await openExportUpload('exports/streaming-test.ndjson', 'application/x-ndjson', { bucket: EXPORTS_BUCKET.localName, s3 });
  const hash = createHash('sha256');
  const line = `${JSON.stringify({ id: 'x'.repeat(26), summary: 'y'.repeat(200) })}\n`;
  let written = 0;
  let peakHeap = 0;
  const baseline = process.memoryUsage().heapUsed;
  while (written < 2.4 * EXPORT_PART_BYTES) {
    const chunk = line.repeat(100);
    hash.update(chunk);
    await sink.write(chunk);
    written += Buffer.byteLength(chunk);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - baseline);
  }
  expect(await sink.close()).toEqual({ bytes: written });
  const object = await s3.send(new GetObjectCommand({ Bucket: EXPORTS_BUCKET.localName, Key: 'exports/streaming-test.ndjson' }));
  // Two full 5 MiB parts and the rest: never one PutObject of unknown length (real S3 refuses those).
  expect(sent.filter((name) => name !== 'GetObjectCommand').sort()).toEqual(['CompleteMultipartUploadCommand', 'CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand']);
  const stored = Buffer.from(await object.Body!.transformToByteArray());
  expect(stored.length).toBe(written);
  expect(createHash('sha256').update(stored).digest('hex')).toBe(hash.digest('hex'));
  // Parts in flight plus the stream's buffer, not the whole object (loose: the GC decides when to collect).
  expect(peakHeap).toBeLessThan(64 * 1024 * 1024);
  s3.destroy();
});
