/**
 * The error tracker Lambda with DynamoDB and SNS mocked: one transaction per
 * group and batch (markers first, then the group), a failing group reports
 * exactly its own records for retry, non-errors are skipped, and a new group
 * is announced through the rule engine (the default rule's email). The real
 * path runs in test/integration/errors.test.ts.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { AuditEvent } from '../../lambdas/core/event';
import { toEventItem } from '../../lambdas/core/event-keys';
import { fingerprintOf } from '../../lambdas/core/fingerprint';
import { DEFAULT_RULES } from '../../lambdas/core/rules';

Object.assign(process.env, {
  ERROR_GROUPS_TABLE: 'error-groups-test',
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
const { handler } = require('../../lambdas/error-tracker/handler') as { handler: (e: DynamoDBStreamEvent, c: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }> };
const context = { functionName: 'error-tracker', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

let seq = 0;
function failure(fn: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  seq++;
  const at = new Date(Date.now() - 60_000 + seq).toISOString();
  return {
    id: `01JD7X8Y9ZABCDEFGHJK${String(seq).padStart(6, '0')}`,
    occurredAt: at,
    receivedAt: at,
    type: 'server.error',
    category: 'system_error',
    severity: 'error',
    status: 'failure',
    source: 'checkout',
    error: { name: 'Error', message: `failed ${seq}`, stack: `Error: failed\n    at ${fn} (/app/src/${fn}.ts:${seq}:1)` },
    ...overrides,
  };
}

const record = (event: AuditEvent): DynamoDBRecord => ({
  eventName: 'INSERT',
  dynamodb: { SequenceNumber: `${100 + seq}${event.id.slice(-3)}`, NewImage: marshall(toEventItem(event), { removeUndefinedValues: true }) as never },
});

const newErrorRule = DEFAULT_RULES.find((rule) => rule.id === 'error-group-new')!;

beforeEach(() => {
  dynamo.reset();
  sns.reset();
  dynamo.on(ScanCommand, { TableName: 'rules-test' }).resolves({ Items: [{ id: '_defaults', rules: DEFAULT_RULES.map((r) => r.id) }, newErrorRule] });
  dynamo.on(GetCommand).resolves({});
  dynamo.on(PutCommand).resolves({});
  dynamo.on(UpdateCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
});

test('one transaction per group, markers first; a failing group reports only its records; non-errors are skipped', async () => {
  const good = [failure('pay'), failure('pay'), failure('pay')];
  const bad = [failure('ship'), failure('ship')];
  const info = failure('pay', { severity: 'info', error: undefined, type: 'user.login.succeeded' });
  const badGroup = fingerprintOf(bad[0]!).id;
  dynamo.on(TransactWriteCommand).callsFake(async (input: { TransactItems: { Put?: { Item: { pk: string } }; Update?: { Key: { pk: string } } }[] }) => {
    const groupItem = input.TransactItems.at(-1)!;
    if ((groupItem.Put?.Item.pk ?? groupItem.Update?.Key.pk) === badGroup) throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError' });
    return {};
  });
  const records = [good[0]!, bad[0]!, info, good[1]!, bad[1]!, good[2]!].map(record);
  const result = await handler({ Records: records }, context);
  expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([records[1]!, records[4]!].map((r) => r.dynamodb!.SequenceNumber!).sort());

  const transactions = dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems!);
  const goodWrite = transactions.find((items) => items.at(-1)!.Put?.Item?.pk === fingerprintOf(good[0]!).id)!;
  expect(goodWrite).toHaveLength(4);
  expect(goodWrite.slice(0, 3).map((item) => item.Put!.Item!.pk).sort()).toEqual(good.map((e) => `E#${e.id}`).sort());
  expect(goodWrite.slice(0, 3).every((item) => item.Put!.ConditionExpression === 'attribute_not_exists(pk)')).toBe(true);
  expect(goodWrite[3]!.Put).toMatchObject({ ConditionExpression: 'attribute_not_exists(pk)', Item: { count: 3, status: 'unresolved', source: 'checkout', culprit: 'pay (app/src/pay.ts)' } });
  // The info event was never looked at.
  expect(JSON.stringify(transactions)).not.toContain(info.id);

  // The new group went to the rule engine: the default rule's notification, created once and e-mailed.
  const notification = dynamo.commandCalls(PutCommand, { TableName: 'notifications-test' })[0]!.args[0].input.Item!;
  expect(notification).toMatchObject({ ruleId: 'error-group-new', type: 'error.group.new', source: 'audit-trail', record: { type: 'error_group', id: fingerprintOf(good[0]!).id } });
  expect(sns).toHaveReceivedCommandWith(PublishCommand, {
    TopicArn: process.env.EMAIL_TOPIC_ARN,
    Subject: '[WARNING] New error: error.group.new',
    Message: expect.stringContaining(`https://audit.example.com/#/errors/${fingerprintOf(good[0]!).id}`),
  });
});

test('a redelivered batch (every marker exists) writes nothing more', async () => {
  const events = [failure('retry'), failure('retry')];
  dynamo.on(TransactWriteCommand).rejects(
    Object.assign(new Error('Transaction cancelled'), { name: 'TransactionCanceledException', CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'ConditionalCheckFailed' }, { Code: 'None' }] }),
  );
  const result = await handler({ Records: events.map(record) }, context);
  expect(result.batchItemFailures).toEqual([]);
  expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  // No group read said it was created by these events, so nothing is announced.
  expect(sns).not.toHaveReceivedCommand(PublishCommand);
});
