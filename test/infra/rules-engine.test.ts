/**
 * The rules engine on AWS: the events stream mapping (built from
 * lib/declarations/streams.ts), its on-failure queue and alarm, the
 * encrypted email/SMS topics with subscriptions from configuration, and
 * least-privilege grants.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { AuditTrailApp } from '../../lib/app';
import { buildTestApp } from '../helpers/test-app';
import { ERROR_TRACKER_FUNCTION, NOTIFICATIONS_FUNCTION, RULES_FUNCTION, SILENCE_FUNCTION, type FunctionDeclaration } from '../../lib/declarations/functions';
import { ROUTES } from '../../lib/declarations/routes';
import { RULES_STREAM, STREAM_CONSUMERS } from '../../lib/declarations/streams';
import { EVENTS_TABLE } from '../../lib/declarations/tables';

type Json = Record<string, any>;
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, any> };

let built: AuditTrailApp;
let template: Template;

beforeAll(() => {
  const context = {
    ...cdkJson.context,
    auditTrail: { ...cdkJson.context.auditTrail, notifications: { emails: ['oncall@example.com', 'security@example.com'], phones: ['+14155550100'], webhooks: ['https://hooks.example.com/T000/B000'], adminUrl: 'https://audit.example.com' } },
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

describe('event source mapping', () => {
  test('is the declared one: INSERT only, partial batch responses, bisect, bounded retries and age, SQS on failure', () => {
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping');
    // One mapping per declared stream consumer (the rule engine, the archive, the stats counter).
    expect(Object.keys(mappings)).toHaveLength(STREAM_CONSUMERS.length);
    const mapping = resource(built.stack.rulesEngine.mapping);
    expect(mapping.Properties).toEqual({
      FunctionName: { Ref: logicalId(built.stack.rulesEngine.function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(built.stack.eventStore.table(EVENTS_TABLE)), 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: RULES_STREAM.batchSize,
      MaximumBatchingWindowInSeconds: RULES_STREAM.maxBatchingWindowSeconds,
      MaximumRetryAttempts: 10,
      BisectBatchOnFunctionError: true,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // New events only: inserts, and not items re-imported from the archive.
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { restoredAt: { S: [{ exists: false }] } } } }) }] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(built.stack.rulesEngine.failures), 'Arn'] } } },
    });
  });

  test('the on-failure queue is encrypted and TLS-only, and an alarm on its visible messages notifies the ops topic', () => {
    const queueId = logicalId(built.stack.rulesEngine.failures);
    expect(resource(built.stack.rulesEngine.failures).Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const alarm = resource(built.stack.rulesEngine.failuresAlarm).Properties;
    expect(alarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: logicalId(built.stack.monitoring.alarmTopic) }],
    });
  });
});

describe('topics', () => {
  test('email and SMS topics are KMS-encrypted and TLS-only', () => {
    for (const topic of [built.stack.rulesEngine.emailTopic, built.stack.rulesEngine.smsTopic]) {
      expect(resource(topic).Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RulesEngineTopicKey/), 'Arn'] });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: logicalId(topic) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('notification topics') });
  });

  test('subscriptions come from auditTrail.notifications', () => {
    const subscriptions = (Object.values(template.findResources('AWS::SNS::Subscription')) as Json[]).map((s) => s.Properties);
    expect(subscriptions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: logicalId(built.stack.rulesEngine.emailTopic) } }),
        expect.objectContaining({ Protocol: 'email', Endpoint: 'security@example.com', TopicArn: { Ref: logicalId(built.stack.rulesEngine.emailTopic) } }),
        expect.objectContaining({ Protocol: 'sms', Endpoint: '+14155550100', TopicArn: { Ref: logicalId(built.stack.rulesEngine.smsTopic) } }),
      ]),
    );
    expect(subscriptions).toHaveLength(3);
    expect(resource(built.stack.rulesEngine.function).Properties.Environment.Variables).toMatchObject({
      EMAIL_TOPIC_ARN: { Ref: logicalId(built.stack.rulesEngine.emailTopic) },
      SMS_TOPIC_ARN: { Ref: logicalId(built.stack.rulesEngine.smsTopic) },
      ADMIN_URL: 'https://audit.example.com',
    });
  });
});

describe('silent-source check', () => {
  test('runs every 5 minutes on an EventBridge schedule', () => {
    const fnId = logicalId(built.stack.rulesEngine.silenceFunction);
    expect(resource(built.stack.rulesEngine.silenceSchedule).Properties).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 } })],
    });
  });
});

describe('webhooks', () => {
  test('configured webhooks get a generated signing key that only the rule function reads, by ARN', () => {
    const secret = built.stack.rulesEngine.webhookSigningKey!;
    expect(secret).toBeDefined();
    expect(resource(built.stack.rulesEngine.function).Properties.Environment.Variables).toMatchObject({
      WEBHOOK_URLS: JSON.stringify(['https://hooks.example.com/T000/B000']),
      WEBHOOK_SECRET_ARN: { Ref: logicalId(secret) },
    });
    expect(roleStatements(RULES_FUNCTION)).toContainEqual({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: logicalId(secret) } });
    for (const id of built.stack.api.functions.keys()) {
      // The error tracker notifies through the rule engine in-process (issue 5; test/infra/errors.test.ts).
      if (id === RULES_FUNCTION.id || id === SILENCE_FUNCTION.id || id === ERROR_TRACKER_FUNCTION.id) continue;
      expect(JSON.stringify(roleStatements({ id } as FunctionDeclaration))).not.toContain(logicalId(secret));
    }
  });

  test('without webhooks there is no signing key (the default configuration)', () => {
    expect(cdkJson.context.auditTrail.notifications.webhooks).toEqual([]);
  });
});

describe('least privilege', () => {
  test.each([RULES_FUNCTION, SILENCE_FUNCTION])('$id may publish only to the two topics, KMS only on their key', (declaration) => {
    const statements = roleStatements(declaration);
    const publish = statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('sns:')));
    expect(publish).toEqual([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: [{ Ref: logicalId(built.stack.rulesEngine.emailTopic) }, { Ref: logicalId(built.stack.rulesEngine.smsTopic) }] },
    ]);
    const kms = statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('kms:')));
    expect(kms).toEqual([{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RulesEngineTopicKey/), 'Arn'] } }]);
  });

  test('no other function may publish', () => {
    for (const declaration of built.stack.api.functions.keys()) {
      if (declaration === RULES_FUNCTION.id || declaration === SILENCE_FUNCTION.id || declaration === ERROR_TRACKER_FUNCTION.id) continue;
      const others = roleStatements({ id: declaration } as FunctionDeclaration);
      expect(others.flatMap((s) => list(s.Action)).filter((a) => String(a).startsWith('sns:'))).toEqual([]);
    }
  });

  test('the rule function reads the events stream only (no events table access) and writes what it declares', () => {
    const statements = roleStatements(RULES_FUNCTION);
    const eventsId = logicalId(built.stack.eventStore.table(EVENTS_TABLE));
    const dynamo = statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('dynamodb:')));
    const onEvents = dynamo.filter((s) => JSON.stringify(s.Resource).includes(eventsId));
    expect(onEvents).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [eventsId, 'Arn'] }, '/stream/*']] },
      },
    ]);
    const declared = RULES_FUNCTION.access.flatMap((a) => a.actions);
    const granted = dynamo.filter((s) => !onEvents.includes(s)).flatMap((s) => list(s.Action));
    expect(granted.sort()).toEqual([...declared].sort());
    const sqs = statements.filter((s) => list(s.Action).some((a) => String(a).startsWith('sqs:')));
    expect(sqs.flatMap((s) => list(s.Resource))).toEqual([{ 'Fn::GetAtt': [logicalId(built.stack.rulesEngine.failures), 'Arn'] }]);
  });

  test('the notifications API reads events with Query and BatchGetItem only, never Scan, and only creates (admin.* events)', () => {
    const statements = roleStatements(NOTIFICATIONS_FUNCTION);
    const eventsId = logicalId(built.stack.eventStore.table(EVENTS_TABLE));
    const onEvents = statements.filter((s) => JSON.stringify(s.Resource).includes(eventsId)).flatMap((s) => list(s.Action));
    // PutItem (issue 3): rule changes and resolutions are recorded as admin events, create-only, on the table alone.
    expect(onEvents.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    const put = statements.filter((s) => list(s.Action).includes('dynamodb:PutItem') && JSON.stringify(s.Resource).includes(eventsId));
    expect(put.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [eventsId, 'Arn'] }]);
  });
});

describe('routes', () => {
  test('notifications and rules routes use the Cognito authorizer and the notifications function', () => {
    const fnId = logicalId(built.stack.api.functions.get(NOTIFICATIONS_FUNCTION.id)!);
    const routes = ROUTES.filter((r) => r.function?.id === NOTIFICATIONS_FUNCTION.id);
    expect(routes.map((r) => `${r.method} ${r.path} ${r.auth}`)).toEqual([
      'GET /v1/notifications viewer',
      'PATCH /v1/notifications/{id} viewer',
      'GET /v1/rules admin',
      'POST /v1/rules admin',
      'GET /v1/rules/{id} admin',
      'PUT /v1/rules/{id} admin',
      'DELETE /v1/rules/{id} admin',
      'POST /v1/rules/{id}/test admin',
    ]);
    for (const route of routes) {
      const method = built.stack.api.api.methods.find((m) => m.httpMethod === route.method && m.resource.path === route.path)!;
      const props = resource(method).Properties;
      expect(props.AuthorizationType).toBe('COGNITO_USER_POOLS');
      expect(JSON.stringify(props.Integration.Uri)).toContain(fnId);
    }
  });
});
