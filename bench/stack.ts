import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type Shard } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../lib/config';
import { STREAM_CONSUMERS } from '../lib/declarations/streams';
import { EVENTS_TABLE } from '../lib/declarations/tables';
import { localAwsClientConfig } from '../local/dynamodb-local';
import { startLocalStack, type LocalStack } from '../local/stack';
import { issueLocalToken } from '../local/tokens';

/**
 * The local stack every stack-backed section shares: DynamoDB Local on disk
 * in a temporary folder (removed at stop), quiet functions, and an app rate
 * limit far above what this machine can send, so the figures are the
 * stack's and never the limiter's (as test/helpers/local-stack.ts does).
 */
export interface BenchStack {
  stack: LocalStack;
  apiKey: string;
  /** Bearer token of an admin (local/tokens.ts, what `npm run token -- --role admin` prints). */
  adminToken: string;
  /** A document client of the bench's own on the stack's DynamoDB Local: the "raw" side of every comparison. */
  raw: DynamoDBDocumentClient;
  eventsTable: string;
  /** POST /v1/events; never throws on an answer, only on a broken connection. */
  postEvents(events: unknown[]): Promise<{ status: number; body: IngestAnswer | undefined }>;
  /** GET with the admin token; the parsed JSON body. */
  get(path: string, params?: Record<string, string | undefined>): Promise<{ status: number; body: any }>;
  /** Waits until every stream consumer has handled every record written so far; false on timeout. */
  drainStreams(timeoutMs: number): Promise<{ drained: boolean; seconds: number; backlog: Record<string, number> }>;
  stop(): Promise<void>;
}

export interface IngestAnswer {
  accepted: number;
  duplicates: number;
  rejected: number;
  failed: number;
  results?: Array<{ status: string }>;
}

export async function startBenchStack(options: { inMemory?: boolean; log: (line: string) => void }): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-bench-'));
  const apiKey = 'bench-ingest-key-0123456789';
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      port: 0,
      dataDir,
      ingestApiKey: apiKey,
      inMemory: options.inMemory,
      config: { ...DEFAULT_CONFIG, defaultAppRateLimit: 1_000_000, logLevel: 'ERROR' },
      log: options.log,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const adminToken = await issueLocalToken(dataDir, { role: 'admin', user: 'bench@local' });
  const clientConfig = localAwsClientConfig(stack.dynamoDbEndpoint);
  const raw = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig), { marshallOptions: { removeUndefinedValues: true } });
  const eventsTable = stack.tableNames[EVENTS_TABLE.envVar]!;

  const postEvents: BenchStack['postEvents'] = async (events) => {
    const response = await fetch(`${stack.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ events }),
    });
    const text = await response.text();
    let body: IngestAnswer | undefined;
    try {
      body = JSON.parse(text) as IngestAnswer;
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  };

  const get: BenchStack['get'] = async (path, params = {}) => {
    const query = new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const response = await fetch(`${stack.url}${path}${query.size > 0 ? `?${query}` : ''}`, { headers: { authorization: `Bearer ${adminToken}` } });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) };
    } catch {
      return { status: response.status, body: text };
    }
  };

  const drainStreams: BenchStack['drainStreams'] = async (timeoutMs) => {
    const started = Date.now();
    const ddb = new DynamoDBClient(clientConfig);
    const streams = new DynamoDBStreamsClient(clientConfig);
    try {
      for (;;) {
        const backlog = await streamBacklog(ddb, streams, stack);
        const seconds = (Date.now() - started) / 1000;
        if (Object.values(backlog).every((count) => count === 0)) return { drained: true, seconds, backlog };
        if (Date.now() - started > timeoutMs) return { drained: false, seconds, backlog };
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    } finally {
      ddb.destroy();
      streams.destroy();
    }
  };

  return {
    stack,
    apiKey,
    adminToken,
    raw,
    eventsTable,
    postEvents,
    get,
    drainStreams,
    stop: async () => {
      raw.destroy();
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Records each stream consumer has still to handle (at most one GetRecords
 * page per shard is counted: "1000" means "1000 or more"). A consumer's
 * position is its poller's checkpoint file (local/stream-consumers.ts),
 * which moves only once a batch is handled, or past records its filter
 * skips; whatever the stream holds after it is pending.
 */
async function streamBacklog(ddb: DynamoDBClient, streams: DynamoDBStreamsClient, stack: LocalStack): Promise<Record<string, number>> {
  const backlog: Record<string, number> = {};
  const shardsOf = new Map<string, { arn: string; shards: Shard[] }>();
  for (const consumer of STREAM_CONSUMERS) {
    const tableName = stack.tableNames[consumer.table.envVar]!;
    let stream = shardsOf.get(tableName);
    if (!stream) {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
      const arn = Table?.LatestStreamArn;
      if (!arn) throw new Error(`${tableName} has no stream`);
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
      stream = { arn, shards: StreamDescription?.Shards ?? [] };
      shardsOf.set(tableName, stream);
    }
    let checkpoint: { shards?: Record<string, { sequenceNumber?: string; ended?: boolean }> } = {};
    try {
      checkpoint = JSON.parse(await readFile(join(stack.dataDir, 'streams', `${consumer.id}.json`), 'utf8'));
    } catch {
      // No checkpoint yet: the poller has not positioned itself, so everything is pending.
    }
    let pending = 0;
    for (const shard of stream.shards) {
      const position = checkpoint.shards?.[shard.ShardId!];
      if (position?.ended) continue;
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: stream.arn,
          ShardId: shard.ShardId!,
          ...(position?.sequenceNumber ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position.sequenceNumber } : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      if (!ShardIterator) continue;
      const { Records } = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
      pending += Records?.length ?? 0;
    }
    backlog[consumer.id] = pending;
  }
  return backlog;
}
