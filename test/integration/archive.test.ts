/**
 * The archive end to end on the local stack: events posted over HTTP,
 * DynamoDB Local's real stream polled into the archive function (with
 * crashes injected before and after its commit), objects and digests in the
 * local S3 under the data folder, `npm run verify-archive` as a user runs
 * it, tampering with the files on disk, and `npm run restore`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { S3ArchiveBucket } from '../../lambdas/adapters/archive-bucket';
import { DynamoArchiveChainStore } from '../../lambdas/adapters/archive-chain-store';
import { LocalKeyDigestSigner } from '../../lambdas/adapters/digest-signer';
import { archiveHooks, handler as archiveHandler } from '../../lambdas/archive/handler';
import { ndjsonLines } from '../../lambdas/core/archive';
import { parseDigest } from '../../lambdas/core/archive-digest';
import { ArchiveWriter } from '../../lambdas/core/archive-writer';
import { verifyArchive, type VerifyReport } from '../../lambdas/core/archive-verify';
import { ARCHIVE_BUCKET } from '../../lib/declarations/buckets';
import { ARCHIVE_STATE_TABLE, EVENTS_TABLE } from '../../lib/declarations/tables';
import { localS3ObjectFile, localSigningKeyFiles } from '../../local/archive';
import { localAwsClientConfig } from '../../local/dynamodb-local';
import { invokeHandler } from '../../local/invocations';
import { localS3ClientConfig } from '../../local/s3-local';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { toLambdaRecord } from '../../local/streams';
import { ensureTable } from '../../local/tables';
import { resolveArchiveTarget } from '../../scripts/archive-target';
import { streamRecords } from '../helpers/archive-memory';
import { captureFunctionLogs } from '../helpers/function-logs';

jest.setTimeout(60_000);

const root = join(__dirname, '../..');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
const API_KEY = 'integration-test-archive-key';
let stack: LocalStack;
let dataDir: string;
let ddb: DynamoDBClient;
let doc: DynamoDBDocumentClient;
const accepted: string[] = [];
/** The environment as a user's shell has it: before the in-process stack points the SDK at itself. */
const userEnv = { ...process.env };
const startedAt = Date.now();

// The functions' structured log lines are kept out of the test output.
captureFunctionLogs();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-archive-'));
  stack = await startLocalStack({ port: 0, dataDir, ingestApiKey: API_KEY, log: () => undefined });
  ddb = new DynamoDBClient(localAwsClientConfig(stack.dynamoDbEndpoint));
  doc = DynamoDBDocumentClient.from(ddb);
}, 60_000);

