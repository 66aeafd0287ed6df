import { createRedactor, readsAsSecret, type RedactionOptions } from '../../lambdas/core/redact';
import { defaultStorage, type QueueStorage, type StoredEvent } from './storage';
import { formatTraceparent, parseTraceparent } from './trace';
import type { AuditEventInput, EventFields, EventResult, EventType, WireEvent } from './types';
import { ulid } from './ulid';

export interface ClientOptions {
  /** The API's base URL (the stage URL on AWS, `http://127.0.0.1:3000` locally); events go to `POST {endpoint}/v1/events`. */
  endpoint: string;
  /** The app key (`x-api-key`). */
  apiKey: string;
  /** Events per request, at most 100 (the server's limit). Default 100. */
  batchSize?: number;
  /** How long an event may wait for a batch to fill before it is sent. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Events kept while the server cannot be reached; beyond it the oldest are dropped (with a warning). Default 1000. */
  maxQueueSize?: number;
  /** Exponential backoff with jitter between retries; `Retry-After` wins when the server sends one. */
  retry?: { baseDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  /** Identical events within this window are sent once, with `details.repeatCount`. 0 turns collapsing off. Default 2000 ms. */
  collapseWindowMs?: number;
  /** Where undelivered events are kept: localStorage in browsers, memory elsewhere (`fileStorage` from `/node` for a file). */
  storage?: QueueStorage;
  /** The server's extra redaction rules (cdk.json `redactionPatterns` / `redactionKeys`), to apply them before sending too. */
  redaction?: Pick<RedactionOptions, 'extraPatterns' | 'extraKeys'>;
  /** Fields every event gets unless it sets them (e.g. `sessionId`, `actor`). */
  defaults?: Omit<EventFields, 'id' | 'occurredAt'>;
  /** The current W3C `traceparent` (e.g. from OpenTelemetry's active span), stamped on events that carry no trace id. */
  traceparent?: () => string | undefined;
  /** The type `error()` gives an event; default `client.error` in browsers, `server.error` elsewhere. */
  errorType?: EventType;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** A fetch implementation (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
  /** Where the client reports what it dropped or could not deliver; `console.warn` by default. */
  onWarning?: (message: string) => void;
}

export interface ClientStats {
  /** Waiting to be sent (or retried). */
  queued: number;
  /** Acknowledged by the server (accepted or duplicate). */
  delivered: number;
  /** Refused by the server as invalid: dropped, with a warning. */
  rejected: number;
  /** Dropped by the client: queue full or out of attempts. */
  dropped: number;
  /** Events folded into an earlier identical one. */
  collapsed: number;
  /** Requests that failed and were (or will be) retried. */
  retries: number;
}

export interface AuditClient {
  /** Queues an event; returns its id. Redacted before it is queued, so no secret is stored or sent. */
  log<T extends EventType>(event: AuditEventInput<T>): string;
  /** Records a thrown error (name, message, stack, code) with optional context; returns the event's id. */
  error(error: unknown, context?: Partial<AuditEventInput>): string;
  /**
   * Sends what is queued, retrying through backoff until the queue is empty
   * or `timeoutMs` (default 10 s) has passed; resolves with what is still pending.
   */
  flush(options?: { timeoutMs?: number }): Promise<{ pending: number }>;
  /** Flushes (default 5 s), saves what is left to the storage and stops timers and listeners. */
  close(options?: { timeoutMs?: number }): Promise<{ pending: number }>;
  readonly stats: Readonly<ClientStats>;
}

interface Entry extends StoredEvent {
  /** Not before this time (ms): backoff of this event after a `failed` result. */
  notBefore: number;
  inFlight: boolean;
  collapseKey?: string;
  collapseUntil?: number;
}

const MAX_BATCH = 100;
/** The server takes 1 MB per request; stay under it with room for the envelope. */
const MAX_REQUEST_BYTES = 900 * 1024;
/** Browsers cap all keepalive request bodies in flight at 64 KB. */
const MAX_KEEPALIVE_BYTES = 60 * 1024;
/** Top-level correlation ids are named like secrets ("session") but are not: the server exempts the same ones. */
const CORRELATION_FIELDS = ['sessionId', 'requestId', 'traceId', 'spanId'];

const isBrowser = () => typeof window !== 'undefined' && typeof document !== 'undefined';

export function createClient(options: ClientOptions): AuditClient {
  if (!options.endpoint) throw new Error('createClient: endpoint is required');
  if (!options.apiKey) throw new Error('createClient: apiKey is required');
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/events`;
  const batchSize = Math.min(Math.max(1, options.batchSize ?? MAX_BATCH), MAX_BATCH);
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const maxQueueSize = Math.max(1, options.maxQueueSize ?? 1000);
  const baseDelayMs = options.retry?.baseDelayMs ?? 500;
  const maxDelayMs = options.retry?.maxDelayMs ?? 30_000;
  const maxAttempts = options.retry?.maxAttempts ?? Number.POSITIVE_INFINITY;
  const collapseWindowMs = options.collapseWindowMs ?? 2000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const storage = options.storage ?? defaultStorage();
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  const warn = options.onWarning ?? ((message: string) => console.warn(`[audit-trail] ${message}`));
  const errorType = options.errorType ?? (isBrowser() ? 'client.error' : 'server.error');
  const redact = createRedactor({ ...options.redaction, exemptPaths: CORRELATION_FIELDS });

  /** A ULID the server accepts: about one in ten million holds a digit run that reads as a card number. */
  function newId(): string {
    for (;;) {
      const id = ulid();
      if (!readsAsSecret(id)) return id;
    }
  }

  const queue: Entry[] = [];
  const stats: ClientStats = { queued: 0, delivered: 0, rejected: 0, dropped: 0, collapsed: 0, retries: 0 };
  /** Server-wide backoff (network down, 429, 5xx): nothing is sent before it. */
  let pausedUntil = 0;
  let consecutiveFailures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let pumping: Promise<void> | undefined;
  let closed = false;
  let requestBytes = MAX_REQUEST_BYTES;

  // ---------------------------------------------------------------- storage
  let saveScheduled = false;
  let saving: Promise<void> = Promise.resolve();
  const snapshot = (): StoredEvent[] => queue.map(({ event, attempts }) => ({ event, attempts }));
  const saveNow = () => {
    saveScheduled = false;
    saving = saving.then(() => storage.save(snapshot())).catch((error: unknown) => warn(`could not save the offline queue: ${String(error)}`));
    return saving;
  };
  /** Coalesces a burst of changes (a loop of log calls) into one write. */
  const scheduleSave = () => {
    if (saveScheduled) return;
    saveScheduled = true;
    queueMicrotask(() => {
      if (saveScheduled) void saveNow();
    });
  };

  // Events an earlier run (or page) left behind go first: they are older.
  const loaded = Promise.resolve()
    .then(() => storage.load())
    .then((stored) => {
      const known = new Set(queue.map((entry) => entry.event.id));
      const restored = (stored ?? [])
        .filter((item) => item && typeof item.event?.id === 'string' && !known.has(item.event.id))
        .map((item): Entry => ({ event: item.event, attempts: item.attempts ?? 0, notBefore: 0, inFlight: false }));
      queue.unshift(...restored);
      trim();
      // Only what an earlier run left is overdue; events logged since wait for their batch as usual.
      if (restored.length > 0) schedule(0);
    })
    .catch((error: unknown) => warn(`could not read the offline queue: ${String(error)}`));

  // ---------------------------------------------------------------- queueing
  function trim() {
    while (queue.length > maxQueueSize) {
      const oldest = queue.findIndex((entry) => !entry.inFlight);
      if (oldest < 0) break;
      queue.splice(oldest, 1);
      stats.dropped++;
      if (stats.dropped === 1 || stats.dropped % 100 === 0) warn(`offline queue full (${maxQueueSize}): dropped the oldest event (${stats.dropped} so far)`);
    }
    stats.queued = queue.length;
  }

  function prepare(input: AuditEventInput): WireEvent {
    const { occurredAt, ...rest } = input;
    const merged = { ...options.defaults, ...rest } as EventFields & { type: string };
    if (options.defaults?.details && rest.details) merged.details = { ...options.defaults.details, ...rest.details };
    if (options.defaults?.actor && rest.actor) merged.actor = { ...options.defaults.actor, ...rest.actor };
    if (!merged.traceId && options.traceparent) {
      const trace = parseTraceparent(options.traceparent());
      if (trace) Object.assign(merged, { traceId: trace.traceId, spanId: merged.spanId ?? trace.spanId });
    }
    const event: WireEvent = {
      ...merged,
      id: merged.id ?? newId(),
      occurredAt: occurredAt instanceof Date ? occurredAt.toISOString() : (occurredAt ?? new Date().toISOString()),
    };
    // The server's rules, before the event is queued (and stored offline) or sent. Not on the id: rewriting
    // it would break retries; the server refuses an id that reads as a secret instead.
    const { id, ...fields } = event;
    const { value, count, paths } = redact(fields);
    if (count > 0) value.details = { ...value.details, clientRedaction: { count, paths } };
    return { id, ...value };
  }

  /** Identity of an event for collapsing: everything but its id and time. */
  function collapseKeyOf(event: WireEvent): string {
    const { id: _id, occurredAt: _at, ...rest } = event;
    return stableJson(rest);
  }

  function log<T extends EventType>(input: AuditEventInput<T>): string {
    if (closed) {
      warn('log() after close(): event dropped');
      return '';
    }
    const event = prepare(input as AuditEventInput);
    const now = Date.now();
    if (collapseWindowMs > 0 && input.id === undefined) {
      const key = collapseKeyOf(event);
      const earlier = queue.find((entry) => entry.collapseKey === key && !entry.inFlight && (entry.collapseUntil ?? 0) >= now);
      if (earlier) {
        const count = Number(earlier.event.details?.repeatCount ?? 1) + 1;
        earlier.event = { ...earlier.event, details: { ...earlier.event.details, repeatCount: count, lastOccurredAt: event.occurredAt } };
        stats.collapsed++;
        scheduleSave();
        return earlier.event.id;
      }
      queue.push({ event, attempts: 0, notBefore: 0, inFlight: false, collapseKey: key, collapseUntil: now + collapseWindowMs });
    } else {
      queue.push({ event, attempts: 0, notBefore: 0, inFlight: false });
    }
    trim();
    scheduleSave();
    const ready = queue.filter((entry) => !entry.inFlight).length;
    schedule(ready >= batchSize ? 0 : flushIntervalMs);
    return event.id;
  }

  function error(thrown: unknown, context: Partial<AuditEventInput> = {}): string {
    const err = thrown instanceof Error ? thrown : new Error(typeof thrown === 'string' ? thrown : safeString(thrown));
    const code = (err as { code?: unknown }).code;
    return log({
      ...context,
      type: (context.type ?? errorType) as EventType,
      message: context.message ?? err.message,
      error: {
        name: err.name,
        message: err.message,
        ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
        ...(err.stack ? { stack: err.stack } : {}),
        ...context.error,
      },
    } as AuditEventInput);
  }

  // ---------------------------------------------------------------- sending
  function schedule(delayMs: number) {
    if (closed && delayMs > 0) return;
    const at = Date.now() + Math.max(0, delayMs);
    if (timer !== undefined && timerAt <= at) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      void pump();
    }, Math.max(0, delayMs));
    // A pending retry must not keep a Node process alive; close() flushes explicitly.
    (timer as { unref?: () => void }).unref?.();
  }

  function backoff(attempt: number): number {
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
    // "Equal jitter": at least half the step, so clients that failed together do not retry together.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** Sends ready batches one request at a time until nothing is ready. Single-flight. */
  function pump(): Promise<void> {
    pumping ??= (async () => {
      try {
        await loaded;
        for (;;) {
          const now = Date.now();
          if (now < pausedUntil) {
            schedule(pausedUntil - now);
            return;
          }
          const batch = nextBatch(now, requestBytes);
          if (batch.length === 0) {
            const waiting = queue.filter((entry) => !entry.inFlight).map((entry) => entry.notBefore);
            if (waiting.length > 0) schedule(Math.min(...waiting) - now);
            return;
          }
          await send(batch, false);
        }
      } finally {
        pumping = undefined;
      }
    })();
    return pumping;
  }

  function nextBatch(now: number, maxBytes: number): Entry[] {
    const batch: Entry[] = [];
    let bytes = 16;
    for (const entry of queue) {
      if (batch.length >= batchSize) break;
      if (entry.inFlight || entry.notBefore > now) continue;
      const size = utf8Length(JSON.stringify(entry.event)) + 1;
      // One oversized event still goes alone: the server answers for it (rejected), and the queue moves on.
      if (batch.length > 0 && bytes + size > maxBytes) break;
      batch.push(entry);
      bytes += size;
    }
    return batch;
  }

  function retryAfterMs(response: Response): number | undefined {
    const header = response.headers.get('retry-after');
    if (!header) return undefined;
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(header);
    return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
  }

  function remove(entry: Entry) {
    const at = queue.indexOf(entry);
    if (at >= 0) queue.splice(at, 1);
  }

  /** After a failure of the whole request: every event of it waits, the client pauses. */
  function failRequest(batch: Entry[], delayMs: number, reason: string) {
    consecutiveFailures++;
    stats.retries++;
    pausedUntil = Date.now() + delayMs;
    for (const entry of batch) {
      entry.inFlight = false;
      entry.attempts++;
      entry.collapseKey = undefined;
      if (entry.attempts >= maxAttempts) {
        remove(entry);
        stats.dropped++;
        warn(`event ${entry.event.id} dropped after ${entry.attempts} attempts (${reason})`);
      }
    }
    if (consecutiveFailures === 1 || consecutiveFailures % 10 === 0) warn(`delivery failed (${reason}); retrying in ${Math.round(delayMs)} ms`);
  }

  async function send(batch: Entry[], keepalive: boolean): Promise<void> {
    for (const entry of batch) {
      entry.inFlight = true;
      // Sent: a later identical event starts a new one rather than changing what is on its way.
      entry.collapseKey = undefined;
    }
    const traceIds = new Set(batch.map((entry) => entry.event.traceId));
    const first = batch[0].event;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': options.apiKey };
    if (traceIds.size === 1 && first.traceId && first.spanId && /^[0-9a-f]{32}$/.test(first.traceId) && /^[0-9a-f]{16}$/.test(first.spanId)) {
      headers.traceparent = formatTraceparent({ traceId: first.traceId, spanId: first.spanId, flags: '01' });
    }
    const controller = typeof AbortController === 'undefined' ? undefined : new AbortController();
    const timeout = setTimeout(() => controller?.abort(), timeoutMs);
    (timeout as { unref?: () => void }).unref?.();
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ events: batch.map((entry) => entry.event) }),
        keepalive,
        signal: controller?.signal,
      });
    } catch (cause) {
      failRequest(batch, backoff(consecutiveFailures + 1), `network: ${(cause as Error).message ?? String(cause)}`);
      scheduleSave();
      return;
    } finally {
      clearTimeout(timeout);
    }

    let body: { results?: EventResult[]; error?: { code?: string; message?: string } } | undefined;
    try {
      body = (await response.json()) as typeof body;
    } catch {
      body = undefined;
    }
    const retryAfter = retryAfterMs(response);
    const results = Array.isArray(body?.results) ? body.results : undefined;

    if (results) {
      // Per-event answers (200, 207, 400 invalid_event, 503 write_failed): only `failed` events are retried.
      if (response.ok) consecutiveFailures = 0;
      let failed = 0;
      batch.forEach((entry, index) => {
        const result = results.find((r) => r.index === index);
        entry.inFlight = false;
        if (!result) return;
        if (result.status === 'accepted' || result.status === 'duplicate') {
          remove(entry);
          stats.delivered++;
        } else if (result.status === 'rejected') {
          remove(entry);
          stats.rejected++;
          warn(`event ${entry.event.id} (${entry.event.type}) rejected: ${result.errors.map((e) => (e.path ? `${e.path} ${e.message}` : e.message)).join('; ')}`);
        } else {
          failed++;
          entry.attempts++;
          entry.notBefore = Date.now() + Math.max(retryAfter ?? 0, backoff(entry.attempts));
          if (entry.attempts >= maxAttempts) {
            remove(entry);
            stats.dropped++;
            warn(`event ${entry.event.id} dropped after ${entry.attempts} attempts (${(result as { message?: string }).message ?? "not stored"})`);
          }
        }
      });
      if (failed > 0) stats.retries++;
    } else if (response.status === 429 || response.status >= 500) {
      // Throttled or unavailable: honour Retry-After exactly when given.
      failRequest(batch, retryAfter ?? backoff(consecutiveFailures + 1), `HTTP ${response.status}${body?.error?.code ? ` ${body.error.code}` : ''}`);
    } else if (response.status === 413 && batch.length > 1) {
      // Too large for the server (or a proxy): send smaller requests from now on.
      requestBytes = Math.max(16 * 1024, Math.floor(requestBytes / 2));
      for (const entry of batch) entry.inFlight = false;
    } else if (response.status === 401 || response.status === 403) {
      // A wrong or revoked key: keep the events (a new deployment may fix the key) and retry slowly.
      failRequest(batch, maxDelayMs, `HTTP ${response.status}: the app key was refused`);
    } else {
      // Anything else cannot get better by sending the same request again.
      for (const entry of batch) {
        remove(entry);
        stats.rejected++;
      }
      warn(`${batch.length} event(s) dropped: HTTP ${response.status} ${body?.error?.code ?? ''} ${body?.error?.message ?? ''}`.trim());
    }
    stats.queued = queue.length;
    scheduleSave();
  }

  async function flush({ timeoutMs: waitMs = 10_000 }: { timeoutMs?: number } = {}): Promise<{ pending: number }> {
    await loaded;
    const deadline = Date.now() + waitMs;
    // An explicit flush does not wait for the batching interval.
    for (;;) {
      await pump();
      if (queue.length === 0) break;
      const now = Date.now();
      const readyAt = Math.max(pausedUntil, Math.min(...queue.map((entry) => (entry.inFlight ? now + 10 : entry.notBefore))));
      if (readyAt >= deadline) break;
      await sleep(Math.max(10, readyAt - now));
    }
    await saveNow();
    return { pending: queue.length };
  }

  // ---------------------------------------------------------------- browser lifecycle
  /**
   * Page going away: the queue is already in localStorage (synchronous), so
   * nothing is lost if these requests die with the page; they are sent with
   * `keepalive` (which, unlike sendBeacon, can carry the x-api-key header)
   * in requests of at most 60 KB, the browsers' keepalive budget.
   */
  function onPageHide() {
    if (saveScheduled) void saveNow();
    let budget = MAX_KEEPALIVE_BYTES;
    const now = Date.now();
    while (budget > 1024) {
      const batch = nextBatch(now, budget);
      if (batch.length === 0) break;
      budget -= batch.reduce((sum, entry) => sum + utf8Length(JSON.stringify(entry.event)), 0);
      void send(batch, true);
    }
  }
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') onPageHide();
  };
  const onOnline = () => {
    // The network is back: no reason to wait out the backoff.
    pausedUntil = 0;
    for (const entry of queue) entry.notBefore = 0;
    schedule(0);
  };
  if (isBrowser() && typeof window.addEventListener === 'function') {
    window.addEventListener('pagehide', onPageHide);
    window.addEventListener('online', onOnline);
    document.addEventListener('visibilitychange', onVisibility);
  }

  async function close({ timeoutMs: waitMs = 5000 }: { timeoutMs?: number } = {}): Promise<{ pending: number }> {
    const result = await flush({ timeoutMs: waitMs });
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (isBrowser() && typeof window.removeEventListener === 'function') {
      window.removeEventListener('pagehide', onPageHide);
      window.removeEventListener('online', onOnline);
      document.removeEventListener('visibilitychange', onVisibility);
    }
    await saveNow();
    return result;
  }

  return {
    log,
    error,
    flush,
    close,
    get stats() {
      return { ...stats, queued: queue.length };
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) bytes += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return bytes;
}

/** JSON with object keys sorted, so that two equal events give one string whatever their key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}
