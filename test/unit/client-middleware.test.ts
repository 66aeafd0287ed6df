/**
 * The SDK's request recorders: Express (a real express app on a real port)
 * and middy (the project's own middy), sending through the client to a
 * stand-in ingest API.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { createClient, memoryStorage, type AuditClient } from '../../client/src/index';
import { auditErrors, auditMiddleware, auditRequests, requestTrace } from '../../client/src/middleware';
import { fakeApi } from '../helpers/fake-ingest-api';

const INCOMING = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let api: Awaited<ReturnType<typeof fakeApi>>;
let client: AuditClient;

beforeEach(async () => {
  api = await fakeApi();
  client = createClient({ endpoint: api.url, apiKey: 'k', storage: memoryStorage(), flushIntervalMs: 10, collapseWindowMs: 0, onWarning: () => undefined });
});
afterEach(async () => {
  await client.close();
  await api.close();
});

describe('Express', () => {
  async function serve(app: express.Express) {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it('records each request with method, route, status, duration, user and the continued trace; and each thrown error', async () => {
    const app = express();
    app.use((req, _res, next) => {
      (req as { user?: unknown }).user = { id: 'u-42' };
      next();
    });
    app.use(auditRequests(client, { skip: (req) => req.url === '/health' }));
    app.get('/health', (_req, res) => void res.send('ok'));
    app.get('/invoices/:id', (req, res) => void res.json({ id: req.params.id, trace: requestTrace(req)?.traceparent }));
    app.post('/invoices/:id/pay', () => {
      throw Object.assign(new Error('gateway timeout'), { code: 'GW_TIMEOUT' });
    });
    app.use(auditErrors(client));
    app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(502).json({ error: 'bad gateway' }));
    const server = await serve(app);

    const ok = await fetch(`${server.url}/invoices/INV-1001?token=abc`, { headers: { traceparent: INCOMING } });
    const body = (await ok.json()) as { trace: string };
    await fetch(`${server.url}/invoices/INV-1001/pay`, { method: 'POST' });
    await fetch(`${server.url}/health`);
    await client.flush();
    await server.close();

    const events = api.events();
    const [request, error, failedRequest] = [
      events.find((e) => e.type === 'api.request.completed'),
      events.find((e) => e.type === 'server.error'),
      events.find((e) => e.type === 'api.request.failed'),
    ];
    expect(events).toHaveLength(3); // the health check was skipped
    expect(request).toMatchObject({
      status: 'success',
      page: '/invoices/:id',
      actor: { userId: 'u-42' },
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      details: { method: 'GET', route: '/invoices/:id', status: 200, durationMs: expect.any(Number) },
    });
    // A child span of the caller's: same trace, new span, handed to the handler for outgoing calls.
    expect(request!.spanId).not.toBe('00f067aa0ba902b7');
    expect(body.trace).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${request!.spanId}-01`);

    expect(error).toMatchObject({ message: 'gateway timeout', actor: { userId: 'u-42' }, error: { name: 'Error', code: 'GW_TIMEOUT', stack: expect.any(String) }, details: { method: 'POST' } });
    expect(failedRequest).toMatchObject({ status: 'failure', details: { method: 'POST', route: '/invoices/:id/pay', status: 502 } });
    // One trace for the failed request and its error, started here since the caller sent none.
    expect(error!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(failedRequest!.traceId).toBe(error!.traceId);
    expect(failedRequest!.traceId).not.toBe(request!.traceId);
  });
});

describe('middy', () => {
  const gatewayEvent = (path: string, claims?: Record<string, string>): APIGatewayProxyEvent =>
    ({
      httpMethod: 'GET',
      resource: '/v1/items/{id}',
      path,
      headers: { Traceparent: INCOMING },
      requestContext: { requestId: 'req-1', authorizer: claims ? { claims } : null },
    }) as unknown as APIGatewayProxyEvent;
  const context = { awsRequestId: 'aws-1' } as Context;

  it('records the invocation, and the thrown error with its trace, and has sent both when the invocation ends', async () => {
    const handler = middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      if (event.path.endsWith('/boom')) throw new RangeError('index out of range');
      return { statusCode: 201, body: '{}' };
    }).use(auditMiddleware(client));

    await expect(handler(gatewayEvent('/v1/items/1', { sub: 'user-sub-1' }), context)).resolves.toMatchObject({ statusCode: 201 });
    // Flushed before the invocation returned: no waiting needed.
    expect(api.events()).toEqual([
      expect.objectContaining({
        type: 'api.request.completed',
        page: '/v1/items/{id}',
        actor: { userId: 'user-sub-1' },
        requestId: 'req-1',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        details: expect.objectContaining({ method: 'GET', route: '/v1/items/{id}', status: 201 }),
      }),
    ]);

    await expect(handler(gatewayEvent('/v1/items/boom'), context)).rejects.toThrow('index out of range');
    const [, error, failed] = api.events();
    expect(error).toMatchObject({ type: 'server.error', error: { name: 'RangeError', message: 'index out of range' }, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', requestId: 'req-1' });
    expect(failed).toMatchObject({ type: 'api.request.failed', status: 'failure', details: { status: 500 } });
  });

  it('takes the status another middleware answered with, and records no server error for a 4xx', async () => {
    const handler = middy(async (): Promise<APIGatewayProxyResult> => {
      throw Object.assign(new Error('no such item'), { statusCode: 404 });
    })
      .use(auditMiddleware(client))
      .use({
        onError: async (request) => {
          request.response = { statusCode: 404, body: '{"error":{"code":"not_found"}}' };
        },
      });
    await expect(handler(gatewayEvent('/v1/items/9'), context)).resolves.toMatchObject({ statusCode: 404 });
    expect(api.events()).toEqual([expect.objectContaining({ type: 'api.request.completed', status: 'failure', details: expect.objectContaining({ status: 404 }) })]);
  });
});
