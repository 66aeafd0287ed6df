/**
 * The cdk-nag switch of lib/app.ts (`-c nag=true|false`, on in cdk.json): with it on, an unacknowledged finding
 * fails synthesis and names its rule; an acknowledgement carries a reason; off, nothing is checked. A one-queue
 * app is enough (the whole stack's findings are pinned in stack.test.ts); the switch is the app's own function.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NAG_CONTEXT, addNagChecks } from '../../lib/app';

const cdkJson = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

/** cdk.json's context (feature flags, nag) with overrides, and a stack holding one queue. */
function appWithQueue(context: Record<string, unknown>, queueProps: sqs.QueueProps = {}): { app: App; queue: sqs.Queue; checked: boolean } {
  const app = new App({ context: { ...cdkJson.context, ...context } });
  const stack = new Stack(app, 'NagProbe');
  const queue = new sqs.Queue(stack, 'Unacknowledged', queueProps);
  return { app, queue, checked: addNagChecks(app) };
}

test('cdk.json turns the checks on, visibly', () => {
  expect(cdkJson.context[NAG_CONTEXT]).toBe(true);
});

test.each([
  ['cdk.json (true)', {}],
  ['-c nag=true (a string on the command line)', { [NAG_CONTEXT]: 'true' }],
  ['no nag context at all', { [NAG_CONTEXT]: undefined }],
])('with %s, an unacknowledged finding fails synthesis, naming the rule and the resource', (_name, context) => {
  // No TLS-only policy (AwsSolutions-SQS4) and no dead-letter queue (AwsSolutions-SQS3).
  const { app, checked } = appWithQueue(context);
  expect(checked).toBe(true);
  let message = '';
  try {
    app.synth();
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toMatch(/AwsSolutions-SQS4/);
  expect(message).toMatch(/AwsSolutions-SQS3/);
  expect(message).toContain('NagProbe/Unacknowledged');
});

test('a finding acknowledged with its reason passes, and the reason is written into the template', () => {
  const { app, queue } = appWithQueue({}, { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
  const reason = 'A probe queue in a test: nothing consumes it, so there is nothing a dead-letter queue would catch.';
  Validations.of(queue.node.defaultChild!).acknowledge({ id: 'AwsSolutions-SQS3', reason });
  const template = app.synth().getStackByName('NagProbe').template as { Resources: Record<string, { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } }> };
  const [resource] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::SQS::Queue');
  expect(resource.Metadata?.cdk_nag?.rules_to_suppress).toEqual([expect.objectContaining({ id: 'AwsSolutions-SQS3', reason })]);
});

test.each([false, 'false'])('-c nag=%p skips the checks (quick experiments): the same queue synthesizes', (value) => {
  const { app, checked } = appWithQueue({ [NAG_CONTEXT]: value });
  expect(checked).toBe(false);
  expect(() => app.synth()).not.toThrow();
});

test('any other value of nag is refused rather than guessed', () => {
  expect(() => appWithQueue({ [NAG_CONTEXT]: 'yes' })).toThrow(/nag must be true or false/);
});
