/**
 * The local runtime against the real things: DynamoDB Local (Java) writing
 * under a temp dir, its real streams read by the stream poller, and s3rver.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  type AttributeValue as DdbAttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { checkJava, localAwsClientConfig, startDynamoDbLocal } from '../../local/dynamodb-local';
import { localS3ClientConfig, localS3Env, startLocalS3 } from '../../local/s3-local';
import { pollTableStream, type StreamPoller, type StreamPollerOptions } from '../../local/streams';

jest.setTimeout(60_000);

const BUCKET = 'audit-archive-test';

let dataDir: string;
let ddbLocal: { endpoint: string; stop(): Promise<void> } | undefined;
let s3Local: { endpoint: string; stop(): Promise<void> } | undefined;
let ddb: DynamoDBClient;
const pollers: StreamPoller[] = [];
let tableCounter = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'audit-local-runtime-'));
  [ddbLocal, s3Local] = await Promise.all([
    startDynamoDbLocal({ dataDir, inMemory: false }),
    startLocalS3({ dataDir, buckets: [BUCKET] }),
  ]);
  ddb = new DynamoDBClient(localAwsClientConfig(ddbLocal.endpoint));
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  ddb?.destroy();
  await Promise.allSettled([ddbLocal?.stop(), s3Local?.stop()]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function createStreamTable(): Promise<{ tableName: string; streamArn: string }> {
  const tableName = `stream-test-${Date.now()}-${++tableCounter}`;
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
  const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
  return { tableName, streamArn: Table!.LatestStreamArn! };
}

/** Sequential puts, so stream order is the order given. */
async function putItems(tableName: string, pks: string[], extra: (pk: string) => Record<string, DdbAttributeValue> = () => ({})) {
  for (const pk of pks) {
    await ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, ...extra(pk) } }));
  }
}

function startPoller(opts: Partial<StreamPollerOptions> & Pick<StreamPollerOptions, 'tableName' | 'handler'>): StreamPoller {
  const poller = pollTableStream({
    clientConfig: localAwsClientConfig(ddbLocal!.endpoint),
    batchSize: 10,
    maxBatchingWindowMs: 0,
    startingPosition: 'TRIM_HORIZON',
    retryAttempts: 2,
    bisectOnError: false,
    ...opts,
  });
  pollers.push(poller);
  return poller;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pkOf = (r: DynamoDBRecord) => r.dynamodb!.Keys!.pk!.S!;
const pks = (records: DynamoDBRecord[]) => records.map(pkOf);

test('checkJava finds Java 17+ here', () => {
  const java = checkJava();
  expect(java).toEqual({ ok: true, version: expect.stringMatching(/^\d/) });
});

test('DynamoDB Local keeps its data under the data dir', () => {
  expect(existsSync(path.join(dataDir, 'dynamodb', 'shared-local-instance.db'))).toBe(true);
});

test('delivers stream records in order, in the shape Lambda delivers', async () => {
  const { tableName, streamArn } = await createStreamTable();
  const names = ['a0', 'a1', 'a2', 'a3', 'a4'];
  await putItems(tableName, names, (pk) => ({
    n: { N: '1.5' },
    bin: { B: new Uint8Array([1, 2, 3]) },
    m: { M: { nested: { L: [{ S: pk }, { NULL: true }, { BOOL: false }] } } },
    ss: { SS: ['x', 'y'] },
  }));
  const batches: DynamoDBRecord[][] = [];
  startPoller({
    tableName,
    batchSize: 2,
    handler: async (event: DynamoDBStreamEvent) => {
      batches.push(event.Records);
    },
  });
  await waitFor(() => batches.flat().length >= 5, 'five records');

  const records = batches.flat();
  expect(pks(records)).toEqual(names);
  expect(batches.every((b) => b.length <= 2)).toBe(true);

  const first = records[0]!;
  expect(Object.keys(first)).toEqual([
    'eventID',
    'eventName',
    'eventVersion',
    'eventSource',
    'awsRegion',
    'dynamodb',
    'eventSourceARN',
  ]);
  expect(first).toMatchObject({
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    eventSourceARN: streamArn,
  });
  expect(typeof first.eventID).toBe('string');
  expect(typeof first.awsRegion).toBe('string');
  const d = first.dynamodb!;
  expect(Object.keys(d).sort()).toEqual(
    ['ApproximateCreationDateTime', 'Keys', 'NewImage', 'SequenceNumber', 'SizeBytes', 'StreamViewType'].sort(),
  );
  expect(Number.isInteger(d.ApproximateCreationDateTime)).toBe(true);
  // DynamoDB Local rounds the creation time down to the minute.
  expect(Math.abs(d.ApproximateCreationDateTime! - Date.now() / 1000)).toBeLessThan(120);
  expect(d.Keys).toEqual({ pk: { S: 'a0' } });
  expect(d.NewImage).toEqual({
    pk: { S: 'a0' },
    n: { N: '1.5' },
    bin: { B: Buffer.from([1, 2, 3]).toString('base64') },
    m: { M: { nested: { L: [{ S: 'a0' }, { NULL: true }, { BOOL: false }] } } },
    ss: { SS: ['x', 'y'] },
  });
  expect(d.StreamViewType).toBe('NEW_IMAGE');
  expect(d.SizeBytes).toBeGreaterThan(0);
  expect(typeof d.SequenceNumber).toBe('string');
  // Plain JSON, as Lambda hands it over: no Dates, no Uint8Arrays.
  expect(JSON.parse(JSON.stringify(records))).toEqual(records);
  const seqs = records.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
  expect([...seqs].sort((x, y) => (x < y ? -1 : 1))).toEqual(seqs);
});

test('a partial batch response redelivers from the failed record only', async () => {
  const { tableName } = await createStreamTable();
  const names = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5'];
  await putItems(tableName, names);
  const calls: string[][] = [];
  startPoller({
    tableName,
    handler: async (event) => {
      calls.push(pks(event.Records));
      if (calls.length === 1) {
        const failed = event.Records.find((r) => pkOf(r) === 'b3')!;
        return { batchItemFailures: [{ itemIdentifier: failed.dynamodb!.SequenceNumber! }] };
      }
      return { batchItemFailures: [] };
    },
  });
  await waitFor(() => calls.length >= 2, 'the retry');
  await pause(500);
  expect(calls).toEqual([names, ['b3', 'b4', 'b5']]);
});

test('an itemIdentifier that is not in the batch fails the whole batch', async () => {
  const { tableName } = await createStreamTable();
  await putItems(tableName, ['c0', 'c1', 'c2']);
  const calls: string[][] = [];
  startPoller({
    tableName,
    handler: async (event) => {
      calls.push(pks(event.Records));
      if (calls.length === 1) return { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] };
    },
  });
  await waitFor(() => calls.length >= 2, 'the retry');
  expect(calls).toEqual([
    ['c0', 'c1', 'c2'],
    ['c0', 'c1', 'c2'],
  ]);
});

