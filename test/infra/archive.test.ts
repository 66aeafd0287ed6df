/**
 * The archive on AWS: the bucket's protections (versioning, Object Lock,
 * KMS, TLS only, no public access, lifecycle, access logs), the digest
 * signing key, the stream mapping built from ARCHIVE_STREAM, alarms, and the
 * archive function's least-privilege grants.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { AuditTrailApp } from '../../lib/app';
import { buildTestApp } from '../helpers/test-app';
import { DEFAULT_CONFIG, resolveConfig } from '../../lib/config';
import { ARCHIVE_FUNCTION, BACKUP_FUNCTION, FUNCTIONS } from '../../lib/declarations/functions';
import { ARCHIVE_STREAM } from '../../lib/declarations/streams';
import { ARCHIVE_STATE_TABLE, EVENTS_TABLE } from '../../lib/declarations/tables';

type Json = Record<string, any>;
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, any> };

let built: AuditTrailApp;
let template: Template;

beforeAll(() => {
  built = buildTestApp({ context: cdkJson.context });
  template = Template.fromStack(built.stack);
});

const logicalId = (construct: IConstruct): string => Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
const resource = (construct: IConstruct): Json => template.toJSON().Resources[logicalId(construct)];
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const arn = (construct: IConstruct) => ({ 'Fn::GetAtt': [logicalId(construct), 'Arn'] });

function roleStatements(t: Template, app: AuditTrailApp, functionId: string): Json[] {
  const fn = app.stack.api.functions.get(functionId)!;
  const roleId = t.toJSON().Resources[logicalId(fn)].Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(t.findResources('AWS::IAM::Policy')) as Json[];
  return policies.filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('archive bucket', () => {
  test('is versioned, Object Locked (governance, 365 days by default), KMS-encrypted with its own key, private and logged', () => {
    const { archive } = built.stack;
    expect(resource(archive.bucket)).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        ObjectLockEnabled: true,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } } },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arn(archive.bucketKey) }, BucketKeyEnabled: true },
          ],
        },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(archive.accessLogs) }, LogFilePrefix: 'archive/' },
      },
    });
    expect(resource(archive.bucketKey).Properties.EnableKeyRotation).toBe(true);
  });

  test('moves event objects to colder storage per configuration, and keeps old versions as long as they are locked', () => {
    const rules = resource(built.stack.archive.bucket).Properties.LifecycleConfiguration.Rules as Json[];
    expect(rules).toContainEqual({
      Id: 'colder-storage',
      Prefix: 'events/',
      Status: 'Enabled',
      Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
      NoncurrentVersionExpiration: { NoncurrentDays: 366 },
    });
  });

  test('refuses requests without TLS, and TLS below 1.2', () => {
    const bucketId = logicalId(built.stack.archive.bucket);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  test('compliance mode, other transitions and an expiry come from configuration', () => {
    const config = resolveConfig({
      archive: { objectLockMode: 'COMPLIANCE', objectLockDays: 2555, transitions: [{ storageClass: 'STANDARD_IA', afterDays: 30 }, { storageClass: 'DEEP_ARCHIVE', afterDays: 365 }], expireAfterDays: 3650 },
    });
    const app = buildTestApp({ context: { ...cdkJson.context, auditTrail: config } });
    const bucket = Template.fromStack(app.stack).toJSON().Resources[logicalId(app.stack.archive.bucket)].Properties;
    expect(bucket.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({ Mode: 'COMPLIANCE', Days: 2555 });
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({
        Transitions: [
          { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
          { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 365 },
        ],
        ExpirationInDays: 3650,
      }),
    );
  });

  test('bad archive configuration, and a TTL the archive cannot cover, fail at synth', () => {
    expect(() => resolveConfig({ archive: { objectLockMode: 'LEGAL' } })).toThrow(/objectLockMode/);
    expect(() => resolveConfig({ archive: { objectLockDays: 0 } })).toThrow(/objectLockDays/);
    expect(() => resolveConfig({ archive: { transitions: [{ storageClass: 'STANDARD_IA', afterDays: 10 }] } })).toThrow(/afterDays must be a whole number ≥ 30/);
    expect(() => resolveConfig({ archive: { transitions: [{ storageClass: 'TAPE', afterDays: 10 }] } })).toThrow(/storageClass/);
    expect(() => resolveConfig({ archive: { expireAfterDays: 30 } })).toThrow(/expireAfterDays/);
    expect(() => resolveConfig({ retentionDays: { debug: 3 } })).toThrow(/retentionDays.debug must be at least 7 days/);
    expect(resolveConfig({}).archive).toEqual(DEFAULT_CONFIG.archive);
  });

  test('the access log bucket is private, TLS-only, and encrypted the only way S3 log delivery allows (SSE-S3)', () => {
    expect(resource(built.stack.archive.accessLogs).Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });
});

describe('digest signing key', () => {
  test('is an ECC_NIST_P256 SIGN_VERIFY KMS key, kept whatever happens to the stack', () => {
    expect(resource(built.stack.archive.signingKey)).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
    });
  });
});

describe('archive function', () => {
  test('reads the events stream as declared: INSERT only, big batches, 5 s window, no bisection, retries without limit', () => {
    expect(resource(built.stack.archive.mapping).Properties).toEqual({
      FunctionName: { Ref: logicalId(built.stack.archive.function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(built.stack.eventStore.table(EVENTS_TABLE)), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: ARCHIVE_STREAM.batchSize,
      MaximumBatchingWindowInSeconds: 5,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: -1,
      BisectBatchOnFunctionError: false,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // New events only: inserts, and not items re-imported from the archive.
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { restoredAt: { S: [{ exists: false }] } } } }) }] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(built.stack.archive.failures), 'Arn'] } } },
    });
  });

  test('learns the bucket and the signing key from its environment', () => {
    const variables = resource(built.stack.archive.function).Properties.Environment.Variables;
    expect(variables).toMatchObject({
      ARCHIVE_BUCKET: { Ref: logicalId(built.stack.archive.bucket) },
      ARCHIVE_SIGNING_KEY_ID: arn(built.stack.archive.signingKey),
      ARCHIVE_STATE_TABLE: { Ref: logicalId(built.stack.eventStore.table(ARCHIVE_STATE_TABLE)) },
    });
  });

  test('may only put objects under events/ and digests/, sign with the digest key, and write its own state', () => {
    const statements = roleStatements(template, built, ARCHIVE_FUNCTION.id);
    const bucketArn = arn(built.stack.archive.bucket);
    const s3 = statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('s3:')));
    expect(s3).toEqual([{ Effect: 'Allow', Action: 's3:PutObject', Resource: expect.any(Array) }]);
    expect(s3[0]!.Resource).toHaveLength(2);
    expect(s3[0]!.Resource).toEqual(
      expect.arrayContaining([{ 'Fn::Join': ['', [bucketArn, '/events/*']] }, { 'Fn::Join': ['', [bucketArn, '/digests/*']] }]),
    );
    const kms = statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('kms:')));
    expect(kms).toEqual([
      { Effect: 'Allow', Action: 'kms:Sign', Resource: arn(built.stack.archive.signingKey) },
      { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: arn(built.stack.archive.bucketKey) },
    ]);
    const dynamo = statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('dynamodb:')));
    expect(dynamo).toContainEqual({
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Resource: arn(built.stack.eventStore.table(ARCHIVE_STATE_TABLE)),
    });
    // Nothing on the events table itself but reading its stream.
    const eventsArn = arn(built.stack.eventStore.table(EVENTS_TABLE));
    const onEvents = dynamo.filter((s) => JSON.stringify(s.Resource).includes(JSON.stringify(eventsArn)));
    expect(onEvents.flatMap((s) => list(s.Action)).sort()).toEqual(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']);
  });

  test('no other function may write to, read or sign for the archive', () => {
    const bucketId = logicalId(built.stack.archive.bucket);
    const signingKeyId = logicalId(built.stack.archive.signingKey);
    for (const declaration of FUNCTIONS.filter((fn) => fn.id !== ARCHIVE_FUNCTION.id)) {
      const text = JSON.stringify(roleStatements(template, built, declaration.id));
      expect(text).not.toContain(bucketId);
      expect(text).not.toContain(signingKeyId);
    }
  });

  test('alarms when records are given up on, and when it falls 15 minutes behind the stream, to the ops topic', () => {
    const topic = { Ref: logicalId(built.stack.monitoring.alarmTopic) };
    expect(resource(built.stack.archive.lagAlarm).Properties).toMatchObject({
      MetricName: 'IteratorAge',
      Namespace: 'AWS/Lambda',
      Statistic: 'Maximum',
      Threshold: 15 * 60_000,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(built.stack.archive.function) } }],
      AlarmActions: [topic],
    });
    expect(resource(built.stack.archive.failuresAlarm).Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', AlarmActions: [topic] });
  });

  test('the stack outputs what verify-archive and restore need', () => {
    for (const output of ['ArchiveBucketName', 'ArchiveSigningKeyArn', 'ArchiveStateTableName', 'EventsTableName']) template.hasOutput(output, {});
  });
});

describe('table backups', () => {
  test('the backup bucket is KMS-encrypted with its own key, versioned, private, logged, and expires exports per configuration', () => {
    const { backups, archive } = built.stack;
    expect(resource(backups.bucket).Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arn(backups.key) } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(archive.accessLogs) }, LogFilePrefix: 'backups/' },
      LifecycleConfiguration: { Rules: expect.arrayContaining([expect.objectContaining({ Id: 'expire-exports', ExpirationInDays: DEFAULT_CONFIG.backup.keepExportsDays })]) },
    });
  });

  test('the export function runs every 15 minutes, with the threshold from configuration', () => {
    const fnId = logicalId(built.stack.backups.function);
    expect(resource(built.stack.backups.schedule).Properties).toMatchObject({
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
    });
    expect(resource(built.stack.backups.function).Properties.Environment.Variables).toMatchObject({
      EVENTS_TABLE_ARN: arn(built.stack.eventStore.table(EVENTS_TABLE)),
      BACKUP_BUCKET: { Ref: logicalId(built.stack.backups.bucket) },
      BACKUP_KEY_ARN: arn(built.stack.backups.key),
      EXPORT_AFTER_EVENTS: String(DEFAULT_CONFIG.backup.exportAfterEvents),
      ARCHIVE_STATE_TABLE: { Ref: logicalId(built.stack.eventStore.table(ARCHIVE_STATE_TABLE)) },
    });
  });

  test('may export the events table and write exports, and nothing else of the tables or buckets', () => {
    const statements = roleStatements(template, built, BACKUP_FUNCTION.id);
    const eventsArn = arn(built.stack.eventStore.table(EVENTS_TABLE));
    expect(statements).toContainEqual({ Effect: 'Allow', Action: 'dynamodb:ExportTableToPointInTime', Resource: eventsArn });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:AbortMultipartUpload', 's3:PutObject', 's3:PutObjectAcl'],
      Resource: { 'Fn::Join': ['', [arn(built.stack.backups.bucket), '/table-exports/*']] },
    });
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: arn(built.stack.backups.key) });
    const dynamo = statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('dynamodb:')));
    expect(dynamo.flatMap((s) => list(s.Action)).sort()).toEqual(['dynamodb:ExportTableToPointInTime', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(JSON.stringify(statements)).not.toContain(logicalId(built.stack.archive.bucket));
  });
});
