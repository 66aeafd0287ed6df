/**
 * `npm run bench`: what ingestion costs, measured here.
 *
 * 1. The domain work per event (validate, default, redact, size-check) on one core.
 * 2. End to end through the local stack: HTTP, the API Gateway emulator, the
 *    real authorizer and handler, DynamoDB Local on disk. DynamoDB Local (a
 *    Java program over SQLite) is far slower than DynamoDB, so this bounds
 *    the local stack, not AWS.
 * 3. The write cost of one event on AWS, in write request units, from the
 *    item sizes the key design produces (DynamoDB's sizing rules).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulidx';
import { DEFAULT_CONFIG } from '../lib/config';
import { EVENTS_TABLE } from '../lib/declarations/tables';
import { toEventItem } from '../lambdas/core/event-keys';
import { prepareEvent } from '../lambdas/core/ingest';
import { ingestSettingsFromEnv } from '../lambdas/core/settings';
import { startLocalStack } from '../local/stack';

const settings = ingestSettingsFromEnv({});

/** A realistic mix: mostly activity, some failures with stacks, a few carrying secrets to redact. */
function sampleEvent(i: number): Record<string, unknown> {
  const user = `u-${i % 997}`;
  switch (i % 10) {
    case 0:
      return {
        type: 'payment.charge.failed',
        actor: { userId: user },
        record: { type: 'invoice', id: `INV-${1000 + (i % 5000)}` },
        message: `Card 4111 1111 1111 1111 declined for ${user}`,
        error: { name: 'CardDeclined', code: 'card_declined', message: 'Your card was declined.' },
        details: { amount: 4999, currency: 'EUR', attempt: 1 + (i % 3) },
      };
    case 1:
      return {
        type: 'api.request.failed',
        page: '/api/checkout',
        requestId: `req-${i}`,
        error: {
          name: 'TypeError',
          message: "Cannot read properties of undefined (reading 'total')",
          stack: "TypeError: Cannot read properties of undefined (reading 'total')\n    at computeTotal (/app/src/cart.ts:42:17)\n    at handler (/app/src/checkout.ts:88:5)",
        },
        details: { method: 'POST', status: 500, headers: { authorization: 'Bearer abc.def.ghi-token-value' } },
      };
    case 2:
      return { type: 'user.login.failed', actor: { userId: user, ip: '203.0.113.7' }, details: { reason: 'wrong_password', password: 'hunter2hunter2' } };
    default:
      return {
        type: 'user.page.viewed',
        page: `/dashboard/${i % 40}`,
        actor: { userId: user },
        sessionId: `s-${i % 300}`,
        message: 'Opened the dashboard',
        details: { referrer: 'https://example.com/landing', plan: 'pro', widgets: ['sales', 'traffic', 'alerts'] },
      };
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function benchCore(): void {
  const request = { source: 'bench', receivedAt: new Date() };
  const events = Array.from({ length: 1000 }, (_, i) => sampleEvent(i));
  for (let i = 0; i < 5000; i++) prepareEvent(events[i % 1000], request, settings); // warm up
  const rounds = 50_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) prepareEvent(events[i % 1000], request, settings);
  const perEventUs = Number(process.hrtime.bigint() - started) / 1000 / rounds;
  console.log('\n1. Domain work per event (validate + defaults + redaction + size check), one core');
  console.log(`   ${perEventUs.toFixed(1)} µs per event → ${Math.round(1e6 / perEventUs).toLocaleString('en')} events/s; a full batch of 100: ${(perEventUs / 10).toFixed(2)} ms`);
}

/** DynamoDB's item size: attribute names plus values (strings as UTF-8, numbers ~1 byte per 2 digits + 1). */
function itemBytes(item: Record<string, unknown>, attributes?: readonly string[]): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined || (attributes && !attributes.includes(name))) continue;
    bytes += Buffer.byteLength(name);
    bytes += typeof value === 'number' ? Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1 : Buffer.byteLength(String(value));
  }
  return bytes;
}

function writeCost(): void {
  console.log('\n3. Write cost of one event on AWS (1 WRU per started KB, base item + each index it lands in)');
  const request = { source: 'bench', receivedAt: new Date() };
  for (const [label, index] of [['page view (typical)', 3], ['payment failure with record', 0], ['API error with stack', 1]] as const) {
    const prepared = prepareEvent(sampleEvent(index), request, settings);
    if (!prepared.ok) throw new Error('sample event rejected');
    const item = toEventItem(prepared.event) as unknown as Record<string, unknown>;
    const base = itemBytes(item);
    const indexes = EVENTS_TABLE.indexes.filter((gsi) => item[gsi.partitionKey.name] !== undefined);
    const indexCosts = indexes.map((gsi) => {
      const projected = [EVENTS_TABLE.partitionKey.name, gsi.partitionKey.name, gsi.sortKey.name, ...(gsi.projection as readonly string[])];
      return Math.ceil(itemBytes(item, projected) / 1024);
    });
    const total = Math.ceil(base / 1024) + indexCosts.reduce((a, b) => a + b, 0);
    console.log(`   ${label.padEnd(30)} item ${base} B → base ${Math.ceil(base / 1024)} WRU + ${indexes.length} indexes (${indexes.map((g) => g.name).join(', ')}) ${indexCosts.reduce((a, b) => a + b, 0)} WRU = ${total} WRU`);
  }
}

async function benchLocalStack(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-bench-'));
  const apiKey = 'bench-ingest-key-0123456789';
  // WARN: the per-request INFO line would drown the figures.
  const stack = await startLocalStack({ port: 0, dataDir, ingestApiKey: apiKey, config: { ...DEFAULT_CONFIG, logLevel: 'WARN' }, log: () => undefined });
  try {
    const post = async (events: unknown[]) => {
      const started = performance.now();
      const response = await fetch(`${stack.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({ events }),
      });
      const body = (await response.json()) as { accepted: number };
      if (response.status !== 200 || body.accepted !== events.length) throw new Error(`unexpected answer ${response.status}`);
      return performance.now() - started;
    };
    await post(Array.from({ length: 20 }, (_, i) => ({ id: ulid(), ...sampleEvent(i) }))); // warm up

    console.log('\n2. End to end through the local stack (HTTP → authorizer → ingest handler → DynamoDB Local on disk)');
    for (const [batchSize, concurrency, total] of [[1, 4, 400], [100, 4, 2000]] as const) {
      const batches = Array.from({ length: total / batchSize }, (_, b) => Array.from({ length: batchSize }, (_, i) => ({ id: ulid(), ...sampleEvent(b * batchSize + i) })));
      const latencies: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < batches.length) latencies.push(await post(batches[next++]));
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      console.log(
        `   batches of ${String(batchSize).padStart(3)}, ${concurrency} clients: ${Math.round(total / seconds)} events/s; request latency p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms (${total} events)`,
      );
    }
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`Ingestion benchmark — node ${process.version}, ${new Date().toISOString()}`);
  benchCore();
  await benchLocalStack();
  writeCost();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
