/** A stand-in for the ingest API (POST /v1/events) for client tests: records requests, answers as told. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  headers: IncomingMessage['headers'];
  body: { events: Array<Record<string, any>> };
}

/** A stand-in for POST /v1/events: records each request; `answer` decides the response (accept all by default). */
export type Reply = { status: number; headers?: Record<string, string>; body?: unknown };
export async function fakeApi(answer?: (request: Received, n: number) => Reply | 'hang-up' | undefined) {
  const requests: Received[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const received: Received = { at: Date.now(), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
    requests.push(received);
    const acceptAll: Reply = { status: 200, body: { results: received.body.events.map((e, index) => ({ index, id: e.id, status: 'accepted' })) } };
    const reply = answer?.(received, requests.length) ?? acceptAll;
    if (reply === 'hang-up') return void res.socket?.destroy();
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.body ?? acceptAll.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, events: () => requests.flatMap((r) => r.body.events), close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

