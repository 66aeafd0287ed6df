/**
 * The client SDK against the real local stack: a server that is down, then
 * up (and loses one response on the way), the offline queue handed from one
 * client to the next through a file, collapsing — and every event stored
 * exactly once, checked by id and by counting the events of a type unique to
 * this run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, unregistered, type ClientOptions } from '../../client/src/index';
import { fileStorage } from '../../client/src/node';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { issueLocalToken } from '../../local/tokens';
import { captureFunctionLogs } from '../helpers/function-logs';

const API_KEY = 'integration-test-client-key';
const run = randomBytes(4).toString('hex');
let stack: LocalStack;
let dataDir: string;
let viewerToken: string;
const warnings: string[] = [];

// The functions' structured log lines are kept out of the test output.
captureFunctionLogs();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-client-it-'));
  stack = await startLocalStack({ port: 0, dataDir, ingestApiKey: API_KEY, log: () => undefined });
  viewerToken = await issueLocalToken(dataDir, { role: 'viewer' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const clientOptions = (endpoint: string, extra: Partial<ClientOptions> = {}): ClientOptions => ({
  endpoint,
  apiKey: API_KEY,
  flushIntervalMs: 50,
  retry: { baseDelayMs: 100, maxDelayMs: 500 },
  onWarning: (message) => warnings.push(message),
  ...extra,
});

async function readEvent(id: string): Promise<{ status: number; event: any }> {
  const response = await fetch(`${stack.url}/v1/events/${id}`, { headers: { authorization: `Bearer ${viewerToken}` } });
  return { status: response.status, event: await response.json() };
}

async function countOfType(type: string): Promise<number> {
  const response = await fetch(`${stack.url}/v1/events?type=${type}&limit=200`, { headers: { authorization: `Bearer ${viewerToken}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: unknown[] }).items.length;
}

/** A port nothing listens on (yet): connections to it are refused, as to a server that is down. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * The way back to the stack once the "server" comes up: forwards requests,
 * but hangs up on the first one after the stack has stored it, the way a
 * response is lost to a dropped connection.
 */
async function startGate(port: number): Promise<{ server: Server; forwarded: () => number }> {
  let forwarded = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const upstream = await fetch(`${stack.url}${req.url}`, {
      method: req.method,
      headers: { 'content-type': String(req.headers['content-type']), 'x-api-key': String(req.headers['x-api-key']) },
      body: Buffer.concat(chunks),
    });
    const body = await upstream.text();
    if (++forwarded === 1) return void res.socket?.destroy();
    res.writeHead(upstream.status, { 'content-type': 'application/json', ...(upstream.headers.get('retry-after') ? { 'retry-after': upstream.headers.get('retry-after')! } : {}) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, forwarded: () => forwarded };
}

it('delivers every event exactly once across a server that is down, then up, and a lost response', async () => {
  const type = unregistered(`clienttest.outage.r${run}`);
  const port = await freePort();
  const client = createClient(clientOptions(`http://127.0.0.1:${port}`, { collapseWindowMs: 0, batchSize: 10 }));
  const ids = Array.from({ length: 25 }, (_, i) => client.log({ type, category: 'user_activity', page: `/step/${i}` }));

  // Down: nothing is delivered, nothing is lost.
  expect(await client.flush({ timeoutMs: 500 })).toEqual({ pending: 25 });
  expect(warnings.some((w) => /delivery failed \(network/.test(w))).toBe(true);

  // Up: the client's own retries deliver the queue.
  const gate = await startGate(port);
  try {
    expect(await client.flush({ timeoutMs: 30_000 })).toEqual({ pending: 0 });
    expect(gate.forwarded()).toBeGreaterThanOrEqual(4); // 3 batches, plus the one whose answer was lost
  } finally {
    await new Promise<void>((resolve) => gate.server.close(() => resolve()));
    await client.close({ timeoutMs: 0 });
  }

  for (const id of ids) expect((await readEvent(id)).status).toBe(200);
  const sample = await readEvent(ids[7]);
  expect(sample.event).toMatchObject({ id: ids[7], type, page: '/step/7', source: 'local' });
  expect(await countOfType(type)).toBe(25);
}, 60_000);

it('keeps the queue in a file while the server is down, and a new client delivers it once', async () => {
  const type = unregistered(`clienttest.file.r${run}`);
  const dir = mkdtempSync(join(tmpdir(), 'audit-client-queue-'));
  const file = join(dir, 'queue.json');
  const port = await freePort();

  const before = createClient(clientOptions(`http://127.0.0.1:${port}`, { storage: fileStorage(file), collapseWindowMs: 0 }));
  const ids = [
    before.log({ type, category: 'security', message: 'first' }),
    before.log({ type, category: 'security', message: 'second', details: { password: 'correct horse battery staple' } }),
    before.log({ type, category: 'security', message: 'third' }),
  ];
  expect(await before.close({ timeoutMs: 300 })).toEqual({ pending: 3 });
  expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveLength(3);

  const after = createClient(clientOptions(stack.url, { storage: fileStorage(file) }));
  expect(await after.flush({ timeoutMs: 20_000 })).toEqual({ pending: 0 });
  await after.close();

  for (const id of ids) expect((await readEvent(id)).status).toBe(200);
  expect((await readEvent(ids[1])).event.details).toEqual({ password: '[REDACTED:password]', clientRedaction: { count: 1, paths: ['details.password'] } });
  expect(await countOfType(type)).toBe(3);
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('stores identical events logged within the window once, with their count', async () => {
  const type = unregistered(`clienttest.collapse.r${run}`);
  const client = createClient(clientOptions(stack.url, { flushIntervalMs: 500, collapseWindowMs: 10_000 }));
  const ids = Array.from({ length: 5 }, () => client.log({ type, category: 'system_error', message: 'quota exceeded', page: '/upload' }));
  await client.close();
  expect(new Set(ids).size).toBe(1);
  const stored = await readEvent(ids[0]);
  expect(stored.event.details).toMatchObject({ repeatCount: 5, lastOccurredAt: expect.any(String) });
  expect(await countOfType(type)).toBe(1);
}, 60_000);

// The spies above replace methods of the real process.stdout (and console), shared with the test files that run next.
