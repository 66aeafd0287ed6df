/**
 * The admin API, stats and exports on AWS (issue 3): least-privilege grants
 * exactly as declared, the stats stream mapping, the exports bucket's
 * protections and lifecycle, and the routes.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { AuditTrailApp } from '../../lib/app';
import { buildTestApp } from '../helpers/test-app';
import { ADMIN_FUNCTION, EXPORT_FUNCTION, QUERY_FUNCTION, STATS_FUNCTION, type FunctionDeclaration } from '../../lib/declarations/functions';
import { ROUTES } from '../../lib/declarations/routes';
import { STATS_STREAM } from '../../lib/declarations/streams';
import { APP_KEYS_TABLE, EVENTS_TABLE, EXPORTS_TABLE, STATS_TABLE, type TableDeclaration } from '../../lib/declarations/tables';

type Json = Record<string, any>;
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, any> };

let built: AuditTrailApp;
let template: Template;

beforeAll(() => {
  // A non-default retention, to see configuration reach the lifecycle rule and the function.
  built = buildTestApp({ context: { ...cdkJson.context, auditTrail: { ...cdkJson.context.auditTrail, exports: { retentionDays: 30, linkExpirySeconds: 600 } } } });
  template = Template.fromStack(built.stack);
});

const logicalId = (construct: IConstruct): string => Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
const resource = (construct: IConstruct): Json => template.toJSON().Resources[logicalId(construct)];
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const fnOf = (declaration: FunctionDeclaration) => built.stack.api.functions.get(declaration.id)!;
const tableArn = (declaration: TableDeclaration) => ({ 'Fn::GetAtt': [logicalId(built.stack.eventStore.table(declaration)), 'Arn'] });
const bucketObjects = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(built.stack.exports.bucket), 'Arn'] }, `/${prefix}*`]] });

function statements(declaration: FunctionDeclaration): Json[] {
  const roleId = resource(fnOf(declaration)).Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Json[];
  return policies.filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Every allowed action of a service, with its resources: the whole of what the role may do there. */
function grants(declaration: FunctionDeclaration, service: string): { actions: string[]; resource: unknown }[] {
  return statements(declaration)
    .filter((s) => s.Effect === 'Allow' && list(s.Action).some((a) => String(a).startsWith(`${service}:`)))
    .flatMap((s) => list(s.Resource).map((r) => ({ actions: list(s.Action).map(String).sort(), resource: r })));
}

describe('admin function', () => {
  test('app keys: create, revoke, list; events: create only; export jobs: create, read, update; nothing else in DynamoDB', () => {
    expect(grants(ADMIN_FUNCTION, 'dynamodb')).toEqual([
      { actions: ['dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'], resource: tableArn(APP_KEYS_TABLE) },
      { actions: ['dynamodb:PutItem'], resource: tableArn(EVENTS_TABLE) },
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resource: tableArn(EXPORTS_TABLE) },
    ]);
  });

  test('may read export objects (for presigned links) and invoke the export function, nothing more', () => {
    expect(grants(ADMIN_FUNCTION, 's3')).toEqual([{ actions: ['s3:GetObject'], resource: bucketObjects('exports/') }]);
    expect(grants(ADMIN_FUNCTION, 'lambda')).toEqual([{ actions: ['lambda:InvokeFunction'], resource: { 'Fn::GetAtt': [logicalId(fnOf(EXPORT_FUNCTION)), 'Arn'] } }]);
    expect(grants(ADMIN_FUNCTION, 'kms')).toEqual([]);
  });

  test('learns the bucket, the export function and the export settings from its environment', () => {
    expect(resource(fnOf(ADMIN_FUNCTION)).Properties.Environment.Variables).toMatchObject({
      EXPORTS_BUCKET: { Ref: logicalId(built.stack.exports.bucket) },
      EXPORT_FUNCTION_NAME: { Ref: logicalId(fnOf(EXPORT_FUNCTION)) },
      EXPORT_RETENTION_DAYS: '30',
      EXPORT_LINK_SECONDS: '600',
      EXPORTS_TABLE: { Ref: logicalId(built.stack.eventStore.table(EXPORTS_TABLE)) },
    });
  });
});

