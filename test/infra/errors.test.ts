/**
 * Error tracking on AWS (issue 5): the ErrorGroups table and its two status
 * indexes, the error tracker's event source mapping (built from
 * lib/declarations/streams.ts), its on-failure queue and alarm, the routes,
 * and least-privilege grants for the tracker and the errors API.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { AuditTrailApp } from '../../lib/app';
import { buildTestApp } from '../helpers/test-app';
import { ERRORS_FUNCTION, ERROR_TRACKER_FUNCTION, type FunctionDeclaration } from '../../lib/declarations/functions';
import { ROUTES } from '../../lib/declarations/routes';
import { ERRORS_STREAM } from '../../lib/declarations/streams';
import { COUNTERS_TABLE, ERROR_GROUPS_TABLE, ERROR_GROUP_LIST_ATTRIBUTES, EVENTS_TABLE, NOTIFICATIONS_TABLE, RULES_TABLE } from '../../lib/declarations/tables';

type Json = Record<string, any>;
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, any> };

let built: AuditTrailApp;
let template: Template;

beforeAll(() => {
  // With a webhook, so that the tracker's share of the signing key can be checked too.
  const context = {
    ...cdkJson.context,
    auditTrail: { ...cdkJson.context.auditTrail, notifications: { ...cdkJson.context.auditTrail.notifications, webhooks: ['https://hooks.example.com/T000/B000'] } },
  };
  built = buildTestApp({ context });
  template = Template.fromStack(built.stack);
});

const logicalId = (construct: IConstruct): string => Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
const resource = (construct: IConstruct): Json => template.toJSON().Resources[logicalId(construct)];
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

function roleStatements(declaration: FunctionDeclaration): Json[] {
  const fn = built.stack.api.functions.get(declaration.id)!;
  const roleId = resource(fn).Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Json[];
  return policies.filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Every DynamoDB action granted, as `action on <table>[/index/*|/stream/*]`. */
function dynamoGrants(declaration: FunctionDeclaration): string[] {
  const names = new Map<string, string>();
  for (const [id, table] of built.stack.eventStore.tables) names.set(logicalId(table), id);
  const where = (r: unknown): string => {
    const json = JSON.stringify(r);
    const [, id] = /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(json) ?? [];
    const suffix = json.includes('/index/*') ? '/index/*' : json.includes('/stream/*') ? '/stream/*' : '';
    return `${names.get(id ?? '') ?? json}${suffix}`;
  };
  return roleStatements(declaration)
    .filter((s) => list(s.Action).some((a) => String(a).startsWith('dynamodb:')))
    .flatMap((s) => list(s.Action).flatMap((a) => list(s.Resource).map((r) => `${String(a)} on ${where(r)}`)))
    .sort();
}

describe('the ErrorGroups table', () => {
  test('is keyed by group id, lists a status by last seen and by count (a number sort key), and expires on expiresAt', () => {
    const table = resource(built.stack.eventStore.table(ERROR_GROUPS_TABLE));
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table.Properties.StreamSpecification).toBeUndefined();
    expect(table.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'lastSeen', AttributeType: 'S' },
        { AttributeName: 'count', AttributeType: 'N' },
      ]),
    );
    expect(table.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byLastSeen',
        KeySchema: [
          { AttributeName: 'status', KeyType: 'HASH' },
          { AttributeName: 'lastSeen', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...ERROR_GROUP_LIST_ATTRIBUTES, 'count'] },
      },
      {
        IndexName: 'byCount',
        KeySchema: [
          { AttributeName: 'status', KeyType: 'HASH' },
          { AttributeName: 'count', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...ERROR_GROUP_LIST_ATTRIBUTES, 'lastSeen'] },
      },
    ]);
  });
});