test('a throwing handler is retried, then the records go to onFailure and the stream moves on', async () => {
  const { tableName } = await createStreamTable();
  await putItems(tableName, ['d0', 'd1', 'd2']);
  const calls: string[][] = [];
  const failures: { records: string[]; error: unknown }[] = [];
  startPoller({
    tableName,
    retryAttempts: 1,
    handler: async (event) => {
      calls.push(pks(event.Records));
      if (event.Records.some((r) => pkOf(r) !== 'd3')) throw new Error('downstream unavailable');
    },
    onFailure: async (records, error) => {
      failures.push({ records: pks(records), error });
    },
  });
  await waitFor(() => failures.length >= 1, 'onFailure');
  expect(calls).toEqual([
    ['d0', 'd1', 'd2'],
    ['d0', 'd1', 'd2'],
  ]);
  expect(failures).toHaveLength(1);
  expect(failures[0]!.records).toEqual(['d0', 'd1', 'd2']);
  expect((failures[0]!.error as Error).message).toBe('downstream unavailable');

  await putItems(tableName, ['d3']);
  await waitFor(() => calls.length >= 3, 'the next record');
  expect(calls[2]).toEqual(['d3']);
  expect(failures).toHaveLength(1);
});

test('bisectOnError isolates a poison record', async () => {
  const { tableName } = await createStreamTable();
  await putItems(tableName, ['e0', 'poison', 'e2', 'e3']);
  const succeeded: string[] = [];
  const failed: string[][] = [];
  startPoller({
    tableName,
    retryAttempts: 0,
    bisectOnError: true,
    handler: async (event) => {
      if (event.Records.some((r) => pkOf(r) === 'poison')) throw new Error('poison');
      succeeded.push(...pks(event.Records));
    },
    onFailure: async (records) => {
      failed.push(pks(records));
    },
  });
  await waitFor(() => succeeded.length + failed.flat().length >= 4, 'all four records settled');
  expect(failed).toEqual([['poison']]);
  expect(succeeded).toEqual(['e0', 'e2', 'e3']);
});

test('the filter drops records, and the checkpoint moves past them', async () => {
  const { tableName } = await createStreamTable();
  const checkpointFile = path.join(dataDir, 'checkpoints', `${tableName}.json`);
  await putItems(tableName, ['f0', 'f1', 'f2', 'f3', 'f4'], (pk) => ({
    kind: { S: ['f1', 'f3'].includes(pk) ? 'keep' : 'drop' },
  }));
  const delivered: DynamoDBRecord[] = [];
  startPoller({
    tableName,
    checkpointFile,
    filter: (r) => r.dynamodb?.NewImage?.kind?.S === 'keep',
    handler: async (event) => {
      delivered.push(...event.Records);
    },
  });
  await waitFor(() => delivered.length >= 2, 'the kept records');
  const lastDelivered = BigInt(delivered.at(-1)!.dynamodb!.SequenceNumber!);
  // f4 (dropped) comes after f3: the checkpoint must end up past it.
  await waitFor(() => {
    if (!existsSync(checkpointFile)) return false;
    const state = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { shards: Record<string, { sequenceNumber?: string }> };
    return Object.values(state.shards).some((s) => s.sequenceNumber && BigInt(s.sequenceNumber) > lastDelivered);
  }, 'the checkpoint to pass the dropped record');
  await pause(300);
  expect(pks(delivered)).toEqual(['f1', 'f3']);
});