describe('export function', () => {
  test('reads events by Query only (table and indexes), updates its job, puts and aborts uploads under exports/ only', () => {
    const eventsArn = tableArn(EVENTS_TABLE);
    expect(grants(EXPORT_FUNCTION, 'dynamodb')).toEqual([
      { actions: ['dynamodb:Query'], resource: eventsArn },
      { actions: ['dynamodb:Query'], resource: { 'Fn::Join': ['', [eventsArn, '/index/*']] } },
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: tableArn(EXPORTS_TABLE) },
    ]);
    expect(grants(EXPORT_FUNCTION, 's3')).toEqual([{ actions: ['s3:AbortMultipartUpload', 's3:PutObject'], resource: bucketObjects('exports/') }]);
  });

  test('runs up to 15 minutes, started asynchronously without retries', () => {
    expect(resource(fnOf(EXPORT_FUNCTION)).Properties).toMatchObject({ Timeout: 900, MemorySize: 1024 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(fnOf(EXPORT_FUNCTION)) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 3600,
    });
  });
});

describe('exports bucket', () => {
  test('private, encrypted, TLS only, access logged, old exports and broken uploads expire', () => {
    const bucket = resource(built.stack.exports.bucket);
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(built.stack.archive.accessLogs) }, LogFilePrefix: 'exports/' },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'expire-exports', Prefix: 'exports/', ExpirationInDays: 30, Status: 'Enabled' },
          { Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
        ],
      },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(built.stack.exports.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  test('a link longer than an hour or a retention outside 1–365 days fails synthesis', () => {
    const context = (exports: unknown) => ({ ...cdkJson.context, auditTrail: { ...cdkJson.context.auditTrail, exports } });
    expect(() => buildTestApp({ context: context({ linkExpirySeconds: 7200 }) })).toThrow(/linkExpirySeconds/);
    expect(() => buildTestApp({ context: context({ retentionDays: 0 }) })).toThrow(/retentionDays/);
  });
});

describe('stats', () => {
  test('the counter may put markers and update counters in Stats, nothing else in DynamoDB but reading the events stream', () => {
    expect(grants(STATS_FUNCTION, 'dynamodb')).toEqual([
      { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], resource: tableArn(STATS_TABLE) },
      {
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        resource: { 'Fn::Join': ['', [tableArn(EVENTS_TABLE), '/stream/*']] },
      },
    ]);
  });

  test('its mapping is the declared one: INSERT only, from the trim horizon, large batches, retried until done', () => {
    expect(resource(built.stack.eventStats.mapping).Properties).toEqual({
      FunctionName: { Ref: logicalId(fnOf(STATS_FUNCTION)) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(built.stack.eventStore.table(EVENTS_TABLE)), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: STATS_STREAM.batchSize,
      MaximumBatchingWindowInSeconds: STATS_STREAM.maxBatchingWindowSeconds,
      MaximumRetryAttempts: -1,
      BisectBatchOnFunctionError: false,
      MaximumRecordAgeInSeconds: -1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // New events only: inserts, and not items re-imported from the archive.
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { restoredAt: { S: [{ exists: false }] } } } }) }] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(built.stack.eventStats.failures), 'Arn'] } } },
    });
  });

  test('the Stats and Exports tables: keys and TTL as declared', () => {
    expect(resource(built.stack.eventStore.table(STATS_TABLE)).Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(resource(built.stack.eventStore.table(EXPORTS_TABLE)).Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });
});

describe('routes', () => {
  test.each([
    ['POST', '/v1/app-keys', ADMIN_FUNCTION],
    ['GET', '/v1/app-keys', ADMIN_FUNCTION],
    ['DELETE', '/v1/app-keys/{keyId}', ADMIN_FUNCTION],
    ['POST', '/v1/exports', ADMIN_FUNCTION],
    ['GET', '/v1/exports/{id}', ADMIN_FUNCTION],
    ['GET', '/v1/stats', QUERY_FUNCTION],
  ])('%s %s: Cognito authorizer, served by its function', (httpMethod, routePath, fn) => {
    const method = built.stack.api.api.methods.find((m) => m.httpMethod === httpMethod && m.resource.path === routePath)!;
    const properties = resource(method).Properties;
    expect(properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
    expect(JSON.stringify(properties.Integration.Uri)).toContain(logicalId(fnOf(fn)));
    const declared = ROUTES.find((r) => r.method === httpMethod && r.path === routePath)!;
    expect(declared.auth).toBe(routePath === '/v1/stats' ? 'viewer' : 'admin');
  });
});
