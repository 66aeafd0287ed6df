/**
 * The client SDK against small local HTTP servers that answer as the ingest
 * API does (or refuses to): what goes over the wire, retries, Retry-After,
 * per-event results, collapsing, redaction, the file-backed offline queue.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, memoryStorage, parseTraceparent, ulid, type ClientOptions } from '../../client/src/index';
import { fileStorage } from '../../client/src/node';
import { decodeTime } from 'ulidx';
import { fakeApi } from '../helpers/fake-ingest-api';

const warnings: string[] = [];
const options = (endpoint: string, extra: Partial<ClientOptions> = {}): ClientOptions => ({
  endpoint,
  apiKey: 'test-key',
  storage: memoryStorage(),
  flushIntervalMs: 20,
  retry: { baseDelayMs: 20, maxDelayMs: 200 },
  onWarning: (message) => warnings.push(message),
  ...extra,
});

beforeEach(() => {
  warnings.length = 0;
});

describe('sending', () => {
  it('batches by size (at most 100) and by interval, with the key, client ids and times', async () => {
    const api = await fakeApi();
    const client = createClient(options(api.url, { flushIntervalMs: 50, collapseWindowMs: 0 }));
    const ids = Array.from({ length: 230 }, (_, i) => client.log({ type: 'user.page.viewed', page: `/p/${i}` }));
    await client.flush();
    expect(api.requests.map((r) => r.body.events.length)).toEqual([100, 100, 30]);
    expect(api.requests[0].headers['x-api-key']).toBe('test-key');
    expect(api.events().map((e) => e.id)).toEqual(ids);
    expect(new Set(ids).size).toBe(230);
    expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids); // monotonic: ids sort in logging order
    expect(Date.parse(api.events()[0].occurredAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(client.stats).toMatchObject({ delivered: 230, queued: 0 });

    // Interval: a lone event goes out without flush().
    client.log({ type: 'user.logout' });
    await waitFor(() => api.requests.length === 4);
    await client.close();
    await api.close();
  });

  it('honours Retry-After on a 429 even when its own backoff would retry sooner', async () => {
    const api = await fakeApi((_, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'rate_limited', message: 'slow down' } } } : undefined));
    const client = createClient(options(api.url, { retry: { baseDelayMs: 10, maxDelayMs: 20 } }));
    const id = client.log({ type: 'user.logout' });
    await client.flush({ timeoutMs: 10_000 });
    expect(api.requests).toHaveLength(2);
    expect(api.requests[1].at - api.requests[0].at).toBeGreaterThanOrEqual(950);
    expect(api.requests[1].body.events[0].id).toBe(id); // the same id: a retry cannot be stored twice
    await client.close();
    await api.close();
  });

  it('retries only the events the server reports failed, drops rejected ones with a warning', async () => {
    const api = await fakeApi((request, n) => {
      if (n > 1) return undefined;
      const [a, b, c] = request.body.events;
      return {
        status: 503,
        headers: { 'retry-after': '0' },
        body: {
          error: { code: 'write_failed', message: '1 event(s) were not stored' },
          results: [
            { index: 0, id: a.id, status: 'accepted' },
            { index: 1, id: b.id, status: 'failed', message: 'not stored; retry with the same id' },
            { index: 2, id: c.id, status: 'rejected', errors: [{ path: 'severity', message: 'must be one of …' }] },
          ],
        },
      };
    });
    const client = createClient(options(api.url, { collapseWindowMs: 0 }));
    client.log({ type: 'user.logout', message: 'a' });
    const failedId = client.log({ type: 'user.logout', message: 'b' });
    client.log({ type: 'user.logout', message: 'c' });
    await client.flush();
    expect(api.requests.map((r) => r.body.events.map((e) => e.message))).toEqual([['a', 'b', 'c'], ['b']]);
    expect(api.requests[1].body.events[0].id).toBe(failedId);
    expect(warnings.some((w) => /rejected: severity must be one of/.test(w))).toBe(true);
    expect(client.stats).toMatchObject({ delivered: 2, rejected: 1, queued: 0 });
    await client.close();
    await api.close();
  });

  it('survives a lost response: the retry carries the same ids', async () => {
    const api = await fakeApi((_, n) => (n === 1 ? 'hang-up' : undefined));
    const client = createClient(options(api.url));
    const id = client.log({ type: 'user.logout' });
    await client.flush();
    expect(api.requests.map((r) => r.body.events[0].id)).toEqual([id, id]);
    await client.close();
    await api.close();
  });
});

describe('before anything leaves the app', () => {
  it('redacts with the server rules, and says so in the event', async () => {
    const api = await fakeApi();
    const client = createClient(options(api.url, { redaction: { extraKeys: ['internalNote'] } }));
    client.log({
      type: 'payment.charge.failed',
      message: 'card 4111 1111 1111 1111 declined, Authorization: Bearer abcdef0123456789abcdef',
      sessionId: 'sess-123',
      details: { password: 'hunter2', nested: { apiKey: 'k-123' }, internalNote: 'x', amount: 42 },
    });
    await client.flush();
    const raw = JSON.stringify(api.requests[0].body);
    for (const secret of ['4111 1111 1111 1111', 'abcdef0123456789abcdef', 'hunter2', 'k-123']) expect(raw).not.toContain(secret);
    const [event] = api.events();
    expect(event).toMatchObject({
      message: 'card [REDACTED:card] declined, Authorization: Bearer [REDACTED:bearer]',
      sessionId: 'sess-123',
      details: { password: '[REDACTED:password]', nested: { apiKey: '[REDACTED:api_key]' }, internalNote: '[REDACTED:internalnote]', amount: 42 },
    });
    expect(event.details.clientRedaction).toEqual({ count: 5, paths: ['message', 'details.password', 'details.nested.apiKey', 'details.internalNote'] });
    await client.close();
    await api.close();
  });

  it('collapses identical events within the window into one, with details.repeatCount', async () => {
    const api = await fakeApi();
    const client = createClient(options(api.url, { flushIntervalMs: 200, collapseWindowMs: 5000 }));
    const ids = Array.from({ length: 5 }, () => client.log({ type: 'client.error', message: 'x is undefined', page: '/cart' }));
    const other = client.log({ type: 'client.error', message: 'y is undefined', page: '/cart' });
    await client.flush();
    expect(new Set(ids).size).toBe(1);
    expect(api.events().map((e) => [e.id, e.message, e.details?.repeatCount])).toEqual([
      [ids[0], 'x is undefined', 5],
      [other, 'y is undefined', undefined],
    ]);
    expect(client.stats.collapsed).toBe(4);
    await client.close();
    await api.close();
  });

  it('carries W3C trace context: per event, and as the traceparent header of a one-trace batch', async () => {
    const api = await fakeApi();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const client = createClient(options(api.url, { traceparent: () => traceparent }));
    client.log({ type: 'user.logout' });
    await client.flush();
    expect(api.events()[0]).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' });
    expect(api.requests[0].headers.traceparent).toBe(traceparent);
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    await client.close();
    await api.close();
  });

  it('records errors with name, message, stack and code', async () => {
    const api = await fakeApi();
    const client = createClient(options(api.url));
    const failure = Object.assign(new TypeError('cannot read x'), { code: 'E_X' });
    client.error(failure, { page: '/checkout', details: { step: 2 } });
    client.error('a string was thrown', { type: 'job.failed' });
    await client.flush();
    expect(api.events()).toEqual([
      expect.objectContaining({ type: 'server.error', message: 'cannot read x', page: '/checkout', details: { step: 2 }, error: expect.objectContaining({ name: 'TypeError', message: 'cannot read x', code: 'E_X', stack: expect.stringContaining('client.test.ts') }) }),
      expect.objectContaining({ type: 'job.failed', error: expect.objectContaining({ name: 'Error', message: 'a string was thrown' }) }),
    ]);
    await client.close();
    await api.close();
  });
});

describe('offline queue', () => {
  it('is bounded: the oldest events are dropped first, with a warning', async () => {
    const client = createClient(options('http://127.0.0.1:9', { maxQueueSize: 3, collapseWindowMs: 0, flushIntervalMs: 60_000 }));
    for (let i = 0; i < 5; i++) client.log({ type: 'user.page.viewed', page: `/p/${i}` });
    expect(client.stats).toMatchObject({ queued: 3, dropped: 2 });
    expect(warnings[0]).toMatch(/queue full/);
    await client.close({ timeoutMs: 0 });
  });

  it('persists to a file while the server is unreachable, and a new client sends it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-client-'));
    const file = join(dir, 'queue.json');
    const down = await fakeApi();
    const downUrl = down.url;
    await down.close(); // nothing listens there any more: connections are refused

    const first = createClient(options(downUrl, { storage: fileStorage(file), collapseWindowMs: 0 }));
    const ids = [first.log({ type: 'user.logout', message: 'one' }), first.log({ type: 'user.logout', message: 'two', details: { token: 'tok-secret-1' } })];
    expect(await first.close({ timeoutMs: 300 })).toEqual({ pending: 2 });
    const stored = readFileSync(file, 'utf8');
    expect(JSON.parse(stored).map((e: { event: { id: string } }) => e.event.id)).toEqual(ids);
    expect(stored).not.toContain('tok-secret-1'); // redacted before it was ever written

    const api = await fakeApi();
    const second = createClient(options(api.url, { storage: fileStorage(file) }));
    expect(await second.flush()).toEqual({ pending: 0 });
    expect(api.events().map((e) => e.id)).toEqual(ids);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([]);
    await second.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('ulid', () => {
  it('is monotonic within a millisecond and encodes the time', () => {
    const at = Date.now() + 60_000; // later than any id drawn so far: an earlier time would continue from the last one
    const ids = Array.from({ length: 1000 }, () => ulid(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(decodeTime(ids[0])).toBe(at);
    expect(decodeTime(ids[999])).toBe(at);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