afterAll(async () => {
  delete archiveHooks.beforeCommit;
  delete archiveHooks.afterCommit;
  ddb?.destroy();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function post(events: Record<string, unknown>[]): Promise<string[]> {
  const response = await fetch(`${stack.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({ events }),
  });
  const body = (await response.json()) as { results: { id: string; status: string }[] };
  expect(body.results.every((r) => r.status === 'accepted')).toBe(true);
  return body.results.map((r) => r.id);
}

/** The archive as verification sees it, through the running stack (S3 and the chain head in DynamoDB). */
async function verifyLocal(): Promise<VerifyReport> {
  const target = await resolveArchiveTarget({ env: { LOCAL_DATA_DIR: dataDir } });
  try {
    return await verifyArchive({ source: target.source, trustedKeys: target.trustedKeys, head: await target.readHead() });
  } finally {
    target.close();
  }
}

/** Every event line in the archive, with the object holding it. */
async function archivedLines(): Promise<{ line: string; key: string }[]> {
  const bucket = new S3ArchiveBucket(new S3Client(localS3ClientConfig(stack.s3Endpoint)), ARCHIVE_BUCKET.localName);
  const lines: { line: string; key: string }[] = [];
  for await (const key of bucket.list('events/')) {
    for (const line of ndjsonLines(gunzipSync((await bucket.get(key))!).toString('utf8'))) lines.push({ line, key });
  }
  return lines;
}

async function waitForArchive(ids: readonly string[], timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const archived = new Set((await archivedLines()).map(({ line }) => (JSON.parse(line) as { id: string }).id));
    if (ids.every((id) => archived.has(id))) return;
    if (Date.now() > deadline) throw new Error(`${ids.filter((id) => !archived.has(id)).length} of ${ids.length} events not archived in time`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function storedDocs(ids: readonly string[]): Promise<Map<string, string>> {
  const docs = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 100) {
    const { Responses } = await doc.send(
      new BatchGetCommand({ RequestItems: { [stack.tableNames[EVENTS_TABLE.envVar]!]: { Keys: ids.slice(i, i + 100).map((pk) => ({ pk })), ProjectionExpression: 'pk, doc' } } }),
    );
    for (const item of Responses?.[stack.tableNames[EVENTS_TABLE.envVar]!] ?? []) docs.set(item.pk as string, item.doc as string);
  }
  return docs;
}

function verifyCli(...args: string[]): Promise<{ code: number; stdout: string }> {
  return promisify(execFile)(process.execPath, [tsx, 'scripts/verify-archive.ts', ...args], { cwd: root, env: { ...userEnv, LOCAL_DATA_DIR: dataDir } }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: `${error.stdout}${error.stderr}` }),
  );
}

describe('archive', () => {
  it('holds exactly the accepted events, each line the stored doc, after crashes before and after commits', async () => {
    // Two crashes with objects uploaded but nothing committed, then one with the digest committed but not uploaded.
    let crashesBeforeCommit = 2;
    let crashesAfterCommit = 1;
    archiveHooks.beforeCommit = () => {
      if (crashesBeforeCommit > 0) {
        crashesBeforeCommit -= 1;
        throw new Error('injected crash before the commit');
      }
    };
    archiveHooks.afterCommit = () => {
      if (crashesBeforeCommit === 0 && crashesAfterCommit > 0) {
        crashesAfterCommit -= 1;
        throw new Error('injected crash after the commit');
      }
    };
    // Three waves, so the chain has several digests; each wave from concurrent clients.
    for (let wave = 0; wave < 3; wave++) {
      const ids = (
        await Promise.all(
          Array.from({ length: 4 }, (_, client) =>
            post(Array.from({ length: 30 }, (_, i) => ({ type: 'user.page.viewed', page: `/w${wave}/c${client}/${i}`, actor: { userId: `u-${i % 5}` } }))),
          ),
        )
      ).flat();
      accepted.push(...ids);
      await waitForArchive(accepted);
    }
    expect([crashesBeforeCommit, crashesAfterCommit]).toEqual([0, 0]);

    const lines = await archivedLines();
    const ids = lines.map(({ line }) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toHaveLength(new Set(ids).size); // none twice
    expect(ids.sort()).toEqual([...accepted].sort()); // none missing, nothing else
    const stored = await storedDocs(accepted);
    for (const { line } of lines) expect(line).toBe(stored.get((JSON.parse(line) as { id: string }).id));
    for (const { key } of lines) expect(key).toMatch(/^events\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/\d+-[\w-]+\.ndjson\.gz$/);

    const report = await verifyLocal();
    expect(report).toMatchObject({ ok: true, events: accepted.length, firstSequence: 1, problems: [] });
    expect(report.digests).toBeGreaterThanOrEqual(3);
    // The count that triggers table exports (backups) is counted with each commit: exactly the archived events.
    const { Item } = await doc.send(new GetCommand({ TableName: stack.tableNames[ARCHIVE_STATE_TABLE.envVar]!, Key: { pk: 'export#state' } }));
    expect(Item).toMatchObject({ eventsSinceExport: accepted.length, eventsArchived: accepted.length });
  });

  it('adds nothing when the stream delivers a batch again (the handler driven with the same batch twice)', async () => {
    const before = await verifyLocal();
    // The first committed batch, rebuilt from the real stream records its digest names.
    const target = await resolveArchiveTarget({ env: { LOCAL_DATA_DIR: dataDir } });
    let firstDigest: string | undefined;
    for await (const key of target.source.list('digests/')) if (key.endsWith('/000000000001.json')) firstDigest = key;
    const { batch } = parseDigest((await target.source.get(firstDigest!))!.toString('utf8'));
    target.close();
    const records = await streamRecordsOfEvents();
    const first = records.findIndex((r) => r.eventID === batch.firstEventId);
    const redelivered = records.slice(first, first + batch.events);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(redelivered.at(-1)!.dynamodb!.SequenceNumber).toBe(batch.lastSequenceNumber);
    for (let i = 0; i < 2; i++) {
      await invokeHandler(archiveHandler, { Records: redelivered }, lambdaContext());
    }
    const after = await verifyLocal();
    expect(after).toMatchObject({ ok: true, digests: before.digests, objects: before.objects, events: accepted.length });
  });

  it('keeps ONE linear chain when many writers append at once (conditional writes in DynamoDB Local)', async () => {
    // A separate chain: its own state table and bucket, the same adapters the function uses.
    const table = await ensureTable(ddb, { ...ARCHIVE_STATE_TABLE, id: `ArchiveStateConcurrency${Date.now()}` });
    const bucketName = `concurrency-${Date.now()}`;
    const s3 = new S3Client(localS3ClientConfig(stack.s3Endpoint));
    await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
    const bucket = new S3ArchiveBucket(s3, bucketName);
    const chain = new DynamoArchiveChainStore(doc, table);
    const signer = new LocalKeyDigestSigner(readFileSync(localSigningKeyFiles(dataDir).privateKeyFile, 'utf8'));
    const batches = Array.from({ length: 12 }, (_, i) => streamRecords([new Date().toISOString(), new Date().toISOString()], `writer${i}`));
    // Every writer reads the (empty) head before any commits: all but one lose the first race, for certain.
    let waiting = batches.length;
    let release!: () => void;
    const allRead = new Promise<void>((resolve) => (release = resolve));
    const barrier = async () => {
      if (--waiting === 0) release();
      await allRead;
    };
    const outcomes = await Promise.all(
      batches.map((batch) => {
        let first = true;
        const hooks = { beforeCommit: () => (first ? ((first = false), barrier()) : undefined) };
        return new ArchiveWriter({ objects: bucket, chain, signer, hooks }).archive(batch);
      }),
    );
    expect(outcomes.map((o) => o.digest!.sequence).sort((a, b) => a - b)).toEqual(batches.map((_, i) => i + 1));
    expect(outcomes.filter((o) => o.attempts === 1)).toHaveLength(1);
    const target = await resolveArchiveTarget({ env: { LOCAL_DATA_DIR: dataDir } });
    const report = await verifyArchive({ source: bucket, trustedKeys: target.trustedKeys, head: (await chain.readHead()) ?? undefined });
    target.close();
    expect(report).toMatchObject({ ok: true, digests: 12, firstSequence: 1, lastSequence: 12, events: 24 });
    s3.destroy();
  });
});

describe('npm run verify-archive', () => {
  let digests: string[];
  let objects: string[];
  beforeAll(async () => {
    const target = await resolveArchiveTarget({ env: { LOCAL_DATA_DIR: dataDir } });
    digests = [];
    objects = [];
    for await (const key of target.source.list('digests/')) digests.push(key);
    for await (const key of target.source.list('events/')) objects.push(key);
    target.close();
    expect(digests.length).toBeGreaterThanOrEqual(3);
  });
  const file = (key: string) => localS3ObjectFile(dataDir, ARCHIVE_BUCKET.localName, key);

  it('passes, with the counts', async () => {
    const { code, stdout } = await verifyCli();
    expect(stdout).toContain(`OK: ${digests.length} digests (sequence 1–${digests.length}), ${objects.length} objects, ${accepted.length} events verified`);
    expect(code).toBe(0);
  });

  it('fails naming the object when one byte of it changed', async () => {
    const key = objects[1]!;
    const original = readFileSync(file(key));
    const changed = Buffer.from(original);
    changed[Math.floor(changed.length / 2)] ^= 0x20;
    writeFileSync(file(key), changed);
    try {
      const { code, stdout } = await verifyCli();
      expect(code).toBe(1);
      expect(stdout).toContain(`object-changed: object ${key} changed`);
      expect(stdout.match(/^ {2}\S/gm)).toHaveLength(1);
    } finally {
      writeFileSync(file(key), original);
    }
  });

  it('fails naming the object when it was deleted', async () => {
    const key = objects[0]!;
    renameSync(file(key), `${file(key)}.away`);
    try {
      const { code, stdout } = await verifyCli();
      expect(code).toBe(1);
      expect(stdout).toContain(`object-missing: object ${key} is missing: removed`);
    } finally {
      renameSync(`${file(key)}.away`, file(key));
    }
  });

  it('fails naming the digest when one was removed (also from the files alone, without the stack)', async () => {
    const key = digests[1]!;
    renameSync(file(key), `${file(key)}.away`);
    try {
      const { code, stdout } = await verifyCli();
      expect(code).toBe(1);
      expect(stdout).toContain(`digest-missing: digest ${key} (sequence 2) is missing: removed`);
      const files = await verifyCli('--files');
      expect(files.code).toBe(1);
      expect(files.stdout).toContain(`digest ${key} (sequence 2) is missing`);
    } finally {
      renameSync(`${file(key)}.away`, file(key));
    }
    expect((await verifyLocal()).ok).toBe(true);
  });
});

describe('npm run restore', () => {
  // A range around this test run (which may cross midnight).
  const rangeStart = () => new Date(startedAt - 3_600_000).toISOString();
  const rangeEnd = () => new Date(Date.now() + 3_600_000).toISOString();
  const eventsTable = () => stack.tableNames[EVENTS_TABLE.envVar]!;
  const restoreCli = (...args: string[]) =>
    promisify(execFile)(process.execPath, [tsx, 'scripts/restore.ts', ...args], { cwd: root, env: { ...userEnv, LOCAL_DATA_DIR: dataDir } }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: `${error.stdout}${error.stderr}` }),
    );

  it('round-trips: deleted items come back exactly as they were, nothing present is touched, nothing is archived twice', async () => {
    const deleted = accepted.filter((_, i) => i % 9 === 0);
    const originals = new Map<string, Record<string, unknown>>();
    for (const id of deleted) {
      const { Item } = await doc.send(new GetCommand({ TableName: eventsTable(), Key: { pk: id } }));
      originals.set(id, Item!);
      await doc.send(new DeleteCommand({ TableName: eventsTable(), Key: { pk: id } }));
    }
    const untouched = (await doc.send(new GetCommand({ TableName: eventsTable(), Key: { pk: accepted[1]! } }))).Item;

    // Kept 7 days at least: less than these events' own retention, so their items come back identical.
    const first = await restoreCli('--from', rangeStart(), '--to', rangeEnd(), '--type', 'user.page.viewed', '--keep-days', '7');
    expect(first.stdout).toContain(`Restored ${deleted.length} events into ${eventsTable()}; ${accepted.length - deleted.length} already present (left as they are); ${accepted.length} matched`);
    expect(first.code).toBe(0);
    for (const id of deleted) {
      const { Item } = await doc.send(new GetCommand({ TableName: eventsTable(), Key: { pk: id } }));
      const { restoredAt, ...restored } = Item!;
      expect(restored).toEqual(originals.get(id));
      expect(Date.parse(restoredAt as string)).toBeGreaterThan(Date.now() - 120_000);
    }
    expect((await doc.send(new GetCommand({ TableName: eventsTable(), Key: { pk: accepted[1]! } }))).Item).toEqual(untouched);

    const again = await restoreCli('--from', rangeStart(), '--to', rangeEnd());
    expect(again.stdout).toContain(`Restored 0 events into ${eventsTable()}; ${accepted.length} already present`);

    // The restored items' INSERTs reach the archive function, which leaves them out: they came from the archive.
    const before = await verifyLocal();
    const restoredInserts = (await streamRecordsOfEvents()).filter((r) => r.dynamodb?.NewImage?.restoredAt);
    expect(restoredInserts).toHaveLength(deleted.length);
    await invokeHandler(archiveHandler, { Records: restoredInserts }, lambdaContext());
    expect(await verifyLocal()).toMatchObject({ ok: true, digests: before.digests, events: accepted.length });
  });

  it('filters by user, and refuses a range that fails verification', async () => {
    const dry = await restoreCli('--from', rangeStart(), '--to', rangeEnd(), '--user', 'u-3', '--dry-run');
    expect(dry.stdout).toMatch(/Dry run: \d+ events match/);
    expect(Number(/Dry run: (\d+)/.exec(dry.stdout)![1])).toBe(accepted.length / 5);

    const target = await resolveArchiveTarget({ env: { LOCAL_DATA_DIR: dataDir } });
    let key: string | undefined;
    for await (const k of target.source.list('events/')) key ??= k;
    target.close();
    const file = localS3ObjectFile(dataDir, ARCHIVE_BUCKET.localName, key!);
    const original = readFileSync(file);
    writeFileSync(file, Buffer.concat([original, Buffer.from('x')]));
    try {
      const refused = await restoreCli('--from', rangeStart(), '--to', rangeEnd());
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(`object-changed: object ${key} changed`);
      expect(refused.stdout).toContain('Refusing to restore');
    } finally {
      writeFileSync(file, original);
    }
  });
});

/** Every INSERT record in the events table's stream, as Lambda would deliver it. */
async function streamRecordsOfEvents(): Promise<DynamoDBRecord[]> {
  const streams = new DynamoDBStreamsClient(localAwsClientConfig(stack.dynamoDbEndpoint));
  try {
    const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: stack.tableNames[EVENTS_TABLE.envVar]! }));
    const streamArn = Table!.LatestStreamArn!;
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const records: DynamoDBRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...(page.Records ?? []).filter((r) => r.eventName === 'INSERT').map((r) => toLambdaRecord(r, streamArn)));
        if ((page.Records ?? []).length === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    return records;
  } finally {
    streams.destroy();
  }
}

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'audit-trail-Archive',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:audit-trail-Archive',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/audit-trail-Archive',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

// The spies above replace methods of the real process.stdout (and console), shared with the test files that run next.
