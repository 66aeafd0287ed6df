import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One DynamoDB call as the proxy sees it: the operation from X-Amz-Target, the table, the raw JSON body. */
export interface DynamoDbCall {
  operation: string;
  tableName?: string;
  body: string;
}

/**
 * What to do instead of forwarding a call:
 * - `throttle`: DynamoDB's ProvisionedThroughputExceededException (400), which the SDK retries with backoff;
 * - `internal-error`: an InternalServerError (500), retried by the SDK as a server fault;
 * - `unavailable`: DynamoDB's 503 Service Unavailable, what an outage answers;
 * - `drop`: the connection is cut before any answer, as when DynamoDB cannot be reached.
 *
 * Under jest, prefer `unavailable` to `drop` where the test looks at how the error is classified: Node's
 * socket errors come from outside jest's sandbox, fail the SDK's `instanceof Error` and reach the code
 * wrapped, without their `code` (on Lambda they arrive as they are; test/unit/http-errors.test.ts covers them).
 */
export type DynamoDbFault = 'throttle' | 'internal-error' | 'unavailable' | 'drop';

export interface FaultRule {
  fault: DynamoDbFault;
  when: (call: DynamoDbCall) => boolean;
  /** How many matching calls get the fault; unlimited when absent. */
  times?: number;
}

export interface DynamoDbFaultProxy {
  endpoint: string;
  /** Adds a fault rule; returns a handle counting the calls it hit. */
  inject(rule: FaultRule): { readonly hits: number; remove(): void };
  /** Every call that went through or was faulted, in order. */
  readonly calls: readonly (DynamoDbCall & { fault?: DynamoDbFault })[];
  clear(): void;
  stop(): Promise<void>;
}

const ERROR_TYPES: Record<Exclude<DynamoDbFault, 'drop'>, { status: number; type: string; message: string }> = {
  throttle: {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'The level of configured provisioned throughput for the table was exceeded (injected by the test).',
  },
  'internal-error': { status: 500, type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error (injected by the test).' },
  unavailable: { status: 503, type: 'com.amazonaws.dynamodb.v20120810#ServiceUnavailable', message: 'Service unavailable (injected by the test).' },
};

/**
 * An HTTP proxy in front of DynamoDB Local that answers chosen calls with
 * DynamoDB's own error shapes (or cuts the connection) and forwards the rest
 * untouched. The functions under test keep their real SDK clients, retry
 * strategy included: a fault here meets exactly the code a fault on AWS would.
 */
export async function startDynamoDbFaultProxy(upstream: string): Promise<DynamoDbFaultProxy> {
  const target = new URL(upstream);
  const rules: (FaultRule & { hits: number })[] = [];
  const calls: (DynamoDbCall & { fault?: DynamoDbFault })[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const call = describeCall(req, body.toString('utf8'));
      const rule = rules.find((candidate) => (candidate.times === undefined || candidate.hits < candidate.times) && candidate.when(call));
      calls.push({ ...call, ...(rule ? { fault: rule.fault } : {}) });
      if (!rule) return forward(req, body, res);
      rule.hits++;
      if (rule.fault === 'drop') return void req.socket.destroy();
      const { status, type, message } = ERROR_TYPES[rule.fault];
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type.split('#')[1]! });
      res.end(JSON.stringify({ __type: type, message }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  function forward(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const upstreamRequest = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamResponse) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
      },
    );
    upstreamRequest.on('error', () => req.socket.destroy());
    upstreamRequest.end(body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    inject(rule) {
      const entry = { ...rule, hits: 0 };
      rules.push(entry);
      return {
        get hits() {
          return entry.hits;
        },
        remove: () => {
          const at = rules.indexOf(entry);
          if (at >= 0) rules.splice(at, 1);
        },
      };
    },
    clear() {
      rules.length = 0;
      calls.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function describeCall(req: IncomingMessage, body: string): DynamoDbCall {
  const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
  let tableName: string | undefined;
  try {
    tableName = (JSON.parse(body) as { TableName?: string }).TableName;
  } catch {
    // Not JSON: leave the table unknown.
  }
  return { operation, body, ...(tableName ? { tableName } : {}) };
}
