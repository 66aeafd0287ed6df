/**
 * The admin SPA in a real browser (Debian's Chromium, driven by Playwright) against the whole local stack:
 * the built site served at `/` with the headers CloudFront sends, the API, DynamoDB Local and the stream
 * consumers. Every screen is saved under test-results/admin-spa/ (look at them when a screen changes).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { issueLocalToken } from '../../local/tokens';
import { launchChromium } from '../helpers/browser';
import { captureFunctionLogs } from '../helpers/function-logs';

const root = join(__dirname, '../..');
const API_KEY = 'spa-test-ingest-key';
const SCREENSHOTS = join(root, 'test-results/admin-spa');

let stack: LocalStack;
let dataDir: string;
let browser: Browser;
let adminToken: string;
let viewerToken: string;
/** Content-Security-Policy violations and uncaught errors, from every page of every test: there must be none. */
const pageProblems: string[] = [];

async function post(events: unknown[]): Promise<string[]> {
  const response = await fetch(`${stack.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({ events }),
  });
  const body = (await response.json()) as { results: Array<{ id: string; status: string }> };
  expect(body.results.map((result) => result.status)).toEqual(events.map(() => 'accepted'));
  return body.results.map((result) => result.id);
}

async function signedIn(token: string, viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 40[49]/.test(message.text())) pageProblems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`));
  });
  await page.goto(`${stack.url}/#token=${token}`);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return { context, page };
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Rows of the events table, as the text of their type cells. */
async function eventTypes(page: Page): Promise<string[]> {
  return page.getByRole('table', { name: 'Events' }).locator('tbody tr td:nth-child(3)').allInnerTexts();
}

const ids: Record<string, string> = {};
captureFunctionLogs();

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // The site as `npm start` and CDK ship it.
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', join(root, 'frontend/vite.config.mts')], { stdio: 'pipe' });
  // React's production build even under jest's NODE_ENV=test: what is tested is what ships.
  const assets = join(root, 'frontend/dist/assets');
  for (const file of readdirSync(assets)) expect(readFileSync(join(assets, file), 'utf8')).not.toMatch(/jsxDEV|react-dom-client\.development/);
  dataDir = mkdtempSync(join(tmpdir(), 'audit-spa-'));
  // The rule engine re-reads rules every 30 s (the UI says so); a second here, so a new rule applies promptly.
  process.env.RULES_CACHE_SECONDS = '1';
  stack = await startLocalStack({ port: 0, dataDir, ingestApiKey: API_KEY, inMemory: true, log: () => undefined });
  adminToken = await issueLocalToken(dataDir, { role: 'admin', user: 'ada@example.com' });
  viewerToken = await issueLocalToken(dataDir, { role: 'viewer', user: 'vic@example.com' });
  browser = await launchChromium();

  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
  const [login, charge, invoice, suspicious] = await post([
    { type: 'user.login.failed', status: 'failure', actor: { userId: 'u-alice' }, page: '/login', message: 'wrong password', details: { password: 'hunter2-secret', attempts: 3 }, occurredAt: minutesAgo(30) },
    { type: 'payment.charge.failed', status: 'failure', actor: { userId: 'u-bob' }, record: { type: 'invoice', id: 'INV-9' }, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', page: '/checkout', message: 'card 4111 1111 1111 1111 declined', occurredAt: minutesAgo(20) },
    { type: 'payment.invoice.created', actor: { userId: 'u-bob' }, record: { type: 'invoice', id: 'INV-9' }, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', page: '/checkout', message: 'invoice INV-9 created', occurredAt: minutesAgo(25) },
    { type: 'security.suspicious_activity', severity: 'critical', status: 'failure', actor: { userId: 'u-carol' }, message: 'login from a new country', occurredAt: minutesAgo(10) },
    { type: 'user.page.viewed', actor: { userId: 'u-alice' }, page: '/pricing', occurredAt: minutesAgo(40) },
    { type: 'user.page.viewed', actor: { userId: 'u-bob' }, page: '/home', occurredAt: minutesAgo(35) },
    { type: 'api.request.failed', status: 'failure', actor: { userId: 'u-dave' }, page: '/account', error: { name: 'TimeoutError', message: 'payments-gateway timed out after 3000 ms', stack: 'TimeoutError: payments-gateway timed out\n    at callGateway (/app/src/payments/gateway.ts:88:11)' }, occurredAt: minutesAgo(5) },
  ]);
  Object.assign(ids, { login, charge, invoice, suspicious });
}, 180_000);

