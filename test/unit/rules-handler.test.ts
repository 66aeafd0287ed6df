/**
 * The rule Lambda with DynamoDB and SNS mocked: what it publishes (topic,
 * subject, text, attributes), how it reports partial batch failures, and
 * that a retried batch sends nothing twice. The real path runs in
 * test/integration/rules.test.ts.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { AuditEvent } from '../../lambdas/core/event';
import { toEventItem } from '../../lambdas/core/event-keys';
import { DEFAULT_RULES, type Rule } from '../../lambdas/core/rules';

Object.assign(process.env, {
  RULES_TABLE: 'rules-test',
  COUNTERS_TABLE: 'counters-test',
  NOTIFICATIONS_TABLE: 'notifications-test',
  EMAIL_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:email',
  SMS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:sms',
  ADMIN_URL: 'https://audit.example.com',
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});
delete process.env.LOCAL_OUTBOX_FILE;

const dynamo = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/rules/handler') as { handler: (e: DynamoDBStreamEvent, c: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }> };

const context = { functionName: 'rules', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

const criticalRule: Rule = { id: 'all-critical', name: 'Critical event', enabled: true, match: { minSeverity: 'critical' }, channels: ['email', 'sms', 'inApp'] };
const failedLogins = DEFAULT_RULES.find((r) => r.id === 'failed-logins')!;
const RULES = [criticalRule, failedLogins, { ...criticalRule, id: 'disabled', enabled: false }];

let seq = 0;
function auditEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  seq++;
  const at = new Date(Date.parse('2026-11-23T10:00:00Z') + seq * 1000).toISOString();
  return {
    id: `01JD7X8Y9ZABCDEFGHJK${String(seq).padStart(6, '0')}`,
    occurredAt: at,
    receivedAt: at,
    type: 'security.suspicious_activity',
    category: 'security',
    severity: 'critical',
    status: 'failure',
    source: 'web',
    actor: { userId: 'u-42', ip: '203.0.113.9' },
    record: { type: 'account', id: 'ACC-7' },
    message: 'impossible travel',
    ...overrides,
  };
}

function record(event: AuditEvent, sequenceNumber = String(100 + seq)): DynamoDBRecord {
  return {
    eventID: `e-${sequenceNumber}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    eventSourceARN: 'arn:aws:dynamodb:eu-west-1:123456789012:table/events/stream/2026',
    dynamodb: { SequenceNumber: sequenceNumber, NewImage: marshall(toEventItem(event), { removeUndefinedValues: true }) as never },
  };
}

beforeEach(() => {
  dynamo.reset();
  sns.reset();
  dynamo.on(ScanCommand, { TableName: 'rules-test' }).resolves({ Items: [{ id: '_defaults' }, ...RULES] });
  dynamo.on(PutCommand, { TableName: 'notifications-test' }).resolves({});
  dynamo.on(UpdateCommand, { TableName: 'notifications-test' }).resolves({});
  dynamo.on(GetCommand, { TableName: 'counters-test' }).resolves({});
  dynamo.on(PutCommand, { TableName: 'counters-test' }).resolves({});
  let n = 0;
  sns.on(PublishCommand).callsFake(async () => ({ MessageId: `msg-${++n}` }));
});

test('a critical event publishes to the email and SMS topics with filterable attributes, then marks the notification sent', async () => {
  const event = auditEvent();
  const result = await handler({ Records: [record(event)] }, context);
  expect(result).toEqual({ batchItemFailures: [] });

  const attributes = {
    severity: { DataType: 'String', StringValue: 'critical' },
    category: { DataType: 'String', StringValue: 'security' },
    type: { DataType: 'String', StringValue: 'security.suspicious_activity' },
    rule: { DataType: 'String', StringValue: 'all-critical' },
  };
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
  expect(sns).toHaveReceivedCommandWith(PublishCommand, {
    TopicArn: process.env.EMAIL_TOPIC_ARN,
    Subject: '[CRITICAL] Critical event: security.suspicious_activity (u-42)',
    Message: expect.stringContaining(`https://audit.example.com/#/events/${event.id}`),
    MessageAttributes: attributes,
  });
  const email = sns.commandCalls(PublishCommand).find((c) => c.args[0].input.TopicArn === process.env.EMAIL_TOPIC_ARN)!.args[0].input.Message!;
  expect(email).toContain('Who:       user u-42, IP 203.0.113.9');
  expect(email).toContain('Record:    account ACC-7');
  const sms = sns.commandCalls(PublishCommand).find((c) => c.args[0].input.TopicArn === process.env.SMS_TOPIC_ARN)!.args[0].input;
  expect(sms.MessageAttributes).toEqual(attributes);
  expect(sms.Subject).toBeUndefined();
  expect(sms.Message!.length).toBeLessThanOrEqual(160);

  // The outbox: the record first (create-only), then per-channel delivery status.
  expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
    TableName: 'notifications-test',
    ConditionExpression: 'attribute_not_exists(id)',
    Item: expect.objectContaining({ ruleId: 'all-critical', eventId: event.id, status: 'new', statusPk: 'N#new', delivery: 'pending', record: { type: 'account', id: 'ACC-7' } }),
  });
  expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
    TableName: 'notifications-test',
    ExpressionAttributeValues: {
      ':s': 'sent',
      ':d': { email: expect.objectContaining({ status: 'sent', messageId: expect.stringMatching(/^msg-/) }), sms: expect.objectContaining({ status: 'sent', messageId: expect.stringMatching(/^msg-/) }) },
    },
  });
  const put = dynamo.calls().find((c) => c.args[0] instanceof PutCommand)!;
  const mark = dynamo.calls().find((c) => c.args[0] instanceof UpdateCommand)!;
  expect(put.calledBefore(sns.calls()[0]!)).toBe(true);
  expect(mark.calledAfter(sns.calls()[1]!)).toBe(true);
});

test('a retried batch publishes nothing twice: the conditional put finds the notification already sent', async () => {
  const event = auditEvent();
  await handler({ Records: [record(event)] }, context);
  const stored = dynamo.commandCalls(PutCommand, { TableName: 'notifications-test' })[0]!.args[0].input.Item!;
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);

  sns.resetHistory();
  const sent = { ...stored, delivery: 'sent', deliveries: { email: { status: 'sent', messageId: 'msg-1', at: 'x' }, sms: { status: 'sent', messageId: 'msg-2', at: 'x' } } };
  dynamo
    .on(PutCommand, { TableName: 'notifications-test' })
    .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: marshall(sent) as never }));
  const result = await handler({ Records: [record(event)] }, context);
  expect(result).toEqual({ batchItemFailures: [] });
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
});

test('a retry after a crash between publish and mark sends only the channel that was not recorded', async () => {
  const event = auditEvent();
  await handler({ Records: [record(event)] }, context);
  const stored = dynamo.commandCalls(PutCommand, { TableName: 'notifications-test' })[0]!.args[0].input.Item!;
  sns.resetHistory();
  const half = { ...stored, deliveries: { email: { status: 'sent', messageId: 'msg-1', at: 'x' } } };
  dynamo.on(PutCommand, { TableName: 'notifications-test' }).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: marshall(half) as never }));
  await handler({ Records: [record(event)] }, context);
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: process.env.SMS_TOPIC_ARN });
});

test('one failing record is reported alone; the others go through', async () => {
  const good = auditEvent();
  const bad = auditEvent({ message: 'sms will fail' });
  const unmatched = auditEvent({ severity: 'info', type: 'user.logout' });
  sns.on(PublishCommand).callsFake(async (input: { TopicArn: string; Message: string }) => {
    if (input.TopicArn === process.env.SMS_TOPIC_ARN && input.Message.includes(bad.id)) throw new Error('SMS spend limit reached');
    return { MessageId: 'ok' };
  });
  const records = [record(good, '201'), record(bad, '202'), record(unmatched, '203')];
  const result = await handler({ Records: records }, context);
  expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '202' }] });
  // The failure is on the notification: email sent, SMS failed with the reason.
  expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
    TableName: 'notifications-test',
    ExpressionAttributeValues: { ':s': 'failed', ':d': { email: expect.objectContaining({ status: 'sent' }), sms: expect.objectContaining({ status: 'failed', error: 'SMS spend limit reached' }) } },
  });
});

test('a record whose document cannot be read fails alone', async () => {
  const broken = record(auditEvent(), '301');
  broken.dynamodb!.NewImage!.doc = { S: '{not json' };
  const result = await handler({ Records: [broken, record(auditEvent(), '302')] }, context);
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '301' }]);
});

test('a threshold rule writes its window state conditionally and fires on the fifth failed login', async () => {
  const logins = Array.from({ length: 5 }, () => auditEvent({ type: 'user.login.failed', severity: 'warning', message: 'wrong password' }));
  let stored: { version: number; state: string } | undefined;
  dynamo.on(GetCommand, { TableName: 'counters-test' }).callsFake(async () => ({ Item: stored && { pk: 'x', ...stored } }));
  dynamo.on(PutCommand, { TableName: 'counters-test' }).callsFake(async (input: { Item: { version: number; state: string }; ExpressionAttributeValues?: { ':v': number } }) => {
    const expected = input.ExpressionAttributeValues?.[':v'] ?? 0;
    if ((stored?.version ?? 0) !== expected) throw new ConditionalCheckFailedException({ message: 'changed', $metadata: {} });
    stored = { version: input.Item.version, state: input.Item.state };
    return {};
  });

  await handler({ Records: logins.slice(0, 4).map((e) => record(e)) }, context);
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  expect(dynamo).toHaveReceivedCommandWith(PutCommand, { TableName: 'counters-test', Item: expect.objectContaining({ pk: 'rule#failed-logins#u-42', version: 4 }), ConditionExpression: 'version = :v' });

  await handler({ Records: [record(logins[4]!)] }, context);
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
  expect(sns).toHaveReceivedCommandWith(PublishCommand, { Message: expect.stringContaining('How many:  5 matching events'), MessageAttributes: expect.objectContaining({ rule: { DataType: 'String', StringValue: 'failed-logins' } }) });

  // The whole batch again (a retry): the state says it is done, nothing is published.
  sns.resetHistory();
  dynamo.on(PutCommand, { TableName: 'notifications-test' }).rejects(
    new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: marshall({ id: 'n', channels: ['email', 'sms', 'inApp'], delivery: 'sent', deliveries: { email: { status: 'sent' }, sms: { status: 'sent' } } }) as never }),
  );
  const again = await handler({ Records: logins.map((e) => record(e)) }, context);
  expect(again.batchItemFailures).toEqual([]);
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
});

test('losing the state race to another batch that already fired sends nothing', async () => {
  const login = auditEvent({ type: 'user.login.failed', severity: 'warning' });
  const before = { entries: ['2026-11-23T09:59:00.000Z#a', '2026-11-23T09:59:01.000Z#b', '2026-11-23T09:59:02.000Z#c', '2026-11-23T09:59:03.000Z#d'] };
  // Read at version 1, but by the time of the write another shard fired with its own fifth event.
  const after = { entries: [], floor: '2026-11-23T09:59:04.000Z#e', throttledUntil: Date.now() + 1_800_000, lastFired: { eventId: 'e' } };
  let reads = 0;
  dynamo.on(GetCommand, { TableName: 'counters-test' }).callsFake(async () => ({ Item: reads++ === 0 ? { version: 1, state: JSON.stringify(before) } : { version: 2, state: JSON.stringify(after) } }));
  dynamo.on(PutCommand, { TableName: 'counters-test' }).rejectsOnce(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} })).resolves({});
  const result = await handler({ Records: [record(login)] }, context);
  expect(result.batchItemFailures).toEqual([]);
  expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 2);
});
