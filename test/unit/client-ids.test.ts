/**
 * The client's event ids are never touched by redaction: the server refuses
 * an id that reads as a card number (rewriting it would break retries), so
 * the client never generates one and never rewrites one it was given.
 */
import { createClient, memoryStorage } from '../../client/src/index';
import { fakeApi } from '../helpers/fake-ingest-api';

// A ULID whose digit run passes Luhn with a card prefix: about one generated id in ten million looks like this.
const CARD_LIKE_ULID = '01ABCD4111111111111111ABCD';
const CLEAN_ULID = '01JD7X8Y9ZABCDEFGHJKMNPQRS';

// Hoisted above the constants by jest: the same two ids, spelled out.
jest.mock('../../client/src/ulid', () => {
  const ids = ['01ABCD4111111111111111ABCD', '01JD7X8Y9ZABCDEFGHJKMNPQRS'];
  return { ulid: () => ids.shift() ?? '01JD7X8Y9ZABCDEFGHJKMNPQRT' };
});

it('draws another id when a generated one would read as a card number, and keeps given ids as they are', async () => {
  const api = await fakeApi();
  const client = createClient({ endpoint: api.url, apiKey: 'k', storage: memoryStorage(), collapseWindowMs: 0, onWarning: () => undefined });
  expect(client.log({ type: 'user.logout' })).toBe(CLEAN_ULID);
  // A caller's own id is sent unchanged: the server answers for it (refused at `id`), rather than the client rewriting it.
  expect(client.log({ type: 'user.logout', id: CARD_LIKE_ULID })).toBe(CARD_LIKE_ULID);
  await client.flush();
  expect(api.events().map((event) => event.id)).toEqual([CLEAN_ULID, CARD_LIKE_ULID]);
  await client.close();
  await api.close();
});
