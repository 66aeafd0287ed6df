import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EVENTS_TABLE } from '../../lib/declarations/tables';
import type { AuditEvent } from '../core/event';
import { documentClient, tableName } from './dynamodb';

/** BatchGetItem's limit of keys per call. */
const BATCH = 100;
const MAX_ROUNDS = 5;

/**
 * Full events by id from the events table (BatchGetItem on the table, the
 * stored `doc` only), in the order asked; ids with no event (expired by
 * TTL) are left out.
 */
export class EventsById {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(EVENTS_TABLE.envVar),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async get(ids: readonly string[]): Promise<AuditEvent[]> {
    const found = new Map<string, AuditEvent>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += BATCH) {
      let keys: Record<string, unknown>[] = unique.slice(i, i + BATCH).map((pk) => ({ pk }));
      for (let round = 0; keys.length > 0; round++) {
        if (round >= MAX_ROUNDS) throw new Error(`events table: ${keys.length} key(s) still unprocessed after ${MAX_ROUNDS} rounds`);
        if (round > 0) await this.sleep(50 * 2 ** round);
        const result = await this.client.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: 'pk, doc' } } }));
        for (const item of result.Responses?.[this.table] ?? []) found.set(String(item.pk), JSON.parse(String(item.doc)) as AuditEvent);
        keys = (result.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return ids.map((id) => found.get(id)).filter((event): event is AuditEvent => event !== undefined);
  }
}
