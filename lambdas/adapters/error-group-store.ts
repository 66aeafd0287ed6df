import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ERROR_GROUPS_TABLE } from '../../lib/declarations/tables';
import {
  MARKER_RETENTION_SECONDS,
  type ErrorGroup,
  type ErrorGroupChange,
  type ErrorListRequest,
  type GroupDelta,
  type GroupWrite,
  type Occurrence,
} from '../core/error-groups';
import type { ErrorGroupStore, WriteOutcome } from '../core/error-tracker';
import { documentClient, tableName } from './dynamodb';

export const markerKey = (eventId: string) => ({ pk: `E#${eventId}` });

/** BatchGetItem's limit of keys per call: a list page (≤ MAX_ERROR_LIST_LIMIT = 100) is one call. */
export const MAX_HISTOGRAM_KEYS = 100;
const MAX_BATCH_ROUNDS = 4;

/** A group item's list view, as the status indexes project it. */
export type ErrorGroupListItem = Partial<ErrorGroup> & { id: string };

/**
 * The ErrorGroups table. Writes are transactions of the group item and one
 * create-only marker per occurrence (see core/error-groups.ts); reads are
 * by id (strongly consistent: the tracker plans on what it read) or a page
 * of one status index.
 */
export class DynamoErrorGroupStore implements ErrorGroupStore {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(ERROR_GROUPS_TABLE.envVar),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async get(id: string): Promise<ErrorGroup | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk: id }, ConsistentRead: true }));
    return Item ? fromItem(Item) : undefined;
  }

  async write(plan: GroupWrite, occurrences: readonly Occurrence[], now: Date): Promise<WriteOutcome> {
    const expiresAt = Math.floor(now.getTime() / 1000) + MARKER_RETENTION_SECONDS;
    const markers = occurrences.map((o) => ({
      Put: { TableName: this.table, Item: { ...markerKey(o.eventId), expiresAt }, ConditionExpression: 'attribute_not_exists(pk)' },
    }));
    const group = plan.kind === 'create' ? this.create(plan.group) : this.update(plan.id, plan.delta, plan.expectStatusAt);
    try {
      const result = await this.client.send(new TransactWriteCommand({ TransactItems: [...markers, group], ReturnConsumedCapacity: 'TOTAL' }));
      return { ok: true, writeUnits: (result.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0) };
    } catch (error) {
      if ((error as Error).name !== 'TransactionCanceledException') throw error;
      const reasons = ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
      // Markers come first, in the order of `occurrences`; the group item is last.
      const alreadyCounted = occurrences.filter((_, i) => reasons[i] === 'ConditionalCheckFailed').map((o) => o.eventId);
      const groupChanged = reasons[occurrences.length] === 'ConditionalCheckFailed';
      const conflict = reasons.some((code) => code === 'TransactionConflict' || code === 'ThrottlingError' || code === 'ProvisionedThroughputExceeded');
      if (alreadyCounted.length === 0 && !groupChanged && !conflict) throw error;
      return { ok: false, alreadyCounted, groupChanged, conflict };
    }
  }

  /** A new group: created only if nobody created it meanwhile (then the tracker reads it and adds to it). */
  private create(group: ErrorGroup) {
    const { id, samples, users, endpoints, ...rest } = group;
    return {
      Put: {
        TableName: this.table,
        Item: {
          pk: id,
          ...rest,
          // String sets cannot be empty in DynamoDB: an absent attribute is the empty set.
          ...(samples.length > 0 ? { samples: new Set(samples) } : {}),
          ...(users.length > 0 ? { users: new Set(users) } : {}),
          ...(endpoints.length > 0 ? { endpoints: new Set(endpoints) } : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /**
   * Atomic additions to an existing group. A regression (delta.reopen) is
   * also conditional on the status the tracker read (its `statusAt`), so
   * exactly one worker reopens the group and announces it.
   */
  private update(id: string, delta: GroupDelta, expectStatusAt: string | undefined) {
    const expression = new UpdateBuilder();
    expression.add('count', delta.count);
    if (delta.lastSeen) {
      expression.set('lastSeen', delta.lastSeen.at);
      expression.set('lastEventId', delta.lastSeen.eventId);
    }
    if (delta.firstSeen) expression.set('firstSeen', delta.firstSeen);
    for (const [hour, n] of Object.entries(delta.histAdd)) expression.increment(['hist', hour], n);
    for (const hour of delta.histRemove) expression.remove(['hist', hour]);
    expression.setOrAdd('samples', delta.samples);
    expression.setOrAdd('users', delta.users);
    expression.set('affectedUsers', delta.affectedUsers);
    if (delta.endpointsAdd.length > 0) expression.add('endpoints', new Set(delta.endpointsAdd));
    expression.set('expiresAt', delta.expiresAt);
    let condition = 'attribute_exists(pk)';
    if (delta.reopen) {
      expression.set('status', 'unresolved');
      expression.set('statusAt', delta.reopen.at);
      expression.set('statusBy', 'audit-trail');
      expression.set('regressedAt', delta.reopen.at);
      expression.set('regressionEventId', delta.reopen.eventId);
      expression.add('regressions', 1);
      condition += ` AND ${expression.name('status')} = ${expression.value('resolved')} AND ${expression.name('statusAt')} = ${expression.value(expectStatusAt ?? '')}`;
    }
    return {
      Update: {
        TableName: this.table,
        Key: { pk: id },
        UpdateExpression: expression.toString(),
        ConditionExpression: condition,
        ExpressionAttributeNames: expression.names,
        ExpressionAttributeValues: expression.values,
      },
    };
  }

  /** One page of a status, newest or most frequent first. */
  async list(request: ErrorListRequest): Promise<{ items: ErrorGroupListItem[]; next?: Record<string, unknown> }> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: request.sort === 'count' ? 'byCount' : 'byLastSeen',
        KeyConditionExpression: '#status = :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': request.status },
        ScanIndexForward: false,
        Limit: request.limit,
        ...(request.after ? { ExclusiveStartKey: request.after } : {}),
      }),
    );
    const items = (page.Items ?? []).map((item) => {
      const { pk, ...rest } = item;
      return { id: String(pk), ...rest } as ErrorGroupListItem;
    });
    return { items, ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}) };
  }

  /**
   * The hourly histograms of a page of groups (the status indexes do not
   * project `hist`): one BatchGetItem, eventually consistent, projecting only
   * the key and the map. Keys DynamoDB leaves unprocessed (throttling) are
   * asked again a few times; a group still missing then, or gone (expired),
   * is absent from the result rather than failing the page.
   */
  async histograms(ids: readonly string[]): Promise<Map<string, Record<string, number>>> {
    const unique = [...new Set(ids)];
    if (unique.length > MAX_HISTOGRAM_KEYS) throw new Error(`histograms: at most ${MAX_HISTOGRAM_KEYS} ids per call, not ${unique.length}`);
    const found = new Map<string, Record<string, number>>();
    let keys: Record<string, unknown>[] = unique.map((pk) => ({ pk }));
    for (let round = 0; keys.length > 0 && round < MAX_BATCH_ROUNDS; round++) {
      if (round > 0) await this.sleep(25 * 2 ** round);
      const result = await this.client.send(
        new BatchGetCommand({
          RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: '#pk, #hist', ExpressionAttributeNames: { '#pk': 'pk', '#hist': 'hist' } } },
        }),
      );
      for (const item of result.Responses?.[this.table] ?? []) found.set(String(item.pk), (item.hist ?? {}) as Record<string, number>);
      keys = (result.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
    }
    return found;
  }

  /**
   * A status change by an admin, only if the group is still in the status
   * (and since the time) the admin's request was decided on; undefined when
   * it changed meanwhile (the caller answers 409).
   */
  async changeStatus(id: string, change: ErrorGroupChange & { by: string; at: string }, expected: Pick<ErrorGroup, 'status' | 'statusAt'>): Promise<ErrorGroup | undefined> {
    const expression = new UpdateBuilder();
    expression.set('status', change.status);
    expression.set('statusAt', change.at);
    expression.set('statusBy', change.by);
    if (change.note) expression.set('note', change.note);
    else expression.remove(['note']);
    if (change.status === 'resolved') {
      expression.set('resolvedAt', change.at);
      expression.set('resolvedBy', change.by);
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: id },
          UpdateExpression: expression.toString(),
          ConditionExpression: `attribute_exists(pk) AND ${expression.name('status')} = ${expression.value(expected.status)} AND ${expression.name('statusAt')} = ${expression.value(expected.statusAt)}`,
          ExpressionAttributeNames: expression.names,
          ExpressionAttributeValues: expression.values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? fromItem(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

/** A stored item as the domain's ErrorGroup: sets become sorted arrays, absent sets empty ones. */
export function fromItem(item: Record<string, unknown>): ErrorGroup {
  const { pk, samples, users, endpoints, hist, ...rest } = item;
  const list = (value: unknown) => (value instanceof Set ? [...value].map(String).sort() : Array.isArray(value) ? value.map(String).sort() : []);
  return {
    ...(rest as Omit<ErrorGroup, 'id' | 'samples' | 'users' | 'endpoints' | 'hist'>),
    id: String(pk),
    samples: list(samples),
    users: list(users),
    endpoints: list(endpoints),
    hist: (hist ?? {}) as Record<string, number>,
  };
}

/** Builds an update expression with every name and value behind a placeholder (reserved words, hour keys). */
class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private readonly sets: string[] = [];
  private readonly adds: string[] = [];
  private readonly removes: string[] = [];
  private readonly nameIndex = new Map<string, string>();
  private valueCount = 0;

  name(attribute: string): string {
    let alias = this.nameIndex.get(attribute);
    if (!alias) {
      alias = `#n${this.nameIndex.size}`;
      this.nameIndex.set(attribute, alias);
      this.names[alias] = attribute;
    }
    return alias;
  }

  value(value: unknown): string {
    const alias = `:v${this.valueCount++}`;
    this.values[alias] = value;
    return alias;
  }

  private path(parts: string[]): string {
    return parts.map((part) => this.name(part)).join('.');
  }

  set(attribute: string, value: unknown): void {
    this.sets.push(`${this.name(attribute)} = ${this.value(value)}`);
  }

  /** `path = if_not_exists(path, 0) + n`: an atomic counter inside a map. */
  increment(parts: string[], n: number): void {
    const path = this.path(parts);
    this.sets.push(`${path} = if_not_exists(${path}, ${this.value(0)}) + ${this.value(n)}`);
  }

  add(attribute: string, value: number | Set<string>): void {
    this.adds.push(`${this.name(attribute)} ${this.value(value)}`);
  }

  remove(parts: string[]): void {
    this.removes.push(this.path(parts));
  }

  /** A bounded set: ADD the new members, or SET the trimmed whole (REMOVE when it is empty). */
  setOrAdd(attribute: string, change: { add: string[] } | { replace: string[] }): void {
    if ('add' in change) {
      if (change.add.length > 0) this.add(attribute, new Set(change.add));
    } else if (change.replace.length > 0) {
      this.set(attribute, new Set(change.replace));
    } else {
      this.remove([attribute]);
    }
  }

  toString(): string {
    return [
      this.sets.length > 0 ? `SET ${this.sets.join(', ')}` : '',
      this.adds.length > 0 ? `ADD ${this.adds.join(', ')}` : '',
      this.removes.length > 0 ? `REMOVE ${this.removes.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  }
}