afterAll(async () => {
  delete process.env.RULES_CACHE_SECONDS;
  await browser?.close();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => {
  const problems = pageProblems.splice(0);
  expect(problems).toEqual([]);
});

it('signs in with a token in the address bar and takes it out of the address bar at once', async () => {
  const { context, page } = await signedIn(adminToken);
  expect(page.url()).toBe(`${stack.url}/#/`);
  expect(await page.evaluate(() => window.history.length)).toBe(2); // the token's entry was replaced, not kept
  await page.getByText('ada@example.com').waitFor();
  // Every admin screen is in the navigation.
  const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts();
  expect(links.map((text) => text.replace(/[\s,]*\d[\s\S]*$/, '').trim())).toEqual(['Dashboard', 'Events', 'Notifications', 'Errors', 'Rules', 'App keys', 'Exports']);
  await context.close();
}, 60_000);

it('lists a just-sent event, filters by severity and by user in the address, and pages', async () => {
  const { context, page } = await signedIn(adminToken);
  await page.goto(`${stack.url}/#/events`);
  await page.getByRole('table', { name: 'Events' }).waitFor();
  expect(await eventTypes(page)).toEqual(['api.request.failed', 'security.suspicious_activity', 'payment.charge.failed', 'payment.invoice.created', 'user.login.failed', 'user.page.viewed', 'user.page.viewed']);
  await screenshot(page, '02-events');

  // Live tail: an event sent now shows up without a reload.
  await page.getByLabel('Live tail').check();
  const [justSent] = await post([{ type: 'file.upload_failed', status: 'failure', actor: { userId: 'u-dave' }, page: '/editor', message: 'upload exceeded 25 MB' }]);
  await page.locator(`a[href="#/events/${justSent}"]`).waitFor({ timeout: 15_000 });
  await page.getByLabel('Live tail').uncheck();

  await page.getByLabel('Severity', { exact: true }).selectOption('critical');
  await page.waitForURL(/severity=critical/);
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Events"] tbody tr').length === 1);
  expect(await eventTypes(page)).toEqual(['security.suspicious_activity']);
  await page.getByLabel('Severity', { exact: true }).selectOption('');

  await page.getByLabel('User', { exact: true }).fill('u-bob');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/userId=u-bob/);
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Events"] tbody tr').length === 3);
  expect(await eventTypes(page)).toEqual(['payment.charge.failed', 'payment.invoice.created', 'user.page.viewed']);
  await screenshot(page, '03-events-filtered-by-user');

  // The filtered view is a link: opened in a new tab (which signs in on its own), it shows the same.
  const shared = page.url();
  const second = await context.newPage();
  await second.goto(shared);
  await second.getByLabel('Bearer token').fill(viewerToken);
  await second.getByRole('button', { name: 'Sign in' }).click();
  await second.getByRole('table', { name: 'Events' }).waitFor();
  expect(second.url()).toBe(shared);
  expect(await second.getByLabel('User', { exact: true }).inputValue()).toBe('u-bob');
  expect(await eventTypes(second)).toEqual(['payment.charge.failed', 'payment.invoice.created', 'user.page.viewed']);

  // Paging: 50 a page, older pages by cursor, and back.
  const start = Date.now() - 3_600_000;
  await post(Array.from({ length: 60 }, (_, i) => ({ type: 'user.page.viewed', actor: { userId: 'u-pager' }, page: `/p/${i}`, occurredAt: new Date(start + i * 1000).toISOString() })));
  await page.goto(`${stack.url}/#/events?userId=u-pager`);
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Events"] tbody tr').length === 50);
  const pages = () => page.getByRole('table', { name: 'Events' }).locator('tbody tr td:nth-child(6)').allInnerTexts();
  expect((await pages())[0]).toBe('/p/59');
  await page.getByRole('button', { name: 'Older →' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Events"] tbody tr').length === 10);
  expect(await pages()).toEqual(Array.from({ length: 10 }, (_, i) => `/p/${9 - i}`));
  expect(await page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
  await page.getByRole('button', { name: '← Newer' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Events"] tbody tr').length === 50);
  await context.close();
}, 90_000);

it('refuses a half-given record filter with a message under the control, without asking the API', async () => {
  const { context, page } = await signedIn(viewerToken);
  let asked = false;
  page.on('request', (request) => {
    if (request.url().includes('/v1/events?') && request.url().includes('recordType')) asked = true;
  });
  await page.goto(`${stack.url}/#/events?recordType=invoice`);
  await page.getByText('A record type needs a record id.').waitFor();
  expect(await page.getByLabel('Record id').getAttribute('aria-invalid')).toBe('true');
  expect(asked).toBe(false);
  await context.close();
}, 60_000);

it('opens an event with every field, its redactions, and links to the user, the record history and the trace', async () => {
  const { context, page } = await signedIn(adminToken);
  await page.goto(`${stack.url}/#/events?userId=u-alice`);
  await page.getByRole('table', { name: 'Events' }).getByRole('link', { name: /user\.login\.failed/ }).click();
  await page.waitForURL(new RegExp(`#/events/${ids.login}$`));
  await page.getByTestId('redaction-summary').waitFor();
  expect(await page.getByTestId('redaction-summary').innerText()).toContain('details.password');
  const json = await page.getByLabel('The stored event as JSON').innerText();
  expect(json).toContain('[REDACTED:');
  expect(json).not.toContain('hunter2-secret');
  expect(await page.locator('mark.redacted').count()).toBeGreaterThan(0);
  await screenshot(page, '04-event-detail');

  await page.goto(`${stack.url}/#/events/${ids.charge}`);
  await page.getByRole('link', { name: /invoice\/INV-9 — history/ }).click();
  await page.waitForURL(/#\/records\/invoice\/INV-9$/);
  const timeline = page.getByRole('list', { name: 'History of invoice/INV-9' });
  await timeline.waitFor();
  // Oldest first: the invoice was created, then its charge failed.
  expect(await timeline.locator('li a.mono').allInnerTexts()).toEqual(['payment.invoice.created', 'payment.charge.failed']);
  await screenshot(page, '05-record-history');

  await page.goto(`${stack.url}/#/events/${ids.charge}`);
  await page.getByRole('link', { name: '4bf92f3577b34da6a3ce929d0e0e4736' }).click();
  await page.getByRole('list', { name: /^Trace / }).waitFor();
  expect(await page.getByRole('list', { name: /^Trace / }).locator('li').count()).toBe(2);

  await page.goto(`${stack.url}/#/events/${ids.charge}`);
  await page.getByRole('link', { name: /u-bob — all activity/ }).click();
  await page.waitForURL(/#\/events\?userId=u-bob$/);
  await context.close();
}, 90_000);

it('shows what is going wrong on the dashboard: counts by severity over time, failures, top types and pages', async () => {
  const { context, page } = await signedIn(viewerToken);
  // Stats lag the events by the stream consumer's batching window.
  const deadline = Date.now() + 45_000;
  let total = '';
  while (Date.now() < deadline) {
    await page.goto(`${stack.url}/#/?range=24h`);
    await page.getByTestId('key-figures').waitFor();
    total = await page.getByTestId('key-figures').locator('.figure').first().locator('.value').innerText();
    if (Number(total) >= 8) break;
    await page.waitForTimeout(2000);
  }
  expect(Number(total)).toBeGreaterThanOrEqual(8);
  await page.getByRole('img', { name: /events from .*critical/ }).waitFor();
  await page.getByRole('region', { name: 'Top event types' }).getByRole('link', { name: 'payment.charge.failed' }).waitFor();
  await page.getByRole('region', { name: 'Top failing pages' }).getByText('/checkout').waitFor();
  await page.getByRole('region', { name: 'Latest critical events' }).getByRole('link', { name: 'security.suspicious_activity' }).waitFor();
  await screenshot(page, '01-dashboard');
  await context.close();
}, 90_000);

it('works from the keyboard: skip link, filters applied with Enter, a row opened with Enter', async () => {
  const { context, page } = await signedIn(viewerToken);
  await page.goto(`${stack.url}/#/events`);
  await page.getByRole('table', { name: 'Events' }).waitFor();
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
  await page.keyboard.press('Enter');
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  // Tab through the header's controls to the user filter, type, Enter.
  for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.id)) !== 'filter-userId'; i++) await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('filter-userId');
  await page.keyboard.type('u-carol');
  await page.keyboard.press('Enter');
  await page.waitForURL(/userId=u-carol/);
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Events"] tbody tr').length === 1);
  // Focus stayed in the form; the row's link is reachable and opens the event.
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('filter-userId');
  await page.getByRole('table', { name: 'Events' }).getByRole('link', { name: /security\.suspicious_activity/ }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`#/events/${ids.suspicious}$`));
  await context.close();
}, 60_000);

/** Reloads `path` until `locator` shows up: what stream consumers make (notifications, error groups) lags a little. */
async function eventually(page: Page, path: string, find: () => ReturnType<Page['getByRole']>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A fresh document each time: a hash-only navigation would keep the screen's cached answers.
    await page.goto('about:blank');
    await page.goto(`${stack.url}/#${path}`);
    await page.waitForLoadState('networkidle');
    if ((await find().count()) > 0) return;
    if (Date.now() > deadline) {
      await screenshot(page, `failed-${path.replace(/\W+/g, '-')}`);
      throw new Error(`nothing matching on ${path} after ${timeoutMs} ms`);
    }
    await page.waitForTimeout(1500);
  }
}

it('shows unread notifications, and resolves one with a note so it leaves the new list', async () => {
  const { context, page } = await signedIn(adminToken);
  const table = page.getByRole('table', { name: 'Notifications' });
  const failedPayment = () => table.locator('tbody tr').filter({ hasText: 'Failed payment' });
  await eventually(page, '/notifications', () => failedPayment());
  // The badge is part of the link's accessible name.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Notifications\s*\(\d+ unread\)$/ }).waitFor();
  await screenshot(page, '06-notifications');

  await failedPayment().first().getByRole('button', { name: 'Resolve…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Resolve notification' });
  await dialog.getByLabel('Note (optional)').fill('Card issuer outage, customer retried');
  await screenshot(page, '07-notification-resolve-dialog');
  await dialog.getByRole('button', { name: 'Resolve' }).click();
  await page.getByRole('status').filter({ hasText: /^Resolved “/ }).waitFor();
  await failedPayment().waitFor({ state: 'detached' });

  await page.getByRole('navigation', { name: 'Notification status' }).getByRole('link', { name: 'Resolved' }).click();
  const resolved = table.locator('tbody tr').filter({ hasText: 'Failed payment' });
  await resolved.waitFor();
  expect(await resolved.innerText()).toContain('Card issuer outage, customer retried');
  // The resolution is itself an audit event, with the admin's name on it.
  await page.goto(`${stack.url}/#/events?type=admin.notification.resolved`);
  await page.getByRole('table', { name: 'Events' }).locator('tbody tr').first().waitFor();
  await context.close();
}, 120_000);

it('opens an error group from the list, with its sparkline, and resolves it', async () => {
  const { context, page } = await signedIn(adminToken);
  const rows = () => page.getByRole('table', { name: 'Error groups' }).locator('tbody tr').filter({ hasText: 'TimeoutError' });
  await eventually(page, '/errors', rows);
  await rows().first().getByRole('img', { name: /in the last 24 hours/ }).waitFor();
  await screenshot(page, '08-errors');
  await rows().first().getByRole('link').first().click();
  await page.getByRole('button', { name: 'Resolve…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Resolve this error group' });
  await dialog.getByLabel('Note (optional)').fill('Raised the gateway timeout');
  await dialog.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Resolved.' }).waitFor();
  await page.getByRole('button', { name: 'Reopen…' }).waitFor();
  await screenshot(page, '09-error-detail');
  await context.close();
}, 120_000);

it('creates a rule with the form, and it fires on the next matching event', async () => {
  const { context, page } = await signedIn(adminToken);
  await page.goto(`${stack.url}/#/rules`);
  await page.getByRole('link', { name: 'New rule' }).click();
  // The form says what is wrong before anything is sent.
  await page.getByRole('button', { name: 'Create rule' }).click();
  await page.getByRole('alert').first().waitFor();
  await screenshot(page, '10-rule-form-invalid');

  // Typing after a failed save stays in the field (the summary took focus once, not at every keystroke).
  await page.getByLabel('Name').focus();
  await page.keyboard.type('Uploads failing');
  expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value)).toBe('Uploads failing');
  await page.getByLabel('Event type').fill('file.upload_failed');
  await page.getByRole('radio', { name: 'Every matching event' }).check();
  await page.getByRole('checkbox', { name: 'In-app', exact: true }).check();
  await page.getByRole('button', { name: 'Create rule' }).click();
  await page.getByRole('status').filter({ hasText: 'Rule “Uploads failing” created.' }).waitFor();
  await page.getByRole('row').filter({ hasText: 'Uploads failing' }).waitFor();
  await screenshot(page, '11-rules');

  await page.waitForTimeout(1500); // the rule cache's second
  await post([{ type: 'file.upload_failed', status: 'failure', actor: { userId: 'u-erin' }, page: '/editor', message: 'upload exceeded 25 MB' }]);
  const fired = () => page.getByRole('table', { name: 'Notifications' }).locator('tbody tr').filter({ hasText: 'Uploads failing' });
  await eventually(page, '/notifications', fired);
  expect(await fired().count()).toBe(1);

  // Its dry run over recent events finds both failed uploads.
  await page.goto(`${stack.url}/#/rules/uploads-failing`);
  await page.getByLabel('Days (1–30)').fill('1');
  await page.getByRole('button', { name: 'Test against recent events' }).click();
  await page.getByTestId('dry-run-result').waitFor();
  expect(await page.getByTestId('dry-run-result').innerText()).toMatch(/Matched\s*2/);
  await screenshot(page, '12-rule-edit-dry-run');
  await context.close();
}, 120_000);

