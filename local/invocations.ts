import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';

/**
 * Lambda runs one invocation at a time per instance, but the local stack
 * runs many at once in one process. Like the Lambda runtime in its
 * multi-concurrency mode, each invocation runs in its own InvokeStore
 * context, which Powertools Logger reads: log lines keep their own request
 * and correlation ids instead of taking a neighbour's. (The AWS SDK then
 * loads the store with a dynamic import, which is why jest runs with
 * --experimental-vm-modules.)
 */
process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '64';
const store = InvokeStore.getInstanceAsync(true);

export async function invokeHandler<E, R>(handler: (event: E, context: Context) => Promise<R>, event: E, context: Context): Promise<R> {
  const invokeStore = await store;
  return invokeStore.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () => handler(event, context));
}
