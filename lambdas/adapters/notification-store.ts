import { ConditionalCheckFailedException, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { NOTIFICATIONS_TABLE } from '../../lib/declarations/tables';
import type { Severity } from '../core/event';
import { ClientError } from '../core/errors';
import { NOTIFICATION_STATUSES, type Notification, type NotificationChange, type NotificationStatus } from '../core/notifications';
import type { NotificationOutbox } from '../core/rule-engine';
import { documentClient, tableName } from './dynamodb';

const INDEX = NOTIFICATIONS_TABLE.indexes[0].name;
/** Past this many, the unread count reads "at least" (the badge shows 1000+); counting costs reads. */
export const UNREAD_COUNT_CAP = 1000;
const MAX_PAGES_PER_STATUS = 10;

export interface NotificationFilter {
  status?: NotificationStatus;
  severity?: Severity;
  ruleId?: string;
  limit: number;
  /** The sort key (`<createdAt>#<id>`) of the last item of the previous page. */
  after?: string;
}

type Item = Notification & { statusPk: string; sk: string };

const statusPk = (status: NotificationStatus) => `N#${status}`;

function toItem(notification: Notification): Item {
  return { ...notification, statusPk: statusPk(notification.status), sk: `${notification.createdAt}#${notification.id}` };
}

function fromItem(item: object): Notification {
  const { statusPk: _p, sk: _s, ...notification } = item as Item;
  return notification;
}

/** Notifications in DynamoDB: the rule engine's outbox, and the in-app list with its workflow. */
export class DynamoNotificationStore implements NotificationOutbox {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(NOTIFICATIONS_TABLE.envVar),
  ) {}

  async putNew(notification: Notification): Promise<{ created: true } | { created: false; existing: Notification }> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(notification),
          ConditionExpression: 'attribute_not_exists(id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        if (error.Item) return { created: false, existing: fromItem(unmarshall(error.Item as Record<string, AttributeValue>)) };
        const existing = await this.get(notification.id);
        if (existing) return { created: false, existing };
      }
      throw error;
    }
  }

  async recordDeliveries(id: string, deliveries: Notification['deliveries'], delivery: Notification['delivery']): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { id },
        UpdateExpression: 'SET deliveries = :d, delivery = :s',
        ConditionExpression: 'attribute_exists(id)',
        ExpressionAttributeValues: { ':d': deliveries, ':s': delivery },
      }),
    );
  }

  async get(id: string): Promise<Notification | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }));
    return Item ? fromItem(Item) : undefined;
  }

  /**
   * Newest first. One status is one partition of `byStatus`; without a
   * status the three partitions are read and merged (the sort key is global,
   * so "after this sort key" pages them all alike). Severity and rule are
   * filters on the partition: notifications are few, and these are what an
   * admin narrows a short list by.
   */
  async list(filter: NotificationFilter): Promise<{ items: Notification[]; next?: string }> {
    const statuses = filter.status ? [filter.status] : [...NOTIFICATION_STATUSES];
    const perStatus = await Promise.all(statuses.map((status) => this.queryStatus(status, filter)));
    const merged = perStatus.flatMap((result) => result.items).sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0));
    const items = merged.slice(0, filter.limit);
    const more = merged.length > filter.limit || perStatus.some((result) => result.more);
    return { items: items.map(fromItem), ...(more && items.length > 0 ? { next: items[items.length - 1]!.sk } : {}) };
  }

  private async queryStatus(status: NotificationStatus, filter: NotificationFilter): Promise<{ items: Item[]; more: boolean }> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pk': statusPk(status) };
    const filters: string[] = [];
    if (filter.severity) {
      names['#severity'] = 'severity';
      values[':severity'] = filter.severity;
      filters.push('#severity = :severity');
    }
    if (filter.ruleId) {
      values[':rule'] = filter.ruleId;
      filters.push('ruleId = :rule');
    }
    if (filter.after) values[':after'] = filter.after;
    const items: Item[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    let pages = 0;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEX,
          KeyConditionExpression: filter.after ? 'statusPk = :pk AND sk < :after' : 'statusPk = :pk',
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: filter.limit + 1,
          ExclusiveStartKey,
        }),
      );
      items.push(...((page.Items ?? []) as Item[]));
      ExclusiveStartKey = page.LastEvaluatedKey;
      pages++;
    } while (ExclusiveStartKey && items.length <= filter.limit && pages < MAX_PAGES_PER_STATUS);
    return { items, more: items.length > filter.limit || ExclusiveStartKey !== undefined };
  }

  /** Notifications still `new`: a COUNT query on their partition, which never drifts (no counter to keep in step). */
  async unreadCount(): Promise<{ count: number; capped: boolean }> {
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEX,
          KeyConditionExpression: 'statusPk = :pk',
          ExpressionAttributeValues: { ':pk': statusPk('new') },
          Select: 'COUNT',
          ExclusiveStartKey,
        }),
      );
      count += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && count < UNREAD_COUNT_CAP);
    return { count: Math.min(count, UNREAD_COUNT_CAP), capped: count >= UNREAD_COUNT_CAP && ExclusiveStartKey !== undefined };
  }

  /**
   * Moves a notification to `read` or `resolved`, recording who and when,
   * only from the statuses given. Asking for the status it already has
   * returns it unchanged; a transition that is not allowed is a 409.
   */
  async transition(id: string, change: NotificationChange, who: string, from: NotificationStatus[], now: Date = new Date()): Promise<Notification> {
    const at = now.toISOString();
    const values: Record<string, unknown> = { ':status': change.status, ':pk': statusPk(change.status), ':who': who, ':at': at };
    from.forEach((status, i) => (values[`:from${i}`] = status));
    const sets = ['#status = :status', 'statusPk = :pk', 'readAt = if_not_exists(readAt, :at)', 'readBy = if_not_exists(readBy, :who)'];
    if (change.status === 'resolved') {
      sets.push('resolvedAt = :at', 'resolvedBy = :who');
      if (change.note) {
        sets.push('note = :note');
        values[':note'] = change.note;
      }
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(id) AND #status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return fromItem(Attributes!);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!error.Item) throw new ClientError(404, 'not_found', `no notification has id ${id}`);
      const existing = fromItem(unmarshall(error.Item as Record<string, AttributeValue>));
      if (existing.status === change.status) return existing;
      throw new ClientError(409, 'invalid_transition', `the notification is ${existing.status}; it cannot become ${change.status}`);
    }
  }
}
