import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { seededRandom } from '../local/seeded-random';
import { localStackStateFile } from '../local/stack';

/**
 * `npm run seed -- [--events 400] [--hours 24] [--seed 7]`: sends a plausible day of events to the running
 * local stack through the public ingestion route (so redaction, rules, error groups and stats all see them):
 * page views and logins, failed logins with a password in them, payments (some failing, card numbers
 * included), invoices with a history, API errors with stack traces, and the odd security alert.
 */
const { values } = parseArgs({
  options: { events: { type: 'string', default: '400' }, hours: { type: 'string', default: '24' }, seed: { type: 'string', default: '7' } },
});
const count = Number(values.events);
const hours = Number(values.hours);
if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new Error('--events must be 1–100000');
if (!(hours > 0 && hours <= 24 * 90)) throw new Error('--hours must be more than 0 and at most 2160');

const random = seededRandom(Number(values.seed));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const users = Array.from({ length: 24 }, (_, i) => `u-${100 + i}`);
const pages = ['/home', '/pricing', '/checkout', '/account', '/invoices', '/editor', '/settings'];
const invoices = Array.from({ length: 8 }, (_, i) => `INV-${1001 + i}`);

type Draft = Record<string, unknown>;
/** Each kind of event with its weight in the mix. */
const kinds: Array<[number, (userId: string) => Draft]> = [
  [30, (userId) => ({ type: 'user.page.viewed', actor: { userId }, page: pick(pages) })],
  [12, (userId) => ({ type: 'user.login.succeeded', actor: { userId, ip: `203.0.113.${Math.floor(random() * 250)}` }, page: '/login' })],
  [6, (userId) => ({ type: 'user.login.failed', status: 'failure', actor: { userId }, page: '/login', message: 'wrong password', details: { password: 'hunter2-' + userId, attempts: 1 + Math.floor(random() * 4) } })],
  [8, (userId) => ({ type: 'payment.charge.succeeded', actor: { userId }, page: '/checkout', details: { amount: Math.round(random() * 20000) / 100, currency: 'EUR' } })],
  [3, (userId) => ({ type: 'payment.charge.failed', status: 'failure', actor: { userId }, page: '/checkout', message: `card declined for card 4111 1111 1111 1111`, details: { reason: pick(['insufficient_funds', 'expired_card', 'do_not_honor']), card: '4242424242424242' } })],
  [5, (userId) => {
    const invoice = pick(invoices);
    return { type: pick(['payment.invoice.created', 'content.page.updated', 'payment.refund.issued']), actor: { userId }, record: { type: 'invoice', id: invoice }, page: '/invoices', message: `invoice ${invoice} changed` };
  }],
  [5, (userId) => ({ type: 'api.request.failed', status: 'failure', actor: { userId }, page: pick(['/checkout', '/account']), error: { name: 'TimeoutError', message: `upstream payments-gateway timed out after ${2000 + Math.floor(random() * 3000)} ms`, stack: 'TimeoutError: upstream payments-gateway timed out\n    at callGateway (/app/src/payments/gateway.ts:88:11)\n    at charge (/app/src/payments/charge.ts:41:5)' } })],
  [3, (userId) => ({ type: 'database.error', status: 'failure', actor: { userId }, page: '/invoices', error: { name: 'DeadlockError', message: 'deadlock detected while updating invoices', stack: 'DeadlockError: deadlock detected\n    at Pool.query (/app/node_modules/pg/lib/pool.js:45:11)\n    at saveInvoice (/app/src/billing/invoices.ts:120:9)' } })],
  [2, (userId) => ({ type: 'file.upload_failed', status: 'failure', actor: { userId }, page: '/editor', message: 'upload exceeded 25 MB' })],
  [2, (userId) => ({ type: 'security.access.denied', status: 'failure', actor: { userId }, page: '/settings', message: 'viewer tried to open admin settings' })],
  [1, (userId) => ({ type: 'security.suspicious_activity', severity: 'critical', actor: { userId, ip: '198.51.100.7' }, message: 'login from a new country followed by a password change', details: { token: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig' } })],
];
const totalWeight = kinds.reduce((sum, [weight]) => sum + weight, 0);
function draft(occurredAt: Date): Draft {
  let roll = random() * totalWeight;
  for (const [weight, make] of kinds) {
    roll -= weight;
    if (roll <= 0) return { ...make(pick(users)), occurredAt: occurredAt.toISOString() };
  }
  return { type: 'user.page.viewed', occurredAt: occurredAt.toISOString() };
}

async function main(): Promise<void> {
  const stateFile = localStackStateFile(resolve(process.env.LOCAL_DATA_DIR ?? '.local'));
  if (!existsSync(stateFile)) throw new Error('The local stack is not running: start it with `npm start`.');
  const { url } = JSON.parse(readFileSync(stateFile, 'utf8')) as { url: string };
  const apiKey = process.env.INGEST_API_KEY ?? 'local-ingest-key';
  const now = Date.now();
  const events = Array.from({ length: count }, () => draft(new Date(now - random() * hours * 3_600_000))).sort((a, b) => String(a.occurredAt).localeCompare(String(b.occurredAt)));
  let accepted = 0;
  for (let i = 0; i < events.length; i += 100) {
    const response = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ events: events.slice(i, i + 100) }),
    });
    const body = (await response.json()) as { results?: Array<{ status: string }> };
    if (response.status >= 400 && response.status !== 207) throw new Error(`POST /v1/events answered ${response.status}: ${JSON.stringify(body).slice(0, 500)}`);
    accepted += body.results?.filter((result) => result.status === 'accepted').length ?? 0;
  }
  console.log(`Sent ${events.length} events over the last ${hours} h to ${url}: ${accepted} accepted.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
