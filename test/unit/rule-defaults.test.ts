/**
 * Default rules across versions: a new installation gets every default once;
 * an installation seeded by an earlier version gets the defaults added since
 * (error tracking's two), once; a deleted default stays deleted.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DEFAULTS_MARKER_ID, DynamoRuleStore } from '../../lambdas/adapters/rule-store';
import { DEFAULT_RULES, validateRule } from '../../lambdas/core/rules';

const dynamo = mockClient(DynamoDBDocumentClient);
const store = new DynamoRuleStore(dynamo as unknown as DynamoDBDocumentClient, 'rules-test');
const ERROR_RULES = ['error-group-new', 'error-group-regressed'];
const EARLIER = DEFAULT_RULES.map((rule) => rule.id).filter((id) => !ERROR_RULES.includes(id));

beforeEach(() => {
  dynamo.reset();
  dynamo.on(PutCommand).resolves({});
});

const created = () =>
  dynamo
    .commandCalls(PutCommand)
    .map((call) => call.args[0].input.Item!)
    .filter((item) => item.id !== DEFAULTS_MARKER_ID)
    .map((item) => item.id);
const marker = () => dynamo.commandCalls(PutCommand).find((call) => call.args[0].input.Item!.id === DEFAULTS_MARKER_ID)?.args[0].input.Item;

test('the error tracking defaults are valid rules matching the system lifecycle events only', () => {
  for (const id of ERROR_RULES) {
    const rule = DEFAULT_RULES.find((r) => r.id === id)!;
    expect(validateRule(rule)).toEqual({ ok: true, rule });
    expect(rule.match.source).toBe('audit-trail');
  }
});

test('a new installation: every default, then the marker listing them', async () => {
  dynamo.on(ScanCommand).resolves({ Items: [] });
  expect(await store.ensureDefaults(DEFAULT_RULES)).toBe(DEFAULT_RULES.length);
  expect(created()).toEqual(DEFAULT_RULES.map((r) => r.id));
  expect(marker()!.rules).toEqual(DEFAULT_RULES.map((r) => r.id));
});

test('an installation seeded before error tracking: only the two new defaults, and a default deleted since stays deleted', async () => {
  const remaining = EARLIER.filter((id) => id !== 'signup-failures').map((id) => DEFAULT_RULES.find((r) => r.id === id)!);
  dynamo.on(ScanCommand).resolves({ Items: [{ id: DEFAULTS_MARKER_ID, rules: EARLIER }, ...remaining] });
  expect((await store.list()).defaultsCreated).toBe(false);
  expect(await store.ensureDefaults(DEFAULT_RULES)).toBe(2);
  expect(created()).toEqual(ERROR_RULES);
  expect(marker()!.rules).toEqual([...EARLIER, ...ERROR_RULES]);
});

test('an admin rule with a default id wins; nothing to do once the marker lists every default, or for a marker without a list', async () => {
  dynamo.on(ScanCommand).resolves({ Items: [{ id: DEFAULTS_MARKER_ID, rules: EARLIER }] });
  dynamo.on(PutCommand, { Item: { id: 'error-group-new' } }).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
  expect(await store.ensureDefaults(DEFAULT_RULES)).toBe(1);

  dynamo.reset();
  dynamo.on(ScanCommand).resolves({ Items: [{ id: DEFAULTS_MARKER_ID, rules: DEFAULT_RULES.map((r) => r.id) }] });
  expect((await store.list()).defaultsCreated).toBe(true);
  expect(await store.ensureDefaults(DEFAULT_RULES)).toBe(0);
  dynamo.on(ScanCommand).resolves({ Items: [{ id: DEFAULTS_MARKER_ID }] });
  expect((await store.list()).defaultsCreated).toBe(true);
  expect(await store.ensureDefaults(DEFAULT_RULES)).toBe(0);
  expect(dynamo).not.toHaveReceivedCommand(PutCommand);
});
