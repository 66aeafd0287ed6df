/**
 * Reads a table's DynamoDB stream (DynamoDB Local's real one) the way a
 * Lambda event source mapping does, and feeds the records to a handler in
 * Lambda's `DynamoDBStreamEvent` shape.
 *
 * What it reproduces: parent-before-child shard order, one batch in flight
 * per shard, batch size and batching window, filter criteria (as a
 * predicate), partial batch responses, retries, bisect on error, an on-failure
 * destination, and a checkpoint per shard that survives restarts.
 *
 * Deliberate choices where Lambda's documentation leaves room:
 * - retryAttempts counts retries after the first invocation (Lambda's
 *   MaximumRetryAttempts); a negative value retries forever.
 * - Splitting a batch on error (bisectOnError) is not itself a retry: the
 *   halves carry the attempt count of the set they came from, and retries
 *   are counted only once a set cannot be split further (one record) or was
 *   narrowed by a partial batch response. A poison record thus ends up alone
 *   in onFailure while its neighbours go through.
 * - A retry re-sends exactly the remaining records of the failed set (after
 *   a partial response: from the first failed record on), with exponential
 *   backoff between attempts.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DescribeTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type AttributeValue as StreamAttributeValue,
  type DynamoDBStreamsClientConfig,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent, StreamRecord } from 'aws-lambda';

/** Pause between GetRecords calls when a shard has nothing new. */
export const STREAM_POLL_IDLE_MS = 250;
/** How often the shard list is re-read to find new shards (also done as soon as a shard closes). */
export const STREAM_SHARD_REFRESH_MS = 5_000;
/** First pause before retrying a failed batch; doubles per attempt up to STREAM_RETRY_MAX_DELAY_MS. */
export const STREAM_RETRY_BASE_DELAY_MS = 100;
export const STREAM_RETRY_MAX_DELAY_MS = 5_000;
/** Pause after an unexpected error talking to DynamoDB (Local) before trying again. */
export const STREAM_ERROR_BACKOFF_MS = 1_000;
/** Records asked for per GetRecords call (the service maximum). */
export const STREAM_GET_RECORDS_LIMIT = 1_000;

export type StreamBatchResult = { batchItemFailures: { itemIdentifier: string }[] } | void;

export interface StreamPollerOptions {
  /** Any AWS SDK v3 client config (endpoint, region, credentials), e.g. `localAwsClientConfig(endpoint)`. */
  clientConfig: object;
  tableName: string;
  batchSize: number;
  maxBatchingWindowMs: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** The local stand-in for event source filter criteria: records it rejects are skipped. */
  filter?: (record: DynamoDBRecord) => boolean;
  handler: (event: DynamoDBStreamEvent) => Promise<StreamBatchResult>;
  retryAttempts: number;
  bisectOnError: boolean;
  /** The on-failure destination: records whose retries ran out. */
  onFailure?: (records: DynamoDBRecord[], error: unknown) => Promise<void>;
  /** JSON file keeping the last processed sequence number per shard; one file per poller. */
  checkpointFile?: string;
  log?: (msg: string) => void;
}

export interface StreamPoller {
  /** Resolves once the poller is positioned on every shard found at start (or when stopped). */
  ready: Promise<void>;
  /** Ends polling promptly and waits for the handler call in flight, if any. */
  stop(): Promise<void>;
}

interface Entry {
  record: DynamoDBRecord;
  seq: string;
  /** Where the checkpoint may move once this record is done: past any filtered-out records that follow it. */
  advanceTo: string;
  readAt: number;
}

type InvokeOutcome = { ok: true } | { ok: false; error: unknown; failedAt?: number };

