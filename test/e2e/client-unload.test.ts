/**
 * The client SDK in a real browser (Debian's Chromium, driven by Playwright):
 * a page on another origin queues events, and leaving the page delivers
 * them with keepalive requests, through the app routes' CORS preflight.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { issueLocalToken } from '../../local/tokens';
import { launchChromium } from '../helpers/browser';

const root = join(__dirname, '../..');
const API_KEY = 'browser-test-ingest-key';

let stack: LocalStack;
let dataDir: string;
let pages: Server;
let pagesUrl: string;
let browser: Browser;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-browser-'));
  stack = await startLocalStack({ port: 0, dataDir, ingestApiKey: API_KEY, log: () => undefined });

  // The bundle a browser app ships (client/dist/browser.min.mjs), built as `npm run client:build` builds it.
  execFileSync(process.execPath, [join(root, 'client/build.mjs')], { stdio: 'ignore' });
  const bundle = readFileSync(join(root, 'client/dist/browser.min.mjs'));
  const page = `<!doctype html><meta charset="utf-8"><title>shop</title>
<script type="module">
  import { createClient } from '/client.mjs';
  // Nothing would be sent for a minute: only leaving the page can deliver these.
  const client = createClient({ endpoint: ${JSON.stringify(stack.url)}, apiKey: ${JSON.stringify(API_KEY)}, flushIntervalMs: 60000 });
  window.ids = [1, 2, 3].map((n) => client.log({ type: 'user.page.viewed', page: '/checkout', message: 'viewed ' + n, details: { n } }));
  window.ids.push(client.log({ type: 'form.submitted', page: '/checkout', details: { card: '4111 1111 1111 1111' } }));
</script>`;
  pages = createServer((req, res) => {
    if (req.url === '/client.mjs') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>');
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;

  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => pages?.close(resolve));
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function readEvent(id: string, token: string) {
  const response = await fetch(`${stack.url}/v1/events/${id}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, json: response.status === 200 ? await response.json() : undefined };
}

it('delivers queued events when the page is left, from another origin, redacted', async () => {
  const token = await issueLocalToken(dataDir, { role: 'viewer' });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pagesUrl}/`);
  await page.waitForFunction(() => Array.isArray((window as unknown as { ids?: string[] }).ids));
  const ids = await page.evaluate(() => (window as unknown as { ids: string[] }).ids);
  expect(ids).toHaveLength(4);
  for (const id of ids) expect((await readEvent(id, token)).status).toBe(404); // still only in the page

  await page.goto(`${pagesUrl}/elsewhere`); // pagehide: the client sends with keepalive

  const deadline = Date.now() + 30_000;
  let stored: Array<{ status: number; json?: any }> = [];
  while (Date.now() < deadline) {
    stored = await Promise.all(ids.map((id) => readEvent(id, token)));
    if (stored.every((result) => result.status === 200)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(stored.map((result) => result.status)).toEqual([200, 200, 200, 200]);
  expect(stored[0].json).toMatchObject({ type: 'user.page.viewed', page: '/checkout', source: 'local', details: { n: 1 } });
  expect(JSON.stringify(stored[3].json)).not.toContain('4111 1111 1111 1111');
  // A cross-origin POST with x-api-key and a JSON body is never a "simple" request: the browser sent it only
  // because the preflight allowed it. This is the answer it got:
  const preflight = await fetch(`${stack.url}/v1/events`, {
    method: 'OPTIONS',
    headers: { origin: pagesUrl, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-api-key' },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  expect(preflight.headers.get('access-control-allow-headers')).toContain('x-api-key');
  await context.close();
}, 60_000);
