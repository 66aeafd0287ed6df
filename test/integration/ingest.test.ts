/**
 * The ingestion path end to end, as an app meets it: HTTP to the local API
 * Gateway, the real handlers and authorizer, DynamoDB Local on disk.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulidx';
import { DEFAULT_CONFIG } from '../../lib/config';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { issueLocalToken } from '../../local/tokens';
import { captureFunctionLogs } from '../helpers/function-logs';

const API_KEY = 'integration-test-ingest-key';
let stack: LocalStack;
let dataDir: string;
let viewerToken: string;
/** The functions' structured log lines, captured instead of printed. */
const logLines = captureFunctionLogs();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-ingest-'));
  // A short authorizer cache, so that a revoked key is refused within the test.
  // A per-app limit far above what the concurrency tests send in one second: they test storage, not throttling
  // (the 429 path is tested in test/unit/ingest-handler.test.ts).
  stack = await startLocalStack({
    port: 0,
    dataDir,
    ingestApiKey: API_KEY,
    authorizerCacheSeconds: 1,
    config: { ...DEFAULT_CONFIG, defaultAppRateLimit: 100_000 },
    log: () => undefined,
  });
  viewerToken = await issueLocalToken(dataDir, { role: 'viewer' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function post(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: safeJson(text) };
}

async function read(id: string, token = viewerToken) {
  const response = await fetch(`${stack.url}/v1/events/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, json: await response.json() };
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Every client-facing error: JSON, with a code and message, and no stack trace. */
function expectCleanError(result: { text: string; json: any }, code?: string) {
  expect(result.json?.error?.message).toEqual(expect.any(String));
  if (code) expect(result.json.error.code).toBe(code);
  expect(result.text).not.toMatch(/\bat .+\.(ts|js):\d+|Error:.*\n\s+at /);
}

describe('health', () => {
  it('answers without auth when ready', async () => {
    const response = await fetch(`${stack.url}/v1/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});

describe('POST /v1/events', () => {
  it('stores one event and reads it back, stamped by the server', async () => {
    const result = await post(
      { type: 'user.login.failed', actor: { userId: 'u-42' }, message: 'wrong password', details: { attempt: 3 } },
      { 'user-agent': 'integration-test/1.0', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    );
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ accepted: 1, duplicates: 0, rejected: 0, results: [{ index: 0, status: 'accepted' }] });
    const { id } = result.json.results[0];

    const stored = await read(id);
    expect(stored.status).toBe(200);
    expect(stored.json).toMatchObject({
      id,
      type: 'user.login.failed',
      category: 'security',
      severity: 'warning',
      status: 'failure',
      source: 'local',
      actor: { userId: 'u-42', ip: '127.0.0.1', userAgent: 'integration-test/1.0' },
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      details: { attempt: 3 },
    });
    expect(Date.parse(stored.json.receivedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('takes a batch and answers one result per event, in order', async () => {
    const events = Array.from({ length: 100 }, (_, i) => ({ type: 'user.page.viewed', page: `/p/${i}`, actor: { userId: `u-${i % 7}` } }));
    events[17] = { type: 'user.page.viewed', severity: 'loud' } as never;
    const result = await post({ events });
    expect(result.status).toBe(207);
    expect(result.json).toMatchObject({ accepted: 99, rejected: 1 });
    expect(result.json.results.map((r: { index: number }) => r.index)).toEqual(events.map((_, i) => i));
    expect(result.json.results[17]).toMatchObject({ status: 'rejected', errors: [{ path: 'severity' }] });
    const sample = await read(result.json.results[42].id);
    expect(sample.json.page).toBe('/p/42');
  });

  it('reports a repeated client id as duplicate and never overwrites the stored event', async () => {
    const id = ulid();
    expect((await post({ id, type: 'payment.charge.succeeded', message: 'first' })).json.results[0]).toEqual({ index: 0, id, status: 'accepted' });
    const again = await post({ events: [{ id, type: 'payment.charge.succeeded', message: 'second' }, { id: id.toLowerCase(), type: 'payment.charge.succeeded', message: 'third' }] });
    expect(again.status).toBe(200);
    expect(again.json.results.map((r: { status: string }) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect((await read(id)).json.message).toBe('first');
  });

  it('stores each of many concurrent posts of the same id exactly once', async () => {
    const id = ulid();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post({ id, type: 'file.uploaded', message: `upload ${i}` })));
    const statuses = results.map((r) => r.json.results[0].status);
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(19);
    expect((await read(id)).json.message).toMatch(/^upload \d+$/);
  });

  it('keeps each concurrent invocation\'s log lines apart, as separate Lambda instances would', async () => {
    logLines.length = 0;
    await Promise.all(Array.from({ length: 12 }, () => post({ type: 'user.logout' })));
    const ingested = logLines.filter((line) => line.message === 'ingested');
    expect(ingested).toHaveLength(12);
    expect(new Set(ingested.map((line) => line.function_request_id)).size).toBe(12);
    expect(new Set(ingested.map((line) => line.correlation_id)).size).toBe(12);
  });

  it('handles concurrent batches from several clients without losing any', async () => {
    const batches = Array.from({ length: 10 }, (_, b) => ({ events: Array.from({ length: 50 }, (_, i) => ({ id: ulid(), type: 'form.submitted', details: { b, i } })) }));
    const results = await Promise.all(batches.map((batch) => post(batch)));
    expect(results.every((r) => r.status === 200 && r.json.accepted === 50)).toBe(true);
    const ids = batches.flatMap((batch) => batch.events.map((e) => e.id));
    const reads = await Promise.all(ids.filter((_, i) => i % 25 === 0).map((id) => read(id)));
    expect(reads.every((r) => r.status === 200)).toBe(true);
  });
});

describe('bad input: a clear 4xx JSON error and nothing stored', () => {
  const cases: Array<[string, () => Promise<{ status: number; text: string; json: any }>, number, string]> = [
    ['invalid JSON', () => post('{"type": "user.logout",'), 400, 'invalid_json'],
    ['an empty body', () => post(''), 400, 'empty_body'],
    ['a wrong content type', () => post('type=user.logout', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type'],
    ['more than 100 events', () => post({ events: Array.from({ length: 101 }, () => ({ type: 'user.logout' })) }), 400, 'too_many_events'],
    ['a body over 1 MB', () => post({ events: [{ type: 'user.logout', payload: 'x'.repeat(1024 * 1024) }] }), 413, 'payload_too_large'],
    ['a JSON array body', () => post([{ type: 'user.logout' }]), 400, 'invalid_body'],
  ];
  it.each(cases)('%s', async (_name, send, status, code) => {
    const result = await send();
    expect(result.status).toBe(status);
    expectCleanError(result, code);
  });

  const rejected: Array<[string, Record<string, unknown>, string | RegExp]> = [
    ['an event over 64 KB', { payload: 'y'.repeat(70 * 1024) }, ''],
    ['nesting deeper than 32 levels', { details: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)) }, /^details(\.a)+$/],
    ['an unknown severity', { severity: 'fatal' }, 'severity'],
    ['a wrong field type', { message: 42 }, 'message'],
    ['a missing type', { type: undefined }, 'type'],
    ['occurredAt over 5 minutes ahead', { occurredAt: new Date(Date.now() + 10 * 60_000).toISOString() }, 'occurredAt'],
    ['a __proto__ key', JSON.parse('{"details":{"__proto__":{"polluted":true}}}'), 'details.__proto__'],
    ['a constructor key', { details: { constructor: { prototype: {} } } }, 'details.constructor'],
    ['a malformed client id', { id: 'abc' }, 'id'],
    ['a forged source', { source: 'billing' }, 'source'],
  ];
  it.each(rejected)('%s', async (_name, fields, path) => {
    const id = typeof fields.id === 'string' ? undefined : ulid();
    const result = await post({ type: 'user.logout', ...(id ? { id } : {}), ...fields });
    expect(result.status).toBe(400);
    expectCleanError(result, 'invalid_event');
    expect(result.json.results[0]).toMatchObject({ status: 'rejected', errors: expect.arrayContaining([expect.objectContaining({ path: typeof path === 'string' ? path : expect.stringMatching(path) })]) });
    if (id) expect((await read(id)).status).toBe(404);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a missing API key with 401 and a wrong one with 403', async () => {
    const missing = await fetch(`${stack.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"user.logout"}' });
    expect(missing.status).toBe(401);
    const wrong = await post({ type: 'user.logout' }, { 'x-api-key': 'a-key-nobody-issued-at-all' });
    expect(wrong.status).toBe(403);
    expectCleanError(wrong);
  });
});

describe('app keys (npm run app-key)', () => {
  // As a user runs it: a fresh process that finds the running stack through the data folder.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|APP_KEYS_TABLE|EVENTS_TABLE|COUNTERS_TABLE)/.test(name)));
  const appKey = (...args: string[]) =>
    promisify(execFile)('npx', ['tsx', 'scripts/app-key.ts', ...args], { cwd: join(__dirname, '../..'), env: { ...env, LOCAL_DATA_DIR: dataDir } });

  it('issues a key shown once, stamps its app as source, lists it without secrets, and revokes it', async () => {
    const created = await appKey('create', '--app', 'checkout');
    const key = /^(atk_[\w-]+)$/m.exec(created.stdout)?.[1];
    const keyId = /Created key (\w+)/.exec(created.stdout)?.[1];
    expect(key).toBeDefined();

    const accepted = await post({ type: 'payment.charge.succeeded' }, { 'x-api-key': key! });
    expect(accepted.status).toBe(200);
    expect((await read(accepted.json.results[0].id)).json.source).toBe('checkout');

    const listed = await appKey('list');
    expect(listed.stdout).toMatch(new RegExp(`${keyId}\tcheckout\t.*\tactive`));
    expect(listed.stdout).not.toContain(key!.slice(-43));

    await appKey('revoke', '--key-id', keyId!);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await post({ type: 'payment.charge.succeeded' }, { 'x-api-key': key! })).status).toBe(403);
  }, 60_000);
});

describe('GET /v1/events/{id}', () => {
  it('needs a valid bearer token', async () => {
    const { json } = await post({ type: 'user.logout' });
    const id = json.results[0].id;
    expect((await read(id, '')).status).toBe(401);
    expect((await read(id, 'not.a.token')).status).toBe(401);
    expect((await read(id, await issueLocalToken(dataDir, { role: 'admin' }))).status).toBe(200);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expect((await read(ulid())).status).toBe(404);
    const malformed = await read('x');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe('invalid_id');
  });
});

describe('secrets', () => {
  const corpus = {
    card: '4111 1111 1111 1111',
    amex: '3782-822463-10005',
    ssn: '123-45-6789',
    jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTQyIiwibmFtZSI6IkFkYSJ9.c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ',
    awsKeyId: 'AKIAIOSFODNN7EXAMPLE',
    awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    password: 'correct-horse-battery-staple',
    bearer: 'mF_9.B5f-4.1JqM-opaque-token',
    pem: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n-----END RSA PRIVATE KEY-----',
  };

  it('are redacted before the first write and appear nowhere under the data folder', async () => {
    const id = ulid();
    const result = await post({
      id,
      type: 'payment.charge.failed',
      message: `card ${corpus.card} declined for SSN ${corpus.ssn}`,
      error: { name: 'GatewayError', message: `Authorization: Bearer ${corpus.bearer}`, stack: corpus.pem },
      details: {
        password: corpus.password,
        nested: [{ note: `aws_secret_access_key=${corpus.awsSecret}`, key: corpus.awsKeyId }],
        session: { token: corpus.jwt },
        [`card ${corpus.amex}`]: 'in a key',
      },
      payload: { raw: `token=${corpus.jwt}` },
    });
    expect(result.json.results[0].status).toBe('accepted');

    const stored = await read(id);
    const text = JSON.stringify(stored.json);
    for (const secret of Object.values(corpus)) expect(text).not.toContain(secret);
    expect(stored.json.redaction.count).toBeGreaterThanOrEqual(9);
    expect(stored.json.redaction.paths).toEqual(expect.arrayContaining(['message', 'details.password', 'error.stack']));

    // DynamoDB Local keeps its data in files under the data folder: read them raw.
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(dataDir);
    const raw = files.map((file) => readFileSync(file).toString('latin1')).join('\n');
    expect(raw).toContain(id); // the event really is on disk
    for (const secret of Object.values(corpus)) expect(raw).not.toContain(secret);
  });
});