export function pollTableStream(opts: StreamPollerOptions): StreamPoller {
  const log = opts.log ?? (() => {});
  const label = `stream ${opts.tableName}`;
  const batchSize = Math.max(1, Math.floor(opts.batchSize));
  const windowMs = Math.max(0, opts.maxBatchingWindowMs);
  const controller = new AbortController();
  const signal = controller.signal;
  let stopped = false;

  const ddb = new DynamoDBClient(opts.clientConfig as DynamoDBClientConfig);
  const streams = new DynamoDBStreamsClient(opts.clientConfig as DynamoDBStreamsClientConfig);
  const checkpoints = new CheckpointStore(opts.checkpointFile, (msg) => log(`${label}: ${msg}`));
  const coordinator = new Napper(signal);
  const workers = new Map<string, Promise<void>>();

  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));

  const main = (async () => {
    try {
      await run();
    } catch (err) {
      if (!stopped) log(`${label}: poller failed: ${describeError(err)}`);
    } finally {
      await Promise.allSettled(workers.values());
      resolveReady();
    }
  })();

  let stopping: Promise<void> | undefined;
  return {
    ready,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        controller.abort();
        await main;
        await checkpoints.flushed();
        ddb.destroy();
        streams.destroy();
      })();
      return stopping;
    },
  };

  async function run(): Promise<void> {
    const streamArn = await resolveStreamArn();
    if (!streamArn) return;
    await checkpoints.load(streamArn);
    // LATEST only means something the first time this poller meets the stream;
    // after that the checkpoint says where to go on.
    const latestAtStart = opts.startingPosition === 'LATEST' && !checkpoints.hasStoredState;
    const known = new Map<string, Shard>();
    let firstRound = true;

    while (!stopped) {
      let shards: Shard[];
      try {
        shards = await describeShards(streamArn);
      } catch (err) {
        if (stopped) break;
        log(`${label}: DescribeStream failed, retrying: ${describeError(err)}`);
        await coordinator.nap(STREAM_ERROR_BACKOFF_MS);
        continue;
      }
      known.clear();
      for (const shard of shards) if (shard.ShardId) known.set(shard.ShardId, shard);
      await checkpoints.prune(new Set(known.keys()));

      const latestShards = new Set<string>();
      if (firstRound && latestAtStart) {
        for (const shard of shards) {
          if (!shard.ShardId) continue;
          // A closed shard gets no new records: LATEST has nothing to read there.
          if (shard.SequenceNumberRange?.EndingSequenceNumber) await checkpoints.markEnded(shard.ShardId);
          else latestShards.add(shard.ShardId);
        }
      }

      const positioned: Promise<void>[] = [];
      for (const shard of shards) {
        const id = shard.ShardId;
        if (!id || workers.has(id) || checkpoints.isEnded(id)) continue;
        const parent = shard.ParentShardId;
        // Parent before child; a parent no longer listed was trimmed, so the child may go.
        if (parent && known.has(parent) && !checkpoints.isEnded(parent)) continue;
        let markPositioned!: () => void;
        positioned.push(new Promise<void>((resolve) => (markPositioned = resolve)));
        const worker = readShard(streamArn, id, latestShards.has(id), markPositioned)
          .catch((err) => {
            if (!stopped) log(`${label}: shard ${id} reader failed, restarting it: ${describeError(err)}`);
          })
          .finally(() => {
            markPositioned();
            workers.delete(id);
            coordinator.wake();
          });
        workers.set(id, worker);
      }
      if (firstRound) {
        firstRound = false;
        void Promise.all(positioned).then(resolveReady);
      }
      await coordinator.nap(STREAM_SHARD_REFRESH_MS);
    }
  }

  async function resolveStreamArn(): Promise<string | undefined> {
    let lastProblem = '';
    while (!stopped) {
      let problem: string;
      try {
        const { Table } = await ddb.send(new DescribeTableCommand({ TableName: opts.tableName }), { abortSignal: signal });
        if (Table?.LatestStreamArn && Table.StreamSpecification?.StreamEnabled !== false) return Table.LatestStreamArn;
        problem = 'the table has no stream enabled';
      } catch (err) {
        if (stopped) return undefined;
        problem = describeError(err);
      }
      if (problem !== lastProblem) log(`${label}: waiting for the table's stream (${problem})`);
      lastProblem = problem;
      await coordinator.nap(STREAM_ERROR_BACKOFF_MS);
    }
    return undefined;
  }

  async function describeShards(streamArn: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }),
        { abortSignal: signal },
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start && !stopped);
    return shards;
  }

  /** Reads one shard to its end (or until stopped), delivering batches in order. */
  async function readShard(streamArn: string, shardId: string, latest: boolean, positioned: () => void): Promise<void> {
    // Position of the last record read from the shard (buffered or done); reads resume after it.
    let lastReadSeq = checkpoints.sequenceOf(shardId);
    // undefined: need an iterator; null: the shard is closed and fully read.
    let iterator: string | null | undefined;
    const buffer: Entry[] = [];
    log(`${label}: reading shard ${shardId} ${lastReadSeq ? `after ${lastReadSeq}` : latest ? 'from LATEST' : 'from TRIM_HORIZON'}`);

    const acquire = async (): Promise<string | null | undefined> => {
      while (!stopped) {
        const type: ShardIteratorType = lastReadSeq ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON';
        try {
          const { ShardIterator } = await streams.send(
            new GetShardIteratorCommand({
              StreamArn: streamArn,
              ShardId: shardId,
              ShardIteratorType: type,
              SequenceNumber: lastReadSeq,
            }),
            { abortSignal: signal },
          );
          return ShardIterator ?? null;
        } catch (err) {
          if (stopped) return undefined;
          const name = errorName(err);
          if (name === 'ResourceNotFoundException') {
            log(`${label}: shard ${shardId} no longer exists`);
            return null;
          }
          if (name === 'TrimmedDataAccessException' && lastReadSeq) {
            log(`${label}: shard ${shardId}: records after ${lastReadSeq} were trimmed; going on from the oldest record left`);
            lastReadSeq = undefined;
            continue;
          }
          log(`${label}: GetShardIterator on ${shardId} failed, retrying: ${describeError(err)}`);
          await sleep(STREAM_ERROR_BACKOFF_MS, signal);
        }
      }
      return undefined;
    };

    /** One GetRecords call; returns the records, or undefined after an error that was dealt with. */
    const fetch = async (): Promise<_Record[] | undefined> => {
      if (!iterator) return undefined;
      try {
        const res = await streams.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: STREAM_GET_RECORDS_LIMIT }),
          { abortSignal: signal },
        );
        iterator = res.NextShardIterator ?? null;
        return res.Records ?? [];
      } catch (err) {
        if (stopped) return undefined;
        const name = errorName(err);
        if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') {
          log(`${label}: GetRecords on ${shardId} failed, retrying: ${describeError(err)}`);
          await sleep(STREAM_ERROR_BACKOFF_MS, signal);
        }
        iterator = undefined; // get a fresh one after lastReadSeq
        return undefined;
      }
    };

    iterator = await acquire();
    if (latest) {
      // LATEST as a sequence number: read to the tip without delivering and
      // checkpoint there, so a restart neither replays history nor skips what
      // came in meanwhile.
      while (!stopped && iterator !== null) {
        if (iterator === undefined) {
          iterator = await acquire();
          continue;
        }
        const records = await fetch();
        if (!records) continue;
        if (records.length === 0) break;
        lastReadSeq = records.at(-1)?.dynamodb?.SequenceNumber ?? lastReadSeq;
      }
      // Even an empty shard gets an entry, so the next start knows LATEST was
      // already applied and reads what arrived meanwhile from the start.
      if (lastReadSeq) await checkpoints.advance(shardId, lastReadSeq);
      else await checkpoints.touch(shardId);
    }
    positioned();

    while (!stopped) {
      if (
        buffer.length >= batchSize ||
        (buffer.length > 0 && (iterator === null || Date.now() - buffer[0]!.readAt >= windowMs))
      ) {
        const batch = buffer.splice(0, batchSize);
        if (!(await deliver(shardId, batch))) return;
        continue;
      }
      if (iterator === null) {
        await checkpoints.markEnded(shardId, lastReadSeq);
        log(`${label}: shard ${shardId} closed and fully read`);
        return;
      }
      if (iterator === undefined) {
        iterator = await acquire();
        continue;
      }
      const records = await fetch();
      if (!records) continue;

      let skippedTo: string | undefined;
      for (const raw of records) {
        const seq = raw.dynamodb?.SequenceNumber;
        if (!seq) continue;
        lastReadSeq = seq;
        const record = toLambdaRecord(raw, streamArn);
        if (passesFilter(record)) {
          buffer.push({ record, seq, advanceTo: seq, readAt: Date.now() });
        } else if (buffer.length > 0) {
          buffer[buffer.length - 1]!.advanceTo = seq;
        } else {
          // Nothing pending before it: everything up to here is done.
          skippedTo = seq;
        }
      }
      if (skippedTo) await checkpoints.advance(shardId, skippedTo);

      if (records.length === 0 && iterator !== null) {
        const waited = buffer.length > 0 ? Date.now() - buffer[0]!.readAt : 0;
        const pause = buffer.length > 0 ? Math.min(STREAM_POLL_IDLE_MS, windowMs - waited) : STREAM_POLL_IDLE_MS;
        if (pause > 0) await sleep(pause, signal);
      }
    }
  }

  function passesFilter(record: DynamoDBRecord): boolean {
    if (!opts.filter) return true;
    try {
      return opts.filter(record);
    } catch (err) {
      log(`${label}: filter threw, record ${record.dynamodb?.SequenceNumber} skipped: ${describeError(err)}`);
      return false;
    }
  }

  /**
   * Delivers one batch with Lambda's failure semantics. Returns false when
   * stopped before the batch was settled (nothing past it is checkpointed, so
   * a restart delivers it again).
   */
  async function deliver(shardId: string, batch: Entry[]): Promise<boolean> {
    const queue: { entries: Entry[]; attempts: number }[] = [{ entries: batch, attempts: 0 }];
    while (queue.length > 0) {
      if (stopped) return false;
      const job = queue[0]!;
      const outcome = await invoke(job.entries);
      if (outcome.ok) {
        await checkpoints.advance(shardId, job.entries.at(-1)!.advanceTo);
        queue.shift();
        continue;
      }
      if (outcome.failedAt !== undefined) {
        // Partial batch response: what precedes the first failure is done.
        if (outcome.failedAt > 0) {
          await checkpoints.advance(shardId, job.entries[outcome.failedAt - 1]!.advanceTo);
          job.entries = job.entries.slice(outcome.failedAt);
        }
        job.attempts++;
      } else if (opts.bisectOnError && job.entries.length > 1) {
        const half = Math.ceil(job.entries.length / 2);
        log(`${label}: handler failed on ${job.entries.length} records, splitting the batch: ${describeError(outcome.error)}`);
        queue.splice(
          0,
          1,
          { entries: job.entries.slice(0, half), attempts: job.attempts },
          { entries: job.entries.slice(half), attempts: job.attempts },
        );
        continue;
      } else {
        job.attempts++;
      }

      if (opts.retryAttempts >= 0 && job.attempts > opts.retryAttempts) {
        if (!(await sendToFailure(job.entries, outcome.error, job.attempts))) return false;
        await checkpoints.advance(shardId, job.entries.at(-1)!.advanceTo);
        queue.shift();
        continue;
      }
      log(
        `${label}: handler failed on ${job.entries.length} record(s) from ${job.entries[0]!.seq}, ` +
          `retry ${job.attempts}${opts.retryAttempts >= 0 ? ` of ${opts.retryAttempts}` : ''}: ${describeError(outcome.error)}`,
      );
      await sleep(retryDelay(job.attempts), signal);
    }
    return true;
  }

  async function invoke(entries: Entry[]): Promise<InvokeOutcome> {
    // Lambda hands each invocation its own deserialised copy of the records.
    const event: DynamoDBStreamEvent = { Records: entries.map((e) => structuredClone(e.record)) };
    let result: unknown;
    try {
      result = await opts.handler(event);
    } catch (error) {
      return { ok: false, error };
    }
    const failures = (result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
    if (failures === undefined || failures === null) return { ok: true };
    if (!Array.isArray(failures)) {
      return { ok: false, error: new Error('batchItemFailures is not a list: the whole batch counts as failed') };
    }
    if (failures.length === 0) return { ok: true };
    let failedAt = Infinity;
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      const index = typeof id === 'string' && id ? entries.findIndex((e) => e.seq === id) : -1;
      if (index < 0) {
        return {
          ok: false,
          error: new Error(
            `batchItemFailures names ${JSON.stringify(id)}, not a sequence number in this batch: the whole batch counts as failed`,
          ),
        };
      }
      failedAt = Math.min(failedAt, index);
    }
    return {
      ok: false,
      failedAt,
      error: new Error(`handler reported a failure for record ${entries[failedAt]!.seq}`),
    };
  }

  async function sendToFailure(entries: Entry[], error: unknown, attempts: number): Promise<boolean> {
    const what = `${entries.length} record(s) ${entries[0]!.seq}..${entries.at(-1)!.seq} after ${attempts} failed attempt(s)`;
    if (!opts.onFailure) {
      log(`${label}: discarding ${what} (no onFailure destination): ${describeError(error)}`);
      return true;
    }
    log(`${label}: sending ${what} to onFailure: ${describeError(error)}`);
    for (let attempt = 1; !stopped; attempt++) {
      try {
        await opts.onFailure(entries.map((e) => structuredClone(e.record)), error);
        return true;
      } catch (err) {
        log(`${label}: onFailure failed, retrying: ${describeError(err)}`);
        await sleep(retryDelay(attempt), signal);
      }
    }
    return false;
  }
}

