import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import type { FunctionDeclaration } from '../lib/declarations/functions';
import { invokeHandler } from './invocations';

/**
 * The local stand-in for Lambda's Invoke API, for functions that start other
 * functions (the Admin API starting an export): the AWS SDK's LambdaClient
 * talks to it through AWS_ENDPOINT_URL_LAMBDA, so the calling code is the
 * code that runs on AWS. `InvocationType: Event` answers 202 at once and runs
 * the handler in the background, in this process, in its own invocation
 * context (like the API's and the stream consumers' invocations);
 * `RequestResponse` waits and answers the result. Binds 127.0.0.1 only.
 *
 * Differences from Lambda: no retries of a failed asynchronous invocation
 * (Lambda retries twice), and no queueing limits.
 */

/** The name a declared function has locally (the same one the local API gives its Lambda context). */
export function localFunctionName(fn: Pick<FunctionDeclaration, 'id'>): string {
  return `audit-trail-${fn.id}`;
}

export interface LocalLambda {
  endpoint: string;
  /** Background invocations still running. */
  inFlight(): number;
  /** Stops accepting invocations and waits (up to `graceMs`) for those running. */
  stop(graceMs?: number): Promise<void>;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export async function startLocalLambda(options: { functions: readonly FunctionDeclaration[]; log?: (line: string) => void }): Promise<LocalLambda> {
  const log = options.log ?? (() => undefined);
  const byName = new Map<string, FunctionDeclaration>();
  for (const fn of options.functions) byName.set(localFunctionName(fn), fn);
  const handlers = new Map<string, Promise<Handler>>();
  const running = new Set<Promise<unknown>>();

  const handlerOf = (fn: FunctionDeclaration): Promise<Handler> => {
    let loaded = handlers.get(fn.id);
    if (!loaded) {
      loaded = import(`../${fn.entry.replace(/\.ts$/, '')}`).then((module: { handler: Handler }) => module.handler);
      handlers.set(fn.id, loaded);
    }
    return loaded;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = INVOKE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !match) return lambdaError(res, 404, 'ResourceNotFoundException', `no route ${req.method} ${url.pathname}`);
    // A name, or an ARN ending in it.
    const name = decodeURIComponent(match[1]).split(':').filter((part) => part !== '').at(-1) ?? '';
    const fn = byName.get(name) ?? [...byName.values()].find((candidate) => candidate.id === name);
    if (!fn) return lambdaError(res, 404, 'ResourceNotFoundException', `Function not found: ${name}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let payload: unknown;
    try {
      payload = text === '' ? {} : JSON.parse(text);
    } catch {
      return lambdaError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const handler = await handlerOf(fn);

    if (type === 'DryRun') {
      res.writeHead(204).end();
      return;
    }
    if (type === 'Event') {
      const started = Date.now();
      const invocation = invokeHandler(handler, payload, lambdaContext(fn))
        .then(() => log(`${fn.id}: asynchronous invocation done in ${Date.now() - started} ms`))
        .catch((error: unknown) => log(`${fn.id}: asynchronous invocation failed: ${String((error as Error)?.stack ?? error)}`))
        .finally(() => running.delete(invocation));
      running.add(invocation);
      res.writeHead(202, { 'x-amzn-requestid': randomUUID() }).end();
      return;
    }
    try {
      const result = await invokeHandler(handler, payload, lambdaContext(fn));
      res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
      res.end(result === undefined ? 'null' : JSON.stringify(result));
    } catch (error) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' });
      res.end(JSON.stringify({ errorType: (error as Error)?.name ?? 'Error', errorMessage: (error as Error)?.message ?? String(error) }));
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`local Lambda: ${String(error)}`);
      if (!res.headersSent) lambdaError(res, 500, 'ServiceException', 'the local Lambda failed');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    inFlight: () => running.size,
    async stop(graceMs = 15_000) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...running]), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    },
  };
}

function lambdaError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
  res.end(JSON.stringify({ Type: 'User', message }));
}

function lambdaContext(fn: FunctionDeclaration): Context {
  const deadline = Date.now() + fn.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: localFunctionName(fn),
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${localFunctionName(fn)}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${localFunctionName(fn)}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
