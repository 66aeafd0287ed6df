/**
 * Backups: DynamoDB exports of the events table, full then incremental,
 * started after N new events (the archive's exact count) or on demand.
 * DynamoDB Local has no exports, so the AWS calls are mocked.
 */
import { ConditionalCheckFailedException, DynamoDBClient, ExportTableToPointInTimeCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { checkTableExport } from '../../lambdas/backup/handler';
import { decideExport, type ExportState } from '../../lambdas/core/table-export';

const policy = { exportAfterEvents: 1000, fullExportEveryDays: 7 };
const now = new Date('2026-11-23T12:34:56Z');
const minutesAgo = (m: number) => new Date(Date.parse('2026-11-23T12:33:00Z') - m * 60_000).toISOString();

describe('when to export', () => {
  const state = (s: Partial<ExportState>): ExportState => ({ eventsSinceExport: 0, ...s });

  it('waits for enough new events, unless asked', () => {
    expect(decideExport(state({ eventsSinceExport: 999 }), now, policy)).toMatchObject({ kind: 'none', reason: '999 of 1000 new events since the last export' });
    expect(decideExport(state({ eventsSinceExport: 999 }), now, policy, true)).toMatchObject({ kind: 'full' });
  });

  it('starts with a full export, at a whole minute a minute back', () => {
    expect(decideExport(state({ eventsSinceExport: 1000 }), now, policy)).toEqual({ kind: 'full', exportTime: new Date('2026-11-23T12:33:00Z'), reason: expect.stringMatching(/first export/) });
  });

  it('then exports incrementally from the last export, within 15 minutes to 24 hours', () => {
    const last = minutesAgo(120);
    expect(decideExport(state({ eventsSinceExport: 5000, lastExportTime: last, lastFullExportTime: minutesAgo(24 * 60) }), now, policy)).toEqual({
      kind: 'incremental',
      from: new Date(last),
      to: new Date('2026-11-23T12:33:00Z'),
      reason: '5000 new events since the last export',
    });
    // Under 15 minutes: too short for an incremental export, so the next check starts it.
    expect(decideExport(state({ eventsSinceExport: 5000, lastExportTime: minutesAgo(10), lastFullExportTime: minutesAgo(10) }), now, policy)).toMatchObject({ kind: 'none' });
    expect(decideExport(state({ eventsSinceExport: 5000, lastExportTime: minutesAgo(10), lastFullExportTime: minutesAgo(10) }), now, policy, true)).toMatchObject({ kind: 'full' });
  });

  it('makes a full export again after a quiet day, and every fullExportEveryDays', () => {
    expect(decideExport(state({ eventsSinceExport: 5000, lastExportTime: minutesAgo(25 * 60), lastFullExportTime: minutesAgo(25 * 60) }), now, policy)).toMatchObject({
      kind: 'full',
      reason: expect.stringMatching(/over 24 hours/),
    });
    expect(decideExport(state({ eventsSinceExport: 5000, lastExportTime: minutesAgo(60), lastFullExportTime: minutesAgo(8 * 24 * 60) }), now, policy)).toMatchObject({
      kind: 'full',
      reason: expect.stringMatching(/full export is over 7 days old/),
    });
  });
});

describe('the table export function', () => {
  const ddb = mockClient(DynamoDBClient);
  const doc = mockClient(DynamoDBDocumentClient);
  const env = {
    ARCHIVE_STATE_TABLE: 'archive-state',
    EVENTS_TABLE_ARN: 'arn:aws:dynamodb:eu-west-1:111122223333:table/events',
    BACKUP_BUCKET: 'backups-bucket',
    BACKUP_KEY_ARN: 'arn:aws:kms:eu-west-1:111122223333:key/backup',
    EXPORT_AFTER_EVENTS: '1000',
    FULL_EXPORT_EVERY_DAYS: '7',
  };
  const exportArn = 'arn:aws:dynamodb:eu-west-1:111122223333:table/events/export/01';

  beforeAll(() => {
    process.env.ARCHIVE_STATE_TABLE = env.ARCHIVE_STATE_TABLE;
  });
  beforeEach(() => {
    ddb.reset();
    doc.reset();
    ddb.on(ExportTableToPointInTimeCommand).resolves({ ExportDescription: { ExportArn: exportArn } });
    doc.on(UpdateCommand).resolves({});
  });
  afterAll(() => {
    ddb.restore();
    doc.restore();
    delete process.env.ARCHIVE_STATE_TABLE;
  });

  it('starts a full export to the backup bucket, KMS-encrypted, and records it, subtracting the events it covered', async () => {
    doc.on(GetCommand).resolves({ Item: { pk: 'export#state', eventsSinceExport: 1500 } });
    const outcome = await checkTableExport({ env, now });
    expect(outcome).toMatchObject({ started: true, arn: exportArn, type: 'FULL_EXPORT', coveredUntil: '2026-11-23T12:33:00.000Z', recorded: true });
    expect(ddb.commandCalls(ExportTableToPointInTimeCommand)[0]!.args[0].input).toEqual({
      TableArn: env.EVENTS_TABLE_ARN,
      S3Bucket: 'backups-bucket',
      S3Prefix: 'table-exports/events/',
      S3SseAlgorithm: 'KMS',
      S3SseKmsKeyId: env.BACKUP_KEY_ARN,
      ExportFormat: 'DYNAMODB_JSON',
      ExportType: 'FULL_EXPORT',
      ExportTime: new Date('2026-11-23T12:33:00Z'),
      ClientToken: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(doc.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ TableName: 'archive-state', Key: { pk: 'export#state' }, ConsistentRead: true });
    expect(doc.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
      TableName: 'archive-state',
      Key: { pk: 'export#state' },
      UpdateExpression: 'SET lastExportTime = :to, lastExportArn = :arn, lastExportType = :type, lastFullExportTime = :to ADD eventsSinceExport :counted',
      ConditionExpression: 'attribute_not_exists(lastExportTime)',
      ExpressionAttributeValues: { ':to': '2026-11-23T12:33:00.000Z', ':arn': exportArn, ':type': 'FULL_EXPORT', ':counted': -1500 },
    });
  });

  it('exports incrementally from the last export, on condition no other run recorded one meanwhile', async () => {
    const last = minutesAgo(90);
    doc.on(GetCommand).resolves({ Item: { pk: 'export#state', eventsSinceExport: 4200, lastExportTime: last, lastFullExportTime: minutesAgo(3 * 24 * 60) } });
    expect(await checkTableExport({ env, now })).toMatchObject({ started: true, type: 'INCREMENTAL_EXPORT' });
    expect(ddb.commandCalls(ExportTableToPointInTimeCommand)[0]!.args[0].input).toMatchObject({
      ExportType: 'INCREMENTAL_EXPORT',
      IncrementalExportSpecification: { ExportFromTime: new Date(last), ExportToTime: new Date('2026-11-23T12:33:00Z'), ExportViewType: 'NEW_AND_OLD_IMAGES' },
    });
    expect(ddb.commandCalls(ExportTableToPointInTimeCommand)[0]!.args[0].input.ExportTime).toBeUndefined();
    expect(doc.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      UpdateExpression: 'SET lastExportTime = :to, lastExportArn = :arn, lastExportType = :type ADD eventsSinceExport :counted',
      ConditionExpression: 'lastExportTime = :previous',
      ExpressionAttributeValues: expect.objectContaining({ ':previous': last, ':counted': -4200 }),
    });
  });

  it('does nothing below the threshold, and nothing at all without a backup bucket (the local stack)', async () => {
    doc.on(GetCommand).resolves({ Item: { pk: 'export#state', eventsSinceExport: 10 } });
    expect(await checkTableExport({ env, now })).toEqual({ started: false, reason: '10 of 1000 new events since the last export' });
    expect(await checkTableExport({ env: { ARCHIVE_STATE_TABLE: 'archive-state' }, now, force: true })).toMatchObject({ started: false, reason: expect.stringMatching(/AWS only/) });
    expect(ddb.commandCalls(ExportTableToPointInTimeCommand)).toHaveLength(0);
    expect(doc.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('exports on demand, and a run repeated within the minute asks for the same export (same client token)', async () => {
    doc.on(GetCommand).resolves({});
    await checkTableExport({ env, now, force: true });
    await checkTableExport({ env, now: new Date(now.getTime() + 2_000), force: true });
    const [a, b] = ddb.commandCalls(ExportTableToPointInTimeCommand).map((call) => call.args[0].input.ClientToken);
    expect(a).toBe(b);
  });

  it('reports, without failing, an export another run recorded first', async () => {
    doc.on(GetCommand).resolves({ Item: { pk: 'export#state', eventsSinceExport: 2000 } });
    doc.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    expect(await checkTableExport({ env, now })).toMatchObject({ started: true, recorded: false });
  });

  it('fails loudly when DynamoDB refuses the export (e.g. PITR off)', async () => {
    doc.on(GetCommand).resolves({ Item: { pk: 'export#state', eventsSinceExport: 2000 } });
    ddb.on(ExportTableToPointInTimeCommand).rejects(Object.assign(new Error('Point in time recovery is not enabled'), { name: 'PointInTimeRecoveryUnavailableException' }));
    await expect(checkTableExport({ env, now })).rejects.toThrow(/Point in time recovery/);
    expect(doc.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});