/** The record exactly as Lambda puts it in `DynamoDBStreamEvent.Records[]`. */
export function toLambdaRecord(raw: _Record, streamArn: string): DynamoDBRecord {
  const src = raw.dynamodb ?? {};
  const dynamodb: StreamRecord = {};
  if (src.ApproximateCreationDateTime) {
    // The SDK turns epoch seconds into a Date; Lambda delivers whole epoch seconds.
    dynamodb.ApproximateCreationDateTime = Math.floor(src.ApproximateCreationDateTime.getTime() / 1000);
  }
  if (src.Keys) dynamodb.Keys = toLambdaImage(src.Keys);
  if (src.NewImage) dynamodb.NewImage = toLambdaImage(src.NewImage);
  if (src.OldImage) dynamodb.OldImage = toLambdaImage(src.OldImage);
  if (src.SequenceNumber !== undefined) dynamodb.SequenceNumber = src.SequenceNumber;
  if (src.SizeBytes !== undefined) dynamodb.SizeBytes = src.SizeBytes;
  if (src.StreamViewType !== undefined) dynamodb.StreamViewType = src.StreamViewType;

  const record: DynamoDBRecord = {
    eventID: raw.eventID,
    eventName: raw.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: raw.awsRegion,
    dynamodb,
    eventSourceARN: streamArn,
  };
  // TTL deletions carry the service as their identity.
  if (raw.userIdentity) record.userIdentity = { type: raw.userIdentity.Type, principalId: raw.userIdentity.PrincipalId };
  return record;
}