describe('the error tracker', () => {
  test('its mapping is the declared one: INSERT only, partial batch responses, bisect, bounded retries and age, SQS on failure', () => {
    expect(resource(built.stack.errorTracking.mapping).Properties).toEqual({
      FunctionName: { Ref: logicalId(built.stack.errorTracking.function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(built.stack.eventStore.table(EVENTS_TABLE)), 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: ERRORS_STREAM.batchSize,
      MaximumBatchingWindowInSeconds: 2,
      MaximumRetryAttempts: 10,
      BisectBatchOnFunctionError: true,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // New events only: inserts, and not items re-imported from the archive.
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { restoredAt: { S: [{ exists: false }] } } } }) }] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(built.stack.errorTracking.failures), 'Arn'] } } },
    });
  });

  test('the on-failure queue is encrypted, and its alarm notifies the ops topic', () => {
    expect(resource(built.stack.errorTracking.failures).Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    expect(resource(built.stack.errorTracking.failuresAlarm).Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(built.stack.errorTracking.failures), 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: logicalId(built.stack.monitoring.alarmTopic) }],
      OKActions: [{ Ref: logicalId(built.stack.monitoring.alarmTopic) }],
    });
  });

  test('least privilege: groups read and written (no query, scan or delete), the events stream but not the table, and what notifying needs', () => {
    expect(dynamoGrants(ERROR_TRACKER_FUNCTION)).toEqual(
      [
        'dynamodb:GetItem on ErrorGroups',
        'dynamodb:PutItem on ErrorGroups',
        'dynamodb:UpdateItem on ErrorGroups',
        'dynamodb:DescribeStream on Events/stream/*',
        'dynamodb:GetRecords on Events/stream/*',
        'dynamodb:GetShardIterator on Events/stream/*',
        'dynamodb:ListStreams on Events/stream/*',
        // The rule engine, in-process: rules (and the defaults once), rule state, the notification outbox.
        'dynamodb:Scan on Rules',
        'dynamodb:PutItem on Rules',
        'dynamodb:GetItem on Counters',
        'dynamodb:PutItem on Counters',
        'dynamodb:UpdateItem on Counters',
        'dynamodb:PutItem on Notifications',
        'dynamodb:UpdateItem on Notifications',
      ].sort(),
    );
    const statements = roleStatements(ERROR_TRACKER_FUNCTION);
    const { emailTopic, smsTopic, webhookSigningKey } = built.stack.rulesEngine;
    expect(statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('sns:')))).toEqual([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: [{ Ref: logicalId(emailTopic) }, { Ref: logicalId(smsTopic) }] },
    ]);
    expect(statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('kms:')))).toEqual([
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RulesEngineTopicKey/), 'Arn'] } },
    ]);
    expect(statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('secretsmanager:')))).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: logicalId(webhookSigningKey!) } },
    ]);
    expect(resource(built.stack.errorTracking.function).Properties.Environment.Variables).toMatchObject({
      ERROR_GROUPS_TABLE: { Ref: logicalId(built.stack.eventStore.table(ERROR_GROUPS_TABLE)) },
      RULES_TABLE: { Ref: logicalId(built.stack.eventStore.table(RULES_TABLE)) },
      COUNTERS_TABLE: { Ref: logicalId(built.stack.eventStore.table(COUNTERS_TABLE)) },
      NOTIFICATIONS_TABLE: { Ref: logicalId(built.stack.eventStore.table(NOTIFICATIONS_TABLE)) },
      EMAIL_TOPIC_ARN: { Ref: logicalId(emailTopic) },
      SMS_TOPIC_ARN: { Ref: logicalId(smsTopic) },
      WEBHOOK_URLS: JSON.stringify(['https://hooks.example.com/T000/B000']),
      WEBHOOK_SECRET_ARN: { Ref: logicalId(webhookSigningKey!) },
    });
  });
});

describe('the errors API', () => {
  test('three routes behind the Cognito authorizer, served by the errors function; PATCH needs an admin', () => {
    const routes = ROUTES.filter((r) => r.function?.id === ERRORS_FUNCTION.id);
    expect(routes.map((r) => `${r.method} ${r.path} ${r.auth}`)).toEqual(['GET /v1/errors viewer', 'GET /v1/errors/{id} viewer', 'PATCH /v1/errors/{id} admin']);
    const fnId = logicalId(built.stack.api.functions.get(ERRORS_FUNCTION.id)!);
    for (const route of routes) {
      const method = built.stack.api.api.methods.find((m) => m.httpMethod === route.method && m.resource.path === route.path)!;
      expect(resource(method).Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
      expect(JSON.stringify(resource(method).Properties.Integration.Uri)).toContain(fnId);
    }
  });

  test('least privilege: groups by id (one, or a list page’s histograms), by index and one update; events by id and create-only admin events; nothing to publish', () => {
    expect(dynamoGrants(ERRORS_FUNCTION)).toEqual(
      [
        'dynamodb:Query on ErrorGroups',
        'dynamodb:Query on ErrorGroups/index/*',
        'dynamodb:GetItem on ErrorGroups',
        'dynamodb:BatchGetItem on ErrorGroups',
        'dynamodb:UpdateItem on ErrorGroups',
        'dynamodb:BatchGetItem on Events',
        'dynamodb:PutItem on Events',
      ].sort(),
    );
    const statements = roleStatements(ERRORS_FUNCTION);
    expect(statements.flatMap((s) => list(s.Action)).filter((a) => /^(sns|kms|secretsmanager|sqs):/.test(String(a)))).toEqual([]);
    expect(JSON.stringify(statements)).not.toContain('/stream/*');
  });
});
