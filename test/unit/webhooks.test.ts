/**
 * Webhook delivery against a real local HTTP receiver: Slack-compatible
 * body, HMAC-SHA256 signature a receiver can verify, retries with backoff on
 * 5xx, none on other 4xx.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { routeChannels } from '../../lambdas/adapters/channel-router';
import { WebhookPublisher } from '../../lambdas/adapters/webhook-publisher';
import type { ChannelMessage } from '../../lambdas/core/rule-engine';
import { signWebhook, verifyWebhook } from '../../lambdas/core/webhooks';

const KEY = 'test-signing-key';
const message: ChannelMessage = {
  subject: '[WARNING] Repeated failed logins: 5 × user.login.failed (u-42)',
  text: 'Repeated failed logins\n\nWhat: user.login.failed',
  attributes: { severity: 'warning', category: 'security', type: 'user.login.failed', rule: 'failed-logins' },
  notificationId: 'abc123',
  link: 'https://audit.example.com/#/events/01J',
};

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
let server: Server;
let url: string;
let received: Received[];
let answers: number[];

beforeEach(async () => {
  received = [];
  answers = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answers.shift() ?? 200);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const noSleep = { sleep: async () => undefined };

test('posts a Slack-compatible JSON body, signed so the receiver can verify it', async () => {
  const publisher = new WebhookPublisher([url], async () => KEY, noSleep);
  expect(await publisher.publish(message)).toBe(`${new URL(url).host} 200`);
  expect(received).toHaveLength(1);
  const [request] = received;
  const body = JSON.parse(request!.body);
  expect(body.text).toBe(`*${message.subject}*\n<${message.link}|Open the event>`);
  expect(body.notification).toMatchObject({ id: 'abc123', rule: 'failed-logins', severity: 'warning', link: message.link });
  expect(request!.headers['content-type']).toBe('application/json');
  expect(request!.headers['x-audit-notification-id']).toBe('abc123');
  const timestamp = Number(request!.headers['x-audit-timestamp']);
  const signature = String(request!.headers['x-audit-signature']);
  expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
  expect(verifyWebhook(KEY, timestamp, request!.body, signature)).toBe(true);
  expect(verifyWebhook('another-key', timestamp, request!.body, signature)).toBe(false);
  expect(verifyWebhook(KEY, timestamp, `${request!.body} `, signature)).toBe(false);
  expect(verifyWebhook(KEY, timestamp - 3600, request!.body, signWebhook(KEY, timestamp - 3600, request!.body))).toBe(false);
});

test('retries 5xx with exponential backoff, then succeeds', async () => {
  answers = [503, 500];
  const pauses: number[] = [];
  const publisher = new WebhookPublisher([url], async () => KEY, { baseDelayMs: 100, sleep: async (ms) => void pauses.push(ms) });
  await publisher.publish(message);
  expect(received).toHaveLength(3);
  expect(pauses).toEqual([100, 200]);
});

test('gives up after the attempts, and at once on a 4xx other than 429', async () => {
  answers = [500, 500, 500, 500];
  await expect(new WebhookPublisher([url], async () => KEY, { attempts: 4, ...noSleep }).publish(message)).rejects.toThrow('answered 500');
  expect(received).toHaveLength(4);

  received = [];
  answers = [404];
  await expect(new WebhookPublisher([url], async () => KEY, noSleep).publish(message)).rejects.toThrow('answered 404');
  expect(received).toHaveLength(1);
});

test('a network error is retried', async () => {
  const dead = 'http://127.0.0.1:9/unreachable';
  await expect(new WebhookPublisher([dead], async () => KEY, { attempts: 2, ...noSleep }).publish(message)).rejects.toThrow('webhook 127.0.0.1:9');
});

test('without configured webhooks the channel is skipped, not failed', async () => {
  const topics = { publish: jest.fn(async () => 'sns-id') };
  const router = routeChannels(topics, new WebhookPublisher([], async () => KEY));
  expect(await router.publish('webhook', message)).toBeUndefined();
  expect(await router.publish('email', message)).toBe('sns-id');
});
