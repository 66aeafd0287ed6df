import { DynamoEventStore } from '../adapters/event-store';
import { principalFromClaims, requireRole } from '../core/access';
import { ClientError } from '../core/errors';
import { canonicalEventId } from '../core/ids';
import { httpHandler, json } from '../shared/http';

const store = new DynamoEventStore();

/** GET /v1/events/{id}: the full stored event, for admins and viewers. */
export const handler = httpHandler(async (event) => {
  requireRole(principalFromClaims(event.requestContext.authorizer?.claims), 'viewer');
  const id = canonicalEventId(event.pathParameters?.id ?? '');
  if (!id) throw new ClientError(400, 'invalid_id', 'an event id is a ULID or a UUID');
  const found = await store.getById(id);
  if (!found) throw new ClientError(404, 'not_found', `no event has id ${id}`);
  return json(200, found);
});