test('a restart with the checkpoint file resumes without redelivering', async () => {
  const { tableName, streamArn } = await createStreamTable();
  const checkpointFile = path.join(dataDir, 'checkpoints', `${tableName}.json`);
  await putItems(tableName, ['g0', 'g1', 'g2']);

  const firstRun: string[] = [];
  const first = startPoller({
    tableName,
    checkpointFile,
    handler: async (event) => {
      firstRun.push(...pks(event.Records));
    },
  });
  await waitFor(() => firstRun.length >= 3, 'the first three');
  await first.stop();
  const saved = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { streamArn: string };
  expect(saved.streamArn).toBe(streamArn);

  await putItems(tableName, ['g3', 'g4']);
  const secondRun: string[] = [];
  startPoller({
    tableName,
    checkpointFile,
    handler: async (event) => {
      secondRun.push(...pks(event.Records));
    },
  });
  await waitFor(() => secondRun.length >= 2, 'the two new ones');
  await pause(500);
  expect(firstRun).toEqual(['g0', 'g1', 'g2']);
  expect(secondRun).toEqual(['g3', 'g4']);
});

test('LATEST skips what was there before the poller started', async () => {
  const { tableName } = await createStreamTable();
  await putItems(tableName, ['h0', 'h1']);
  const delivered: string[] = [];
  const poller = startPoller({
    tableName,
    startingPosition: 'LATEST',
    handler: async (event) => {
      delivered.push(...pks(event.Records));
    },
  });
  await poller.ready;
  await putItems(tableName, ['h2']);
  await waitFor(() => delivered.length >= 1, 'the new record');
  await pause(300);
  expect(delivered).toEqual(['h2']);
});

test('LATEST applies once: after a restart, what came in meanwhile is delivered', async () => {
  const { tableName } = await createStreamTable();
  const checkpointFile = path.join(dataDir, 'checkpoints', `${tableName}.json`);
  // The stream is still empty when LATEST is first applied: no sequence number to keep.
  const delivered: string[] = [];
  const options = {
    tableName,
    checkpointFile,
    startingPosition: 'LATEST' as const,
    handler: async (event: DynamoDBStreamEvent) => {
      delivered.push(...pks(event.Records));
    },
  };
  const first = startPoller(options);
  await first.ready;
  await first.stop();
  await putItems(tableName, ['j1']);
  startPoller(options);
  await waitFor(() => delivered.length >= 1, 'the record written while stopped');
  await pause(300);
  expect(delivered).toEqual(['j1']);
});

test('stop() waits for the handler call in flight', async () => {
  const { tableName } = await createStreamTable();
  await putItems(tableName, ['i0']);
  let started = false;
  let finished = false;
  const poller = startPoller({
    tableName,
    handler: async () => {
      started = true;
      await pause(300);
      finished = true;
    },
  });
  await waitFor(() => started, 'the handler to start');
  await poller.stop();
  expect(finished).toBe(true);
});

describe('local S3', () => {
  let s3: S3Client;
  beforeAll(() => {
    s3 = new S3Client(localS3ClientConfig(s3Local!.endpoint));
  });
  afterAll(() => s3.destroy());

  test('put, get, head, list and delete round-trip, stored under the data dir', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'events/2024/01/01/a.json', Body: '{"a":1}', ContentType: 'application/json' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'events/2024/01/02/b.json', Body: '{"b":2}' }));

    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'events/2024/01/01/a.json' }));
    expect(await got.Body!.transformToString()).toBe('{"a":1}');
    expect(got.ContentType).toBe('application/json');

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'events/2024/01/02/b.json' }));
    expect(head.ContentLength).toBe(7);

    const list = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'events/2024/01/' }));
    expect(list.Contents?.map((o) => o.Key)).toEqual(['events/2024/01/01/a.json', 'events/2024/01/02/b.json']);

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'events/2024/01/02/b.json' }));
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'events/2024/01/02/b.json' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    expect(existsSync(path.join(dataDir, 's3', BUCKET))).toBe(true);
  });

  test('a streamed body is stored byte for byte (no aws-chunked framing)', async () => {
    const ndjson = Array.from({ length: 500 }, (_, i) => JSON.stringify({ i })).join('\n');
    const gz = gzipSync(ndjson);
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'stream.ndjson.gz', Body: Readable.from([gz]), ContentLength: gz.length }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'stream.ndjson.gz' }));
    expect(gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString()).toBe(ndjson);
  });

  test('a client configured only through the environment works too', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, localS3Env(s3Local!.endpoint), {
      AWS_REGION: 'local',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const envClient = new S3Client({});
    try {
      const body = Readable.from([Buffer.from('from env')]);
      await envClient.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'env.txt', Body: body, ContentLength: 8 }));
      const got = await envClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'env.txt' }));
      expect(await got.Body!.transformToString()).toBe('from env');
    } finally {
      envClient.destroy();
      process.env = saved;
    }
  });
});