it('issues an app key whose secret is shown once, and revokes it', async () => {
  const { context, page } = await signedIn(adminToken);
  await page.goto(`${stack.url}/#/app-keys`);
  await page.getByLabel('App name').fill('storefront');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('heading', { name: 'Key created for “storefront”' }).waitFor();
  const secret = await page.getByLabel('App key (secret)').inputValue();
  expect(secret).toMatch(/^atk_/);
  await screenshot(page, '13-app-key-created');
  // The key works: an event posted with it is accepted as the app `storefront`.
  const response = await fetch(`${stack.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': secret }, body: JSON.stringify({ type: 'user.page.viewed' }) });
  expect(response.status).toBe(200);

  await page.getByRole('button', { name: /hide the key/ }).click();
  expect(await page.content()).not.toContain(secret);
  await page.getByRole('button', { name: /Revoke the key for storefront/ }).click();
  await page.getByRole('button', { name: 'Revoke key' }).click();
  await page.getByRole('status').filter({ hasText: 'revoked' }).waitFor();
  await screenshot(page, '14-app-keys');
  await context.close();
}, 60_000);

it('exports the filtered events as CSV and downloads the file', async () => {
  const { context, page } = await signedIn(adminToken);
  await page.goto(`${stack.url}/#/events?userId=u-bob`);
  await page.getByRole('link', { name: 'Export…' }).click();
  await page.waitForURL(/#\/exports\?userId=u-bob/);
  await page.getByRole('radio', { name: /CSV/ }).check();
  await page.getByRole('button', { name: 'Create export' }).click();
  const download = page.getByRole('link', { name: 'Download CSV' });
  await download.waitFor({ timeout: 30_000 });
  await screenshot(page, '15-exports');
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
  const csv = await new Promise<string>((resolve, reject) => {
    void file.createReadStream().then((stream) => {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
    }, reject);
  });
  const lines = csv.trim().split(/\r?\n/);
  expect(lines).toHaveLength(4); // the header and u-bob's three events
  expect(lines.slice(1).every((line) => line.includes('u-bob'))).toBe(true);
  await context.close();
}, 60_000);

it('keeps admin actions from viewers', async () => {
  const { context, page } = await signedIn(viewerToken);
  const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts();
  expect(links.map((text) => text.replace(/[\s,]*\d[\s\S]*$/, '').trim())).toEqual(['Dashboard', 'Events', 'Notifications', 'Errors']);
  await page.goto(`${stack.url}/#/rules`);
  await page.getByText('This screen is for admins.').waitFor();
  // Notifications: a viewer marks them read, but resolving is for admins.
  const rows = page.getByRole('table', { name: 'Notifications' }).locator('tbody tr');
  await eventually(page, '/notifications', () => rows);
  expect(await rows.getByRole('button', { name: 'Mark read' }).count()).toBeGreaterThan(0);
  expect(await page.getByRole('button', { name: 'Resolve…' }).count()).toBe(0);
  // An error group: read, not triaged; no export link on the events screen.
  const groups = page.getByRole('table', { name: 'Error groups' }).locator('tbody tr');
  await eventually(page, '/errors', () => groups);
  await groups.first().getByRole('link').first().click();
  await page.getByRole('heading', { name: 'Occurrences, last 7 days (hourly)' }).waitFor();
  expect(await page.getByRole('button', { name: /^(Resolve|Ignore|Reopen)…$/ }).count()).toBe(0);
  await page.goto(`${stack.url}/#/events`);
  await page.getByRole('table', { name: 'Events' }).waitFor();
  expect(await page.getByRole('link', { name: 'Export…' }).count()).toBe(0);
  await screenshot(page, '16-events-as-viewer');
  await context.close();
}, 60_000);

it('sends a 401 back to the sign-in screen, saying why', async () => {
  // Well-formed and current, so the SPA signs in with it, but not signed by the stack's key: the API refuses it.
  const forged = await new SignJWT({ email: 'mallory@example.com', 'cognito:groups': ['admin'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('mallory')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode('not-the-local-stack-signing-key!!'));
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.url}/#token=${forged}`);
  await page.getByText('Your sign-in has expired or was revoked. Sign in again.').waitFor();
  await page.getByLabel('Bearer token').waitFor();
  expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([]);
  await screenshot(page, '00-sign-in');
  await context.close();
}, 60_000);

it('signs in through Cognito-style hosted sign-in with PKCE when config.json says so, renews the token, and signs out of it', async () => {
  // An identity provider on the stack's own origin (the CSP allows only that here), played by request routing.
  const authority = `${stack.url}/idp`;
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  let authorize: URL | undefined;
  let tokenRequest: URLSearchParams | undefined;
  const idToken = await issueLocalToken(dataDir, { role: 'viewer', user: 'cora@example.com' });
  await page.route('**/config.json', (route) =>
    route.fulfill({ json: { apiUrl: '', auth: { mode: 'cognito', authority, clientId: 'spa-client', redirectUri: `${stack.url}/`, domain: authority } } }),
  );
  await page.route(`${authority}/.well-known/openid-configuration`, (route) =>
    route.fulfill({ json: { issuer: authority, authorization_endpoint: `${authority}/authorize`, token_endpoint: `${authority}/token`, jwks_uri: `${authority}/jwks`, response_types_supported: ['code'] } }),
  );
  await page.route(`${authority}/authorize?*`, (route) => {
    authorize = new URL(route.request().url());
    return route.fulfill({ status: 302, headers: { location: `${stack.url}/?code=the-code&state=${authorize.searchParams.get('state')}` } });
  });
  // The code's tokens expire in 62 s, so renewal (60 s ahead) starts at once, with the refresh token.
  // The same person (a renewal must keep the subject), told apart by the group: promoted to admin meanwhile.
  const renewedToken = await issueLocalToken(dataDir, { role: 'admin', user: 'cora@example.com' });
  const refreshes: URLSearchParams[] = [];
  await page.route(`${authority}/token`, (route) => {
    const form = new URLSearchParams(route.request().postData() ?? '');
    if (form.get('grant_type') === 'refresh_token') {
      refreshes.push(form);
      return route.fulfill({ json: { id_token: renewedToken, access_token: 'access-2', token_type: 'Bearer', expires_in: 3600 } });
    }
    tokenRequest = form;
    return route.fulfill({ json: { id_token: idToken, access_token: 'access', refresh_token: 'the-refresh-token', token_type: 'Bearer', expires_in: 62 } });
  });

  await page.goto(`${stack.url}/#/events?severity=critical`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();

  expect(authorize?.searchParams.get('client_id')).toBe('spa-client');
  expect(authorize?.searchParams.get('response_type')).toBe('code');
  expect(authorize?.searchParams.get('redirect_uri')).toBe(`${stack.url}/`);
  expect(authorize?.searchParams.get('scope')).toBe('openid email profile');
  expect(authorize?.searchParams.get('code_challenge_method')).toBe('S256');
  // The verifier the SPA kept is the one whose SHA-256 it sent as the challenge.
  const verifier = tokenRequest?.get('code_verifier') ?? '';
  expect(verifier.length).toBeGreaterThanOrEqual(43);
  expect(createHash('sha256').update(verifier).digest('base64url')).toBe(authorize?.searchParams.get('code_challenge'));
  expect(tokenRequest?.get('code')).toBe('the-code');
  // Back on the screen sign-in started from, with the code and state gone from the address bar.
  await page.waitForURL(`${stack.url}/#/events?severity=critical`);
  await page.getByRole('table', { name: 'Events' }).waitFor();
  // Renewed in the background: the new ID token is the session's (and the bearer of what follows).
  await page.getByText('cora@example.com').waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rules' }).waitFor({ timeout: 15_000 });
  expect(refreshes[0]?.get('refresh_token')).toBe('the-refresh-token');
  const bearer = page.waitForRequest((request) => request.url().includes('/v1/events?') && request.headers().authorization === `Bearer ${renewedToken}`);
  await page.getByLabel('Severity', { exact: true }).selectOption('error');
  await bearer;

  // Signing out ends the hosted sign-in's session too (Cognito's /logout), and comes back signed out.
  let logout: URL | undefined;
  await page.route(`${authority}/logout?*`, (route) => {
    logout = new URL(route.request().url());
    return route.fulfill({ status: 302, headers: { location: `${stack.url}/` } });
  });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  expect(logout?.searchParams.get('client_id')).toBe('spa-client');
  expect(logout?.searchParams.get('logout_uri')).toBe(`${stack.url}/`);
  expect(await page.evaluate(() => Object.keys(sessionStorage).filter((key) => key.startsWith('oidc.user')))).toEqual([]);
  await context.close();
}, 60_000);