function toLambdaImage(image: Record<string, StreamAttributeValue>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toLambdaValue(value);
  return out;
}

/** DynamoDB JSON as Lambda delivers it: binary values base64-encoded, everything else as is. */
function toLambdaValue(value: StreamAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  throw new Error(`unknown DynamoDB attribute type: ${Object.keys(value).join(',')}`);
}

interface CheckpointState {
  streamArn: string;
  shards: Record<string, { sequenceNumber?: string; ended?: boolean }>;
}

/** Per-shard positions, in memory and (optionally) in a JSON file written atomically. */
class CheckpointStore {
  private state: CheckpointState = { streamArn: '', shards: {} };
  private writes: Promise<void> = Promise.resolve();
  private dirty = false;
  hasStoredState = false;

  constructor(
    private readonly file: string | undefined,
    private readonly log: (msg: string) => void,
  ) {}

  async load(streamArn: string): Promise<void> {
    this.state = { streamArn, shards: {} };
    if (!this.file) return;
    let parsed: Partial<CheckpointState>;
    try {
      parsed = JSON.parse(await readFile(this.file, 'utf8')) as Partial<CheckpointState>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log(`checkpoint ${this.file} unreadable, starting without it: ${describeError(err)}`);
      }
      return;
    }
    if (parsed.streamArn !== streamArn) {
      this.log(`checkpoint ${this.file} belongs to another stream (${parsed.streamArn}); the table was recreated, starting over`);
      return;
    }
    if (parsed.shards && typeof parsed.shards === 'object') this.state.shards = { ...parsed.shards };
    this.hasStoredState = true;
  }

  sequenceOf(shardId: string): string | undefined {
    return this.state.shards[shardId]?.sequenceNumber;
  }

  isEnded(shardId: string): boolean {
    return this.state.shards[shardId]?.ended === true;
  }

  advance(shardId: string, sequenceNumber: string): Promise<void> {
    const entry = (this.state.shards[shardId] ??= {});
    if (entry.sequenceNumber === sequenceNumber) return this.writes;
    entry.sequenceNumber = sequenceNumber;
    return this.persist();
  }

  /** Records that the shard is known, without a position yet. */
  touch(shardId: string): Promise<void> {
    if (this.state.shards[shardId]) return this.writes;
    this.state.shards[shardId] = {};
    return this.persist();
  }

  markEnded(shardId: string, sequenceNumber?: string): Promise<void> {
    const entry = (this.state.shards[shardId] ??= {});
    if (sequenceNumber) entry.sequenceNumber = sequenceNumber;
    entry.ended = true;
    return this.persist();
  }

  /** Forgets shards the stream no longer lists (trimmed after 24 h). */
  prune(live: Set<string>): Promise<void> {
    const gone = Object.keys(this.state.shards).filter((id) => !live.has(id));
    if (gone.length === 0) return this.writes;
    for (const id of gone) delete this.state.shards[id];
    return this.persist();
  }

  flushed(): Promise<void> {
    return this.writes;
  }

  private persist(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    // Writes are chained so they land in order; a burst collapses into one write.
    if (this.dirty) return this.writes;
    this.dirty = true;
    this.writes = this.writes.then(async () => {
      this.dirty = false;
      const body = JSON.stringify({ ...this.state, updatedAt: new Date().toISOString() }, null, 2);
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(tmp, body);
        await rename(tmp, file);
      } catch (err) {
        this.log(`could not write checkpoint ${file}: ${describeError(err)}`);
      }
    });
    return this.writes;
  }
}

/** Sleeps that end early on abort, and (for the coordinator) on wake(). */
class Napper {
  private wakeCurrent: (() => void) | undefined;
  private woken = false;
  constructor(private readonly signal: AbortSignal) {}
  nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.woken) {
        this.woken = false;
        return resolve();
      }
      const signal = this.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.wakeCurrent === done) this.wakeCurrent = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (signal.aborted) return done();
      signal.addEventListener('abort', done, { once: true });
      this.wakeCurrent = done;
    });
  }
  /** Ends the current nap, or the next one if none is under way. */
  wake(): void {
    const wake = this.wakeCurrent;
    this.wakeCurrent = undefined;
    if (wake) wake();
    else this.woken = true;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Napper(signal).nap(ms);
}

function retryDelay(attempt: number): number {
  return Math.min(STREAM_RETRY_MAX_DELAY_MS, STREAM_RETRY_BASE_DELAY_MS * 2 ** Math.max(0, attempt - 1));
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`;
  return String(err);
}
